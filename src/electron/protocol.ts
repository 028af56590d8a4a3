/**
 * The wire format between the preload and the main process: channel names,
 * the reply envelope, and the checks on what a (possibly hostile) renderer
 * sends. Pure and dependency-free, so the preload can carry it into a
 * sandboxed renderer bundle without pulling in the key stack.
 *
 * Why an envelope: Electron's `ipcMain.handle` turns a thrown error into a
 * plain `Error("Error invoking remote method '…': …")` in the renderer — the
 * WebAuthn `name` and every custom property are lost. So the main process
 * never throws across IPC; it replies `{ ok: false, error: { name, message,
 * ctap } }` and the preload rebuilds an error with that name.
 */

/** Default channel prefix: `ctap-bridge:create`, `ctap-bridge:get`, `ctap-bridge:cancel`. */
export const DEFAULT_CHANNEL_PREFIX = 'ctap-bridge';

export const CHANNEL_SUFFIX = {
  create: 'create',
  get: 'get',
  cancel: 'cancel',
} as const;

export interface Channels {
  readonly create: string;
  readonly get: string;
  readonly cancel: string;
}

export function channelsFor(prefix: string = DEFAULT_CHANNEL_PREFIX): Channels {
  if (typeof prefix !== 'string' || !/^[A-Za-z0-9._:-]{1,64}$/.test(prefix)) {
    throw new TypeError('channelPrefix must be 1-64 characters of A-Z a-z 0-9 . _ : -');
  }
  return {
    create: `${prefix}:${CHANNEL_SUFFIX.create}`,
    get: `${prefix}:${CHANNEL_SUFFIX.get}`,
    cancel: `${prefix}:${CHANNEL_SUFFIX.cancel}`,
  };
}

/** Limits on a renderer's options payload (JSON text length and nesting). */
export const PAYLOAD_LIMITS = {
  /** Real options are a few KiB (an allowCredentials list of 64 ids is ~6 KiB). */
  maxBytes: 64 * 1024,
  maxDepth: 16,
} as const;

/** The error as it crosses IPC: plain data only. */
export interface BridgeErrorJSON {
  name: string;
  message: string;
  /** The CTAP status name behind it (e.g. CTAP2_ERR_PIN_INVALID), when there is one. */
  ctap?: string;
}

export type BridgeReply<T> = { ok: true; value: T } | { ok: false; error: BridgeErrorJSON };

/** A JSON value as it arrives after structured clone and our checks. */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };
export type JsonObject = { [key: string]: JsonValue };

/**
 * Check and copy a renderer's options payload. Only JSON data is accepted
 * (strings, finite numbers, booleans, null, arrays, plain objects): no
 * ArrayBuffers, typed arrays, Dates, Maps — the L3 JSON form
 * (PublicKeyCredentialCreationOptionsJSON / …RequestOptionsJSON) is the
 * contract. The copy is built from scratch so nothing but data survives
 * (`__proto__` keys are refused rather than copied). Throws TypeError.
 */
export function checkOptionsPayload(payload: unknown, maxBytes: number = PAYLOAD_LIMITS.maxBytes): JsonObject {
  if (payload === null || typeof payload !== 'object' || Array.isArray(payload)) {
    throw new TypeError('options must be a PublicKeyCredential{Creation,Request}OptionsJSON object');
  }
  let size = 0;
  const copy = (v: unknown, depth: number, path: string): JsonValue => {
    if (depth > PAYLOAD_LIMITS.maxDepth) throw new TypeError(`options nest deeper than ${PAYLOAD_LIMITS.maxDepth} levels (at ${path})`);
    if (v === null) {
      size += 4;
      return null;
    }
    switch (typeof v) {
      case 'string':
        size += v.length + 2;
        if (size > maxBytes) throw new TypeError(`options are larger than ${maxBytes} bytes`);
        return v;
      case 'boolean':
        size += 5;
        return v;
      case 'number':
        if (!Number.isFinite(v)) throw new TypeError(`${path} is not a finite number`);
        size += 8;
        return v;
      case 'object':
        break;
      default:
        throw new TypeError(`${path} has type ${typeof v}; options must be JSON (base64url strings for binary fields)`);
    }
    if (Array.isArray(v)) {
      size += 2;
      if (size + v.length > maxBytes) throw new TypeError(`options are larger than ${maxBytes} bytes`);
      const out: JsonValue[] = [];
      for (let i = 0; i < v.length; i++) out.push(copy(v[i], depth + 1, `${path}[${i}]`));
      return out;
    }
    const proto = Object.getPrototypeOf(v) as unknown;
    if (proto !== Object.prototype && proto !== null) {
      const kind = ArrayBuffer.isView(v) || v instanceof ArrayBuffer ? 'binary data' : 'a non-plain object';
      throw new TypeError(`${path} is ${kind}; send the L3 JSON form (base64url strings for binary fields)`);
    }
    size += 2;
    const out: JsonObject = {};
    for (const key of Object.keys(v)) {
      if (key === '__proto__') throw new TypeError(`${path} has a "__proto__" key`);
      size += key.length + 3;
      if (size > maxBytes) throw new TypeError(`options are larger than ${maxBytes} bytes`);
      out[key] = copy((v as Record<string, unknown>)[key], depth + 1, `${path}.${key}`);
    }
    return out;
  };
  const out = copy(payload, 0, 'options');
  if (size > maxBytes) throw new TypeError(`options are larger than ${maxBytes} bytes`);
  return out as JsonObject;
}

/** Read an error reply back (the preload side); anything malformed becomes UnknownError. */
export function readErrorJSON(e: unknown): BridgeErrorJSON {
  if (e !== null && typeof e === 'object') {
    const { name, message, ctap } = e as Record<string, unknown>;
    if (typeof name === 'string' && /^[A-Za-z]{1,64}$/.test(name) && typeof message === 'string') {
      return typeof ctap === 'string' ? { name, message, ctap } : { name, message };
    }
  }
  return { name: 'UnknownError', message: 'The security-key bridge sent a malformed reply' };
}

/** Check a reply's envelope (the preload side). */
export function isBridgeReply(r: unknown): r is BridgeReply<unknown> {
  if (r === null || typeof r !== 'object') return false;
  const ok = (r as { ok?: unknown }).ok;
  return (ok === true && 'value' in r) || (ok === false && 'error' in r);
}
