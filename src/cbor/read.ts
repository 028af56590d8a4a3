/**
 * Typed readers over decoded CBOR (`unknown`). The only place where decoded
 * values are narrowed; errors name the field, e.g. `getInfo 0x03 (aaguid)`.
 */
import { CborError } from './errors.js';
import type { CborKey } from './codec.js';

function typeName(v: unknown): string {
  if (v === null) return 'null';
  if (v instanceof Uint8Array) return 'byte string';
  if (Array.isArray(v)) return 'array';
  if (v instanceof Map) return 'map';
  if (typeof v === 'string') return 'text string';
  if (typeof v === 'number' || typeof v === 'bigint') return 'integer';
  return typeof v;
}

function wrong(expected: string, v: unknown, path: string): CborError {
  return new CborError('CBOR_TYPE', `expected ${expected}, got ${typeName(v)}`, path);
}

export function asUint(v: unknown, path: string): number {
  if (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0) return v;
  throw wrong('an unsigned integer', v, path);
}

export function asInt(v: unknown, path: string): number {
  if (typeof v === 'number' && Number.isSafeInteger(v)) return v;
  throw wrong('an integer', v, path);
}

export function asBytes(v: unknown, path: string, maxLength = Infinity): Uint8Array {
  if (!(v instanceof Uint8Array)) throw wrong('a byte string', v, path);
  if (v.length > maxLength) throw new CborError('CBOR_TYPE', `byte string of ${v.length} bytes exceeds ${maxLength}`, path);
  return v;
}

export function asText(v: unknown, path: string, maxLength = Infinity): string {
  if (typeof v !== 'string') throw wrong('a text string', v, path);
  if (v.length > maxLength) throw new CborError('CBOR_TYPE', `text of ${v.length} characters exceeds ${maxLength}`, path);
  return v;
}

export function asBool(v: unknown, path: string): boolean {
  if (typeof v !== 'boolean') throw wrong('a boolean', v, path);
  return v;
}

export function asArray(v: unknown, path: string): unknown[] {
  if (!Array.isArray(v)) throw wrong('an array', v, path);
  return v;
}

export function asMap(v: unknown, path: string): Map<unknown, unknown> {
  if (!(v instanceof Map)) throw wrong('a map', v, path);
  return v;
}

function label(key: CborKey, name: string | undefined): string {
  const k = typeof key === 'number' ? (key >= 0 ? `0x${key.toString(16).padStart(2, '0')}` : String(key)) : JSON.stringify(key);
  return name ? `${k} (${name})` : k;
}

/** A decoded CBOR map read key by key. */
export class CborMapReader {
  readonly map: Map<unknown, unknown>;
  readonly context: string;

  constructor(map: Map<unknown, unknown>, context: string) {
    this.map = map;
    this.context = context;
  }

  static from(value: unknown, context: string): CborMapReader {
    return new CborMapReader(asMap(value, context), context);
  }

  path(key: CborKey, name?: string): string {
    return `${this.context} ${label(key, name)}`;
  }

  has(key: CborKey): boolean {
    return this.map.has(key);
  }

  raw(key: CborKey): unknown {
    return this.map.get(key);
  }

  #required(key: CborKey, name?: string): unknown {
    if (!this.map.has(key)) throw new CborError('CBOR_MISSING_KEY', 'required member is missing', this.path(key, name));
    return this.map.get(key);
  }

  uint(key: CborKey, name?: string): number {
    return asUint(this.#required(key, name), this.path(key, name));
  }
  optionalUint(key: CborKey, name?: string): number | undefined {
    return this.map.has(key) ? asUint(this.map.get(key), this.path(key, name)) : undefined;
  }
  int(key: CborKey, name?: string): number {
    return asInt(this.#required(key, name), this.path(key, name));
  }
  optionalInt(key: CborKey, name?: string): number | undefined {
    return this.map.has(key) ? asInt(this.map.get(key), this.path(key, name)) : undefined;
  }
  bytes(key: CborKey, name?: string, maxLength?: number): Uint8Array {
    return asBytes(this.#required(key, name), this.path(key, name), maxLength);
  }
  optionalBytes(key: CborKey, name?: string, maxLength?: number): Uint8Array | undefined {
    return this.map.has(key) ? asBytes(this.map.get(key), this.path(key, name), maxLength) : undefined;
  }
  text(key: CborKey, name?: string, maxLength?: number): string {
    return asText(this.#required(key, name), this.path(key, name), maxLength);
  }
  optionalText(key: CborKey, name?: string, maxLength?: number): string | undefined {
    return this.map.has(key) ? asText(this.map.get(key), this.path(key, name), maxLength) : undefined;
  }
  bool(key: CborKey, name?: string): boolean {
    return asBool(this.#required(key, name), this.path(key, name));
  }
  optionalBool(key: CborKey, name?: string): boolean | undefined {
    return this.map.has(key) ? asBool(this.map.get(key), this.path(key, name)) : undefined;
  }
  array(key: CborKey, name?: string): unknown[] {
    return asArray(this.#required(key, name), this.path(key, name));
  }
  optionalArray(key: CborKey, name?: string): unknown[] | undefined {
    return this.map.has(key) ? asArray(this.map.get(key), this.path(key, name)) : undefined;
  }
  reader(key: CborKey, name?: string): CborMapReader {
    return new CborMapReader(asMap(this.#required(key, name), this.path(key, name)), this.path(key, name));
  }
  optionalReader(key: CborKey, name?: string): CborMapReader | undefined {
    return this.map.has(key) ? this.reader(key, name) : undefined;
  }

  /** Entries whose keys are not in `known`: kept, not dropped. */
  unknownEntries(known: Iterable<CborKey>): Map<unknown, unknown> {
    const set = new Set<unknown>(known);
    const out = new Map<unknown, unknown>();
    for (const [k, v] of this.map) if (!set.has(k)) out.set(k, v);
    return out;
  }
}
