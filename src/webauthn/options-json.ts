/**
 * PublicKeyCredential.parseCreationOptionsFromJSON / parseRequestOptionsFromJSON
 * (WebAuthn L3 §5.1.9, §5.1.10): base64url strings become bytes, strictly —
 * padding or the standard alphabet is an EncodingError, as in Chromium 156
 * (06-parse-from-json.json) — WebIDL defaults are filled in and unknown
 * members dropped. The result is the BufferSource form, which options.ts
 * then validates like any other input.
 */
import { base64urlDecodeOrNull } from './base64url.js';
import { webAuthnError } from './errors.js';
import type {
  AuthenticationExtensionsClientInputs,
  PublicKeyCredentialCreationOptions,
  PublicKeyCredentialDescriptor,
  PublicKeyCredentialRequestOptions,
} from './options.js';

export type Base64URLString = string;

export interface PublicKeyCredentialDescriptorJSON { type: string; id: Base64URLString; transports?: string[] | undefined }
export interface AuthenticationExtensionsClientInputsJSON { [name: string]: unknown }
export interface PublicKeyCredentialCreationOptionsJSON {
  rp: { id?: string | undefined; name: string };
  user: { id: Base64URLString; name: string; displayName: string };
  challenge: Base64URLString;
  pubKeyCredParams: { type: string; alg: number }[];
  timeout?: number | undefined;
  excludeCredentials?: PublicKeyCredentialDescriptorJSON[] | undefined;
  authenticatorSelection?: { authenticatorAttachment?: string; residentKey?: string; requireResidentKey?: boolean; userVerification?: string } | undefined;
  hints?: string[] | undefined;
  attestation?: string | undefined;
  attestationFormats?: string[] | undefined;
  extensions?: AuthenticationExtensionsClientInputsJSON | undefined;
}
export interface PublicKeyCredentialRequestOptionsJSON {
  challenge: Base64URLString;
  timeout?: number | undefined;
  rpId?: string | undefined;
  allowCredentials?: PublicKeyCredentialDescriptorJSON[] | undefined;
  userVerification?: string | undefined;
  hints?: string[] | undefined;
  extensions?: AuthenticationExtensionsClientInputsJSON | undefined;
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

function requiredErr(method: string, dict: string, member: string): TypeError {
  return new TypeError(`Failed to execute '${method}' on 'PublicKeyCredential': Failed to read the '${member}' property from '${dict}': Required member is undefined.`);
}

function b64(method: string, v: unknown, what: string): Uint8Array {
  if (typeof v !== 'string') throw new TypeError(`Failed to execute '${method}' on 'PublicKeyCredential': '${what}' must be a base64url string`);
  const out = base64urlDecodeOrNull(v);
  if (!out) throw webAuthnError('EncodingError', `Failed to execute '${method}' on 'PublicKeyCredential': '${what}' contains invalid base64url data`);
  return out;
}

function descriptorsFromJSON(method: string, v: unknown, what: string): PublicKeyCredentialDescriptor[] {
  if (v === undefined) return [];
  if (!Array.isArray(v)) throw new TypeError(`${what} must be an array`);
  return v.map((d, i) => {
    if (!isObj(d)) throw new TypeError(`${what}[${i}] must be an object`);
    if (d.type === undefined) throw requiredErr(method, 'PublicKeyCredentialDescriptorJSON', 'type');
    if (d.id === undefined) throw requiredErr(method, 'PublicKeyCredentialDescriptorJSON', 'id');
    const out: PublicKeyCredentialDescriptor = { id: b64(method, d.id, 'id'), type: String(d.type) };
    if (d.transports !== undefined) {
      if (!Array.isArray(d.transports)) throw new TypeError(`${what}[${i}].transports must be an array`);
      out.transports = d.transports.map(String);
    }
    return out;
  });
}

function prfValuesFromJSON(method: string, v: unknown, what: string): { first: Uint8Array; second?: Uint8Array } {
  if (!isObj(v)) throw new TypeError(`${what} must be an object`);
  if (v.first === undefined) throw requiredErr(method, 'AuthenticationExtensionsPRFValuesJSON', 'first');
  const out: { first: Uint8Array; second?: Uint8Array } = { first: b64(method, v.first, 'first') };
  if (v.second !== undefined) out.second = b64(method, v.second, 'second');
  return out;
}

/** Extensions: known ones get their binary members decoded; unknown ones are dropped. */
function extensionsFromJSON(method: string, e: unknown, creation: boolean): AuthenticationExtensionsClientInputs {
  if (!isObj(e)) throw new TypeError('extensions must be an object');
  const out: AuthenticationExtensionsClientInputs = {};
  if (typeof e.appid === 'string' && !creation) out.appid = e.appid;
  if (typeof e.appidExclude === 'string' && creation) out.appidExclude = e.appidExclude;
  if (e.credProps !== undefined) out.credProps = Boolean(e.credProps);
  if (isObj(e.prf)) {
    const prf: NonNullable<AuthenticationExtensionsClientInputs['prf']> = {};
    if (e.prf.eval !== undefined) prf.eval = prfValuesFromJSON(method, e.prf.eval, 'prf.eval');
    if (e.prf.evalByCredential !== undefined) {
      if (!isObj(e.prf.evalByCredential)) throw new TypeError('prf.evalByCredential must be an object');
      prf.evalByCredential = {};
      for (const [k, val] of Object.entries(e.prf.evalByCredential)) prf.evalByCredential[k] = prfValuesFromJSON(method, val, `prf.evalByCredential.${k}`);
    }
    out.prf = prf;
  }
  if (isObj(e.largeBlob)) {
    const lb: NonNullable<AuthenticationExtensionsClientInputs['largeBlob']> = {};
    if (e.largeBlob.support !== undefined) lb.support = String(e.largeBlob.support);
    if (e.largeBlob.read !== undefined) lb.read = Boolean(e.largeBlob.read);
    if (e.largeBlob.write !== undefined) lb.write = b64(method, e.largeBlob.write, 'write');
    out.largeBlob = lb;
  }
  if (typeof e.credentialProtectionPolicy === 'string') out.credentialProtectionPolicy = e.credentialProtectionPolicy;
  // The WebIDL default of the credProtect extension (CTAP 2.1 §12.1).
  out.enforceCredentialProtectionPolicy = e.enforceCredentialProtectionPolicy === undefined ? false : Boolean(e.enforceCredentialProtectionPolicy);
  if (e.credBlob !== undefined && creation) out.credBlob = b64(method, e.credBlob, 'credBlob');
  if (e.getCredBlob !== undefined && !creation) out.getCredBlob = Boolean(e.getCredBlob);
  if (e.minPinLength !== undefined && creation) out.minPinLength = Boolean(e.minPinLength);
  if (e.hmacCreateSecret !== undefined && creation) out.hmacCreateSecret = Boolean(e.hmacCreateSecret);
  if (isObj(e.hmacGetSecret) && !creation) {
    if (e.hmacGetSecret.salt1 === undefined) throw requiredErr(method, 'HMACGetSecretInputJSON', 'salt1');
    out.hmacGetSecret = { salt1: b64(method, e.hmacGetSecret.salt1, 'salt1') };
    if (e.hmacGetSecret.salt2 !== undefined) out.hmacGetSecret.salt2 = b64(method, e.hmacGetSecret.salt2, 'salt2');
  }
  return out;
}

function strings(v: unknown, what: string): string[] {
  if (v === undefined) return [];
  if (!Array.isArray(v)) throw new TypeError(`${what} must be an array`);
  return v.map(String);
}

export function parseCreationOptionsFromJSON(json: PublicKeyCredentialCreationOptionsJSON): PublicKeyCredentialCreationOptions {
  const m = 'parseCreationOptionsFromJSON';
  const d = 'PublicKeyCredentialCreationOptionsJSON';
  const o = json as unknown;
  if (!isObj(o)) throw new TypeError(`Failed to execute '${m}' on 'PublicKeyCredential': the options must be an object`);
  for (const member of ['rp', 'user', 'challenge', 'pubKeyCredParams'] as const) if (o[member] === undefined) throw requiredErr(m, d, member);
  if (!isObj(o.rp)) throw new TypeError('rp must be an object');
  if (!isObj(o.user)) throw new TypeError('user must be an object');
  if (o.rp.name === undefined) throw requiredErr(m, 'PublicKeyCredentialRpEntity', 'name');
  for (const member of ['id', 'name', 'displayName'] as const) {
    if (o.user[member] === undefined) throw requiredErr(m, 'PublicKeyCredentialUserEntityJSON', member);
  }
  if (!Array.isArray(o.pubKeyCredParams)) throw new TypeError('pubKeyCredParams must be an array');
  const out: PublicKeyCredentialCreationOptions = {
    attestation: o.attestation === undefined ? 'none' : String(o.attestation),
    challenge: b64(m, o.challenge, 'challenge'),
    excludeCredentials: descriptorsFromJSON(m, o.excludeCredentials, 'excludeCredentials'),
    hints: strings(o.hints, 'hints'),
    pubKeyCredParams: o.pubKeyCredParams.map((p, i) => {
      if (!isObj(p)) throw new TypeError(`pubKeyCredParams[${i}] must be an object`);
      if (p.type === undefined) throw requiredErr(m, 'PublicKeyCredentialParameters', 'type');
      if (p.alg === undefined) throw requiredErr(m, 'PublicKeyCredentialParameters', 'alg');
      return { alg: Number(p.alg), type: String(p.type) };
    }),
    rp: o.rp.id === undefined ? { name: String(o.rp.name) } : { name: String(o.rp.name), id: String(o.rp.id) },
    user: { name: String(o.user.name), displayName: String(o.user.displayName), id: b64(m, o.user.id, 'id') },
  };
  if (o.attestationFormats !== undefined) out.attestationFormats = strings(o.attestationFormats, 'attestationFormats');
  if (o.authenticatorSelection !== undefined) {
    if (!isObj(o.authenticatorSelection)) throw new TypeError('authenticatorSelection must be an object');
    const s = o.authenticatorSelection;
    out.authenticatorSelection = {
      requireResidentKey: s.requireResidentKey === undefined ? false : Boolean(s.requireResidentKey),
      userVerification: s.userVerification === undefined ? 'preferred' : String(s.userVerification),
    };
    if (s.authenticatorAttachment !== undefined) out.authenticatorSelection.authenticatorAttachment = String(s.authenticatorAttachment);
    if (s.residentKey !== undefined) out.authenticatorSelection.residentKey = String(s.residentKey);
  }
  if (o.extensions !== undefined) out.extensions = extensionsFromJSON(m, o.extensions, true);
  if (o.timeout !== undefined) out.timeout = Number(o.timeout);
  return out;
}

export function parseRequestOptionsFromJSON(json: PublicKeyCredentialRequestOptionsJSON): PublicKeyCredentialRequestOptions {
  const m = 'parseRequestOptionsFromJSON';
  const o = json as unknown;
  if (!isObj(o)) throw new TypeError(`Failed to execute '${m}' on 'PublicKeyCredential': the options must be an object`);
  if (o.challenge === undefined) throw requiredErr(m, 'PublicKeyCredentialRequestOptionsJSON', 'challenge');
  const out: PublicKeyCredentialRequestOptions = {
    allowCredentials: descriptorsFromJSON(m, o.allowCredentials, 'allowCredentials'),
    challenge: b64(m, o.challenge, 'challenge'),
    hints: strings(o.hints, 'hints'),
    userVerification: o.userVerification === undefined ? 'preferred' : String(o.userVerification),
  };
  if (o.extensions !== undefined) out.extensions = extensionsFromJSON(m, o.extensions, false);
  if (o.rpId !== undefined) out.rpId = String(o.rpId);
  if (o.timeout !== undefined) out.timeout = Number(o.timeout);
  return out;
}

/** True when `options` looks like the L3 JSON form (challenge is a string). */
export function isJsonOptions(options: unknown): boolean {
  return isObj(options) && typeof options.challenge === 'string';
}
