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
    if (process.platform === 'win32') {
      // raw HID needs Administrator on Windows: which route ceremonies take, and whether webauthn.dll loads
      const { routeChecks } = await import('../../platform/windows/index.js');
      checks.push(...(await routeChecks()));
    }
    const spec = ctx.args.globals.device;
    const explicit = spec !== 'auto';
    if (explicit || backend.devices?.length === 1) {
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
