/**
 * Public-key and symmetric primitives over node:crypto (ECDH P-256,
 * AES-256-CBC without padding as the PIN protocols use it, ECDSA P-256,
 * Ed25519, RSA-PSS verification, randomness). Keys cross this boundary as
 * raw bytes or JWK.
 */
import {
  constants as cryptoConstants,
  createCipheriv,
  createECDH,
  createDecipheriv,
  createPrivateKey,
  createPublicKey,
  diffieHellman,
  randomBytes as nodeRandomBytes,
  sign as nodeSign,
  verify as nodeVerify,
  type KeyObject,
} from 'node:crypto';

export function randomBytes(n: number): Uint8Array {
  const b = nodeRandomBytes(n);
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength).slice();
}

function u8(b: Buffer): Uint8Array {
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength).slice();
}

function b64u(b: Uint8Array): string {
  return Buffer.from(b).toString('base64url');
}

function fromB64u(s: string | undefined): Uint8Array {
  return u8(Buffer.from(s ?? '', 'base64url'));
}

/** An uncompressed P-256 point as its x and y coordinates (32 bytes each). */
export interface P256Point {
  x: Uint8Array;
  y: Uint8Array;
}

export interface P256KeyPair {
  publicKey: P256Point;
  /** The 32-byte private scalar. Zero it when done. */
  privateKey: Uint8Array;
}

// Not generateKeyPairSync + export({ format: 'jwk' }): on Node 20 that can deadlock the main thread
// for good. ExportJWKEcKey holds the key's mutex while allocating strings; a GC in that allocation
// finalizes the (already garbage) KeyGenJob of the same key, whose destructor takes the same
// non-recursive mutex (gdb: ~KeyGenJob <- InvokeFirstPassWeakCallbacks <- ... <- ExportJWKEcKey).
// Seen as test files that never finish under load; reproducible in plain node with a small young
// generation. createECDH makes no KeyGenJob.
export function p256Generate(): P256KeyPair {
  const ecdh = createECDH('prime256v1');
  ecdh.generateKeys();
  const pt = u8(ecdh.getPublicKey(null, 'uncompressed'));
  const d = ecdh.getPrivateKey();
  const privateKey = new Uint8Array(32);
  privateKey.set(d, 32 - d.length); // getPrivateKey drops leading zero bytes
  d.fill(0);
  return { publicKey: { x: pt.slice(1, 33), y: pt.slice(33, 65) }, privateKey };
}

function p256PrivateKeyObject(privateKey: Uint8Array, pub?: P256Point): KeyObject {
  const p = pub ?? p256PublicFromPrivate(privateKey);
  return createPrivateKey({ key: { kty: 'EC', crv: 'P-256', d: b64u(privateKey), x: b64u(p.x), y: b64u(p.y) }, format: 'jwk' });
}

export function p256PublicKeyObject(pub: P256Point): KeyObject {
  return createPublicKey({ key: { kty: 'EC', crv: 'P-256', x: b64u(pub.x), y: b64u(pub.y) }, format: 'jwk' });
}

export function p256PublicFromPrivate(privateKey: Uint8Array): P256Point {
  const ecdh = createECDH('prime256v1');
  ecdh.setPrivateKey(privateKey);
  const pt = u8(ecdh.getPublicKey(null, 'uncompressed'));
  return { x: pt.slice(1, 33), y: pt.slice(33, 65) };
}


/**
 * ECDH on P-256: the x coordinate of privateKey * peer. Throws if the peer
 * point is not on the curve (node:crypto validates it).
 */
export function p256Ecdh(privateKey: Uint8Array, peer: P256Point): Uint8Array {
  return u8(diffieHellman({ privateKey: p256PrivateKeyObject(privateKey), publicKey: p256PublicKeyObject(peer) }));
}

/** ECDSA P-256 with SHA-256, DER signature (as WebAuthn carries it). */
export function p256Sign(privateKey: Uint8Array, data: Uint8Array): Uint8Array {
  return u8(nodeSign('sha256', data, { key: p256PrivateKeyObject(privateKey), dsaEncoding: 'der' }));
}

export function p256Verify(pub: P256Point, data: Uint8Array, derSignature: Uint8Array): boolean {
  return nodeVerify('sha256', data, { key: p256PublicKeyObject(pub), dsaEncoding: 'der' }, derSignature);
}

export interface Ed25519KeyPair {
  publicKey: Uint8Array;
  privateKey: Uint8Array;
}

// Same Node 20 deadlock as p256Generate (KeyGenJob finalized during a JWK export): an Ed25519
// private key is any 32 random bytes (RFC 8032 §5.1.5), so no KeyGenJob is needed.
export function ed25519Generate(): Ed25519KeyPair {
  const privateKey = randomBytes(32);
  return { publicKey: ed25519PublicFromPrivate(privateKey), privateKey };
}

export function ed25519PublicFromPrivate(privateKey: Uint8Array): Uint8Array {
  const key = createPrivateKey({ key: { kty: 'OKP', crv: 'Ed25519', d: b64u(privateKey), x: '' }, format: 'jwk' });
  return fromB64u(createPublicKey(key).export({ format: 'jwk' }).x);
}

export function ed25519Sign(privateKey: Uint8Array, data: Uint8Array): Uint8Array {
  const pub = ed25519PublicFromPrivate(privateKey);
  const key = createPrivateKey({ key: { kty: 'OKP', crv: 'Ed25519', d: b64u(privateKey), x: b64u(pub) }, format: 'jwk' });
  return u8(nodeSign(null, data, key));
}

export function ed25519Verify(publicKey: Uint8Array, data: Uint8Array, signature: Uint8Array): boolean {
  const key = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: b64u(publicKey) }, format: 'jwk' });
  return nodeVerify(null, data, key, signature);
}

/** Verify a signature with a DER SubjectPublicKeyInfo key (any algorithm node supports). */
export function verifyWithSpki(spkiDer: Uint8Array, hash: 'sha256' | 'sha384' | 'sha512' | null, data: Uint8Array, signature: Uint8Array): boolean {
  const key = createPublicKey({ key: Buffer.from(spkiDer), format: 'der', type: 'spki' });
  return nodeVerify(hash, data, key, signature);
}

const DIGEST_LENGTH = { sha256: 32, sha384: 48, sha512: 64 } as const;

/**
 * Verify an RSASSA-PSS signature (MGF1 with the same hash) with a DER
 * SubjectPublicKeyInfo RSA key. The salt length must equal the hash output
 * length (RFC 8230 §2, as COSE PS256/PS384/PS512 fix it); a signature made
 * with any other salt length does not verify.
 */
export function rsaPssVerifyWithSpki(spkiDer: Uint8Array, hash: 'sha256' | 'sha384' | 'sha512', data: Uint8Array, signature: Uint8Array): boolean {
  const key = createPublicKey({ key: Buffer.from(spkiDer), format: 'der', type: 'spki' });
  return nodeVerify(hash, data, { key, padding: cryptoConstants.RSA_PKCS1_PSS_PADDING, saltLength: DIGEST_LENGTH[hash] }, signature);
}

/** AES-256-CBC with no padding; `data` must be a multiple of 16 bytes. */
export function aes256CbcEncrypt(key: Uint8Array, iv: Uint8Array, data: Uint8Array): Uint8Array {
  const c = createCipheriv('aes-256-cbc', key, iv);
  c.setAutoPadding(false);
  return u8(Buffer.concat([c.update(data), c.final()]));
}

export function aes256CbcDecrypt(key: Uint8Array, iv: Uint8Array, data: Uint8Array): Uint8Array {
  const d = createDecipheriv('aes-256-cbc', key, iv);
  d.setAutoPadding(false);
  return u8(Buffer.concat([d.update(data), d.final()]));
}

/** AES-256-GCM (largeBlobs per-credential entries): returns ciphertext || 16-byte tag. */
export function aes256GcmEncrypt(key: Uint8Array, nonce: Uint8Array, plaintext: Uint8Array, aad: Uint8Array): Uint8Array {
  const c = createCipheriv('aes-256-gcm', key, nonce);
  c.setAAD(aad);
  const body = Buffer.concat([c.update(plaintext), c.final()]);
  return u8(Buffer.concat([body, c.getAuthTag()]));
}

/** Returns null when the tag does not verify. */
export function aes256GcmDecrypt(key: Uint8Array, nonce: Uint8Array, ciphertextAndTag: Uint8Array, aad: Uint8Array): Uint8Array | null {
  if (ciphertextAndTag.length < 16) return null;
  const d = createDecipheriv('aes-256-gcm', key, nonce);
  d.setAAD(aad);
  d.setAuthTag(ciphertextAndTag.subarray(ciphertextAndTag.length - 16));
  try {
    return u8(Buffer.concat([d.update(ciphertextAndTag.subarray(0, ciphertextAndTag.length - 16)), d.final()]));
  } catch {
    return null;
  }
}
