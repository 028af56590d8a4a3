import { CborError } from './errors.js';

/**
 * A strict well-formedness scan of one CBOR data item, done before any value
 * is built: it bounds every length by the bytes actually present (so a hostile
 * length cannot make us allocate), rejects what CTAP2 never sends (tags,
 * indefinite lengths, reserved additional info, undefined, other simple
 * values), limits nesting, rejects duplicate map keys, checks text is UTF-8,
 * and notes (without failing) where the item is not in CTAP2 canonical form.
 */
export interface ScanLimits {
  /** Deepest nesting of arrays/maps; CTAP2 needs 4, extensions and attestation a few more. */
  maxDepth: number;
  /** Most items in one array or map. */
  maxItems: number;
  /** Allow floating-point numbers (CTAP2 never uses them). */
  allowFloats: boolean;
}

export const DEFAULT_SCAN_LIMITS: ScanLimits = { maxDepth: 16, maxItems: 65_536, allowFloats: false };

export interface ScanResult {
  /** Bytes the item occupies from `offset`. */
  length: number;
  /** Where the encoding departs from CTAP2 canonical form (empty when canonical). */
  nonCanonical: string[];
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

export function scanItem(bytes: Uint8Array, offset = 0, limits: ScanLimits = DEFAULT_SCAN_LIMITS): ScanResult {
  const nonCanonical: string[] = [];
  const end = scan(bytes, offset, 0, limits, nonCanonical);
  return { length: end - offset, nonCanonical };
}

/*
 * Paths ("$", "$[2]", "${key 1}", "${3}", "${\"rp\"}[0]") name where an error
 * is, but only errors and non-canonical notes need them: on the success path
 * nothing is built. The step that led to the item at depth d is recorded in
 * these arrays (slot d); pathTo(bytes, d) turns steps 1..d into the string.
 * scan() is synchronous and never re-entered, so module-level scratch is safe:
 * slots above the current depth are stale and never read.
 */
const STEP_ELEMENT = 0; // array element, index in stepIndex
const STEP_KEY = 1; // map key, entry index in stepIndex
const STEP_VALUE = 2; // map value, its key's encoding at bytes[stepKeyStart, stepKeyEnd)
const stepKind: number[] = [];
const stepIndex: number[] = [];
const stepKeyStart: number[] = [];
const stepKeyEnd: number[] = [];

function pathTo(bytes: Uint8Array, depth: number): string {
  let path = '$';
  for (let d = 1; d <= depth; d++) {
    const kind = stepKind[d];
    if (kind === STEP_ELEMENT) path += `[${stepIndex[d]}]`;
    else if (kind === STEP_KEY) path += `{key ${stepIndex[d]}}`;
    else path += `{${describeKey(bytes.subarray(stepKeyStart[d], stepKeyEnd[d]))}}`;
  }
  return path;
}

const onlyFollow = (n: number): string => (n === 1 ? 'only 1 byte follows' : `only ${n} bytes follow`);

/**
 * Throws CBOR_MALFORMED unless `n` bytes follow `pos`. `what` says what they
 * were for: the message names the declared size against what is there, e.g.
 * "declares a 4294967295-byte byte string but only 0 bytes follow (offset 5)".
 */
function need(bytes: Uint8Array, pos: number, n: number, depth: number, what: 'head' | 'argument' | 'byte string' | 'text string'): void {
  const left = Math.max(0, bytes.length - pos);
  if (n <= left) return;
  const message =
    what === 'head'
      ? `the data ends where an item should start (offset ${pos})`
      : what === 'argument'
        ? `an item's head declares a ${n}-byte argument but ${onlyFollow(left)} (offset ${pos})`
        : `declares a ${n}-byte ${what} but ${onlyFollow(left)} (offset ${pos})`;
  throw new CborError('CBOR_MALFORMED', message, pathTo(bytes, depth));
}

// The head readHead() last read (scratch, so that no tuple is allocated per item).
let headMajor = 0;
let headAi = 0;
let headValue = 0;

/** Reads the head at `pos` into headMajor/headAi/headValue; returns the position after it. */
function readHead(bytes: Uint8Array, pos: number, depth: number, nonCanonical: string[]): number {
  need(bytes, pos, 1, depth, 'head');
  const initial = bytes[pos]!;
  const major = initial >> 5;
  const ai = initial & 0x1f;
  pos += 1;
  headMajor = major;
  headAi = ai;
  if (ai < 24) {
    headValue = ai;
    return pos;
  }
  if (ai === 31) throw new CborError('CBOR_UNSUPPORTED', 'indefinite-length items are not allowed in CTAP2', pathTo(bytes, depth));
  if (ai > 27) throw new CborError('CBOR_MALFORMED', `reserved additional information ${ai}`, pathTo(bytes, depth));
  const size = 1 << (ai - 24);
  need(bytes, pos, size, depth, 'argument');
  let value = 0;
  for (let i = 0; i < size; i++) value = value * 256 + bytes[pos + i]!;
  if (major !== 7) {
    const minimal = value < 24 ? 0 : value < 0x100 ? 1 : value < 0x10000 ? 2 : value < 0x100000000 ? 4 : 8;
    if (minimal !== size) nonCanonical.push(`${pathTo(bytes, depth)}: integer or length ${value} not in its shortest form`);
  }
  headValue = value;
  return pos + size;
}

function scan(bytes: Uint8Array, pos: number, depth: number, limits: ScanLimits, nonCanonical: string[]): number {
  const next = readHead(bytes, pos, depth, nonCanonical);
  const major = headMajor;
  const ai = headAi;
  const value = headValue;
  switch (major) {
    case 0:
    case 1:
      return next;
    case 2:
      need(bytes, next, value, depth, 'byte string');
      return next + value;
    case 3: {
      need(bytes, next, value, depth, 'text string');
      try {
        utf8.decode(bytes.subarray(next, next + value));
      } catch {
        throw new CborError('CBOR_MALFORMED', 'text string is not valid UTF-8', pathTo(bytes, depth));
      }
      return next + value;
    }
    case 4:
    case 5: {
      if (depth + 1 > limits.maxDepth) throw new CborError('CBOR_TOO_DEEP', `nesting deeper than ${limits.maxDepth}`, pathTo(bytes, depth));
      if (value > limits.maxItems) throw new CborError('CBOR_MALFORMED', `${value} items exceed the limit of ${limits.maxItems}`, pathTo(bytes, depth));
      // Each item takes at least one byte: a count beyond the data is malformed, caught early.
      const perItem = major === 4 ? 1 : 2;
      if (value * perItem > bytes.length - next) {
        throw new CborError('CBOR_MALFORMED', `declares ${value} items but ${onlyFollow(bytes.length - next)}`, pathTo(bytes, depth));
      }
      const child = depth + 1;
      let p = next;
      if (major === 4) {
        stepKind[child] = STEP_ELEMENT;
        for (let i = 0; i < value; i++) {
          stepIndex[child] = i;
          p = scan(bytes, p, child, limits, nonCanonical);
        }
        return p;
      }
      return scanMapEntries(bytes, next, value, depth, limits, nonCanonical);
    }
    case 6:
      throw new CborError('CBOR_UNSUPPORTED', `tag ${value} is not allowed in CTAP2`, pathTo(bytes, depth));
    default: {
      // major 7
      if (ai === 20 || ai === 21 || ai === 22) return next;
      if (ai >= 25 && ai <= 27) {
        if (!limits.allowFloats) throw new CborError('CBOR_UNSUPPORTED', 'floating-point numbers are not used in CTAP2', pathTo(bytes, depth));
        return next;
      }
      throw new CborError('CBOR_UNSUPPORTED', `simple value ${ai === 24 ? value : ai} is not used in CTAP2`, pathTo(bytes, depth));
    }
  }
}

/**
 * The `count` entries of the map at `depth` whose first key starts at `first`.
 * Duplicate keys without building a string per key: keys in canonical order
 * are strictly increasing under compareCanonical (a total order in which only
 * identical encodings compare equal), so while the order holds a key can only
 * repeat its predecessor. From the first key out of order on, every key is
 * checked against a Set of all earlier keys' encodings (non-canonical maps only).
 */
function scanMapEntries(bytes: Uint8Array, first: number, count: number, depth: number, limits: ScanLimits, nonCanonical: string[]): number {
  const child = depth + 1;
  let p = first;
  let previousStart = -1;
  let previousEnd = -1;
  let seen: Set<string> | undefined;
  for (let i = 0; i < count; i++) {
    const keyStart = p;
    stepKind[child] = STEP_KEY;
    stepIndex[child] = i;
    p = scan(bytes, p, child, limits, nonCanonical);
    const order = previousStart < 0 ? -1 : compareRanges(bytes, previousStart, previousEnd, keyStart, p);
    if (order === 0) throw duplicateKey(bytes, keyStart, p, depth);
    if (order > 0 && !seen) seen = keysBefore(bytes, first, i);
    if (seen) {
      const keyId = hexOf(bytes.subarray(keyStart, p));
      if (seen.has(keyId)) throw duplicateKey(bytes, keyStart, p, depth);
      seen.add(keyId);
    }
    if (order > 0) nonCanonical.push(`${pathTo(bytes, depth)}: map keys out of CTAP2 canonical order at entry ${i}`);
    previousStart = keyStart;
    previousEnd = p;
    stepKind[child] = STEP_VALUE;
    stepKeyStart[child] = keyStart;
    stepKeyEnd[child] = p;
    p = scan(bytes, p, child, limits, nonCanonical);
  }
  return p;
}

function duplicateKey(bytes: Uint8Array, keyStart: number, keyEnd: number, depth: number): CborError {
  return new CborError('CBOR_DUPLICATE_KEY', `duplicate map key (encoded ${hexOf(bytes.subarray(keyStart, keyEnd))})`, pathTo(bytes, depth));
}

/** The encodings (hex) of the first `n` keys of a map whose entries start at `first` (already scanned: well-formed). */
function keysBefore(bytes: Uint8Array, first: number, n: number): Set<string> {
  const keys = new Set<string>();
  let p = first;
  for (let i = 0; i < n; i++) {
    const keyEnd = skipItem(bytes, p);
    keys.add(hexOf(bytes.subarray(p, keyEnd)));
    p = skipItem(bytes, keyEnd);
  }
  return keys;
}

/** End of the item at `pos`, which scan() has already checked (so no checks here). */
function skipItem(bytes: Uint8Array, pos: number): number {
  const initial = bytes[pos]!;
  const major = initial >> 5;
  const ai = initial & 0x1f;
  let p = pos + 1;
  let value = ai;
  if (ai >= 24 && ai <= 27) {
    const size = 1 << (ai - 24);
    value = 0;
    for (let i = 0; i < size; i++) value = value * 256 + bytes[p + i]!;
    p += size;
  }
  if (major === 2 || major === 3) return p + value;
  if (major === 4) for (let i = 0; i < value; i++) p = skipItem(bytes, p);
  else if (major === 5) for (let i = 0; i < 2 * value; i++) p = skipItem(bytes, p);
  return p;
}

/** compareCanonical over two ranges of one buffer (no subarray views). */
function compareRanges(bytes: Uint8Array, aStart: number, aEnd: number, bStart: number, bEnd: number): number {
  const majorA = bytes[aStart]! >> 5;
  const majorB = bytes[bStart]! >> 5;
  if (majorA !== majorB) return majorA - majorB;
  const length = aEnd - aStart;
  if (length !== bEnd - bStart) return length - (bEnd - bStart);
  for (let i = 0; i < length; i++) {
    const x = bytes[aStart + i]!;
    const y = bytes[bStart + i]!;
    if (x !== y) return x - y;
  }
  return 0;
}

/**
 * CTAP2 canonical order (CTAP 2.1 §8 "Message Encoding"): lower major type
 * first, then shorter encoding, then bytewise. Major type first matters only
 * across types: {256, h'', "3"} sorts 256 (major 0) before h'' (major 2),
 * as python-fido2 does (vector pyfido2-cbor-fido-canonical-keyorder-2).
 */
export function compareCanonical(a: Uint8Array, b: Uint8Array): number {
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
