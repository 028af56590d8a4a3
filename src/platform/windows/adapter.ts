/**
 * The thin adapter between the WebAuthn client (src/webauthn/) and the
 * webauthn.dll binding: normalised CreationParams/RequestParams + the
 * clientDataJSON the client built → DLL options; DLL results → the same
 * RegistrationCredential / AuthenticationCredential objects (and so the same
 * toJSON()) as the HID route. Checks what the client checks on the HID route
 * (rpIdHash, UP flag, attested credential data, requested algorithm).
 */
import { decodeCbor } from '../../cbor/index.js';
import { parseAuthenticatorData } from '../../ctap2/authenticator-data.js';
import { coseKeyToSpki } from '../../ctap2/cose-key.js';
import { sha256 } from '../../crypto/hashes.js';
import { bytesEqual, utf8Encode } from '../../util/bytes.js';
import { conveyAttestation } from '../../webauthn/attestation-conveyance.js';
import { base64urlDecode } from '../../webauthn/base64url.js';
import {
  createAuthenticationCredential,
  createRegistrationCredential,
  toArrayBuffer,
  type AuthenticationCredential,
  type ClientExtensionResults,
  type RegistrationCredential,
} from '../../webauthn/credential.js';
import { WebAuthnError } from '../../webauthn/errors.js';
import type { CreationParams, RequestParams } from '../../webauthn/options.js';
import { createViaWebAuthnDll, getViaWebAuthnDll, type WebAuthnDllCallOptions } from './client.js';
import type { DllAssertionResult, DllAttestationResult, DllCreationOptions, DllRequestOptions } from './types.js';

export interface DllCeremonySettings {
  /** The RP ID the client resolved from the origin. */
  rpId: string;
  /** The clientDataJSON the client built (Windows hashes it itself). */
  clientDataJSON: Uint8Array;
  /** RP IDs approved for enterprise attestation (WebAuthnClientOptions.enterpriseAttestationRpIds). */
  enterpriseAttestationRpIds?: readonly string[] | undefined;
}

function invalid(what: string): WebAuthnError {
  return new WebAuthnError('NotAllowedError', `webauthn.dll returned an invalid response: ${what}`);
}

export function creationOptionsForDll(p: CreationParams, s: DllCeremonySettings): DllCreationOptions {
  const x = p.extensions;
  return {
    clientDataJSON: s.clientDataJSON,
    rp: { id: s.rpId, name: p.rp.name },
    user: p.user,
    pubKeyCredParams: p.pubKeyCredParams,
    timeout: p.timeoutMs,
    excludeCredentials: p.excludeCredentials,
    authenticatorSelection: { residentKey: p.residentKey, userVerification: p.userVerification },
    attestation: p.attestation,
    enterpriseAttestationApproved: p.attestation === 'enterprise' && (s.enterpriseAttestationRpIds ?? []).includes(s.rpId),
    hints: p.hints,
    extensions: {
      credProps: x.credProps,
      credentialProtectionPolicy: x.credentialProtectionPolicy,
      enforceCredentialProtectionPolicy: x.enforceCredentialProtectionPolicy,
      credBlob: x.credBlob,
      minPinLength: x.minPinLength,
      largeBlob: x.largeBlob,
      prf: x.prf,
      hmacCreateSecret: x.hmacCreateSecret,
    },
  };
}

export function requestOptionsForDll(p: RequestParams, s: DllCeremonySettings): DllRequestOptions {
  const x = p.extensions;
  const byCred = x.prf?.evalByCredential ? [...x.prf.evalByCredential].map(([id, values]) => ({ id: base64urlDecode(id, 'prf.evalByCredential key'), values })) : undefined;
  return {
    clientDataJSON: s.clientDataJSON,
    rpId: s.rpId,
    timeout: p.timeoutMs,
    allowCredentials: p.allowCredentials,
    userVerification: p.userVerification,
    hints: p.hints,
    extensions: {
      appid: x.appid,
      getCredBlob: x.getCredBlob,
      largeBlob: x.largeBlob,
      prf: x.prf ? { eval: x.prf.eval, evalByCredentialRaw: byCred } : undefined,
      hmacGetSecret: x.hmacGetSecret,
    },
  };
}

const ab = (b: Uint8Array): ArrayBuffer => toArrayBuffer(b);

/** A DLL attestation → the RegistrationCredential the HID route would give. */
export function registrationFromDll(r: DllAttestationResult, p: CreationParams, s: DllCeremonySettings): RegistrationCredential {
  const ad = parseAuthenticatorData(r.authenticatorData);
  if (!bytesEqual(ad.rpIdHash, sha256(utf8Encode(s.rpId)))) throw invalid('rpIdHash is not SHA-256 of the RP ID');
  if (!ad.up) throw invalid('the user-present (UP) flag is clear');
  const acd = ad.attestedCredentialData;
  if (!acd) throw invalid('no attested credential data');
  if (!bytesEqual(acd.credentialId, r.credentialId)) throw invalid('the credential id differs from the one in authenticatorData');
  const alg = acd.credentialPublicKey.alg;
  if (alg === undefined || !p.pubKeyCredParams.some((a) => a.alg === alg)) throw invalid(`the credential's algorithm ${alg} was not requested`);

  let attestationObject = r.attestationObject;
  let authenticatorData = r.authenticatorData;
  if (p.attestation === 'none') {
    const decoded = decodeCbor(r.attestationObject);
    const attStmt = decoded instanceof Map && decoded.get('attStmt') instanceof Map ? (decoded.get('attStmt') as Map<unknown, unknown>) : new Map();
    const conveyed = conveyAttestation('none', { fmt: r.fmt, attStmt, authData: r.authenticatorData });
    attestationObject = conveyed.attestationObject;
    authenticatorData = conveyed.authData;
  }

  const x = p.extensions;
  const out = r.clientExtensionResults;
  const results: ClientExtensionResults = {};
  // API < 3 does not say whether the key made it discoverable: what was required is what we know.
  if (x.credProps) results.credProps = { rk: out.credProps?.rk ?? p.residentKey === 'required' };
  if (x.prf) {
    const prf: Record<string, unknown> = { enabled: out.prf?.enabled ?? false };
    if (out.prf?.results) prf.results = out.prf.results.second ? { first: ab(out.prf.results.first), second: ab(out.prf.results.second) } : { first: ab(out.prf.results.first) };
    results.prf = prf;
  }
  if (x.hmacCreateSecret) results.hmacCreateSecret = out.hmacCreateSecret === true;
  if (x.largeBlob) results.largeBlob = { supported: out.largeBlob?.supported === true };
  if (x.credBlob !== undefined) results.credBlob = out.credBlob === true;

  return createRegistrationCredential({
    rawId: r.credentialId,
    clientDataJSON: s.clientDataJSON,
    attestationObject,
    authenticatorData,
    publicKeySpki: coseKeyToSpki(acd.credentialPublicKey) ?? null,
    publicKeyAlgorithm: alg,
    transports: r.transports.length > 0 ? r.transports : ['usb'],
    clientExtensionResults: results,
    authenticatorAttachment: r.authenticatorAttachment,
  });
}

/** A DLL assertion → the AuthenticationCredential the HID route would give. */
export function authenticationFromDll(r: DllAssertionResult, p: RequestParams, s: DllCeremonySettings): AuthenticationCredential {
  const ad = parseAuthenticatorData(r.authenticatorData);
  const appidUsed = r.clientExtensionResults.appid === true;
  const expectedId = appidUsed && p.extensions.appid !== undefined ? p.extensions.appid : s.rpId;
  if (!bytesEqual(ad.rpIdHash, sha256(utf8Encode(expectedId)))) throw invalid(`rpIdHash is not SHA-256 of ${appidUsed ? 'the appid' : 'the RP ID'}`);
  if (!ad.up) throw invalid('the user-present (UP) flag is clear');
  if (p.allowCredentials.length > 0 && !p.allowCredentials.some((d) => bytesEqual(d.id, r.credentialId))) {
    throw invalid('the credential used is not in allowCredentials');
  }
  const x = p.extensions;
  const out = r.clientExtensionResults;
  const results: ClientExtensionResults = {};
  if (x.appid !== undefined) results.appid = appidUsed;
  if (x.prf) {
    const res = out.prf?.results;
    results.prf = res ? { results: res.second ? { first: ab(res.first), second: ab(res.second) } : { first: ab(res.first) } } : {};
  }
  if (x.hmacGetSecret && out.hmacGetSecret) {
    const h = out.hmacGetSecret;
    results.hmacGetSecret = h.output2 ? { output1: ab(h.output1), output2: ab(h.output2) } : { output1: ab(h.output1) };
  }
  if (x.getCredBlob) results.getCredBlob = ab(out.getCredBlob ?? new Uint8Array(0));
  if (x.largeBlob) {
    if (x.largeBlob.write !== undefined) results.largeBlob = { written: out.largeBlob?.written === true };
    else if (out.largeBlob?.blob) results.largeBlob = { blob: ab(out.largeBlob.blob) };
    else results.largeBlob = {};
  }
  return createAuthenticationCredential({
    rawId: r.credentialId,
    clientDataJSON: s.clientDataJSON,
    authenticatorData: r.authenticatorData,
    signature: r.signature,
    userHandle: r.userHandle,
    clientExtensionResults: results,
    authenticatorAttachment: r.authenticatorAttachment,
  });
}

/**
 * What WebAuthnClient.create() calls on the webauthn.dll route, in place of
 * `#withDevice(... runCreate(handle, p, settings, ctx))`.
 */
export async function runCreateViaWebAuthnDll(p: CreationParams, s: DllCeremonySettings, call: WebAuthnDllCallOptions = {}): Promise<RegistrationCredential> {
  const r = await createViaWebAuthnDll(creationOptionsForDll(p, s), { ...call, timeoutMs: call.timeoutMs ?? p.timeoutMs });
  return registrationFromDll(r, p, s);
}

/** What WebAuthnClient.get() calls on the webauthn.dll route, in place of `runGet`. */
export async function runGetViaWebAuthnDll(p: RequestParams, s: DllCeremonySettings, call: WebAuthnDllCallOptions = {}): Promise<AuthenticationCredential> {
  const r = await getViaWebAuthnDll(requestOptionsForDll(p, s), { ...call, timeoutMs: call.timeoutMs ?? p.timeoutMs });
  return authenticationFromDll(r, p, s);
}

/**
 * The webauthn.dll route as an object the WebAuthn client can hold (it cannot
 * import platform/windows/ itself: imports go down). `windowHandle`: Electron's
 * `win.getNativeWindowHandle()`; default the foreground window.
 */
export interface WebAuthnDllRoute {
  readonly transport: 'webauthn-dll';
  create(p: CreationParams, s: DllCeremonySettings, call?: WebAuthnDllCallOptions): Promise<RegistrationCredential>;
  get(p: RequestParams, s: DllCeremonySettings, call?: WebAuthnDllCallOptions): Promise<AuthenticationCredential>;
}

export function webAuthnDllRoute(defaults: Pick<WebAuthnDllCallOptions, 'windowHandle' | 'env' | 'library'> = {}): WebAuthnDllRoute {
  return {
    transport: 'webauthn-dll',
    create: (p, s, call = {}) => runCreateViaWebAuthnDll(p, s, { ...defaults, ...call }),
    get: (p, s, call = {}) => runGetViaWebAuthnDll(p, s, { ...defaults, ...call }),
  };
}
