/**
 * authenticatorData (WebAuthn L3 §6.1): rpIdHash(32) | flags(1) | signCount(4)
 * | attestedCredentialData (AT) | extensions CBOR map (ED). Parsing keeps the
 * exact bytes of the COSE key and extensions; truncation, trailing bytes and
 * flag/content mismatches are typed errors.
 */
import { CborError, asMap, compareCanonical, decodeCbor, decodeCborPrefix, encodeCbor, scanItem, type CborValue } from '../cbor/index.js';
import { concatBytes, readUint16BE, readUint32BE, writeUint32BE } from '../util/bytes.js';
import { decodeCoseKey, type CoseKey } from './cose-key.js';
import { CtapFormatError } from './format-error.js';

export const AUTH_DATA_FLAGS = {
  UP: 0x01,
  RFU1: 0x02,
  UV: 0x04,
  BE: 0x08,
  BS: 0x10,
  RFU2: 0x20,
  AT: 0x40,
  ED: 0x80,
} as const;

export type AuthDataFlagName = keyof typeof AUTH_DATA_FLAGS;

/** Fixed part: rpIdHash 32 + flags 1 + signCount 4. */
export const AUTH_DATA_MIN_LENGTH = 37;
/** WebAuthn L3 §6.5.1: credentialIdLength must not exceed 1023. */
export const MAX_CREDENTIAL_ID_LENGTH = 1023;

export interface AttestedCredentialData {
  aaguid: Uint8Array;
  credentialId: Uint8Array;
  credentialPublicKey: CoseKey;
  /** The COSE key exactly as the authenticator encoded it. */
  credentialPublicKeyBytes: Uint8Array;
}

export interface AuthenticatorData {
  /** The whole authenticatorData, as signed. */
  bytes: Uint8Array;
  rpIdHash: Uint8Array;
  flags: number;
  up: boolean;
  uv: boolean;
  be: boolean;
  bs: boolean;
  at: boolean;
  ed: boolean;
  signCount: number;
  attestedCredentialData?: AttestedCredentialData | undefined;
  /** Extension outputs: a CBOR map keyed by extension identifier. */
  extensions?: Map<unknown, unknown> | undefined;
  /** The extensions map exactly as encoded. */
  extensionsBytes?: Uint8Array | undefined;
  /** Non-canonical CBOR in the COSE key or extensions (accepted, reported). */
  nonCanonical: string[];
}

export interface ParseAuthenticatorDataOptions {
  /**
   * Accept a COSE key whose map keys are out of CTAP2 canonical order. Off by
   * default: libfido2 rejects such keys (see the vector
   * libfido2-regress-cred-authdata-unsorted-keys-INVALID), and a key that
   * reorders its credential key cannot be trusted to sign consistently.
   * Non-shortest lengths are always accepted with a warning.
   */
  allowNonCanonicalKeyOrder?: boolean;
  maxCredentialIdLength?: number;
}

function truncated(what: string, need: number, have: number): CtapFormatError {
  return new CtapFormatError('AUTHDATA_TRUNCATED', `authenticatorData ends inside ${what}: needs ${need} more byte(s), ${have} left`);
}

/** Whether the top-level map's keys (of an already-scanned, well-formed item) are in CTAP2 canonical order. */
function mapKeysInOrder(item: Uint8Array): boolean {
  const head = item[0]!;
  if (head >> 5 !== 5) return true; // not a map: decodeCoseKey reports that
  const ai = head & 0x1f;
  let count = ai;
  let p = 1;
  if (ai === 24) [count, p] = [item[1]!, 2];
  else if (ai === 25) [count, p] = [(item[1]! << 8) | item[2]!, 3];
  else if (ai > 25) return true; // absurd sizes were bounded by the scan; no COSE key is that large
  let previous: Uint8Array | undefined;
  for (let i = 0; i < count; i++) {
    const k = item.subarray(p, p + scanItem(item, p).length);
    if (previous && compareCanonical(previous, k) > 0) return false;
    previous = k;
    p += k.length;
    p += scanItem(item, p).length;
  }
  return true;
}

export function flagsOf(flags: number): Record<AuthDataFlagName, boolean> {
  const out = {} as Record<AuthDataFlagName, boolean>;
  for (const [name, bit] of Object.entries(AUTH_DATA_FLAGS)) out[name as AuthDataFlagName] = (flags & bit) !== 0;
  return out;
}

export function parseAuthenticatorData(bytes: Uint8Array, opts: ParseAuthenticatorDataOptions = {}): AuthenticatorData {
  if (!(bytes instanceof Uint8Array)) throw new TypeError('parseAuthenticatorData: bytes must be a Uint8Array');
  if (bytes.length < AUTH_DATA_MIN_LENGTH) {
    throw new CtapFormatError('AUTHDATA_TRUNCATED', `authenticatorData is ${bytes.length} bytes; the minimum is ${AUTH_DATA_MIN_LENGTH}`);
  }
  const flags = bytes[32]!;
  const data: AuthenticatorData = {
    bytes,
    rpIdHash: bytes.slice(0, 32),
    flags,
    up: (flags & AUTH_DATA_FLAGS.UP) !== 0,
    uv: (flags & AUTH_DATA_FLAGS.UV) !== 0,
    be: (flags & AUTH_DATA_FLAGS.BE) !== 0,
    bs: (flags & AUTH_DATA_FLAGS.BS) !== 0,
    at: (flags & AUTH_DATA_FLAGS.AT) !== 0,
    ed: (flags & AUTH_DATA_FLAGS.ED) !== 0,
    signCount: readUint32BE(bytes, 33),
    nonCanonical: [],
  };
  let pos = AUTH_DATA_MIN_LENGTH;
  if (data.at) {
    if (bytes.length - pos < 18) throw truncated('attestedCredentialData (aaguid + credentialIdLength)', 18, bytes.length - pos);
    const aaguid = bytes.slice(pos, pos + 16);
    const idLength = readUint16BE(bytes, pos + 16);
    pos += 18;
    const max = opts.maxCredentialIdLength ?? MAX_CREDENTIAL_ID_LENGTH;
    if (idLength > max) throw new CtapFormatError('AUTHDATA_INVALID', `credentialIdLength ${idLength} exceeds ${max}`);
    if (bytes.length - pos < idLength) throw truncated('credentialId', idLength, bytes.length - pos);
    const credentialId = bytes.slice(pos, pos + idLength);
    pos += idLength;
    if (pos >= bytes.length) throw truncated('credentialPublicKey', 1, 0);
    const key = decodeCborPrefix(bytes, pos, { context: 'authenticatorData credentialPublicKey' });
    if (!opts.allowNonCanonicalKeyOrder && !mapKeysInOrder(bytes.subarray(pos, pos + key.length))) {
      throw new CtapFormatError('AUTHDATA_INVALID', 'credentialPublicKey map keys are not in CTAP2 canonical order');
    }
    data.nonCanonical.push(...key.nonCanonical.map((w) => `credentialPublicKey ${w}`));
    const credentialPublicKeyBytes = bytes.slice(pos, pos + key.length);
    pos += key.length;
    data.attestedCredentialData = {
      aaguid,
      credentialId,
      credentialPublicKey: decodeCoseKey(key.value, 'authenticatorData credentialPublicKey'),
      credentialPublicKeyBytes,
    };
  }
  if (data.ed) {
    if (pos >= bytes.length) throw truncated('extensions', 1, 0);
    const ext = decodeCborPrefix(bytes, pos, { context: 'authenticatorData extensions' });
    data.extensions = asMap(ext.value, 'authenticatorData extensions');
    data.extensionsBytes = bytes.slice(pos, pos + ext.length);
    data.nonCanonical.push(...ext.nonCanonical.map((w) => `extensions ${w}`));
    pos += ext.length;
  }
  if (pos !== bytes.length) {
    const hint = !data.at && !data.ed ? ' (neither AT nor ED is set)' : '';
    throw new CtapFormatError('AUTHDATA_TRAILING_BYTES', `${bytes.length - pos} byte(s) after the end of authenticatorData${hint}`);
  }
  return data;
}

export interface AuthenticatorDataInit {
  rpIdHash: Uint8Array;
  /** UP, UV, BE, BS bits; AT and ED are set from the content. */
  flags: number;
  signCount: number;
  attestedCredentialData?: { aaguid: Uint8Array; credentialId: Uint8Array; credentialPublicKey: Uint8Array } | undefined;
  /** Extension outputs: a map value (encoded canonically) or pre-encoded CBOR bytes. */
  extensions?: Uint8Array | ReadonlyMap<string, CborValue> | undefined;
}

/** Build authenticatorData (virtual key, CTAP1 → CTAP2 conversion). */
export function encodeAuthenticatorData(init: AuthenticatorDataInit): Uint8Array {
  if (init.rpIdHash.length !== 32) throw new RangeError('encodeAuthenticatorData: rpIdHash must be 32 bytes');
  if (!Number.isInteger(init.signCount) || init.signCount < 0 || init.signCount > 0xffffffff) {
    throw new RangeError('encodeAuthenticatorData: signCount must be a 32-bit unsigned integer');
  }
  let flags = init.flags & ~(AUTH_DATA_FLAGS.AT | AUTH_DATA_FLAGS.ED) & 0xff;
  const parts: Uint8Array[] = [init.rpIdHash, new Uint8Array(1), new Uint8Array(4)];
  const acd = init.attestedCredentialData;
  if (acd) {
    if (acd.aaguid.length !== 16) throw new RangeError('encodeAuthenticatorData: aaguid must be 16 bytes');
    if (acd.credentialId.length > MAX_CREDENTIAL_ID_LENGTH) throw new RangeError('encodeAuthenticatorData: credentialId longer than 1023 bytes');
    // the key must be exactly one CBOR item
    decodeCbor(acd.credentialPublicKey, { context: 'encodeAuthenticatorData credentialPublicKey' });
    flags |= AUTH_DATA_FLAGS.AT;
    parts.push(acd.aaguid, Uint8Array.of(acd.credentialId.length >> 8, acd.credentialId.length & 0xff), acd.credentialId, acd.credentialPublicKey);
  }
  if (init.extensions !== undefined) {
    const ext = init.extensions instanceof Uint8Array ? init.extensions : encodeCbor(init.extensions);
    if (init.extensions instanceof Uint8Array) {
      const d = decodeCbor(ext, { context: 'encodeAuthenticatorData extensions' });
      if (!(d.value instanceof Map)) throw new CborError('CBOR_TYPE', 'extensions must be a CBOR map', 'encodeAuthenticatorData');
    }
    flags |= AUTH_DATA_FLAGS.ED;
    parts.push(ext);
  }
  const out = concatBytes(...parts);
  out[32] = flags;
  writeUint32BE(out, 33, init.signCount);
  return out;
}
