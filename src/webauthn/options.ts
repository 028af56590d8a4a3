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
import { base64urlDecodeOrNull } from './base64url.js';

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

/** Chromium's clamp for `timeout` (10 s .. 10 min); spec: the client may adjust it. */
export const TIMEOUT_MIN_MS = 10_000;
export const TIMEOUT_MAX_MS = 600_000;
/** §15.1 recommended defaults: 5 min, or 2 min when UV is discouraged. */
export const TIMEOUT_DEFAULT_MS = 300_000;
export const TIMEOUT_DEFAULT_DISCOURAGED_MS = 120_000;

// ---------------------------------------------------------------- helpers

function required(dict: string, member: string): TypeError {
  return new TypeError(`Failed to read the '${member}' property from '${dict}': Required member is undefined.`);
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A copy of a BufferSource's bytes (the caller may reuse its buffer). */
export function bufferSourceBytes(v: unknown, what: string): Uint8Array {
  if (v instanceof ArrayBuffer) return new Uint8Array(v.slice(0));
  if (ArrayBuffer.isView(v)) return new Uint8Array(v.buffer.slice(v.byteOffset, v.byteOffset + v.byteLength));
  if (typeof SharedArrayBuffer !== 'undefined' && v instanceof SharedArrayBuffer) {
    throw new TypeError(`${what}: a SharedArrayBuffer is not allowed`);
  }
  throw new TypeError(`${what} is not of type '(ArrayBuffer or ArrayBufferView)'.`);
}

function str(v: unknown, what: string): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v); // WebIDL DOMString conversion
  throw new TypeError(`${what} must be a string`);
}

function optStr(v: unknown, what: string): string | undefined {
  return v === undefined ? undefined : str(v, what);
}

function seq(v: unknown, what: string): unknown[] {
  if (v === undefined) return [];
  if (!Array.isArray(v)) throw new TypeError(`${what}: The provided value cannot be converted to a sequence.`);
  return v;
}

function pick<T extends string>(v: unknown, allowed: readonly T[], what: string): T | undefined {
  if (v === undefined) return undefined;
  const s = str(v, what);
  return (allowed as readonly string[]).includes(s) ? (s as T) : undefined;
}

const UV_VALUES = ['required', 'preferred', 'discouraged'] as const;
const ATTESTATION_VALUES = ['none', 'indirect', 'direct', 'enterprise'] as const;
const CRED_PROTECT_VALUES = [
  'userVerificationOptional',
  'userVerificationOptionalWithCredentialIDList',
  'userVerificationRequired',
] as const;

function timeout(v: unknown, uv: UserVerificationRequirement): number {
  const fallback = uv === 'discouraged' ? TIMEOUT_DEFAULT_DISCOURAGED_MS : TIMEOUT_DEFAULT_MS;
  if (v === undefined) return fallback;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw new TypeError('timeout must be an unsigned long (milliseconds)');
  return Math.min(TIMEOUT_MAX_MS, Math.max(TIMEOUT_MIN_MS, Math.floor(v)));
}

function descriptors(v: unknown, what: string): Descriptor[] {
  const out: Descriptor[] = [];
  seq(v, what).forEach((d, i) => {
    if (!isRecord(d)) throw new TypeError(`${what}[${i}] must be an object`);
    if (d.type === undefined) throw required('PublicKeyCredentialDescriptor', 'type');
    if (d.id === undefined) throw required('PublicKeyCredentialDescriptor', 'id');
    const type = str(d.type, `${what}[${i}].type`);
    const id = bufferSourceBytes(d.id, `${what}[${i}].id`);
    const transports = seq(d.transports, `${what}[${i}].transports`).map((t, j) => str(t, `${what}[${i}].transports[${j}]`));
    if (type !== 'public-key') return; // unknown credential types are skipped
    out.push({ type: 'public-key', id, transports });
  });
  return out;
}

function prfValues(v: unknown, what: string): PrfValues {
  if (!isRecord(v)) throw new TypeError(`${what} must be an object`);
  if (v.first === undefined) throw required('AuthenticationExtensionsPRFValues', 'first');
  const first = bufferSourceBytes(v.first, `${what}.first`);
  const second = v.second === undefined ? undefined : bufferSourceBytes(v.second, `${what}.second`);
  return second ? { first, second } : { first };
}

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

function creationExtensions(e: unknown, residentKey: ResidentKeyRequirement): CreationExtensions {
  if (e === undefined) return {};
  if (!isRecord(e)) throw new TypeError('extensions must be an object');
  const out: CreationExtensions = {};
  if (e.credProps !== undefined) out.credProps = Boolean(e.credProps);
  if (e.prf !== undefined) {
    if (!isRecord(e.prf)) throw new TypeError('extensions.prf must be an object');
    if (e.prf.evalByCredential !== undefined) {
      throw webAuthnError('NotSupportedError', "The 'prf' extension's 'evalByCredential' cannot be used when creating a credential");
    }
    out.prf = { eval: e.prf.eval === undefined ? undefined : prfValues(e.prf.eval, 'extensions.prf.eval') };
  }
  if (e.largeBlob !== undefined) {
    if (!isRecord(e.largeBlob)) throw new TypeError('extensions.largeBlob must be an object');
    if (e.largeBlob.read !== undefined || e.largeBlob.write !== undefined) {
      throw webAuthnError('NotSupportedError', "The 'largeBlob' extension's 'read' and 'write' cannot be used when creating a credential");
    }
    const support = pick(e.largeBlob.support, ['required', 'preferred'] as const, 'largeBlob.support') ?? 'preferred';
    // A largeBlobKey needs a discoverable credential (CTAP 2.1 §12.3). Chromium
    // rejects required-without-rk with NotAllowedError (05-errors.json).
    if (support === 'required' && residentKey !== 'required') {
      throw webAuthnError('NotAllowedError', "The 'largeBlob' extension with support 'required' needs residentKey 'required'");
    }
    out.largeBlob = { support };
  }
  const policy = pick(e.credentialProtectionPolicy, CRED_PROTECT_VALUES, 'credentialProtectionPolicy');
  if (policy) out.credentialProtectionPolicy = policy;
  if (e.enforceCredentialProtectionPolicy !== undefined) out.enforceCredentialProtectionPolicy = Boolean(e.enforceCredentialProtectionPolicy);
  if (e.credBlob !== undefined) out.credBlob = bufferSourceBytes(e.credBlob, 'extensions.credBlob');
  if (e.minPinLength !== undefined) out.minPinLength = Boolean(e.minPinLength);
  if (e.hmacCreateSecret !== undefined) out.hmacCreateSecret = Boolean(e.hmacCreateSecret);
  if (e.appidExclude !== undefined) out.appidExclude = str(e.appidExclude, 'extensions.appidExclude');
  return out;
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

function requestExtensions(e: unknown, allow: Descriptor[]): RequestExtensions {
  if (e === undefined) return {};
  if (!isRecord(e)) throw new TypeError('extensions must be an object');
  const out: RequestExtensions = {};
  if (e.appid !== undefined) out.appid = str(e.appid, 'extensions.appid');
  if (e.prf !== undefined) {
    if (!isRecord(e.prf)) throw new TypeError('extensions.prf must be an object');
    const prf: NonNullable<RequestExtensions['prf']> = {};
    if (e.prf.eval !== undefined) prf.eval = prfValues(e.prf.eval, 'extensions.prf.eval');
    if (e.prf.evalByCredential !== undefined) {
      if (!isRecord(e.prf.evalByCredential)) throw new TypeError('extensions.prf.evalByCredential must be an object');
      const entries = Object.entries(e.prf.evalByCredential);
      if (entries.length > 0 && allow.length === 0) {
        throw webAuthnError('NotSupportedError', "'prf' extension has 'evalByCredential' with an empty allow list");
      }
      const map = new Map<string, PrfValues>();
      for (const [key, values] of entries) {
        // §10.1.4: a key that is not base64url, or names no allowCredentials entry, is a SyntaxError.
        const id = key.length ? base64urlDecodeOrNull(key) : null;
        if (!id || !allow.some((d) => sameBytes(d.id, id))) {
          throw webAuthnError('SyntaxError', `'prf' extension's evalByCredential key "${key}" is not the base64url id of an allowCredentials entry`);
        }
        map.set(key, prfValues(values, `extensions.prf.evalByCredential[${key}]`));
      }
      prf.evalByCredential = map;
    }
    out.prf = prf;
  }
  if (e.largeBlob !== undefined) {
    if (!isRecord(e.largeBlob)) throw new TypeError('extensions.largeBlob must be an object');
    if (e.largeBlob.support !== undefined) {
      throw webAuthnError('NotSupportedError', "The 'largeBlob' extension's 'support' parameter can only be used when creating a credential");
    }
    const read = e.largeBlob.read === undefined ? false : Boolean(e.largeBlob.read);
    const write = e.largeBlob.write === undefined ? undefined : bufferSourceBytes(e.largeBlob.write, 'extensions.largeBlob.write');
    if (read && write) throw webAuthnError('NotSupportedError', "Only one of the 'largeBlob' extension's 'read' and 'write' parameters is allowed at a time");
    if (write && allow.length !== 1) {
      throw webAuthnError('NotSupportedError', "The 'largeBlob' extension's 'write' parameter can only be used with a single credential present on 'allowCredentials'");
    }
    out.largeBlob = read ? { read: true } : write ? { write } : {};
  }
  if (e.getCredBlob !== undefined) out.getCredBlob = Boolean(e.getCredBlob);
  if (e.hmacGetSecret !== undefined) {
    if (!isRecord(e.hmacGetSecret)) throw new TypeError('extensions.hmacGetSecret must be an object');
    if (e.hmacGetSecret.salt1 === undefined) throw required('HMACGetSecretInput', 'salt1');
    const salt1 = bufferSourceBytes(e.hmacGetSecret.salt1, 'extensions.hmacGetSecret.salt1');
    const salt2 = e.hmacGetSecret.salt2 === undefined ? undefined : bufferSourceBytes(e.hmacGetSecret.salt2, 'extensions.hmacGetSecret.salt2');
    if (salt1.length !== 32 || (salt2 && salt2.length !== 32)) throw webAuthnError('NotSupportedError', 'hmacGetSecret salts must be 32 bytes');
    out.hmacGetSecret = salt2 ? { salt1, salt2 } : { salt1 };
  }
  if (out.prf && out.hmacGetSecret) throw webAuthnError('NotSupportedError', "'prf' and 'hmacGetSecret' cannot be used together");
  return out;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
