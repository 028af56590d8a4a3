/**
 * The strict scan as it was before the per-item allocations were removed
 * (src/cbor/scan.ts at 581cfab: a path string per item, a hex string per map
 * key, a Set of them per map). Frozen here as the oracle for
 * scan.property.test.ts: the new scan must give the same verdict, length,
 * notes and error (code, message, path) on every input.
 */
import { CborError } from '../../src/cbor/errors.js';

/**
 * A strict well-formedness scan of one CBOR data item, done before any value
 * is built: it bounds every length by the bytes actually present (so a hostile
 * length cannot make us allocate), rejects what CTAP2 never sends (tags,
 * indefinite lengths, reserved additional info, undefined, other simple
 * values), limits nesting, rejects duplicate map keys, checks text is UTF-8,
 * and notes (without failing) where the item is not in CTAP2 canonical form.
 */
interface ScanLimits {
  /** Deepest nesting of arrays/maps; CTAP2 needs 4, extensions and attestation a few more. */
  maxDepth: number;
  /** Most items in one array or map. */
  maxItems: number;
  /** Allow floating-point numbers (CTAP2 never uses them). */
  allowFloats: boolean;
}

const DEFAULT_SCAN_LIMITS: ScanLimits = { maxDepth: 16, maxItems: 65_536, allowFloats: false };

interface ScanResult {
  /** Bytes the item occupies from `offset`. */
  length: number;
  /** Where the encoding departs from CTAP2 canonical form (empty when canonical). */
  nonCanonical: string[];
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

export function scanItemReference(bytes: Uint8Array, offset = 0, limits: ScanLimits = DEFAULT_SCAN_LIMITS): ScanResult {
  const nonCanonical: string[] = [];
  const end = scan(bytes, offset, 0, limits, nonCanonical, '$');
  return { length: end - offset, nonCanonical };
}

const onlyFollow = (n: number): string => (n === 1 ? 'only 1 byte follows' : `only ${n} bytes follow`);

/**
 * Throws CBOR_MALFORMED unless `n` bytes follow `pos`. `what` says what they
 * were for: the message names the declared size against what is there, e.g.
 * "declares a 4294967295-byte byte string but only 0 bytes follow (offset 5)".
 */
function need(bytes: Uint8Array, pos: number, n: number, path: string, what: 'head' | 'argument' | 'byte string' | 'text string'): void {
  const left = Math.max(0, bytes.length - pos);
  if (n <= left) return;
  const message =
    what === 'head'
      ? `the data ends where an item should start (offset ${pos})`
      : what === 'argument'
        ? `an item's head declares a ${n}-byte argument but ${onlyFollow(left)} (offset ${pos})`
        : `declares a ${n}-byte ${what} but ${onlyFollow(left)} (offset ${pos})`;
  throw new CborError('CBOR_MALFORMED', message, path);
}

/** Reads the argument of the head at `pos`; returns [value, next position]. */
function readHead(bytes: Uint8Array, pos: number, path: string, nonCanonical: string[]): [number, number, number, number] {
  need(bytes, pos, 1, path, 'head');
  const initial = bytes[pos]!;
  const major = initial >> 5;
  const ai = initial & 0x1f;
  pos += 1;
  if (ai < 24) return [major, ai, ai, pos];
  if (ai === 31) throw new CborError('CBOR_UNSUPPORTED', 'indefinite-length items are not allowed in CTAP2', path);
  if (ai > 27) throw new CborError('CBOR_MALFORMED', `reserved additional information ${ai}`, path);
  const size = 1 << (ai - 24);
  need(bytes, pos, size, path, 'argument');
  let value = 0;
  for (let i = 0; i < size; i++) value = value * 256 + bytes[pos + i]!;
  if (major !== 7) {
    const minimal = value < 24 ? 0 : value < 0x100 ? 1 : value < 0x10000 ? 2 : value < 0x100000000 ? 4 : 8;
    if (minimal !== size) nonCanonical.push(`${path}: integer or length ${value} not in its shortest form`);
  }
  return [major, ai, value, pos + size];
}

function scan(bytes: Uint8Array, pos: number, depth: number, limits: ScanLimits, nonCanonical: string[], path: string): number {
  const [major, ai, value, next] = readHead(bytes, pos, path, nonCanonical);
  switch (major) {
    case 0:
    case 1:
      return next;
    case 2:
      need(bytes, next, value, path, 'byte string');
      return next + value;
    case 3: {
      need(bytes, next, value, path, 'text string');
      try {
        utf8.decode(bytes.subarray(next, next + value));
      } catch {
        throw new CborError('CBOR_MALFORMED', 'text string is not valid UTF-8', path);
      }
      return next + value;
    }
    case 4:
    case 5: {
      if (depth + 1 > limits.maxDepth) throw new CborError('CBOR_TOO_DEEP', `nesting deeper than ${limits.maxDepth}`, path);
      if (value > limits.maxItems) throw new CborError('CBOR_MALFORMED', `${value} items exceed the limit of ${limits.maxItems}`, path);
      // Each item takes at least one byte: a count beyond the data is malformed, caught early.
      const perItem = major === 4 ? 1 : 2;
      if (value * perItem > bytes.length - next) {
        throw new CborError('CBOR_MALFORMED', `declares ${value} items but ${onlyFollow(bytes.length - next)}`, path);
      }
      let p = next;
      if (major === 4) {
        for (let i = 0; i < value; i++) p = scan(bytes, p, depth + 1, limits, nonCanonical, `${path}[${i}]`);
        return p;
      }
      let previousKey: Uint8Array | undefined;
      const seen = new Set<string>();
      for (let i = 0; i < value; i++) {
        const keyStart = p;
        p = scan(bytes, p, depth + 1, limits, nonCanonical, `${path}{key ${i}}`);
        const key = bytes.subarray(keyStart, p);
        const keyId = hexOf(key);
        if (seen.has(keyId)) throw new CborError('CBOR_DUPLICATE_KEY', `duplicate map key (encoded ${keyId})`, path);
        seen.add(keyId);
        if (previousKey && compareCanonical(previousKey, key) > 0) {
          nonCanonical.push(`${path}: map keys out of CTAP2 canonical order at entry ${i}`);
        }
        previousKey = key;
        p = scan(bytes, p, depth + 1, limits, nonCanonical, `${path}{${describeKey(key)}}`);
      }
      return p;
    }
    case 6:
      throw new CborError('CBOR_UNSUPPORTED', `tag ${value} is not allowed in CTAP2`, path);
    default: {
      // major 7
      if (ai === 20 || ai === 21 || ai === 22) return next;
      if (ai >= 25 && ai <= 27) {
        if (!limits.allowFloats) throw new CborError('CBOR_UNSUPPORTED', 'floating-point numbers are not used in CTAP2', path);
        return next;
      }
      throw new CborError('CBOR_UNSUPPORTED', `simple value ${ai === 24 ? value : ai} is not used in CTAP2`, path);
    }
  }
}

/**
 * CTAP2 canonical order (CTAP 2.1 §8 "Message Encoding"): lower major type
 * first, then shorter encoding, then bytewise. Major type first matters only
 * across types: {256, h'', "3"} sorts 256 (major 0) before h'' (major 2),
 * as python-fido2 does (vector pyfido2-cbor-fido-canonical-keyorder-2).
 */
function compareCanonical(a: Uint8Array, b: Uint8Array): number {
  const majorA = (a[0] ?? 0) >> 5;
  const majorB = (b[0] ?? 0) >> 5;
  if (majorA !== majorB) return majorA - majorB;
  if (a.length !== b.length) return a.length - b.length;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return 0;
}

function hexOf(b: Uint8Array): string {
  let s = '';
  for (const x of b) s += x.toString(16).padStart(2, '0');
  return s;
}

function describeKey(key: Uint8Array): string {
  const first = key[0] ?? 0;
  const major = first >> 5;
  if (major === 0 && key.length === 1) return String(first & 0x1f);
  if (major === 1 && key.length === 1) return String(-1 - (first & 0x1f));
  if (major === 3 && key.length <= 40) {
    try {
      return JSON.stringify(utf8.decode(key.subarray(1 + ((first & 0x1f) >= 24 ? 1 : 0))));
    } catch {
      /* fall through */
    }
  }
  return `0x${hexOf(key)}`;
}
