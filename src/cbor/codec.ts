/**
 * The only file that imports cbor-x. Encoding is CTAP2 canonical (map keys
 * sorted by major type, then encoding length, then bytewise (CTAP 2.1 §8), shortest heads, no tags);
 * decoding first runs the strict scan (scan.ts) and then lets cbor-x build
 * the value, with maps as `Map`, byte strings as plain `Uint8Array` copies.
 */
import { Decoder, Encoder } from 'cbor-x';
import { CborError } from './errors.js';
import { compareCanonical, DEFAULT_SCAN_LIMITS, scanItem, type ScanLimits } from './scan.js';

export type CborKey = number | string;
/** What the encoder accepts. Plain objects are maps with text keys. */
export type CborValue =
  | number
  | bigint
  | string
  | boolean
  | null
  | Uint8Array
  | readonly CborValue[]
  | ReadonlyMap<CborKey, CborValue | undefined>
  | { readonly [key: string]: CborValue | undefined };

const encoder = new Encoder({
  useRecords: false,
  mapsAsObjects: false,
  useTag259ForMaps: false,
  tagUint8Array: false,
  variableMapSize: true,
  pack: false,
  structuredClone: false,
} as ConstructorParameters<typeof Encoder>[0]);

const decoder = new Decoder({
  useRecords: false,
  mapsAsObjects: false,
  copyBuffers: true,
  int64AsNumber: false,
} as ConstructorParameters<typeof Decoder>[0]);

function encodeRaw(value: unknown): Uint8Array {
  const out = encoder.encode(value);
  return new Uint8Array(out.buffer, out.byteOffset, out.byteLength).slice();
}

/** Rebuilds `value` with every map as a `Map` in canonical key order; `undefined` entries are dropped. */
function canonicalize(value: unknown, path: string): unknown {
  if (value === null || typeof value === 'boolean' || typeof value === 'string') return value;
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value)) throw new CborError('CBOR_ENCODE', `only safe integers can be encoded, got ${value}`, path);
    return value;
  }
  if (typeof value === 'bigint') return value;
  if (value instanceof Uint8Array) {
    // cbor-x treats Buffer and Uint8Array alike; a fresh Uint8Array avoids subclass surprises.
    return value.constructor === Uint8Array ? value : new Uint8Array(value);
  }
  if (Array.isArray(value)) return value.map((v, i) => canonicalize(v, `${path}[${i}]`));
  let entries: [unknown, unknown][];
  if (value instanceof Map) entries = [...value.entries()];
  else if (typeof value === 'object') entries = Object.entries(value as Record<string, unknown>);
  else throw new CborError('CBOR_ENCODE', `cannot encode a ${typeof value}`, path);
  const keyed: { key: unknown; enc: Uint8Array; value: unknown }[] = [];
  for (const [k, v] of entries) {
    if (v === undefined) continue;
    if (typeof k !== 'number' && typeof k !== 'string') throw new CborError('CBOR_ENCODE', 'map keys must be integers or text', path);
    if (typeof k === 'number' && !Number.isSafeInteger(k)) throw new CborError('CBOR_ENCODE', `map key ${k} is not an integer`, path);
    keyed.push({ key: k, enc: encodeRaw(k), value: canonicalize(v, `${path}{${String(k)}}`) });
  }
  keyed.sort((a, b) => compareCanonical(a.enc, b.enc));
  for (let i = 1; i < keyed.length; i++) {
    if (compareCanonical(keyed[i - 1]!.enc, keyed[i]!.enc) === 0) throw new CborError('CBOR_ENCODE', 'duplicate map key', path);
  }
  return new Map(keyed.map((e) => [e.key, e.value]));
}

/** CTAP2 canonical CBOR. */
export function encodeCbor(value: CborValue): Uint8Array {
  return encodeRaw(canonicalize(value, '$'));
}

export interface DecodeOptions {
  limits?: Partial<ScanLimits>;
  /** Where this CBOR came from, for error messages (e.g. "getInfo response"). */
  context?: string;
}

export interface Decoded {
  value: unknown;
  /** Bytes consumed. */
  length: number;
  /** Departures from canonical form; well-formed CBOR from real keys is accepted with these as warnings. */
  nonCanonical: string[];
}

function scanLimits(opts: DecodeOptions): ScanLimits {
  return { ...DEFAULT_SCAN_LIMITS, ...opts.limits };
}

function build(bytes: Uint8Array, offset: number, length: number, context: string | undefined): unknown {
  try {
    return plain(decoder.decode(bytes.subarray(offset, offset + length)));
  } catch (e) {
    throw new CborError('CBOR_MALFORMED', `cbor-x could not decode the item: ${(e as Error).message}`, context, { cause: e });
  }
}

/** Buffers to plain Uint8Array (already copied by cbor-x), recursively. */
function plain(v: unknown): unknown {
  if (v instanceof Uint8Array) return v.constructor === Uint8Array ? v : new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
  if (Array.isArray(v)) return v.map(plain);
  if (v instanceof Map) {
    const m = new Map<unknown, unknown>();
    for (const [k, x] of v) m.set(plain(k), plain(x));
    return m;
  }
  return v;
}

/** Decode exactly one item filling `bytes`; trailing bytes are an error. */
export function decodeCbor(bytes: Uint8Array, opts: DecodeOptions = {}): Decoded {
  const result = decodeCborPrefix(bytes, 0, opts);
  if (result.length !== bytes.length) {
    throw new CborError('CBOR_TRAILING_BYTES', `${bytes.length - result.length} byte(s) after the CBOR item`, opts.context);
  }
  return result;
}

/** Decode one item starting at `offset` and say how long it was (for authData, where CBOR is followed by more). */
export function decodeCborPrefix(bytes: Uint8Array, offset: number, opts: DecodeOptions = {}): Decoded {
  let scanned;
  try {
    scanned = scanItem(bytes, offset, scanLimits(opts));
  } catch (e) {
    if (e instanceof CborError && opts.context) {
      throw new CborError(e.code, e.message, opts.context, { cause: e });
    }
    throw e;
  }
  return { value: build(bytes, offset, scanned.length, opts.context), length: scanned.length, nonCanonical: scanned.nonCanonical };
}
