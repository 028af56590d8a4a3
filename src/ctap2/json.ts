/**
 * JSON-ready views of decoded CTAP data: byte strings as lowercase hex, CBOR
 * maps as objects whose keys are strings (integer keys in decimal, byte-string
 * keys as `h'..'`), as the vectors and `ctap decode --json` print them.
 */
import { toHex } from '../util/bytes.js';

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

export function jsonKey(k: unknown): string {
  if (typeof k === 'string') return k;
  if (typeof k === 'number' || typeof k === 'bigint') return String(k);
  if (k instanceof Uint8Array) return `h'${toHex(k)}'`;
  if (typeof k === 'boolean') return String(k);
  if (k === null) return 'null';
  return String(k);
}

/** Any decoded CBOR value (or typed record) to JSON: Uint8Array → hex, Map → object, undefined members dropped. */
export function toJson(v: unknown): JsonValue {
  if (v === null || v === undefined) return null;
  if (typeof v === 'boolean' || typeof v === 'string') return v;
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') return Number.isSafeInteger(Number(v)) ? Number(v) : v.toString();
  if (v instanceof Uint8Array) return toHex(v);
  if (Array.isArray(v)) return v.map(toJson);
  if (v instanceof Map) {
    const out: { [key: string]: JsonValue } = {};
    for (const [k, x] of v) out[jsonKey(k)] = toJson(x);
    return out;
  }
  if (typeof v === 'object') {
    const out: { [key: string]: JsonValue } = {};
    for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
      if (x === undefined) continue;
      if (x instanceof Map && x.size === 0 && k === 'unknownKeys') continue;
      out[k] = toJson(x);
    }
    return out;
  }
  return String(v);
}
