/**
 * Client extension processing (WebAuthn L3 §9, §10; CTAP 2.2 §12): the
 * WebAuthn inputs turned into inputs for the CTAP2 plug-ins in
 * src/ctap2/extensions/, and the plug-ins' outputs turned into
 * getClientExtensionResults().
 *
 * prf rides on hmac-secret (salt = SHA-256("WebAuthn PRF" || 0x00 || input),
 * §10.1.4), and on hmac-secret-mc at create when the key has it, so that a
 * registration already yields results.first as Chromium's does.
 */
import { sha256 } from '../crypto/hashes.js';
import { concatBytes, utf8Encode } from '../util/bytes.js';
import type { AuthenticatorInfo } from '../ctap2/get-info.js';
import type { HmacSecretOutput } from '../ctap2/extensions/index.js';
import { toArrayBuffer, type ClientExtensionResults } from './credential.js';
import { base64urlEncode } from './base64url.js';
import { WebAuthnError } from './errors.js';
import type { CreationExtensions, CredentialProtectionPolicy, PrfValues, RequestExtensions } from './options.js';

const PRF_LABEL = utf8Encode('WebAuthn PRF');

/** §10.1.4: the hmac-secret salt for one PRF input. */
export function prfSalt(input: Uint8Array): Uint8Array {
  return sha256(concatBytes(PRF_LABEL, new Uint8Array([0]), input));
}

function prfSalts(v: PrfValues): { salt1: Uint8Array; salt2?: Uint8Array } {
  return v.second ? { salt1: prfSalt(v.first), salt2: prfSalt(v.second) } : { salt1: prfSalt(v.first) };
}

const has = (info: AuthenticatorInfo, id: string): boolean => info.extensions.includes(id);

export interface CreateExtensionPlan {
  /** Inputs for prepareExtensions('create', …), keyed by CTAP extension id. */
  ctap: Record<string, unknown>;
}

/**
 * Plan the CTAP extensions of a makeCredential. `defaultCredProtect`:
 * Chromium asks credProtect level 2 by itself for every residentKey
 * "required" create (README of the reference); the client does the same on
 * keys that can verify their user (PIN set or built-in UV), unless the
 * application turns it off.
 */
export function planCreateExtensions(
  ext: CreationExtensions,
  info: AuthenticatorInfo,
  rk: boolean,
  residentKeyRequired: boolean,
  defaultCredProtect: CredentialProtectionPolicy | null,
): CreateExtensionPlan {
  const ctap: Record<string, unknown> = {};
  if (ext.prf || ext.hmacCreateSecret) {
    if (has(info, 'hmac-secret')) ctap['hmac-secret'] = true;
    if (ext.prf?.eval && has(info, 'hmac-secret-mc') && has(info, 'hmac-secret')) ctap['hmac-secret-mc'] = prfSalts(ext.prf.eval);
  }
  // Only on a key that can verify its user: otherwise level 2 would hide the credential from every discoverable login.
  const canVerify = info.options.clientPin === true || info.options.uv === true;
  const policy = ext.credentialProtectionPolicy ?? (residentKeyRequired && defaultCredProtect && canVerify && has(info, 'credProtect') ? defaultCredProtect : undefined);
  if (policy) ctap.credProtect = { credentialProtectionPolicy: policy, enforceCredentialProtectionPolicy: ext.credentialProtectionPolicy ? ext.enforceCredentialProtectionPolicy ?? false : false };
  if (ext.credBlob && rk) ctap.credBlob = ext.credBlob;
  if (ext.largeBlob) {
    const capable = has(info, 'largeBlobKey') && info.options.largeBlobs === true && rk;
    if (ext.largeBlob.support === 'required' && !capable) {
      throw new WebAuthnError('NotAllowedError', 'The largeBlob extension is required, but this key cannot store large blobs for a discoverable credential.');
    }
    if (capable) ctap.largeBlobKey = true;
  }
  if (ext.minPinLength && has(info, 'minPinLength')) ctap.minPinLength = true;
  return { ctap };
}

function hmacResults(out: HmacSecretOutput): { first: ArrayBuffer; second?: ArrayBuffer } {
  return out.output2 ? { first: toArrayBuffer(out.output1), second: toArrayBuffer(out.output2) } : { first: toArrayBuffer(out.output1) };
}

/** getClientExtensionResults() of a registration. */
export function createClientResults(ext: CreationExtensions, rk: boolean, processed: Record<string, unknown>, sent: ReadonlySet<string>): ClientExtensionResults {
  const r: ClientExtensionResults = {};
  if (ext.credProps) r.credProps = { rk };
  if (ext.prf) {
    const prf: Record<string, unknown> = { enabled: processed['hmac-secret'] === true };
    const mc = processed['hmac-secret-mc'] as HmacSecretOutput | undefined;
    if (mc && prf.enabled) prf.results = hmacResults(mc);
    r.prf = prf;
  }
  if (ext.hmacCreateSecret) r.hmacCreateSecret = processed['hmac-secret'] === true;
  if (ext.largeBlob) r.largeBlob = { supported: sent.has('largeBlobKey') && processed.largeBlobKey instanceof Uint8Array };
  if (ext.credBlob !== undefined) r.credBlob = processed.credBlob === true;
  if (ext.appidExclude !== undefined) r.appidExclude = true;
  return r;
}

export interface GetExtensionPlan {
  ctap: Record<string, unknown>;
  /** largeBlob read/write needs the credential's largeBlobKey. */
  largeBlob: { read?: true; write?: Uint8Array } | undefined;
}

/** Plan the CTAP extensions of a getAssertion for the credential `credentialId` (when known). */
export function planGetExtensions(ext: RequestExtensions, info: AuthenticatorInfo | undefined, credentialId: Uint8Array | undefined): GetExtensionPlan {
  const ctap: Record<string, unknown> = {};
  const hmac = info !== undefined && has(info, 'hmac-secret');
  if (ext.prf && hmac) {
    const byCred = credentialId && ext.prf.evalByCredential?.get(base64urlEncode(credentialId));
    const values = byCred ?? ext.prf.eval;
    if (values) ctap['hmac-secret'] = prfSalts(values);
  }
  if (ext.hmacGetSecret && hmac) ctap['hmac-secret'] = ext.hmacGetSecret;
  let largeBlob: GetExtensionPlan['largeBlob'];
  if (ext.largeBlob && (ext.largeBlob.read || ext.largeBlob.write) && info && has(info, 'largeBlobKey') && info.options.largeBlobs === true) {
    ctap.largeBlobKey = true;
    largeBlob = ext.largeBlob;
  }
  if (ext.getCredBlob && info && has(info, 'credBlob')) ctap.credBlob = true;
  return { ctap, largeBlob };
}

/** getClientExtensionResults() of an authentication (largeBlob is filled in by the caller after the blob I/O). */
export function getClientResults(ext: RequestExtensions, processed: Record<string, unknown>, appidUsed: boolean | undefined): ClientExtensionResults {
  const r: ClientExtensionResults = {};
  if (ext.appid !== undefined) r.appid = appidUsed === true;
  const hmac = processed['hmac-secret'] as HmacSecretOutput | undefined;
  if (ext.prf) r.prf = hmac ? { results: hmacResults(hmac) } : {};
  if (ext.hmacGetSecret && hmac) {
    r.hmacGetSecret = hmac.output2 ? { output1: toArrayBuffer(hmac.output1), output2: toArrayBuffer(hmac.output2) } : { output1: toArrayBuffer(hmac.output1) };
  }
  if (ext.getCredBlob) r.getCredBlob = toArrayBuffer(processed.credBlob instanceof Uint8Array ? processed.credBlob : new Uint8Array(0));
  return r;
}

/**
 * §"extension outputs only for requested extensions": authData extension ids
 * the client did not send are a protocol violation. credProtect is tolerated:
 * CTAP 2.1 §12.1 lets a key apply (and report) a default protection policy.
 */
export function unexpectedExtensionOutputs(authDataExtensions: ReadonlyMap<unknown, unknown> | undefined, sent: ReadonlySet<string>): string[] {
  if (!authDataExtensions) return [];
  const extra: string[] = [];
  for (const k of authDataExtensions.keys()) {
    const id = String(k);
    if (!sent.has(id) && id !== 'credProtect') extra.push(id);
  }
  return extra;
}
