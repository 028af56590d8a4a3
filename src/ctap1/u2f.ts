/**
 * U2F REGISTER / AUTHENTICATE / VERSION responses (FIDO U2F Raw Message
 * Formats §4.3, §5.4, §6), bounded against hostile bytes, and their
 * conversion to CTAP2 shapes (CTAP 2.2 §10.2, §10.3): a fido-u2f
 * attestation object and an assertion, so the layers above need not care
 * which protocol the key spoke.
 */
import { utf8Decode, concatBytes, readUint32BE, writeUint32BE } from '../util/bytes.js';
import type { P256Point } from '../crypto/primitives.js';
import { encodeAttestationObject } from '../ctap2/attestation.js';
import { AUTH_DATA_FLAGS, encodeAuthenticatorData, parseAuthenticatorData } from '../ctap2/authenticator-data.js';
import { coseFromP256Point } from '../ctap2/cose-key.js';
import type { GetAssertionResponse } from '../ctap2/get-assertion.js';
import type { MakeCredentialResponse } from '../ctap2/make-credential.js';
import { U2fFormatError } from './apdu.js';

/** The reserved first byte of a REGISTER response. */
export const U2F_REGISTER_RESERVED = 0x05;
/** An uncompressed P-256 point: 0x04 || x || y. */
export const U2F_PUBLIC_KEY_LENGTH = 65;
const MAX_CERT_LENGTH = 8192;
/** A DER ECDSA P-256 signature is at most 72 bytes; leave room for odd encoders. */
const MAX_SIGNATURE_LENGTH = 128;

export interface U2fRegistration {
  /** 65-byte uncompressed point. */
  publicKey: Uint8Array;
  keyHandle: Uint8Array;
  /** DER X.509 attestation certificate. */
  certificate: Uint8Array;
  /** DER ECDSA signature over 0x00 || appParam || clientParam || keyHandle || publicKey. */
  signature: Uint8Array;
}

export interface U2fAuthentication {
  /** The user-presence byte (bit 0 = touched). */
  userPresence: number;
  counter: number;
  signature: Uint8Array;
}

/** The length of the DER element (tag + length + content) starting at `offset`. */
export function derElementLength(b: Uint8Array, offset: number): number {
  if (offset + 2 > b.length) throw new U2fFormatError('the attestation certificate is truncated');
  if (b[offset] !== 0x30) throw new U2fFormatError(`the attestation certificate does not start with a DER SEQUENCE (0x${b[offset]!.toString(16)})`);
  const first = b[offset + 1]!;
  if (first < 0x80) return 2 + first;
  const n = first & 0x7f;
  if (n === 0 || n > 3) throw new U2fFormatError('the attestation certificate has an unsupported DER length');
  if (offset + 2 + n > b.length) throw new U2fFormatError('the attestation certificate is truncated');
  let len = 0;
  for (let i = 0; i < n; i++) len = len * 256 + b[offset + 2 + i]!;
  return 2 + n + len;
}

/** Decode REGISTER response data (without the status word). */
export function decodeRegisterResponse(data: Uint8Array): U2fRegistration {
  if (data.length < 1 + 65 + 1) throw new U2fFormatError(`a U2F REGISTER response is at least 67 bytes; got ${data.length}`);
  if (data[0] !== U2F_REGISTER_RESERVED) throw new U2fFormatError(`a U2F REGISTER response starts with 0x05, not 0x${data[0]!.toString(16)}`);
  const publicKey = data.slice(1, 66);
  if (publicKey[0] !== 0x04) throw new U2fFormatError('the U2F public key is not an uncompressed point (0x04 ...)');
  const khLen = data[66]!;
  let pos = 67;
  if (khLen === 0 || pos + khLen > data.length) throw new U2fFormatError(`the key handle length ${khLen} does not fit the response`);
  const keyHandle = data.slice(pos, pos + khLen);
  pos += khLen;
  const certLen = derElementLength(data, pos);
  if (certLen > MAX_CERT_LENGTH) throw new U2fFormatError(`the attestation certificate of ${certLen} bytes is implausibly large`);
  if (pos + certLen > data.length) throw new U2fFormatError('the attestation certificate runs past the response');
  const certificate = data.slice(pos, pos + certLen);
  pos += certLen;
  const signature = data.slice(pos);
  if (signature.length === 0 || signature.length > MAX_SIGNATURE_LENGTH) throw new U2fFormatError(`the registration signature is ${signature.length} bytes`);
  return { publicKey, keyHandle, certificate, signature };
}

/** Decode AUTHENTICATE response data (without the status word). */
export function decodeAuthenticateResponse(data: Uint8Array): U2fAuthentication {
  if (data.length < 5 + 8) throw new U2fFormatError(`a U2F AUTHENTICATE response is at least 13 bytes; got ${data.length}`);
  const signature = data.slice(5);
  if (signature.length > MAX_SIGNATURE_LENGTH) throw new U2fFormatError(`the authentication signature is ${signature.length} bytes`);
  return { userPresence: data[0]!, counter: readUint32BE(data, 1), signature };
}

/** VERSION response data: "U2F_V2". */
export function decodeVersionResponse(data: Uint8Array): string {
  if (data.length === 0 || data.length > 32) throw new U2fFormatError(`a U2F VERSION response of ${data.length} bytes`);
  try {
    return utf8Decode(data);
  } catch {
    throw new U2fFormatError('the U2F version is not text');
  }
}

export function pointFromU2fPublicKey(pk: Uint8Array): P256Point {
  if (pk.length !== U2F_PUBLIC_KEY_LENGTH || pk[0] !== 0x04) throw new U2fFormatError('a U2F public key is 65 bytes starting 0x04');
  return { x: pk.slice(1, 33), y: pk.slice(33, 65) };
}

/** The bytes a REGISTER signature covers. */
export function u2fRegisterSignedData(appParam: Uint8Array, clientParam: Uint8Array, reg: U2fRegistration): Uint8Array {
  return concatBytes(new Uint8Array([0x00]), appParam, clientParam, reg.keyHandle, reg.publicKey);
}

/** The bytes an AUTHENTICATE signature covers: appParam || UP || counter || clientParam. */
export function u2fAuthenticateSignedData(appParam: Uint8Array, clientParam: Uint8Array, auth: U2fAuthentication): Uint8Array {
  const mid = new Uint8Array(5);
  mid[0] = auth.userPresence;
  writeUint32BE(mid, 1, auth.counter);
  return concatBytes(appParam, mid, clientParam);
}

const ZERO_AAGUID = new Uint8Array(16);

export interface U2fRegistrationAsCtap2 extends MakeCredentialResponse {
  /** The WebAuthn attestationObject (fmt fido-u2f). */
  attestationObject: Uint8Array;
}

/**
 * A REGISTER result as makeCredential would have returned it: authData with
 * rpIdHash = appParam, flags UP|AT, counter 0, zero AAGUID, the key handle as
 * credential id and the COSE form of the raw point; attStmt { sig, x5c }.
 */
export function registrationToCtap2(reg: U2fRegistration, appParam: Uint8Array): U2fRegistrationAsCtap2 {
  if (appParam.length !== 32) throw new RangeError('appParam (rpIdHash) must be 32 bytes');
  const authDataBytes = encodeAuthenticatorData({
    rpIdHash: appParam,
    flags: AUTH_DATA_FLAGS.UP,
    signCount: 0,
    attestedCredentialData: { aaguid: ZERO_AAGUID, credentialId: reg.keyHandle, credentialPublicKey: coseFromP256Point(pointFromU2fPublicKey(reg.publicKey)) },
  });
  const attStmt = new Map<unknown, unknown>([
    ['sig', reg.signature],
    ['x5c', [reg.certificate]],
  ]);
  return {
    fmt: 'fido-u2f',
    authData: parseAuthenticatorData(authDataBytes),
    attStmt,
    unknownKeys: new Map(),
    attestationObject: encodeAttestationObject('fido-u2f', attStmt, authDataBytes),
  };
}

/**
 * An AUTHENTICATE result as getAssertion would have returned it: authData =
 * appParam || UP byte as flags || counter; the U2F signature already covers
 * exactly authData || clientDataHash.
 */
export function authenticationToCtap2(auth: U2fAuthentication, appParam: Uint8Array, keyHandle: Uint8Array): GetAssertionResponse {
  if (appParam.length !== 32) throw new RangeError('appParam (rpIdHash) must be 32 bytes');
  const authDataBytes = encodeAuthenticatorData({ rpIdHash: appParam, flags: auth.userPresence & AUTH_DATA_FLAGS.UP, signCount: auth.counter });
  // Keep any other bits the key set in the presence byte: they are part of what it signed.
  authDataBytes[32] = auth.userPresence;
  return {
    credential: { type: 'public-key', id: keyHandle },
    authData: parseAuthenticatorData(authDataBytes),
    signature: auth.signature,
    unknownKeys: new Map(),
  };
}
