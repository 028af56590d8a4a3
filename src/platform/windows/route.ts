/**
 * Which way a request reaches a security key: raw HID (CTAP over node-hid)
 * or Windows' own WebAuthn API (webauthn.dll). Pure; the facts (platform,
 * OS release, elevation) are gathered by `detectRouteFacts()`.
 */
import { statSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { WINDOWS_BUILD_WEBAUTHN_REQUIRED } from './constants.js';
import { WebAuthnDllError } from './errors.js';

export type Transport = 'hid' | 'webauthn-dll';
export const TRANSPORTS: readonly Transport[] = ['hid', 'webauthn-dll'];

export interface RouteFacts {
  /** An explicit choice from the API caller or a CLI flag; wins over everything. */
  explicit?: Transport | undefined;
  env: Readonly<Record<string, string | undefined>>;
  /** process.platform */
  platform: string;
  /** os.release(): on Windows "10.0.<build>" */
  osRelease: string;
  /** Process runs elevated (Administrator). Only consulted on Windows. */
  isElevated?: boolean | undefined;
}

export interface RouteChoice {
  transport: Transport;
  /** Used when opening the first choice fails (elevated on Windows: HID, then webauthn.dll). */
  fallback?: Transport;
  /** One sentence a human can read in `ctap doctor`. */
  reason: string;
  /** Where the choice came from. */
  source: 'explicit' | 'env' | 'platform' | 'windows-build' | 'elevation';
}

export function parseTransport(value: string | undefined, where: string): Transport | undefined {
  if (value === undefined || value === '') return undefined;
  const v = value.trim().toLowerCase();
  if (v === 'hid' || v === 'webauthn-dll') return v;
  throw new TypeError(`${where} must be "hid" or "webauthn-dll", got "${value}"`);
}

/** "10.0.19045" → 19045; undefined when it does not look like a Windows NT version. */
export function windowsBuild(osRelease: string): number | undefined {
  const m = /^(\d+)\.(\d+)\.(\d+)/.exec(osRelease);
  return m ? Number(m[3]) : undefined;
}

export function chooseTransport(facts: RouteFacts): RouteChoice {
  if (facts.explicit !== undefined) {
    const t = parseTransport(facts.explicit, 'transport');
    return { transport: t!, source: 'explicit', reason: `the ${t} route was chosen explicitly` };
  }
  const fromEnv = parseTransport(facts.env['CTAP_BRIDGE_TRANSPORT'], 'CTAP_BRIDGE_TRANSPORT');
  if (fromEnv !== undefined) {
    return { transport: fromEnv, source: 'env', reason: `CTAP_BRIDGE_TRANSPORT=${fromEnv}` };
  }
  if (facts.platform !== 'win32') {
    return { transport: 'hid', source: 'platform', reason: `raw HID: ${facts.platform} lets the process open FIDO keys directly` };
  }
  const build = windowsBuild(facts.osRelease);
  if (build === undefined || build < WINDOWS_BUILD_WEBAUTHN_REQUIRED) {
    return {
      transport: 'hid',
      source: 'windows-build',
      reason: `raw HID: Windows build ${build ?? facts.osRelease} is older than 1903 (${WINDOWS_BUILD_WEBAUTHN_REQUIRED}), which still allows raw FIDO HID`,
    };
  }
  if (facts.isElevated === true) {
    return {
      transport: 'hid',
      fallback: 'webauthn-dll',
      source: 'elevation',
      reason: 'raw HID: the process runs as Administrator, which Windows requires for raw FIDO HID (webauthn.dll if opening fails)',
    };
  }
  return {
    transport: 'webauthn-dll',
    source: 'elevation',
    reason: 'webauthn.dll: Windows 10 1903+ gives FIDO keys to processes without Administrator only through its WebAuthn API',
  };
}

/** The environment variable naming a stand-in for webauthn.dll (tests, other OSes). */
export const WEBAUTHN_DLL_OVERRIDE_ENV = 'CTAP_BRIDGE_WEBAUTHN_DLL';

export interface WebAuthnDllPathOptions {
  /**
   * Honour CTAP_BRIDGE_WEBAUTHN_DLL. Default true (the CLI and the plain
   * library, with a one-line warning on stderr naming the library). The
   * Electron bridge passes false unless the app sets
   * `allowWebAuthnDllOverride`: inside an app an environment variable must not
   * choose native code to load into the main process.
   */
  allowOverride?: boolean | undefined;
  /** Where the one-line notice goes (default stderr, once per message per process); null for none. */
  warn?: ((message: string) => void) | null | undefined;
}

const warned = new Set<string>();

/** Writes `message` to stderr once per process. */
export function warnOnce(message: string): void {
  if (warned.has(message)) return;
  warned.add(message);
  process.stderr.write(`ctap-bridge: warning: ${message}\n`);
}

/**
 * The absolute path of webauthn.dll: %SystemRoot%\System32\webauthn.dll, or
 * CTAP_BRIDGE_WEBAUTHN_DLL (a stand-in library on any OS) when that is
 * allowed (`opts.allowOverride`, default true). The override must be an
 * absolute path to an existing regular file, and using it is announced with a
 * one-line warning naming the path. Never a bare name.
 */
export function webAuthnDllPath(env: Readonly<Record<string, string | undefined>> = process.env, opts: WebAuthnDllPathOptions = {}): string {
  const override = env[WEBAUTHN_DLL_OVERRIDE_ENV];
  const warn = opts.warn === undefined ? warnOnce : opts.warn;
  if (override !== undefined && override !== '') {
    if (opts.allowOverride === false) {
      warn?.(`${WEBAUTHN_DLL_OVERRIDE_ENV} is set but ignored here (the embedding app did not allow a webauthn.dll override); using the system's webauthn.dll`);
    } else {
      const path = checkedOverride(override);
      warn?.(`loading ${path} in place of webauthn.dll (${WEBAUTHN_DLL_OVERRIDE_ENV})`);
      return path;
    }
  }
  const root = env['SystemRoot'] ?? env['SYSTEMROOT'] ?? env['windir'] ?? 'C:\\Windows';
  // Windows paths even when computed elsewhere (tests): join with the win32 separator.
  return `${root.replace(/[\\/]+$/, '')}\\System32\\webauthn.dll`;
}

/** The override must be an absolute path naming an existing regular file (not a directory, device or missing file). */
function checkedOverride(path: string): string {
  if (!isAbsolute(path)) throw new TypeError(`${WEBAUTHN_DLL_OVERRIDE_ENV} must be an absolute path, got "${path}"`);
  let isFile = false;
  try {
    isFile = statSync(path).isFile();
  } catch {
    // missing or unreadable: reported below
  }
  if (!isFile) throw new TypeError(`${WEBAUTHN_DLL_OVERRIDE_ENV} must name an existing regular file, got "${path}"`);
  return path;
}

/** The env with CTAP_BRIDGE_WEBAUTHN_DLL removed (and a one-line notice when it was set): what an app that does not allow the override passes down. */
export function withoutWebAuthnDllOverride(env: Readonly<Record<string, string | undefined>> = process.env): Record<string, string | undefined> {
  const copy: Record<string, string | undefined> = { ...env };
  if (copy[WEBAUTHN_DLL_OVERRIDE_ENV] !== undefined && copy[WEBAUTHN_DLL_OVERRIDE_ENV] !== '') webAuthnDllPath(copy, { allowOverride: false });
  delete copy[WEBAUTHN_DLL_OVERRIDE_ENV];
  return copy;
}

/** Facts for chooseTransport from the running process; elevation is only checked on Windows. */
export async function detectRouteFacts(explicit?: Transport): Promise<RouteFacts> {
  const os = await import('node:os');
  const facts: RouteFacts = { explicit, env: process.env, platform: process.platform, osRelease: os.release() };
  if (process.platform === 'win32' && explicit === undefined && !process.env['CTAP_BRIDGE_TRANSPORT']) {
    facts.isElevated = await isElevated();
  }
  return facts;
}

/** Windows only: shell32!IsUserAnAdmin through koffi, else `net session` (succeeds only elevated). */
export async function isElevated(): Promise<boolean> {
  try {
    const { isUserAnAdmin } = await import('./koffi.js');
    return await isUserAnAdmin();
  } catch {
    const { spawnSync } = await import('node:child_process');
    const r = spawnSync(join(process.env['SystemRoot'] ?? 'C:\\Windows', 'System32', 'net.exe'), ['session'], {
      stdio: 'ignore',
      windowsHide: true,
      timeout: 5000,
    });
    return r.status === 0;
  }
}

/** What `ctap doctor` / `ctap info` print about the route. */
export interface RouteDescription {
  transport: Transport;
  fallback?: Transport;
  reason: string;
  source: RouteChoice['source'];
  /** Absolute path of the library on the webauthn-dll route. */
  library?: string;
  /** What this route cannot do, one line each. */
  limitations: string[];
}

export function describeRoute(choice: RouteChoice, env: Readonly<Record<string, string | undefined>> = process.env): RouteDescription {
  const d: RouteDescription = { transport: choice.transport, reason: choice.reason, source: choice.source, limitations: [] };
  if (choice.fallback) d.fallback = choice.fallback;
  if (choice.transport === 'webauthn-dll') {
    try {
      d.library = webAuthnDllPath(env);
    } catch {
      // A bad override: the library probe (ctap doctor) reports why; describe what was named.
      d.library = env[WEBAUTHN_DLL_OVERRIDE_ENV] ?? '';
    }
    d.limitations = Object.values(UNSUPPORTED).map((u) => `${u.what}: ${u.where}`);
  }
  return d;
}

export type UnsupportedOperation =
  | 'getInfo'
  | 'pinChange'
  | 'pinSet'
  | 'reset'
  | 'credentialManagement'
  | 'bioEnrollment'
  | 'config'
  | 'largeBlobs'
  | 'deviceChoice'
  | 'rawCtap';

const SETTINGS = 'Settings › Accounts › Sign-in options › Security Key › Manage';

const UNSUPPORTED: Readonly<Record<UnsupportedOperation, { what: string; where: string }>> = {
  getInfo: { what: 'reading the key’s getInfo', where: 'webauthn.dll exposes no raw CTAP command; run as Administrator for the HID route' },
  pinSet: { what: 'setting a PIN', where: `Windows offers it in ${SETTINGS} (Security Key PIN › Add)` },
  pinChange: { what: 'changing the PIN', where: `Windows offers it in ${SETTINGS} (Security Key PIN › Change)` },
  reset: { what: 'resetting the key', where: `Windows offers it in ${SETTINGS} (Reset Security Key)` },
  credentialManagement: {
    what: 'listing or deleting credentials on the key',
    where: `Windows 11 offers it in ${SETTINGS}; otherwise run as Administrator for the HID route`,
  },
  bioEnrollment: { what: 'fingerprint enrollment', where: `Windows offers it in ${SETTINGS} (Security Key Fingerprint)` },
  config: { what: 'authenticatorConfig (always-UV, minimum PIN length)', where: 'not offered by Windows; run as Administrator for the HID route' },
  largeBlobs: { what: 'raw largeBlob array access', where: 'use the largeBlob WebAuthn extension instead, or run as Administrator for the HID route' },
  deviceChoice: { what: 'choosing a specific key', where: 'Windows shows its own dialog and picks the key the user touches' },
  rawCtap: { what: 'raw CTAP/CTAPHID commands', where: 'run as Administrator for the HID route' },
};

/** The NotSupportedError an operation gets on the webauthn.dll route. */
export function unsupportedOnWebAuthnDll(op: UnsupportedOperation): WebAuthnDllError {
  const u = UNSUPPORTED[op];
  return new WebAuthnDllError(
    'NotSupportedError',
    `Not possible through webauthn.dll: ${u.what}. Windows 10 1903+ only lets processes without Administrator reach security keys through its WebAuthn API, which offers registration and sign-in only. ${u.where}.`,
  );
}
