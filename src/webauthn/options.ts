/**
 * PublicKeyCredentialCreationOptions / RequestOptions as a browser takes them
 * (BufferSource fields), checked with the errors a browser throws, and
 * normalised into the parameters the client works from (bytes as Uint8Array,
 * spec defaults applied). The L3 JSON forms are parsed in options-json.ts.
 *
 * Enumerations are DOMStrings in WebAuthn: an unknown value is ignored (as if
 * absent), as §5.4 asks of clients.
 */
import { webAuthnError } from './errors.js';
import { creationExtensions, requestExtensions } from './options-extensions.js';
import { ATTESTATION_VALUES, bufferSourceBytes, descriptors, isRecord, optStr, pick, required, seq, str, timeout, UV_VALUES } from './options-read.js';

export { bufferSourceBytes } from './options-read.js';

export type BufferSource = ArrayBuffer | ArrayBufferView;

export interface PublicKeyCredentialRpEntity { id?: string | undefined; name: string }
export interface PublicKeyCredentialUserEntity { id: BufferSource; name: string; displayName: string }
export interface PublicKeyCredentialParameters { type: string; alg: number }
export interface PublicKeyCredentialDescriptor { type: string; id: BufferSource; transports?: string[] | undefined }
export interface AuthenticatorSelectionCriteria {
  authenticatorAttachment?: string | undefined;
  residentKey?: string | undefined;
  requireResidentKey?: boolean | undefined;
  userVerification?: string | undefined;
}
export interface AuthenticationExtensionsPRFValues { first: BufferSource; second?: BufferSource | undefined }
export interface AuthenticationExtensionsClientInputs {
  appid?: string | undefined;
  appidExclude?: string | undefined;
  credProps?: boolean | undefined;
  prf?: { eval?: AuthenticationExtensionsPRFValues | undefined; evalByCredential?: Record<string, AuthenticationExtensionsPRFValues> | undefined } | undefined;
  largeBlob?: { support?: string | undefined; read?: boolean | undefined; write?: BufferSource | undefined } | undefined;
  credentialProtectionPolicy?: string | undefined;
  enforceCredentialProtectionPolicy?: boolean | undefined;
  credBlob?: BufferSource | undefined;
  getCredBlob?: boolean | undefined;
  minPinLength?: boolean | undefined;
  hmacCreateSecret?: boolean | undefined;
  hmacGetSecret?: { salt1: BufferSource; salt2?: BufferSource | undefined } | undefined;
  [other: string]: unknown;
}
export interface PublicKeyCredentialCreationOptions {
  rp: PublicKeyCredentialRpEntity;
  user: PublicKeyCredentialUserEntity;
  challenge: BufferSource;
  pubKeyCredParams: PublicKeyCredentialParameters[];
  timeout?: number | undefined;
  excludeCredentials?: PublicKeyCredentialDescriptor[] | undefined;
  authenticatorSelection?: AuthenticatorSelectionCriteria | undefined;
  hints?: string[] | undefined;
  attestation?: string | undefined;
  attestationFormats?: string[] | undefined;
  extensions?: AuthenticationExtensionsClientInputs | undefined;
}
export interface PublicKeyCredentialRequestOptions {
  challenge: BufferSource;
  timeout?: number | undefined;
  rpId?: string | undefined;
  allowCredentials?: PublicKeyCredentialDescriptor[] | undefined;
  userVerification?: string | undefined;
  hints?: string[] | undefined;
  extensions?: AuthenticationExtensionsClientInputs | undefined;
}

export type UserVerificationRequirement = 'required' | 'preferred' | 'discouraged';
export type ResidentKeyRequirement = 'required' | 'preferred' | 'discouraged';
export type AttestationConveyance = 'none' | 'indirect' | 'direct' | 'enterprise';
export type CredentialProtectionPolicy =
  | 'userVerificationOptional'
  | 'userVerificationOptionalWithCredentialIDList'
  | 'userVerificationRequired';

export interface Descriptor { type: 'public-key'; id: Uint8Array; transports: string[] }
export interface PrfValues { first: Uint8Array; second?: Uint8Array | undefined }

export interface CreationExtensions {
  credProps?: boolean;
  prf?: { eval?: PrfValues | undefined };
  largeBlob?: { support: 'required' | 'preferred' };
  credentialProtectionPolicy?: CredentialProtectionPolicy;
  enforceCredentialProtectionPolicy?: boolean;
  credBlob?: Uint8Array;
  minPinLength?: boolean;
  hmacCreateSecret?: boolean;
  appidExclude?: string;
}
export interface RequestExtensions {
  appid?: string;
  prf?: { eval?: PrfValues | undefined; evalByCredential?: Map<string, PrfValues> | undefined };
  largeBlob?: { read?: true; write?: Uint8Array };
  getCredBlob?: boolean;
  hmacGetSecret?: { salt1: Uint8Array; salt2?: Uint8Array | undefined };
}

export interface CreationParams {
  rp: { id?: string | undefined; name: string };
  user: { id: Uint8Array; name: string; displayName: string };
  challenge: Uint8Array;
  /** Algorithms in the RP's order of preference (only type "public-key"). */
  pubKeyCredParams: { type: 'public-key'; alg: number }[];
  timeoutMs: number;
  excludeCredentials: Descriptor[];
  authenticatorAttachment: 'platform' | 'cross-platform' | undefined;
  residentKey: ResidentKeyRequirement;
  userVerification: UserVerificationRequirement;
  attestation: AttestationConveyance;
  attestationFormats: string[];
  hints: string[];
  extensions: CreationExtensions;
}
export interface RequestParams {
  challenge: Uint8Array;
  timeoutMs: number;
  rpId: string | undefined;
  allowCredentials: Descriptor[];
  userVerification: UserVerificationRequirement;
  hints: string[];
  extensions: RequestExtensions;
}

/** COSE ES256 and RS256: what an empty pubKeyCredParams means (§5.1.3 step 10). */
export const DEFAULT_PUB_KEY_CRED_PARAMS = [
  { type: 'public-key', alg: -7 },
  { type: 'public-key', alg: -257 },
] as const;

export { TIMEOUT_DEFAULT_DISCOURAGED_MS, TIMEOUT_DEFAULT_MS, TIMEOUT_MAX_MS, TIMEOUT_MIN_MS } from './options-read.js';

// ---------------------------------------------------------------- creation

export function normalizeCreationOptions(o: PublicKeyCredentialCreationOptions): CreationParams {
  if (!isRecord(o)) throw new TypeError("Failed to read the 'publicKey' property from 'CredentialCreationOptions'");
  const dict = 'PublicKeyCredentialCreationOptions';
  if (o.rp === undefined) throw required(dict, 'rp');
  if (o.user === undefined) throw required(dict, 'user');
  if (o.challenge === undefined) throw required(dict, 'challenge');
  if (o.pubKeyCredParams === undefined) throw required(dict, 'pubKeyCredParams');
  if (!isRecord(o.rp)) throw new TypeError('rp must be an object');
  if (!isRecord(o.user)) throw new TypeError('user must be an object');
  if (o.rp.name === undefined) throw required('PublicKeyCredentialRpEntity', 'name');
  if (o.user.name === undefined) throw required('PublicKeyCredentialUserEntity', 'name');
  if (o.user.displayName === undefined) throw required('PublicKeyCredentialUserEntity', 'displayName');
  if (o.user.id === undefined) throw required('PublicKeyCredentialUserEntity', 'id');

  const userId = bufferSourceBytes(o.user.id, 'user.id');
  // §5.1.3 step 5. (Chromium 156 accepts an empty user.id — 05-errors.json
  // createEmptyUserId — but the spec says 1..64 bytes, and CTAP keys reject
  // an empty one; we follow the spec.)
  if (userId.length < 1 || userId.length > 64) {
    throw new TypeError(userId.length > 64 ? 'User handle exceeds 64 bytes.' : 'User handle must be between 1 and 64 bytes.');
  }
  const challenge = bufferSourceBytes(o.challenge, 'challenge');

  const params: { type: 'public-key'; alg: number }[] = [];
  const given = seq(o.pubKeyCredParams, 'pubKeyCredParams');
  given.forEach((p, i) => {
    if (!isRecord(p)) throw new TypeError(`pubKeyCredParams[${i}] must be an object`);
    if (p.type === undefined) throw required('PublicKeyCredentialParameters', 'type');
    if (p.alg === undefined) throw required('PublicKeyCredentialParameters', 'alg');
    if (typeof p.alg !== 'number' || !Number.isInteger(p.alg)) throw new TypeError(`pubKeyCredParams[${i}].alg must be an integer`);
    if (str(p.type, `pubKeyCredParams[${i}].type`) === 'public-key') params.push({ type: 'public-key', alg: p.alg });
  });
  if (given.length === 0) params.push(...DEFAULT_PUB_KEY_CRED_PARAMS.map((p) => ({ ...p })));
  else if (params.length === 0) throw webAuthnError('NotSupportedError', 'None of pubKeyCredParams has a supported credential type ("public-key")');

  const sel = o.authenticatorSelection;
  if (sel !== undefined && !isRecord(sel)) throw new TypeError('authenticatorSelection must be an object');
  const requireResidentKey = sel?.requireResidentKey === undefined ? false : Boolean(sel.requireResidentKey);
  // §5.4.4: residentKey wins; when absent (or unknown) it follows requireResidentKey.
  const residentKey = pick(sel?.residentKey, UV_VALUES, 'residentKey') ?? (requireResidentKey ? 'required' : 'discouraged');
  const userVerification = pick(sel?.userVerification, UV_VALUES, 'userVerification') ?? 'preferred';
  const authenticatorAttachment = pick(sel?.authenticatorAttachment, ['platform', 'cross-platform'] as const, 'authenticatorAttachment');
  const attestation = pick(o.attestation, ATTESTATION_VALUES, 'attestation') ?? 'none';

  return {
    rp: { id: optStr(o.rp.id, 'rp.id'), name: str(o.rp.name, 'rp.name') },
    user: { id: userId, name: str(o.user.name, 'user.name'), displayName: str(o.user.displayName, 'user.displayName') },
    challenge,
    pubKeyCredParams: params,
    timeoutMs: timeout(o.timeout, userVerification),
    excludeCredentials: descriptors(o.excludeCredentials, 'excludeCredentials'),
    authenticatorAttachment,
    residentKey,
    userVerification,
    attestation,
    attestationFormats: seq(o.attestationFormats, 'attestationFormats').map((f, i) => str(f, `attestationFormats[${i}]`)),
    hints: seq(o.hints, 'hints').map((h, i) => str(h, `hints[${i}]`)),
    extensions: creationExtensions(o.extensions, residentKey),
  };
}

// ---------------------------------------------------------------- request

export function normalizeRequestOptions(o: PublicKeyCredentialRequestOptions): RequestParams {
  if (!isRecord(o)) throw new TypeError("Failed to read the 'publicKey' property from 'CredentialRequestOptions'");
  if (o.challenge === undefined) throw required('PublicKeyCredentialRequestOptions', 'challenge');
  const challenge = bufferSourceBytes(o.challenge, 'challenge');
  const userVerification = pick(o.userVerification, UV_VALUES, 'userVerification') ?? 'preferred';
  const allowCredentials = descriptors(o.allowCredentials, 'allowCredentials');
  return {
    challenge,
    timeoutMs: timeout(o.timeout, userVerification),
    rpId: optStr(o.rpId, 'rpId'),
    allowCredentials,
    userVerification,
    hints: seq(o.hints, 'hints').map((h, i) => str(h, `hints[${i}]`)),
    extensions: requestExtensions(o.extensions, allowCredentials),
  };
}
