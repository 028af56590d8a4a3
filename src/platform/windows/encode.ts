/**
 * WebAuthn options → webauthn.h input structs, laid out in one Arena for the
 * running API version. Pure; the FFI step only copies the arena in.
 */
import { Arena } from './arena.js';
import { structVersionsFor, supports } from './api-versions.js';
import {
  WEBAUTHN_ATTESTATION_CONVEYANCE_PREFERENCE,
  WEBAUTHN_AUTHENTICATOR_HMAC_SECRET_VALUES_FLAG,
  WEBAUTHN_CREDENTIAL_TYPE_PUBLIC_KEY,
  WEBAUTHN_CRED_LARGE_BLOB_OPERATION,
  WEBAUTHN_ENTERPRISE_ATTESTATION,
  WEBAUTHN_EXTENSIONS_IDENTIFIER,
  WEBAUTHN_LARGE_BLOB_SUPPORT,
} from './constants.js';
import {
  boolExtension,
  bytesOf,
  clientDataStruct,
  credentialList,
  CRED_PROTECT,
  extensionArray,
  hints,
  hmacSalt,
  optionsStruct,
  uvRequirement,
  type ExtensionIn,
} from './encode-parts.js';
import {
  layoutOf,
  WEBAUTHN_AUTHENTICATOR_GET_ASSERTION_OPTIONS,
  WEBAUTHN_AUTHENTICATOR_MAKE_CREDENTIAL_OPTIONS,
  WEBAUTHN_COSE_CREDENTIAL_PARAMETER,
  WEBAUTHN_COSE_CREDENTIAL_PARAMETERS,
  WEBAUTHN_CRED_BLOB_EXTENSION,
  WEBAUTHN_CRED_PROTECT_EXTENSION_IN,
  WEBAUTHN_CRED_WITH_HMAC_SECRET_SALT,
  WEBAUTHN_HMAC_SECRET_SALT_VALUES,
  WEBAUTHN_RP_ENTITY_INFORMATION,
  WEBAUTHN_USER_ENTITY_INFORMATION,
} from './layout.js';
import type { DllCreationOptions, DllRequestOptions, PrfValues } from './types.js';

export { bytesOf, transportBits, uvRequirement } from './encode-parts.js';

export interface EncodedCall {
  arena: Arena;
  apiVersion: number;
  /** dwVersion written into the options struct. */
  optionsVersion: number;
  clientData: number;
  options: number;
  /** 16 bytes for the GUID WebAuthNGetCancellationId writes. */
  cancellationId: number;
  /** The options' pCancellationId field (set to NULL when no id could be had). */
  cancellationIdField: number;
  /** Pointer-sized slot the DLL writes the result pointer into. */
  resultSlot: number;
  ignoredExtensions: string[];
}

export interface EncodedMakeCredential extends EncodedCall {
  rp: number;
  user: number;
  pubKeyCredParams: number;
}

export interface EncodedGetAssertion extends EncodedCall {
  rpId: number;
  /** BOOL the DLL sets when the appid was used instead of the rpId (null when appid not requested). */
  appIdUsed: number | null;
}


export function encodeMakeCredential(
  o: DllCreationOptions,
  apiVersion: number,
  pointerSize: 4 | 8,
  timeoutMs: number,
): EncodedMakeCredential {
  const arena = new Arena(pointerSize);
  const versions = structVersionsFor(apiVersion);
  const ignored: string[] = [];
  const has = (f: Parameters<typeof supports>[1]): boolean => supports(apiVersion, f);

  const rpL = layoutOf(WEBAUTHN_RP_ENTITY_INFORMATION, pointerSize);
  const rp = arena.struct(rpL);
  arena.at(rpL, rp).u32('dwVersion', 1).wstr('pwszId', o.rp.id).wstr('pwszName', o.rp.name || o.rp.id).wstr('pwszIcon', o.rp.icon);

  const userL = layoutOf(WEBAUTHN_USER_ENTITY_INFORMATION, pointerSize);
  const user = arena.struct(userL);
  arena
    .at(userL, user)
    .u32('dwVersion', 1)
    .blob('cbId', 'pbId', bytesOf(o.user.id))
    .wstr('pwszName', o.user.name)
    .wstr('pwszIcon', o.user.icon)
    .wstr('pwszDisplayName', o.user.displayName);

  // WebAuthn §5.1.3 step 10: an empty list means ES256 and RS256.
  const algs = o.pubKeyCredParams.filter((p) => p.type === WEBAUTHN_CREDENTIAL_TYPE_PUBLIC_KEY).map((p) => p.alg);
  const effective = o.pubKeyCredParams.length === 0 ? [-7, -257] : algs;
  const pL = layoutOf(WEBAUTHN_COSE_CREDENTIAL_PARAMETER, pointerSize);
  const psL = layoutOf(WEBAUTHN_COSE_CREDENTIAL_PARAMETERS, pointerSize);
  const first = arena.reserve(pL.size * Math.max(1, effective.length), pL.align);
  effective.forEach((alg, i) => {
    arena.at(pL, first + i * pL.size).u32('dwVersion', 1).wstr('pwszCredentialType', WEBAUTHN_CREDENTIAL_TYPE_PUBLIC_KEY).i32('lAlg', alg);
  });
  const pubKeyCredParams = arena.struct(psL);
  arena.at(psL, pubKeyCredParams).u32('cCredentialParameters', effective.length).ptr('pCredentialParameters', first);

  const clientData = clientDataStruct(arena, o.clientDataJSON);

  const optionsVersion = versions.makeCredentialOptions;
  const { options, w } = optionsStruct(arena, WEBAUTHN_AUTHENTICATOR_MAKE_CREDENTIAL_OPTIONS, optionsVersion, o.timeout ?? timeoutMs);

  const sel = o.authenticatorSelection ?? {};
  const rk = sel.residentKey ?? (sel.requireResidentKey ? 'required' : 'discouraged');
  w.bool('bRequireResidentKey', rk === 'required');
  if (rk === 'preferred') {
    if (has('preferResidentKey')) w.bool('bPreferResidentKey', true);
  }
  w.u32('dwUserVerificationRequirement', uvRequirement(sel.userVerification));

  let conveyance: number = WEBAUTHN_ATTESTATION_CONVEYANCE_PREFERENCE.NONE;
  if (o.attestation === 'indirect') conveyance = WEBAUTHN_ATTESTATION_CONVEYANCE_PREFERENCE.INDIRECT;
  if (o.attestation === 'direct' || o.attestation === 'enterprise') conveyance = WEBAUTHN_ATTESTATION_CONVEYANCE_PREFERENCE.DIRECT;
  w.u32('dwAttestationConveyancePreference', conveyance);
  if (o.attestation === 'enterprise') {
    const ep = o.enterpriseAttestationApproved === true ? WEBAUTHN_ENTERPRISE_ATTESTATION.PLATFORM_MANAGED : WEBAUTHN_ENTERPRISE_ATTESTATION.VENDOR_FACILITATED;
    if (has('enterpriseAttestation')) w.u32('dwEnterpriseAttestation', ep);
    else ignored.push('attestation:enterprise');
  }

  const cancellationId = arena.reserve(16, 4);
  w.ptr('pCancellationId', cancellationId);
  const cancellationIdField = w.off('pCancellationId');
  w.ptr('pExcludeCredentialList', credentialList(arena, o.excludeCredentials));

  const x = o.extensions ?? {};
  const exts: ExtensionIn[] = [];
  if (x.credentialProtectionPolicy !== undefined) {
    const level = CRED_PROTECT[x.credentialProtectionPolicy];
    if (level === undefined) ignored.push('credentialProtectionPolicy');
    else if (!has('credProtect')) ignored.push('credProtect');
    else {
      const l = layoutOf(WEBAUTHN_CRED_PROTECT_EXTENSION_IN, pointerSize);
      const data = arena.struct(l);
      arena.at(l, data).u32('dwCredProtect', level).bool('bRequireCredProtect', x.enforceCredentialProtectionPolicy === true);
      exts.push({ id: WEBAUTHN_EXTENSIONS_IDENTIFIER.CRED_PROTECT, size: l.size, data });
    }
  }
  if (x.hmacCreateSecret === true) exts.push(boolExtension(arena, WEBAUTHN_EXTENSIONS_IDENTIFIER.HMAC_SECRET));
  if (x.credBlob !== undefined) {
    if (!has('credBlob')) ignored.push('credBlob');
    else {
      const l = layoutOf(WEBAUTHN_CRED_BLOB_EXTENSION, pointerSize);
      const data = arena.struct(l);
      arena.at(l, data).blob('cbCredBlob', 'pbCredBlob', bytesOf(x.credBlob));
      exts.push({ id: WEBAUTHN_EXTENSIONS_IDENTIFIER.CRED_BLOB, size: l.size, data });
    }
  }
  if (x.minPinLength === true) {
    if (has('minPinLength')) exts.push(boolExtension(arena, WEBAUTHN_EXTENSIONS_IDENTIFIER.MIN_PIN_LENGTH));
    else ignored.push('minPinLength');
  }
  extensionArray(w, exts);

  if (x.largeBlob !== undefined) {
    const support = x.largeBlob.support === 'required' ? WEBAUTHN_LARGE_BLOB_SUPPORT.REQUIRED : WEBAUTHN_LARGE_BLOB_SUPPORT.PREFERRED;
    if (has('largeBlob')) w.u32('dwLargeBlobSupport', support);
    else ignored.push('largeBlob');
  }
  if (x.prf !== undefined) {
    if (!has('prf')) ignored.push('prf');
    else {
      w.bool('bEnablePrf', true);
      if (x.prf.eval !== undefined) {
        if (has('prfAtCreate')) w.ptr('pPRFGlobalEval', hmacSalt(arena, x.prf.eval));
        else ignored.push('prf.eval');
      }
    }
  }
  if (o.hints !== undefined && o.hints.length > 0) {
    if (has('hints')) hints(w, o.hints);
    else ignored.push('hints');
  }

  const resultSlot = arena.reserve(pointerSize, pointerSize);
  return { arena, apiVersion, optionsVersion, rp, user, pubKeyCredParams, clientData, options, cancellationId, cancellationIdField, resultSlot, ignoredExtensions: ignored };
}

export function encodeGetAssertion(o: DllRequestOptions, apiVersion: number, pointerSize: 4 | 8, timeoutMs: number): EncodedGetAssertion {
  const arena = new Arena(pointerSize);
  const versions = structVersionsFor(apiVersion);
  const ignored: string[] = [];
  const has = (f: Parameters<typeof supports>[1]): boolean => supports(apiVersion, f);

  const rpId = arena.utf16z(o.rpId);
  const clientData = clientDataStruct(arena, o.clientDataJSON);

  const optionsVersion = versions.getAssertionOptions;
  const { options, w } = optionsStruct(arena, WEBAUTHN_AUTHENTICATOR_GET_ASSERTION_OPTIONS, optionsVersion, o.timeout ?? timeoutMs);
  w.u32('dwUserVerificationRequirement', uvRequirement(o.userVerification));

  const cancellationId = arena.reserve(16, 4);
  w.ptr('pCancellationId', cancellationId);
  const cancellationIdField = w.off('pCancellationId');
  w.ptr('pAllowCredentialList', credentialList(arena, o.allowCredentials));

  const x = o.extensions ?? {};
  let appIdUsed: number | null = null;
  if (x.appid !== undefined) {
    appIdUsed = arena.reserve(4, 4);
    w.wstr('pwszU2fAppId', x.appid).ptr('pbU2fAppId', appIdUsed);
  }

  const exts: ExtensionIn[] = [];
  if (x.getCredBlob === true) {
    if (has('credBlob')) exts.push(boolExtension(arena, WEBAUTHN_EXTENSIONS_IDENTIFIER.CRED_BLOB));
    else ignored.push('getCredBlob');
  }
  extensionArray(w, exts);

  if (x.largeBlob !== undefined && (x.largeBlob.read === true || x.largeBlob.write !== undefined)) {
    if (!has('largeBlob')) ignored.push('largeBlob');
    else if (x.largeBlob.write !== undefined) {
      w.u32('dwCredLargeBlobOperation', WEBAUTHN_CRED_LARGE_BLOB_OPERATION.SET).blob('cbCredLargeBlob', 'pbCredLargeBlob', bytesOf(x.largeBlob.write));
    } else {
      w.u32('dwCredLargeBlobOperation', WEBAUTHN_CRED_LARGE_BLOB_OPERATION.GET);
    }
  }

  const prf = x.prf;
  const wantsPrf = prf !== undefined && (prf.eval !== undefined || (prf.evalByCredentialRaw?.length ?? 0) > 0);
  if (wantsPrf || x.hmacGetSecret !== undefined) {
    if (!has('prf')) {
      if (wantsPrf) ignored.push('prf');
      if (x.hmacGetSecret !== undefined) ignored.push('hmacGetSecret');
    } else {
      const vL = layoutOf(WEBAUTHN_HMAC_SECRET_SALT_VALUES, pointerSize);
      const values = arena.struct(vL);
      const vw = arena.at(vL, values);
      if (wantsPrf) {
        // PRF inputs: Windows applies SHA-256("WebAuthn PRF" || 0x00 || input) itself.
        if (prf.eval !== undefined) vw.ptr('pGlobalHmacSalt', hmacSalt(arena, prf.eval));
        const per = prf.evalByCredentialRaw ?? [];
        if (per.length > 0) {
          const cL = layoutOf(WEBAUTHN_CRED_WITH_HMAC_SECRET_SALT, pointerSize);
          const firstCred = arena.reserve(cL.size * per.length, cL.align);
          per.forEach((e, i) => {
            arena
              .at(cL, firstCred + i * cL.size)
              .blob('cbCredID', 'pbCredID', bytesOf(e.id))
              .ptr('pHmacSecretSalt', hmacSalt(arena, e.values));
          });
          vw.u32('cCredWithHmacSecretSaltList', per.length).ptr('pCredWithHmacSecretSaltList', firstCred);
        }
        if (x.hmacGetSecret !== undefined) ignored.push('hmacGetSecret');
      } else if (x.hmacGetSecret !== undefined) {
        // Raw CTAP salts: tell Windows not to treat them as PRF inputs.
        w.u32('dwFlags', WEBAUTHN_AUTHENTICATOR_HMAC_SECRET_VALUES_FLAG);
        const salts: PrfValues = { first: x.hmacGetSecret.salt1, second: x.hmacGetSecret.salt2 };
        vw.ptr('pGlobalHmacSalt', hmacSalt(arena, salts));
      }
      w.ptr('pHmacSecretSaltValues', values);
    }
  }
  if (o.hints !== undefined && o.hints.length > 0) {
    if (has('hints')) hints(w, o.hints);
    else ignored.push('hints');
  }

  const resultSlot = arena.reserve(pointerSize, pointerSize);
  return { arena, apiVersion, optionsVersion, rpId, clientData, options, cancellationId, cancellationIdField, resultSlot, appIdUsed, ignoredExtensions: ignored };
}

/** dwTimeoutMilliseconds: a DWORD; Windows treats it as guidance. */
