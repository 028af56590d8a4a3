/**
 * Client extension inputs of create() and get(), checked as browsers check
 * them (NotSupportedError / SyntaxError for combinations the spec refuses)
 * and normalised to bytes.
 */
import { base64urlDecodeOrNull } from './base64url.js';
import { webAuthnError } from './errors.js';
import type { CreationExtensions, Descriptor, PrfValues, RequestExtensions, ResidentKeyRequirement } from './options.js';
import { bufferSourceBytes, CRED_PROTECT_VALUES, isRecord, pick, prfValues, required, str } from './options-read.js';

export function creationExtensions(e: unknown, residentKey: ResidentKeyRequirement): CreationExtensions {
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

export function requestExtensions(e: unknown, allow: Descriptor[]): RequestExtensions {
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
