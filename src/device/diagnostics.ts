/**
 * Diagnostics behind `ctap doctor`: is the HID backend usable, can this
 * user open the keys, are udev rules installed, and does a key's getInfo
 * conform to what CTAP 2.x requires. Each check is a plain result; nothing
 * here prompts or prints.
 */
import { access, constants, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { AUTHENTICATOR_OPTION, getOption, hasVersion, type AuthenticatorInfo } from '../ctap2/get-info.js';
import { HidError } from '../hid/errors.js';
import { permissionHint, UDEV_RULES_PATH } from '../hid/node-hid.js';
import type { HidDeviceInfo } from '../hid/port.js';

export type CheckStatus = 'ok' | 'warn' | 'fail' | 'info';

export interface Check {
  /** Stable id, e.g. `hid.backend`, `getInfo.maxMsgSize`. */
  id: string;
  status: CheckStatus;
  message: string;
  /** What to do about it. */
  hint?: string | undefined;
}

export function platformChecks(platform: NodeJS.Platform = process.platform, node = process.versions.node): Check[] {
  const out: Check[] = [];
  const [major = 0, minor = 0] = node.split('.').map(Number);
  out.push(
    major > 20 || (major === 20 && minor >= 19)
      ? { id: 'node.version', status: 'ok', message: `Node ${node}` }
      : { id: 'node.version', status: 'fail', message: `Node ${node} is older than 20.19`, hint: 'Install Node 20.19 or newer' },
  );
  switch (platform) {
    case 'linux':
      out.push({ id: 'platform', status: 'info', message: 'Linux: keys are reached through hidraw; this user needs read/write access to /dev/hidraw* of FIDO keys' });
      break;
    case 'darwin':
      out.push({ id: 'platform', status: 'info', message: 'macOS: keys are reached through IOHIDManager; a browser or another tool holding a key exclusively blocks it' });
      break;
    case 'win32':
      out.push({
        id: 'platform',
        status: 'warn',
        message: 'Windows 10 1903+ lets only Administrator processes open FIDO keys over raw HID',
        hint: 'Run as Administrator, or use the platform WebAuthn API route (webauthn.dll) for create/get',
      });
      break;
    default:
      out.push({ id: 'platform', status: 'warn', message: `${platform} is not a tested platform` });
  }
  return out;
}

/** Does node-hid load? `list` is the enumeration (injected for tests). */
export async function backendCheck(list: () => Promise<HidDeviceInfo[]>): Promise<{ check: Check; devices: HidDeviceInfo[] | undefined }> {
  try {
    const devices = await list();
    return {
      check: { id: 'hid.backend', status: 'ok', message: `node-hid loads; ${devices.length} FIDO key${devices.length === 1 ? '' : 's'} enumerated` },
      devices,
    };
  } catch (e) {
    const hint = e instanceof HidError ? e.hint : undefined;
    return { check: { id: 'hid.backend', status: 'fail', message: e instanceof Error ? e.message.split('. ')[0]! : String(e), hint }, devices: undefined };
  }
}

const UDEV_DIRS = ['/etc/udev/rules.d', '/run/udev/rules.d', '/lib/udev/rules.d', '/usr/lib/udev/rules.d'];

/** Linux: a udev rule that grants access to FIDO hidraw nodes (ours, libfido2's 70-u2f.rules, systemd's 60-fido-id). */
export async function udevCheck(dirs: readonly string[] = UDEV_DIRS): Promise<Check> {
  const found: string[] = [];
  for (const dir of dirs) {
    let names: string[];
    try {
      names = await readdir(dir);
    } catch {
      continue;
    }
    for (const n of names) {
      if (!n.endsWith('.rules')) continue;
      const path = join(dir, n);
      if (/ctap-bridge|u2f|fido/i.test(n)) {
        found.push(path);
        continue;
      }
      try {
        const text = await readFile(path, 'utf8');
        if (/ID_FIDO_TOKEN|f1d0/i.test(text)) found.push(path);
      } catch {
        // unreadable rules file: not ours to judge
      }
    }
  }
  if (found.length) return { id: 'linux.udev', status: 'ok', message: `udev rules for FIDO keys: ${found.join(', ')}` };
  return {
    id: 'linux.udev',
    status: 'warn',
    message: 'no udev rule for FIDO keys found',
    hint: `sudo cp ${UDEV_RULES_PATH} /etc/udev/rules.d/ && sudo udevadm control --reload && sudo udevadm trigger`,
  };
}

/** Linux: can this user read and write each key's hidraw node? */
export async function accessChecks(devices: readonly HidDeviceInfo[], platform: NodeJS.Platform = process.platform): Promise<Check[]> {
  if (platform !== 'linux') return [];
  const out: Check[] = [];
  for (const d of devices) {
    if (!d.path.startsWith('/dev/')) continue;
    try {
      await access(d.path, constants.R_OK | constants.W_OK);
      out.push({ id: 'linux.access', status: 'ok', message: `${d.path}: readable and writable` });
    } catch {
      out.push({ id: 'linux.access', status: 'fail', message: `${d.path}: this user cannot open it`, hint: permissionHint('linux') });
    }
  }
  return out;
}

/**
 * What CTAP 2.x requires of getInfo (CTAP 2.2 §6.4), checked member by
 * member. `fail` = the spec is broken; `warn` = allowed but likely to trouble
 * clients.
 */
export function getInfoConformance(info: AuthenticatorInfo): Check[] {
  const out: Check[] = [];
  const c = (id: string, ok: boolean, good: string, bad: string, status: CheckStatus = 'fail'): void => {
    out.push(ok ? { id: `getInfo.${id}`, status: 'ok', message: good } : { id: `getInfo.${id}`, status, message: bad });
  };
  const is21 = hasVersion(info, 'FIDO_2_1');
  c('versions', info.versions.some((v) => v.startsWith('FIDO_2_')), `versions: ${info.versions.join(', ')}`, 'versions lists no FIDO_2_x version');
  c('aaguid', info.aaguid.length === 16, 'aaguid is 16 bytes', `aaguid is ${info.aaguid.length} bytes, not 16`);
  if (info.aaguid.every((b) => b === 0)) out.push({ id: 'getInfo.aaguid.zero', status: 'warn', message: 'aaguid is all zeros: attestation cannot identify the model' });
  c('maxMsgSize', info.maxMsgSize === undefined || info.maxMsgSize >= 1024, `maxMsgSize ${info.maxMsgSize ?? '(absent: 1024 assumed)'}`, `maxMsgSize ${info.maxMsgSize} is below the 1024 bytes every client may send`);
  const clientPin = getOption(info, AUTHENTICATOR_OPTION.clientPin);
  if (clientPin !== undefined) {
    c('pinUvAuthProtocols', info.pinUvAuthProtocols.length > 0 || !is21, `pinUvAuthProtocols: ${info.pinUvAuthProtocols.join(', ') || '(absent: 1 assumed, CTAP 2.0)'}`, 'clientPin is supported but pinUvAuthProtocols is empty');
    const unknown = info.pinUvAuthProtocols.filter((p) => p !== 1 && p !== 2);
    if (unknown.length) out.push({ id: 'getInfo.pinUvAuthProtocols.unknown', status: 'warn', message: `unknown PIN/UV auth protocols listed: ${unknown.join(', ')}` });
  }
  if (is21) {
    c('fido21.pinUvAuthToken', getOption(info, 'pinUvAuthToken') === true, 'FIDO_2_1: pinUvAuthToken is supported', 'FIDO_2_1 keys must support pinUvAuthToken (option missing or false)');
    if (clientPin !== undefined) c('fido21.protocol2', info.pinUvAuthProtocols.includes(2), 'FIDO_2_1: PIN/UV auth protocol 2 offered', 'FIDO_2_1 keys must offer PIN/UV auth protocol 2');
    if (getOption(info, 'rk') === true) c('fido21.credMgmt', getOption(info, 'credMgmt') === true, 'FIDO_2_1: credential management supported', 'FIDO_2_1 keys with discoverable credentials must support credMgmt');
    c('fido21.algorithms', info.algorithms !== undefined && info.algorithms.length > 0, 'algorithms listed', 'FIDO_2_1 keys should list algorithms', 'warn');
  }
  if (info.minPINLength !== undefined) c('minPINLength', info.minPINLength >= 4 && info.minPINLength <= 63, `minPINLength ${info.minPINLength}`, `minPINLength ${info.minPINLength} is outside 4..63`);
  c('options.up', getOption(info, 'up') !== false || getOption(info, 'uv') === true, 'user presence supported', 'up is false: the key cannot test user presence', 'warn');
  if (info.extensions.includes('hmac-secret') && clientPin === undefined && getOption(info, 'uv') === undefined) {
    out.push({ id: 'getInfo.hmac-secret', status: 'warn', message: 'hmac-secret is listed but the key has neither clientPin nor uv: no shared secret can be set up' });
  }
  if (info.unknownKeys.size) out.push({ id: 'getInfo.unknownKeys', status: 'info', message: `members this decoder does not know: ${[...info.unknownKeys.keys()].join(', ')}` });
  return out;
}
