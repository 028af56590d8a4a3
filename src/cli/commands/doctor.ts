/** `ctap doctor`: what stands between this machine and a working key. */
import { accessChecks, backendCheck, getInfoConformance, platformChecks, udevCheck, type Check } from '../../device/diagnostics.js';
import { noMoreOperands, type CommandDef } from '../context.js';
import { EXIT, humanMessage } from '../errors.js';

const MARK: Record<Check['status'], string> = { ok: 'ok  ', warn: 'warn', fail: 'FAIL', info: 'info' };

export const doctorCommand: CommandDef = {
  name: 'doctor',
  summary: 'check permissions, udev rules, the HID backend, platform limits and getInfo conformance',
  usage: 'doctor [--device SPEC] [--json]',
  details: 'Exits 1 when a check fails. With --device (or when exactly one key is found) the key\'s getInfo is checked against CTAP 2.x.',
  async run(ctx) {
    noMoreOperands(ctx, 0);
    const checks: Check[] = [...platformChecks()];
    const { listDevices } = await import('../../device/list.js');
    const backend = await backendCheck(listDevices);
    checks.push(backend.check);
    if (process.platform === 'linux') {
      checks.push(await udevCheck());
      if (backend.devices) checks.push(...(await accessChecks(backend.devices)));
    }
    // Which route ceremonies take (raw HID needs Administrator on Windows 10 1903+), and whether webauthn.dll loads.
    const { routeChecks } = await import('../../platform/windows/select.js');
    checks.push(...(await routeChecks(ctx.args.globals.transport)));
    let viaDll = false;
    try {
      const route = await ctx.route();
      viaDll = route.transport === 'webauthn-dll';
      if (route.choice.transport !== route.transport) checks.push({ id: 'route.device', status: 'info', message: `route: ${route.transport} for this key (${route.reason})` });
    } catch (e) {
      checks.push({ id: 'route.device', status: 'fail', message: humanMessage(e), hint: 'leave --device at auto on the webauthn-dll route, or pass --transport hid' });
      viaDll = true;
    }
    const spec = ctx.args.globals.device;
    const explicit = spec !== 'auto';
    if (viaDll) {
      checks.push({ id: 'device.open', status: 'info', message: 'webauthn.dll route: Windows talks to the key (its getInfo is not readable this way)' });
    } else if (explicit || backend.devices?.length === 1) {
      try {
        const d = await ctx.device();
        checks.push({ id: 'device.open', status: 'ok', message: `opened ${d.info.path} (CTAPHID ${d.init.protocolVersion}, device ${d.init.deviceVersion.major}.${d.init.deviceVersion.minor}.${d.init.deviceVersion.build})` });
        if (d.init.capabilities.cbor) checks.push(...getInfoConformance(await d.session.getInfo(ctx.callOptions())));
        else checks.push({ id: 'device.ctap2', status: 'info', message: 'U2F-only key (no CBOR capability): no getInfo to check' });
      } catch (e) {
        checks.push({ id: 'device.open', status: 'fail', message: humanMessage(e) });
      }
    } else if (backend.devices && backend.devices.length > 1) {
      checks.push({ id: 'device.open', status: 'info', message: `${backend.devices.length} keys found: pass --device PATH to check one` });
    } else if (backend.devices) {
      checks.push({ id: 'device.open', status: 'info', message: 'no key plugged in: getInfo not checked (try --device virtual to see a conforming one)' });
    }
    const failed = checks.some((c) => c.status === 'fail');
    ctx.out.result({ ok: !failed, checks }, () => {
      for (const c of checks) {
        ctx.out.line(`[${MARK[c.status]}] ${c.message}`);
        if (c.hint && c.status !== 'ok') ctx.out.line(`       fix: ${c.hint}`);
      }
      ctx.out.line();
      ctx.out.line(failed ? 'Some checks failed: see the fixes above.' : 'No problems found.');
    });
    return failed ? EXIT.FAILURE : EXIT.OK;
  },
};
