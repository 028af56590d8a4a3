/**
 * Readers for WebIDL-style option dictionaries: each checks one member the
 * way a browser's bindings do (TypeError naming the member) and returns it
 * in the client's own form.
 */
import type { Descriptor, PrfValues, UserVerificationRequirement } from './options.js';

/** Chromium's clamp for `timeout` (10 s .. 10 min); spec: the client may adjust it. */
export const TIMEOUT_MIN_MS = 10_000;
export const TIMEOUT_MAX_MS = 600_000;
/** §15.1 recommended defaults: 5 min, or 2 min when UV is discouraged. */
export const TIMEOUT_DEFAULT_MS = 300_000;
export const TIMEOUT_DEFAULT_DISCOURAGED_MS = 120_000;

export function required(dict: string, member: string): TypeError {
  return new TypeError(`Failed to read the '${member}' property from '${dict}': Required member is undefined.`);
}

export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A copy of a BufferSource's bytes (the caller may reuse its buffer). */
export function bufferSourceBytes(v: unknown, what: string): Uint8Array {
  if (v instanceof ArrayBuffer) return new Uint8Array(v.slice(0));
  if (ArrayBuffer.isView(v)) return new Uint8Array(v.buffer.slice(v.byteOffset, v.byteOffset + v.byteLength));
  if (typeof SharedArrayBuffer !== 'undefined' && v instanceof SharedArrayBuffer) {
    throw new TypeError(`${what}: a SharedArrayBuffer is not allowed`);
  }
  throw new TypeError(`${what} is not of type '(ArrayBuffer or ArrayBufferView)'.`);
}

export function str(v: unknown, what: string): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v); // WebIDL DOMString conversion
  throw new TypeError(`${what} must be a string`);
}

export function optStr(v: unknown, what: string): string | undefined {
  return v === undefined ? undefined : str(v, what);
}

export function seq(v: unknown, what: string): unknown[] {
  if (v === undefined) return [];
  if (!Array.isArray(v)) throw new TypeError(`${what}: The provided value cannot be converted to a sequence.`);
  return v;
}

export function pick<T extends string>(v: unknown, allowed: readonly T[], what: string): T | undefined {
  if (v === undefined) return undefined;
  const s = str(v, what);
  return (allowed as readonly string[]).includes(s) ? (s as T) : undefined;
}

export const UV_VALUES = ['required', 'preferred', 'discouraged'] as const;
export const ATTESTATION_VALUES = ['none', 'indirect', 'direct', 'enterprise'] as const;
export const CRED_PROTECT_VALUES = [
  'userVerificationOptional',
  'userVerificationOptionalWithCredentialIDList',
  'userVerificationRequired',
] as const;

export function timeout(v: unknown, uv: UserVerificationRequirement): number {
  const fallback = uv === 'discouraged' ? TIMEOUT_DEFAULT_DISCOURAGED_MS : TIMEOUT_DEFAULT_MS;
  if (v === undefined) return fallback;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw new TypeError('timeout must be an unsigned long (milliseconds)');
  return Math.min(TIMEOUT_MAX_MS, Math.max(TIMEOUT_MIN_MS, Math.floor(v)));
}

export function descriptors(v: unknown, what: string): Descriptor[] {
  const out: Descriptor[] = [];
  seq(v, what).forEach((d, i) => {
    if (!isRecord(d)) throw new TypeError(`${what}[${i}] must be an object`);
    if (d.type === undefined) throw required('PublicKeyCredentialDescriptor', 'type');
    if (d.id === undefined) throw required('PublicKeyCredentialDescriptor', 'id');
    const type = str(d.type, `${what}[${i}].type`);
    const id = bufferSourceBytes(d.id, `${what}[${i}].id`);
    const transports = seq(d.transports, `${what}[${i}].transports`).map((t, j) => str(t, `${what}[${i}].transports[${j}]`));
    if (type !== 'public-key') return; // unknown credential types are skipped
    out.push({ type: 'public-key', id, transports });
  });
  return out;
}

export function prfValues(v: unknown, what: string): PrfValues {
  if (!isRecord(v)) throw new TypeError(`${what} must be an object`);
  if (v.first === undefined) throw required('AuthenticationExtensionsPRFValues', 'first');
  const first = bufferSourceBytes(v.first, `${what}.first`);
  const second = v.second === undefined ? undefined : bufferSourceBytes(v.second, `${what}.second`);
  return second ? { first, second } : { first };
}
