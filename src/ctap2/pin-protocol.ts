/**
 * PIN/UV auth protocols one and two (CTAP 2.2 §6.5.6, §6.5.7): key
 * agreement, the KDF, encrypt/decrypt and authenticate/verify. Both sides
 * (platform and authenticator) use these; the virtual key shares them.
 */
import { hkdfSha256, hmacSha256, sha256 } from '../crypto/hashes.js';
import {
  aes256CbcDecrypt,
  aes256CbcEncrypt,
  p256Ecdh,
  p256Generate,
  randomBytes,
  type P256Point,
} from '../crypto/primitives.js';
import { timingSafeEqual, utf8Encode, zeroize } from '../util/bytes.js';

export type PinUvAuthProtocolVersion = 1 | 2;

export interface PinUvAuthProtocol {
  readonly version: PinUvAuthProtocolVersion;
  /** Shared secret from the ECDH x coordinate Z. */
  kdf(z: Uint8Array): Uint8Array;
  /** Platform side: a fresh key pair, ECDH with the authenticator's key, the shared secret. */
  encapsulate(peer: P256Point): { keyAgreement: P256Point; sharedSecret: Uint8Array };
  /** Authenticator side: the shared secret for the platform's key agreement point. */
  decapsulate(privateKey: Uint8Array, peer: P256Point): Uint8Array;
  encrypt(key: Uint8Array, plaintext: Uint8Array): Uint8Array;
  /** Throws RangeError on a ciphertext of the wrong length. */
  decrypt(key: Uint8Array, ciphertext: Uint8Array): Uint8Array;
  /** pinUvAuthParam: HMAC-SHA-256, truncated to 16 bytes for protocol one. */
  authenticate(key: Uint8Array, message: Uint8Array): Uint8Array;
  verify(key: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean;
}

const ZERO_IV = new Uint8Array(16);

function checkBlocks(data: Uint8Array, what: string): void {
  if (data.length === 0 || data.length % 16 !== 0) throw new RangeError(`${what} must be a non-empty multiple of 16 bytes`);
}

function encapsulateWith(kdf: (z: Uint8Array) => Uint8Array, peer: P256Point): { keyAgreement: P256Point; sharedSecret: Uint8Array } {
  const pair = p256Generate();
  try {
    const z = p256Ecdh(pair.privateKey, peer);
    const sharedSecret = kdf(z);
    zeroize(z);
    return { keyAgreement: pair.publicKey, sharedSecret };
  } finally {
    zeroize(pair.privateKey);
  }
}

function decapsulateWith(kdf: (z: Uint8Array) => Uint8Array, privateKey: Uint8Array, peer: P256Point): Uint8Array {
  const z = p256Ecdh(privateKey, peer);
  const secret = kdf(z);
  zeroize(z);
  return secret;
}

const kdf1 = (z: Uint8Array): Uint8Array => sha256(z);

// Methods do not use `this`, so they also work when taken off the object (`const { encrypt } = PIN_PROTOCOL_2`).
export const PIN_PROTOCOL_1: PinUvAuthProtocol = {
  version: 1,
  kdf: kdf1,
  encapsulate(peer) {
    return encapsulateWith(kdf1, peer);
  },
  decapsulate(privateKey, peer) {
    return decapsulateWith(kdf1, privateKey, peer);
  },
  encrypt(key, plaintext) {
    checkBlocks(plaintext, 'plaintext');
    return aes256CbcEncrypt(key, ZERO_IV, plaintext);
  },
  decrypt(key, ciphertext) {
    checkBlocks(ciphertext, 'ciphertext');
    return aes256CbcDecrypt(key, ZERO_IV, ciphertext);
  },
  authenticate(key, message) {
    return hmacSha256(key, message).slice(0, 16);
  },
  verify(key, message, signature) {
    if (signature.length !== 16) return false;
    return timingSafeEqual(hmacSha256(key, message).subarray(0, 16), signature);
  },
};

const HMAC_INFO = utf8Encode('CTAP2 HMAC key');
const AES_INFO = utf8Encode('CTAP2 AES key');
const SALT = new Uint8Array(32);

/** Protocol two's shared secret is HMAC key (32) || AES key (32). */
function kdf2(z: Uint8Array): Uint8Array {
  const out = new Uint8Array(64);
  const h = hkdfSha256(z, SALT, HMAC_INFO, 32);
  const a = hkdfSha256(z, SALT, AES_INFO, 32);
  out.set(h, 0);
  out.set(a, 32);
  zeroize(h, a);
  return out;
}

/** Protocol two keys: the 64-byte shared secret (HMAC key || AES key) or a 32-byte key used whole. */
function checkKey2(key: Uint8Array): void {
  if (key.length !== 32 && key.length !== 64) throw new RangeError('a protocol 2 key is 32 or 64 bytes');
}

export const PIN_PROTOCOL_2: PinUvAuthProtocol = {
  version: 2,
  kdf: kdf2,
  encapsulate(peer) {
    return encapsulateWith(kdf2, peer);
  },
  decapsulate(privateKey, peer) {
    return decapsulateWith(kdf2, privateKey, peer);
  },
  encrypt(key, plaintext) {
    checkBlocks(plaintext, 'plaintext');
    checkKey2(key);
    const aesKey = key.length === 64 ? key.subarray(32) : key;
    const iv = randomBytes(16);
    const ct = aes256CbcEncrypt(aesKey, iv, plaintext);
    const out = new Uint8Array(16 + ct.length);
    out.set(iv, 0);
    out.set(ct, 16);
    return out;
  },
  decrypt(key, ciphertext) {
    if (ciphertext.length < 32 || ciphertext.length % 16 !== 0) throw new RangeError('ciphertext must be IV (16) + a non-empty multiple of 16 bytes');
    checkKey2(key);
    const aesKey = key.length === 64 ? key.subarray(32) : key;
    return aes256CbcDecrypt(aesKey, ciphertext.subarray(0, 16), ciphertext.subarray(16));
  },
  authenticate(key, message) {
    // With the 64-byte shared secret, the HMAC key is its first half; a pinUvAuthToken (32 bytes) is used whole.
    checkKey2(key);
    const hmacKey = key.length === 64 ? key.subarray(0, 32) : key;
    return hmacSha256(hmacKey, message);
  },
  verify(key, message, signature) {
    if (signature.length !== 32) return false;
    return timingSafeEqual(PIN_PROTOCOL_2.authenticate(key, message), signature);
  },
};

export function pinProtocol(version: number): PinUvAuthProtocol {
  if (version === 1) return PIN_PROTOCOL_1;
  if (version === 2) return PIN_PROTOCOL_2;
  throw new RangeError(`unsupported PIN/UV auth protocol ${version}`);
}

/** Pad a PIN to 64 bytes as setPIN/changePIN require (UTF-8, 4..63 bytes). */
export function padPin(pin: Uint8Array): Uint8Array {
  if (pin.length < 4 || pin.length > 63) throw new RangeError('a PIN is 4 to 63 bytes of UTF-8');
  const out = new Uint8Array(64);
  out.set(pin);
  return out;
}
