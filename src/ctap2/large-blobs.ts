/**
 * authenticatorLargeBlobs (0x0C, CTAP 2.2 §6.10): the serialized large-blob
 * array, read and written in fragments of maxMsgSize - 64 bytes, checked by
 * its trailing LEFT(SHA-256(array), 16); and per-credential blobs (§6.10.3):
 * DEFLATE (raw), then AES-256-GCM under the credential's largeBlobKey with
 * associated data "blob" || uint64LE(origSize).
 */
import { inflateRawSync, deflateRawSync } from 'node:zlib';
import { CborError, CborMapReader, decodeCbor, encodeCbor, scanItem, type CborValue } from '../cbor/index.js';
import { sha256 } from '../crypto/hashes.js';
import { aes256GcmDecrypt, aes256GcmEncrypt, randomBytes } from '../crypto/primitives.js';
import type { TransactOptions } from '../ctaphid/transport.js';
import { bytesEqual, concatBytes, utf8Encode } from '../util/bytes.js';
import { CTAP2_CMD } from './commands.js';
import type { PinUvAuthToken } from './client-pin.js';
import { infoOption, PERMISSION, requirePermission, UnsupportedFeatureError, type FeatureInfo } from './permissions.js';
import { effectiveMaxMsgSize } from './get-info.js';
import type { Ctap2Session } from './session.js';
import { CTAP2_STATUS, CtapError } from './status.js';

export const LARGE_BLOBS_PARAM = {
  get: 0x01,
  set: 0x02,
  offset: 0x03,
  length: 0x04,
  pinUvAuthParam: 0x05,
  pinUvAuthProtocol: 0x06,
} as const;

export const LARGE_BLOBS_RESPONSE = { config: 0x01 } as const;

/** Members of a per-credential large-blob map (§6.10.3). */
export const LARGE_BLOB_ENTRY = { ciphertext: 0x01, nonce: 0x02, origSize: 0x03 } as const;

/** The spec's floor for maxSerializedLargeBlobArray, used when getInfo omits it. */
export const MIN_SERIALIZED_LARGE_BLOB_ARRAY = 1024;
/** Bytes of CTAP framing reserved in each fragment (maxFragmentLength = maxMsgSize - 64). */
export const FRAGMENT_OVERHEAD = 64;
/** The empty array as keys ship it: 0x80 || LEFT(SHA-256(0x80), 16). */
/**
 * Absolute ceiling on the serialized array this client reads or writes,
 * whatever maxSerializedLargeBlobArray the key reports (real keys hold
 * 1–8 KiB): a hostile key cannot make a read fill memory.
 */
export const LARGE_BLOB_ARRAY_CEILING = 1 << 20;
/**
 * Absolute ceiling on a blob's origSize (its inflated size). Inflation is
 * bounded by origSize, and origSize by this, so an entry claiming gigabytes
 * is refused before anything is allocated.
 */
export const LARGE_BLOB_ORIG_SIZE_CEILING = 16 << 20;
export const INITIAL_SERIALIZED_LARGE_BLOB_ARRAY = concatBytes(new Uint8Array([0x80]), sha256(new Uint8Array([0x80])).slice(0, 16));

export interface LargeBlobsRequest {
  get?: number | undefined;
  set?: Uint8Array | undefined;
  offset: number;
  length?: number | undefined;
  pinUvAuthParam?: Uint8Array | undefined;
  pinUvAuthProtocol?: number | undefined;
}

export function encodeLargeBlobsRequest(req: LargeBlobsRequest): Map<number, CborValue> {
  const P = LARGE_BLOBS_PARAM;
  const m = new Map<number, CborValue>();
  if (req.get !== undefined) m.set(P.get, req.get);
  if (req.set) m.set(P.set, req.set);
  m.set(P.offset, req.offset);
  if (req.length !== undefined) m.set(P.length, req.length);
  if (req.pinUvAuthParam) m.set(P.pinUvAuthParam, req.pinUvAuthParam);
  if (req.pinUvAuthProtocol !== undefined) m.set(P.pinUvAuthProtocol, req.pinUvAuthProtocol);
  return m;
}

export function decodeLargeBlobsResponse(value: unknown): { config?: Uint8Array | undefined } {
  if (value === undefined) return {};
  const r = CborMapReader.from(value, 'largeBlobs response');
  return { config: r.optionalBytes(LARGE_BLOBS_RESPONSE.config, 'config') };
}

/** 32×0xff || 0x0c 0x00 || uint32LE(offset) || SHA-256(fragment) */
export function largeBlobsAuthMessage(offset: number, fragment: Uint8Array): Uint8Array {
  const out = new Uint8Array(32 + 2 + 4 + 32);
  out.fill(0xff, 0, 32);
  out[32] = CTAP2_CMD.largeBlobs;
  out[33] = 0x00;
  new DataView(out.buffer).setUint32(34, offset, true);
  out.set(sha256(fragment), 38);
  return out;
}

/** One element of the large-blob array: its exact CBOR, and the decoded entry when it is a well-formed blob map. */
export interface LargeBlobArrayItem {
  raw: Uint8Array;
  entry?: LargeBlobEntry | undefined;
}

export interface LargeBlobEntry {
  ciphertext: Uint8Array;
  nonce: Uint8Array;
  origSize: number;
}

export interface DecodedLargeBlobArray {
  items: LargeBlobArrayItem[];
  /** False when the trailing hash did not match (or the bytes were not a CBOR array): items is then empty, as the spec says to treat it. */
  valid: boolean;
}

/** Split a serialized large-blob array and check its hash. */
export function decodeSerializedLargeBlobArray(serialized: Uint8Array): DecodedLargeBlobArray {
  if (serialized.length < 17) return { items: [], valid: false };
  const body = serialized.subarray(0, serialized.length - 16);
  const check = serialized.subarray(serialized.length - 16);
  if (!bytesEqual(sha256(body).subarray(0, 16), check)) return { items: [], valid: false };
  let decoded;
  try {
    decoded = decodeCbor(body, { context: 'large-blob array' });
  } catch {
    return { items: [], valid: false };
  }
  if (!Array.isArray(decoded.value)) return { items: [], valid: false };
  // Walk the array's items to keep each one's exact bytes (entries we cannot read are written back unchanged).
  const count = decoded.value.length;
  let pos = headLength(body[0]!);
  const items: LargeBlobArrayItem[] = [];
  for (let i = 0; i < count; i++) {
    const { length } = scanItem(body, pos);
    items.push({ raw: body.slice(pos, pos + length), entry: readEntry(decoded.value[i]) });
    pos += length;
  }
  return { items, valid: true };
}

function headLength(initial: number): number {
  const ai = initial & 0x1f;
  return ai < 24 ? 1 : ai === 24 ? 2 : ai === 25 ? 3 : ai === 26 ? 5 : 9;
}

function readEntry(v: unknown): LargeBlobEntry | undefined {
  if (!(v instanceof Map)) return undefined;
  try {
    const r = new CborMapReader(v, 'large-blob entry');
    const e = { ciphertext: r.bytes(LARGE_BLOB_ENTRY.ciphertext), nonce: r.bytes(LARGE_BLOB_ENTRY.nonce), origSize: r.uint(LARGE_BLOB_ENTRY.origSize) };
    if (e.nonce.length !== 12 || e.ciphertext.length < 16) return undefined;
    return e;
  } catch {
    return undefined;
  }
}

function arrayHead(count: number): Uint8Array {
  if (count < 24) return new Uint8Array([0x80 | count]);
  if (count < 0x100) return new Uint8Array([0x98, count]);
  if (count < 0x10000) return new Uint8Array([0x99, count >> 8, count & 0xff]);
  throw new RangeError('too many large-blob entries');
}

/** The serialized form: CBOR array of the items' bytes || LEFT(SHA-256, 16). */
export function encodeSerializedLargeBlobArray(items: readonly { raw: Uint8Array }[]): Uint8Array {
  const body = concatBytes(arrayHead(items.length), ...items.map((i) => i.raw));
  return concatBytes(body, sha256(body).subarray(0, 16));
}

function blobAad(origSize: number): Uint8Array {
  const out = new Uint8Array(12);
  out.set(utf8Encode('blob'), 0);
  new DataView(out.buffer).setBigUint64(4, BigInt(origSize), true);
  return out;
}

/** Compress and encrypt `data` for the credential whose largeBlobKey is `key`. */
export function encryptLargeBlob(key: Uint8Array, data: Uint8Array, nonce: Uint8Array = randomBytes(12)): LargeBlobArrayItem {
  if (key.length !== 32) throw new RangeError('a largeBlobKey is 32 bytes');
  if (nonce.length !== 12) throw new RangeError('the nonce is 12 bytes');
  if (data.length > LARGE_BLOB_ORIG_SIZE_CEILING) throw new RangeError(`a large blob is at most ${LARGE_BLOB_ORIG_SIZE_CEILING} bytes before compression`);
  const compressed = new Uint8Array(deflateRawSync(data));
  const ciphertext = aes256GcmEncrypt(key, nonce, compressed, blobAad(data.length));
  const entry: LargeBlobEntry = { ciphertext, nonce, origSize: data.length };
  const E = LARGE_BLOB_ENTRY;
  const raw = encodeCbor(new Map<number, CborValue>([[E.ciphertext, ciphertext], [E.nonce, nonce], [E.origSize, data.length]]));
  return { raw, entry };
}

/**
 * Decrypt an entry with `key`: undefined when it is not this key's (the tag
 * does not verify). Throws CborError when it decrypts but does not inflate to
 * exactly origSize bytes (inflation is bounded by origSize), or when its
 * origSize is above LARGE_BLOB_ORIG_SIZE_CEILING.
 */
export function decryptLargeBlob(key: Uint8Array, entry: LargeBlobEntry): Uint8Array | undefined {
  const compressed = aes256GcmDecrypt(key, entry.nonce, entry.ciphertext, blobAad(entry.origSize));
  if (!compressed) return undefined;
  if (entry.origSize > LARGE_BLOB_ORIG_SIZE_CEILING) {
    compressed.fill(0);
    throw new CborError('CBOR_TYPE', `the blob claims an origSize of ${entry.origSize} bytes, above this client's ceiling of ${LARGE_BLOB_ORIG_SIZE_CEILING}`, 'large-blob entry');
  }
  let out: Uint8Array;
  try {
    out = new Uint8Array(inflateRawSync(compressed, { maxOutputLength: Math.max(1, entry.origSize) }));
  } catch (e) {
    throw new CborError('CBOR_MALFORMED', `the blob does not inflate to its origSize of ${entry.origSize} bytes`, 'large-blob entry', { cause: e });
  }
  if (out.length !== entry.origSize) throw new CborError('CBOR_MALFORMED', `the blob inflates to ${out.length} bytes, not its origSize of ${entry.origSize}`, 'large-blob entry');
  return out;
}

/** Does this entry belong to `key` (its GCM tag verifies)? */
export function ownedBy(key: Uint8Array, entry: LargeBlobEntry): boolean {
  return aes256GcmDecrypt(key, entry.nonce, entry.ciphertext, blobAad(entry.origSize)) !== null;
}

/**
 * largeBlobs for one session. Writes need a token with the `lbw`
 * permission when the key is protected by a PIN or built-in UV.
 */
export class LargeBlobs {
  readonly session: Ctap2Session;
  readonly info: FeatureInfo;
  readonly token: PinUvAuthToken | undefined;

  constructor(session: Ctap2Session, info: FeatureInfo, token?: PinUvAuthToken) {
    if (infoOption(info, 'largeBlobs') !== true) {
      throw new UnsupportedFeatureError('largeBlobs', 'this key does not support large blobs (getInfo lacks the largeBlobs option)', { command: CTAP2_CMD.largeBlobs });
    }
    requirePermission(token, PERMISSION.lbw, 'lbw (large blob write)');
    this.session = session;
    this.info = info;
    this.token = token;
  }

  static async open(session: Ctap2Session, token?: PinUvAuthToken, opts?: TransactOptions): Promise<LargeBlobs> {
    return new LargeBlobs(session, await session.getInfo(opts), token);
  }

  static isSupported(info: FeatureInfo): boolean {
    return infoOption(info, 'largeBlobs') === true;
  }

  /**
   * maxMsgSize - 64, with maxMsgSize raised to CTAP's 1024-byte floor
   * (effectiveMaxMsgSize). Throws CtapError when it would still be below 1
   * byte (an info object built by hand), since no fragment could make progress.
   */
  get maxFragmentLength(): number {
    const frag = effectiveMaxMsgSize(this.info) - FRAGMENT_OVERHEAD;
    if (!Number.isSafeInteger(frag) || frag < 1) {
      throw new CtapError(CTAP2_STATUS.CTAP1_ERR_INVALID_LENGTH, {
        command: CTAP2_CMD.largeBlobs,
        message: `the key's maxMsgSize leaves no room for a large-blob fragment (${frag} bytes); large blobs cannot be used with it`,
      });
    }
    return frag;
  }

  /** The key's limit (1024 when it omits it), never above LARGE_BLOB_ARRAY_CEILING. */
  get maxSerializedLargeBlobArray(): number {
    return Math.min(this.info.maxSerializedLargeBlobArray ?? MIN_SERIALIZED_LARGE_BLOB_ARRAY, LARGE_BLOB_ARRAY_CEILING);
  }

  /**
   * The whole serialized array, read fragment by fragment. Bounded: every
   * full fragment moves the offset forward by frag ≥ 1 bytes, and the read
   * stops with a CborError once it passes maxSerializedLargeBlobArray.
   */
  async readSerialized(opts?: TransactOptions): Promise<Uint8Array> {
    const chunks: Uint8Array[] = [];
    let offset = 0;
    const max = this.maxSerializedLargeBlobArray;
    const frag = this.maxFragmentLength;
    const maxRounds = Math.floor(max / frag) + 1;
    for (let round = 0; round < maxRounds + 1; round++) {
      const { value } = await this.session.send(CTAP2_CMD.largeBlobs, encodeLargeBlobsRequest({ get: frag, offset }), opts);
      const { config } = decodeLargeBlobsResponse(value);
      if (!config) throw new CborError('CBOR_MISSING_KEY', 'reply lacks config', 'largeBlobs response');
      if (config.length > frag) throw new CborError('CBOR_TYPE', `the key sent ${config.length} bytes for a ${frag}-byte fragment`, 'largeBlobs response');
      chunks.push(config);
      offset += config.length;
      if (offset > max) throw new CborError('CBOR_TYPE', `the large-blob array exceeds maxSerializedLargeBlobArray (${max})`, 'largeBlobs response');
      if (config.length < frag) return concatBytes(...chunks);
    }
    throw new CborError('CBOR_TYPE', `the large-blob array exceeds maxSerializedLargeBlobArray (${max})`, 'largeBlobs response');
  }

  async readArray(opts?: TransactOptions): Promise<DecodedLargeBlobArray> {
    return decodeSerializedLargeBlobArray(await this.readSerialized(opts));
  }

  /** Write a whole serialized array (with its hash) in fragments. */
  async writeSerialized(serialized: Uint8Array, opts?: TransactOptions): Promise<void> {
    if (serialized.length < 17) throw new RangeError('a serialized large-blob array is at least 17 bytes');
    if (serialized.length > this.maxSerializedLargeBlobArray) {
      throw new CtapError(CTAP2_STATUS.CTAP2_ERR_LARGE_BLOB_STORAGE_FULL, {
        command: CTAP2_CMD.largeBlobs,
        message: `the large-blob array would be ${serialized.length} bytes; this key holds at most ${this.maxSerializedLargeBlobArray}`,
      });
    }
    const frag = this.maxFragmentLength; // ≥ 1, so the loop ends after ceil(length / frag) rounds
    for (let offset = 0; offset < serialized.length; offset += frag) {
      const fragment = serialized.subarray(offset, Math.min(serialized.length, offset + frag));
      const req: LargeBlobsRequest = { set: fragment, offset, length: offset === 0 ? serialized.length : undefined };
      if (this.token) {
        req.pinUvAuthProtocol = this.token.protocolVersion;
        req.pinUvAuthParam = this.token.authenticate(largeBlobsAuthMessage(offset, fragment));
      }
      await this.session.send(CTAP2_CMD.largeBlobs, encodeLargeBlobsRequest(req), opts);
    }
  }

  async writeItems(items: readonly { raw: Uint8Array }[], opts?: TransactOptions): Promise<void> {
    await this.writeSerialized(encodeSerializedLargeBlobArray(items), opts);
  }

  /** The blob stored for this largeBlobKey, or undefined. */
  async getBlob(largeBlobKey: Uint8Array, opts?: TransactOptions): Promise<Uint8Array | undefined> {
    const { items } = await this.readArray(opts);
    for (const it of items) {
      if (!it.entry) continue;
      const data = decryptLargeBlob(largeBlobKey, it.entry);
      if (data) return data;
    }
    return undefined;
  }

  /** Store `data` for this largeBlobKey, replacing what was there. */
  async setBlob(largeBlobKey: Uint8Array, data: Uint8Array, opts?: TransactOptions): Promise<void> {
    const { items } = await this.readArray(opts);
    const kept = items.filter((it) => !(it.entry && ownedBy(largeBlobKey, it.entry)));
    kept.push(encryptLargeBlob(largeBlobKey, data));
    await this.writeItems(kept, opts);
  }

  /** Remove this largeBlobKey's blob; false when there was none. */
  async deleteBlob(largeBlobKey: Uint8Array, opts?: TransactOptions): Promise<boolean> {
    const { items } = await this.readArray(opts);
    const kept = items.filter((it) => !(it.entry && ownedBy(largeBlobKey, it.entry)));
    if (kept.length === items.length) return false;
    await this.writeItems(kept, opts);
    return true;
  }
}
