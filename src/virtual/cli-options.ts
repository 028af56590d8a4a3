/**
 * What `ctap virtual serve` needs: its option strings turned into
 * VirtualAuthenticator options (with errors that name the flag), and a
 * one-call server. The CLI owns parsing argv and the terminal prompt; this
 * file owns what the values mean.
 *
 *   --udp HOST:PORT            where to listen (default 127.0.0.1:8111)
 *   --state FILE               persistent state (created on first start)
 *   --pin PIN                  PIN of a fresh key (ignored when FILE already has state)
 *   --presence auto|deny|prompt|DELAYms   touch simulation; `prompt` needs a callback
 *   --uv none|auto|deny        built-in user verification
 *   --aaguid UUID              AAGUID of a fresh key
 *   --capacity N               discoverable credential slots
 *   --fault SPEC               fault injection, repeatable (grammar in faults.ts)
 *   --reset-window-ms N        how long after power-up authenticatorReset is accepted (default 10000)
 *   --u2f-only                 an old U2F key: no CTAPHID_CBOR
 *   --bio                      a fingerprint sensor (bioEnrollment, built-in UV once enrolled)
 *   --preview                  FIDO_2_1_PRE: preview commands 0x40 / 0x41 instead of 0x09 / 0x0A
 */
import { VirtualAuthenticator } from './authenticator.js';
import type { PresenceMode, PresenceRequest, UvMode, VirtualAuthenticatorOptions } from './core.js';
import { parseFaultSpecs } from './faults.js';
import { serveVirtualUdp, type VirtualUdpServer } from './udp-server.js';

export interface VirtualCliOptions {
  udp?: string | undefined;
  state?: string | undefined;
  pin?: string | undefined;
  presence?: string | undefined;
  uv?: string | undefined;
  aaguid?: string | undefined;
  capacity?: string | number | undefined;
  fault?: string | string[] | undefined;
  u2fOnly?: boolean | undefined;
  /** A simulated fingerprint sensor (VirtualAuthenticatorOptions.bio). */
  bio?: boolean | undefined;
  /** FIDO_2_1_PRE preview commands (VirtualAuthenticatorOptions.preview). */
  preview?: boolean | undefined;
  /** Test bench: ms after power-up during which authenticatorReset is accepted. */
  resetWindowMs?: string | number | undefined;
  /** Asked once per touch when --presence prompt (the CLI asks on the terminal); resolves true to approve. */
  prompt?: ((req: PresenceRequest) => Promise<boolean>) | undefined;
}

/** A bad option value; `flag` names it (e.g. `--presence`). */
export class VirtualOptionError extends RangeError {
  readonly flag: string;
  constructor(flag: string, message: string) {
    super(`${flag}: ${message}`);
    this.flag = flag;
    this.name = 'VirtualOptionError';
  }
}

export function parseListenAddress(value: string | undefined): { host: string; port: number } {
  if (value === undefined) return { host: '127.0.0.1', port: 8111 };
  const m = /^(?:\[([^\]]+)\]|([^:]+)):(\d+)$/.exec(value);
  const port = m ? Number(m[3]) : NaN;
  if (!m || !(port >= 0 && port <= 65535)) throw new VirtualOptionError('--udp', `expected HOST:PORT (e.g. 127.0.0.1:8111), got ${JSON.stringify(value)}`);
  return { host: (m[1] ?? m[2])!, port };
}

export function parsePresence(value: string | undefined, prompt?: (req: PresenceRequest) => Promise<boolean>): PresenceMode {
  if (value === undefined || value === 'auto') return 'auto';
  if (value === 'deny') return 'deny';
  if (value === 'prompt') {
    if (!prompt) throw new VirtualOptionError('--presence', 'prompt needs a terminal to ask on');
    return prompt;
  }
  const delay = /^(\d+)ms$/.exec(value);
  if (delay) return { delayMs: Number(delay[1]) };
  throw new VirtualOptionError('--presence', `expected auto, deny, prompt or a delay like 500ms, got ${JSON.stringify(value)}`);
}

export function parseUv(value: string | undefined): UvMode {
  if (value === undefined) return 'none';
  if (value === 'none' || value === 'auto' || value === 'deny') return value;
  throw new VirtualOptionError('--uv', `expected none, auto or deny, got ${JSON.stringify(value)}`);
}

/** VirtualAuthenticator options from CLI strings. Throws VirtualOptionError naming the flag. */
export async function virtualOptionsFromCli(o: VirtualCliOptions): Promise<VirtualAuthenticatorOptions> {
  const out: VirtualAuthenticatorOptions = {
    presence: parsePresence(o.presence, o.prompt),
    uv: parseUv(o.uv),
    u2fOnly: o.u2fOnly ?? false,
  };
  if (o.bio) out.bio = true;
  if (o.preview) out.preview = true;
  // --uv left out with --bio: the sensor's default (auto) applies.
  if (o.uv === undefined && o.bio) delete out.uv;
  if (o.state !== undefined) out.statePath = o.state;
  if (o.pin !== undefined) out.pin = o.pin;
  if (o.aaguid !== undefined) {
    if (!/^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}$/.test(o.aaguid)) throw new VirtualOptionError('--aaguid', 'expected a UUID like 01234567-89ab-cdef-0123-456789abcdef');
    out.aaguid = o.aaguid;
  }
  if (o.capacity !== undefined) {
    const n = typeof o.capacity === 'number' ? o.capacity : Number(o.capacity);
    if (!Number.isSafeInteger(n) || n < 0 || n > 1_000_000) throw new VirtualOptionError('--capacity', 'expected an integer from 0 to 1000000');
    out.capacity = n;
  }
  if (o.resetWindowMs !== undefined) {
    const n = typeof o.resetWindowMs === 'number' ? o.resetWindowMs : Number(o.resetWindowMs);
    if (!Number.isSafeInteger(n) || n < 0 || n > 2_147_483_647) throw new VirtualOptionError('--reset-window-ms', 'expected a whole number of milliseconds from 0 to 2147483647');
    out.resetWindowMs = n;
  }
  const faults = o.fault === undefined ? [] : Array.isArray(o.fault) ? o.fault : [o.fault];
  if (faults.length) {
    try {
      out.faults = parseFaultSpecs(faults);
    } catch (e) {
      throw new VirtualOptionError('--fault', (e as Error).message);
    }
  }
  return out;
}

export async function createVirtualFromCliOptions(o: VirtualCliOptions): Promise<VirtualAuthenticator> {
  return VirtualAuthenticator.create(await virtualOptionsFromCli(o));
}

/** `ctap virtual serve`: create the key and listen. Close the returned server, then the key. */
export async function serveVirtualFromCliOptions(o: VirtualCliOptions): Promise<{ authenticator: VirtualAuthenticator; server: VirtualUdpServer }> {
  const listen = parseListenAddress(o.udp);
  const authenticator = await createVirtualFromCliOptions(o);
  try {
    const server = await serveVirtualUdp(authenticator, listen);
    return { authenticator, server };
  } catch (e) {
    await authenticator.close();
    throw e;
  }
}
