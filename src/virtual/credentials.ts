/**
 * Credential keys and IDs. Every credential ID is a key handle: the private
 * key and credProtect level sealed with AES-256-GCM under a key derived from
 * the master secret, with the rpIdHash as associated data — so a handle only
 * opens for the RP it was made for, and non-resident credentials need no
 * storage. Resident credentials carry a flag in the handle and must also be
 * present in the store (a deleted one stops working).
 */
import { encodeCbor } from '../cbor/index.js';
import { hkdfSha256, hmacSha256 } from '../crypto/hashes.js';
import {
  aes256GcmDecrypt,
  aes256GcmEncrypt,
  ed25519Generate,
  ed25519PublicFromPrivate,
  ed25519Sign,
  p256Generate,
  p256PublicFromPrivate,
  p256Sign,
  randomBytes,
} from '../crypto/primitives.js';
import { concatBytes, utf8Encode, writeUint32BE, zeroize } from '../util/bytes.js';
import { AUTH_DATA_FLAGS } from '../ctap2/authenticator-data.js';
import { COSE_ALG, COSE_CRV, COSE_EC2, COSE_KEY_PARAM, COSE_KTY, COSE_OKP } from '../ctap2/cose-key.js';

const HANDLE_VERSION = 0x01;
const NONCE_LENGTH = 12;
const TAG_LENGTH = 16;
/** version(1) nonce(12) ciphertext(alg 1, flags 1, credProtect 1, key 32) tag(16) */
export const KEY_HANDLE_LENGTH = 1 + NONCE_LENGTH + 35 + TAG_LENGTH;

const FLAG_RESIDENT = 0x01;
const FLAG_HMAC_SECRET = 0x02;

export interface OpenedHandle {
  alg: number;
  privateKey: Uint8Array;
  resident: boolean;
  hmacSecret: boolean;
  credProtect: number;
}

function handleKey(masterSecret: Uint8Array): Uint8Array {
  return hkdfSha256(masterSecret, new Uint8Array(0), utf8Encode('ctap-bridge virtual key-handle v1'), 32);
}

const ALG_BYTE: Record<number, number> = { [COSE_ALG.ES256]: 1, [COSE_ALG.EdDSA]: 2 };
const BYTE_ALG: Record<number, number> = { 1: COSE_ALG.ES256, 2: COSE_ALG.EdDSA };

export function sealHandle(masterSecret: Uint8Array, rpIdHash: Uint8Array, h: OpenedHandle): Uint8Array {
  const key = handleKey(masterSecret);
  const nonce = randomBytes(NONCE_LENGTH);
  const plain = new Uint8Array(35);
  plain[0] = ALG_BYTE[h.alg]!;
  plain[1] = (h.resident ? FLAG_RESIDENT : 0) | (h.hmacSecret ? FLAG_HMAC_SECRET : 0);
  plain[2] = h.credProtect;
  plain.set(h.privateKey, 3);
  const aad = concatBytes(Uint8Array.of(HANDLE_VERSION), rpIdHash);
  const sealed = aes256GcmEncrypt(key, nonce, plain, aad);
  zeroize(key, plain);
  return concatBytes(Uint8Array.of(HANDLE_VERSION), nonce, sealed);
}

/** The handle's contents, or undefined when it was not made by this key for this RP. */
export function openHandle(masterSecret: Uint8Array, rpIdHash: Uint8Array, id: Uint8Array): OpenedHandle | undefined {
  if (id.length !== KEY_HANDLE_LENGTH || id[0] !== HANDLE_VERSION) return undefined;
  const key = handleKey(masterSecret);
  const plain = aes256GcmDecrypt(key, id.subarray(1, 1 + NONCE_LENGTH), id.subarray(1 + NONCE_LENGTH), concatBytes(Uint8Array.of(HANDLE_VERSION), rpIdHash));
  zeroize(key);
  if (!plain || plain.length !== 35) return undefined;
  const alg = BYTE_ALG[plain[0]!];
  const credProtect = plain[2]!;
  if (alg === undefined || credProtect < 1 || credProtect > 3) return undefined;
  const out = {
    alg,
    resident: (plain[1]! & FLAG_RESIDENT) !== 0,
    hmacSecret: (plain[1]! & FLAG_HMAC_SECRET) !== 0,
    credProtect,
    privateKey: plain.slice(3),
  };
  zeroize(plain);
  return out;
}

export function generateKey(alg: number): Uint8Array {
  if (alg === COSE_ALG.ES256) {
    const pair = p256Generate();
    return pair.privateKey;
  }
  const pair = ed25519Generate();
  return pair.privateKey;
}

/** The COSE_Key of the public key (CTAP canonical CBOR). */
export function coseKeyMap(alg: number, privateKey: Uint8Array): Map<number, number | Uint8Array> {
  if (alg === COSE_ALG.ES256) {
    const p = p256PublicFromPrivate(privateKey);
    return new Map<number, number | Uint8Array>([
      [COSE_KEY_PARAM.kty, COSE_KTY.EC2],
      [COSE_KEY_PARAM.alg, COSE_ALG.ES256],
      [COSE_EC2.crv, COSE_CRV.P256],
      [COSE_EC2.x, p.x],
      [COSE_EC2.y, p.y],
    ]);
  }
  return new Map<number, number | Uint8Array>([
    [COSE_KEY_PARAM.kty, COSE_KTY.OKP],
    [COSE_KEY_PARAM.alg, COSE_ALG.EdDSA],
    [COSE_OKP.crv, COSE_CRV.Ed25519],
    [COSE_OKP.x, ed25519PublicFromPrivate(privateKey)],
  ]);
}

export function sign(alg: number, privateKey: Uint8Array, data: Uint8Array): Uint8Array {
  return alg === COSE_ALG.ES256 ? p256Sign(privateKey, data) : ed25519Sign(privateKey, data);
}

export interface AuthDataInput {
  rpIdHash: Uint8Array;
  flags: number;
  signCount: number;
  attested?: { aaguid: Uint8Array; credentialId: Uint8Array; coseKey: Uint8Array } | undefined;
  extensions?: Map<string, unknown> | undefined;
}

export function buildAuthData(a: AuthDataInput): Uint8Array {
  const head = new Uint8Array(37);
  head.set(a.rpIdHash, 0);
  let flags = a.flags;
  if (a.attested) flags |= AUTH_DATA_FLAGS.AT;
  const ext = a.extensions && a.extensions.size ? encodeCbor(a.extensions as Map<string, never>) : undefined;
  if (ext) flags |= AUTH_DATA_FLAGS.ED;
  head[32] = flags;
  writeUint32BE(head, 33, a.signCount >>> 0);
  const parts: Uint8Array[] = [head];
  if (a.attested) {
    const len = Uint8Array.of((a.attested.credentialId.length >> 8) & 0xff, a.attested.credentialId.length & 0xff);
    parts.push(a.attested.aaguid, len, a.attested.credentialId, a.attested.coseKey);
  }
  if (ext) parts.push(ext);
  return concatBytes(...parts);
}

/** hmac-secret CredRandom for a credential (with or without UV), derived so non-resident keys need no storage. */
export function credRandom(masterSecret: Uint8Array, credentialId: Uint8Array, uv: boolean): Uint8Array {
  return hmacSha256(masterSecret, utf8Encode(uv ? 'hmac-secret uv' : 'hmac-secret no-uv'), credentialId);
}
