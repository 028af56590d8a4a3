/** `ctap list`, `ctap info`, `ctap ping`, `ctap wink`. */
import { toJson, type JsonValue } from '../../ctap2/json.js';
import type { AuthenticatorInfo } from '../../ctap2/get-info.js';
import { getOption } from '../../ctap2/get-info.js';
import { coseAlgName } from '../../ctap2/cose-key.js';
import type { CtapHidInitInfo } from '../../ctaphid/transport.js';
import type { HidDeviceInfo } from '../../hid/port.js';
import { randomBytes } from '../../crypto/primitives.js';
import { bytesEqual, toHex } from '../../util/bytes.js';
import { intOption } from '../args.js';
import { noMoreOperands, type CommandDef } from '../context.js';
import { CliError, EXIT } from '../errors.js';

const hex4 = (n: number | undefined): string | undefined => (n === undefined ? undefined : n.toString(16).padStart(4, '0'));

export function deviceJson(d: HidDeviceInfo): JsonValue {
  return toJson({
    path: d.path,
    transport: d.transport,
    vendorId: hex4(d.vendorId),
    productId: hex4(d.productId),
    manufacturer: d.manufacturer,
    product: d.product,
    serialNumber: d.serialNumber,
  });
}

export function uuid(b: Uint8Array): string {
  const h = toHex(b);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

export function initJson(init: CtapHidInitInfo): JsonValue {
  return {
    cid: init.cid.toString(16).padStart(8, '0'),
    protocolVersion: init.protocolVersion,
    deviceVersion: init.deviceVersion,
    capabilities: init.capabilities.raw,
    capabilityFlags: { WINK: init.capabilities.wink, LOCK: init.capabilities.lock ?? false, CBOR: init.capabilities.cbor, NMSG: init.capabilities.nmsg },
  };
}

export const listCommand: CommandDef = {
  name: 'list',
  summary: 'list the security keys found (path, vendor/product, serial, transport)',
  usage: 'list [--json]',
  details: 'No key found is not an error: an empty list, exit 0. A key that is plugged in but missing here is usually a permissions problem: see `ctap doctor`.',
  async run(ctx) {
    noMoreOperands(ctx, 0);
    const { listDevices } = await import('../../device/list.js');
    const devices = await listDevices();
    ctx.out.result(devices.map(deviceJson), () => {
      if (devices.length === 0) {
        ctx.out.line('No security key found. (Plugged in? Run `ctap doctor` to check permissions; `--device virtual` uses the virtual key.)');
        return;
      }
      ctx.out.table(
        ['PATH', 'VID:PID', 'PRODUCT', 'SERIAL', 'TRANSPORT'],
        devices.map((d) => [
          d.path,
          `${hex4(d.vendorId) ?? '----'}:${hex4(d.productId) ?? '----'}`,
          [d.manufacturer, d.product].filter(Boolean).join(' ') || '-',
          d.serialNumber || '-',
          d.transport,
        ]),
      );
    });
  },
};

function yesNo(v: boolean | undefined, whenAbsent = 'not supported'): string {
  return v === undefined ? whenAbsent : v ? 'yes' : 'no';
}

function printInfo(ctx: Parameters<CommandDef['run']>[0], device: HidDeviceInfo, init: CtapHidInitInfo, info: AuthenticatorInfo | undefined): void {
  const out = ctx.out;
  const name = [device.manufacturer, device.product].filter(Boolean).join(' ') || device.path;
  out.line(name);
  out.fields([
    ['path', device.path],
    ['transport', device.transport],
    ['vendor:product', device.vendorId !== undefined ? `${hex4(device.vendorId)}:${hex4(device.productId)}` : undefined],
    ['serial', device.serialNumber],
  ], '  ');
  out.line();
  if (!info) {
    out.line('CTAP2: not spoken (U2F-only key: no CTAPHID_CBOR capability)');
  } else {
    const pin = getOption(info, 'clientPin');
    const uv = getOption(info, 'uv');
    out.fields([
      ['versions', info.versions.join(', ')],
      ['aaguid', uuid(info.aaguid)],
      ['PIN', pin === undefined ? 'not supported' : pin ? 'set' : 'supported, not set'],
      ['built-in UV', uv === undefined ? 'none' : uv ? 'configured' : 'supported, not configured'],
      ['discoverable credentials', yesNo(getOption(info, 'rk'))],
      ['remaining discoverable', info.remainingDiscoverableCredentials],
      ['credential management', yesNo(getOption(info, 'credMgmt') ?? getOption(info, 'credentialMgmtPreview'))],
      ['large blobs', yesNo(getOption(info, 'largeBlobs'))],
      ['config', yesNo(getOption(info, 'authnrCfg'))],
      ['always UV', getOption(info, 'alwaysUv') === undefined ? undefined : yesNo(getOption(info, 'alwaysUv'))],
      ['extensions', info.extensions.join(', ') || '(none)'],
      ['algorithms', info.algorithms?.map((a) => coseAlgName(a.alg) ?? String(a.alg)).join(', ')],
      ['PIN/UV auth protocols', info.pinUvAuthProtocols.join(', ') || '(none)'],
      ['minPINLength', info.minPINLength],
      ['forcePINChange', info.forcePINChange],
      ['maxMsgSize', info.maxMsgSize],
      ['maxCredentialCountInList', info.maxCredentialCountInList],
      ['maxCredentialIdLength', info.maxCredentialIdLength],
      ['transports', info.transports?.join(', ')],
      ['firmwareVersion', info.firmwareVersion],
    ], '  ');
    out.line();
    out.line('  options:');
    out.fields(Object.entries(info.options).map(([k, v]) => [k, v]), '    ');
  }
  out.line();
  out.line('  CTAPHID:');
  out.fields([
    ['protocol version', init.protocolVersion],
    ['device version', `${init.deviceVersion.major}.${init.deviceVersion.minor}.${init.deviceVersion.build}`],
    ['capabilities', [init.capabilities.wink && 'WINK', init.capabilities.lock && 'LOCK', init.capabilities.cbor && 'CBOR', !init.capabilities.nmsg && 'MSG'].filter(Boolean).join(' ') || '(none)'],
  ], '    ');
}

export const infoCommand: CommandDef = {
  name: 'info',
  summary: 'what the key is and supports: getInfo with spec names + CTAPHID INIT data',
  usage: 'info [--json]',
  async run(ctx) {
    noMoreOperands(ctx, 0);
    const d = await ctx.device();
    const info = d.init.capabilities.cbor ? await d.session.getInfo(ctx.callOptions()) : undefined;
    // Which route ceremonies take, on Windows (raw HID needs Administrator; else webauthn.dll) or when chosen
    // with --transport / CTAP_BRIDGE_TRANSPORT. (On the webauthn.dll route ctx.device() has already refused.)
    const { choice } = await ctx.route();
    const showRoute = process.platform === 'win32' || choice.source === 'explicit' || choice.source === 'env';
    const route = showRoute ? await (await import('../../platform/windows/select.js')).routeChecks(ctx.args.globals.transport) : undefined;
    ctx.out.result(
      { device: deviceJson(d.info), ctaphid: initJson(d.init), getInfo: info ? toJson(info) : null, ...(route ? { route } : {}) },
      () => {
        printInfo(ctx, d.info, d.init, info);
        if (route) {
          ctx.out.line();
          for (const c of route) ctx.out.line(`  ${c.message}`);
        }
      },
    );
  },
};

export const pingCommand: CommandDef = {
  name: 'ping',
  summary: 'CTAPHID_PING: send bytes and check the key echoes them',
  usage: 'ping [--size N] [--json]',
  options: { size: { type: 'string' } },
  async run(ctx) {
    noMoreOperands(ctx, 0);
    const size = intOption(ctx.args.values, 'size', 0, 7609) ?? 32;
    const d = await ctx.device();
    const data = randomBytes(size);
    const t0 = performance.now();
    const echo = await d.channel.ping(data, ctx.callOptions());
    const ms = performance.now() - t0;
    if (!bytesEqual(echo, data)) throw new CliError('the key echoed different bytes', EXIT.BAD_DATA);
    ctx.out.result({ bytes: size, ok: true, ms: Math.round(ms * 100) / 100 }, () => ctx.out.line(`${size} bytes echoed in ${ms.toFixed(1)} ms`));
  },
};

export const winkCommand: CommandDef = {
  name: 'wink',
  summary: 'CTAPHID_WINK: make the key blink so you can tell which one it is',
  usage: 'wink',
  async run(ctx) {
    noMoreOperands(ctx, 0);
    const d = await ctx.device();
    if (!d.init.capabilities.wink) throw new CliError('this key does not support WINK (no CAPABILITY_WINK in its CTAPHID_INIT reply)', EXIT.UNSUPPORTED);
    await d.channel.wink(ctx.callOptions());
    ctx.out.result({ ok: true }, () => ctx.out.line('The key should be blinking.'));
  },
};
