/**
 * For pages that call `navigator.credentials.create/get({ publicKey })` with
 * BufferSources and should not change: the preload turns those options into
 * the L3 JSON form the bridge carries (the inverse of
 * parseCreationOptionsFromJSON / parseRequestOptionsFromJSON), and the JSON
 * response back into ArrayBuffers. Strict: a binary member that is not a
 * BufferSource is a TypeError, as in a browser. Pure (runs in the preload).
 */
import { base64urlDecode, base64urlEncode } from '../webauthn/base64url.js';
import type { JsonObject, JsonValue } from './protocol.js';

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

function isBufferSource(v: unknown): v is ArrayBuffer | ArrayBufferView {
  return v instanceof ArrayBuffer || ArrayBuffer.isView(v) || Object.prototype.toString.call(v) === '[object ArrayBuffer]';
}

function b64(v: unknown, what: string): string {
  if (ArrayBuffer.isView(v)) return base64urlEncode(new Uint8Array(v.buffer, v.byteOffset, v.byteLength));
  if (isBufferSource(v)) return base64urlEncode(new Uint8Array(v as ArrayBuffer));
  throw new TypeError(`${what} must be a BufferSource (ArrayBuffer or typed array)`);
}

/** Copy plain JSON data; anything else is a TypeError naming where. */
function jsonCopy(v: unknown, what: string, depth = 0): JsonValue {
  if (depth > 16) throw new TypeError(`${what} nests too deeply`);
  if (v === null || typeof v === 'string' || typeof v === 'boolean') return v;
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) throw new TypeError(`${what} is not a finite number`);
    return v;
  }
  if (Array.isArray(v)) return v.map((x, i) => jsonCopy(x, `${what}[${i}]`, depth + 1));
  if (isObj(v) && !isBufferSource(v)) {
    const out: JsonObject = {};
    for (const k of Object.keys(v)) if (v[k] !== undefined && k !== '__proto__') out[k] = jsonCopy(v[k], `${what}.${k}`, depth + 1);
    return out;
  }
  throw new TypeError(`${what} cannot be sent to the security-key bridge`);
}

function descriptors(list: unknown, what: string): JsonValue[] | undefined {
  if (list === undefined) return undefined;
  if (!Array.isArray(list)) throw new TypeError(`${what} must be a sequence`);
  return list.map((d: unknown, i) => {
    if (!isObj(d)) throw new TypeError(`${what}[${i}] must be a PublicKeyCredentialDescriptor`);
    const out: JsonObject = { type: jsonCopy(d.type, `${what}[${i}].type`), id: b64(d.id, `${what}[${i}].id`) };
    if (d.transports !== undefined) out.transports = jsonCopy(d.transports, `${what}[${i}].transports`);
    return out;
  });
}

function prfValues(v: unknown, what: string): JsonObject {
  if (!isObj(v)) throw new TypeError(`${what} must be { first, second? }`);
  const out: JsonObject = { first: b64(v.first, `${what}.first`) };
  if (v.second !== undefined) out.second = b64(v.second, `${what}.second`);
  return out;
}

/** Extension inputs: the binary members the spec defines become base64url; the rest must be JSON. */
function extensions(ext: unknown, what: string): JsonObject | undefined {
  if (ext === undefined) return undefined;
  if (!isObj(ext)) throw new TypeError(`${what} must be a dictionary`);
  const out: JsonObject = {};
  for (const k of Object.keys(ext)) {
    const v = ext[k];
    if (v === undefined) continue;
    if (k === 'prf' && isObj(v)) {
      const prf: JsonObject = {};
      if (v.eval !== undefined) prf.eval = prfValues(v.eval, `${what}.prf.eval`);
      if (v.evalByCredential !== undefined) {
        if (!isObj(v.evalByCredential)) throw new TypeError(`${what}.prf.evalByCredential must be a record`);
        const by: JsonObject = {};
        for (const id of Object.keys(v.evalByCredential)) by[id] = prfValues(v.evalByCredential[id], `${what}.prf.evalByCredential`);
        prf.evalByCredential = by;
      }
      out.prf = prf;
    } else if (k === 'largeBlob' && isObj(v)) {
      const lb = jsonCopy({ ...v, write: undefined }, `${what}.largeBlob`) as JsonObject;
      if (v.write !== undefined) lb.write = b64(v.write, `${what}.largeBlob.write`);
      out.largeBlob = lb;
    } else if (k === 'credBlob' && isBufferSource(v)) {
      out.credBlob = b64(v, `${what}.credBlob`);
    } else {
      out[k] = jsonCopy(v, `${what}.${k}`);
    }
  }
  return out;
}

function put(out: JsonObject, key: string, v: JsonValue | undefined): void {
  if (v !== undefined) out[key] = v;
}

/** PublicKeyCredentialCreationOptions (BufferSource form) → PublicKeyCredentialCreationOptionsJSON. */
export function creationOptionsToJSON(o: unknown): JsonObject {
  if (!isObj(o)) throw new TypeError('publicKey must be a PublicKeyCredentialCreationOptions dictionary');
  if (!isObj(o.user)) throw new TypeError('publicKey.user is required');
  const user: JsonObject = { ...(jsonCopy({ ...o.user, id: undefined }, 'publicKey.user') as JsonObject), id: b64(o.user.id, 'publicKey.user.id') };
  const out: JsonObject = {};
  for (const k of Object.keys(o)) {
    if (o[k] === undefined || ['user', 'challenge', 'excludeCredentials', 'extensions'].includes(k)) continue;
    out[k] = jsonCopy(o[k], `publicKey.${k}`);
  }
  out.user = user;
  out.challenge = b64(o.challenge, 'publicKey.challenge');
  put(out, 'excludeCredentials', descriptors(o.excludeCredentials, 'publicKey.excludeCredentials'));
  put(out, 'extensions', extensions(o.extensions, 'publicKey.extensions'));
  return out;
}

/** PublicKeyCredentialRequestOptions (BufferSource form) → PublicKeyCredentialRequestOptionsJSON. */
export function requestOptionsToJSON(o: unknown): JsonObject {
  if (!isObj(o)) throw new TypeError('publicKey must be a PublicKeyCredentialRequestOptions dictionary');
  const out: JsonObject = {};
  for (const k of Object.keys(o)) {
    if (o[k] === undefined || ['challenge', 'allowCredentials', 'extensions'].includes(k)) continue;
    out[k] = jsonCopy(o[k], `publicKey.${k}`);
  }
  out.challenge = b64(o.challenge, 'publicKey.challenge');
  put(out, 'allowCredentials', descriptors(o.allowCredentials, 'publicKey.allowCredentials'));
  put(out, 'extensions', extensions(o.extensions, 'publicKey.extensions'));
  return out;
}

function ab(s: unknown, what: string): ArrayBuffer {
  if (typeof s !== 'string') throw new TypeError(`The bridge's reply has no ${what}`);
  const b = base64urlDecode(s, what);
  const out = new ArrayBuffer(b.length);
  new Uint8Array(out).set(b);
  return out;
}

/** The buffers a PublicKeyCredential-shaped object needs, from the L3 response JSON. */
export interface CredentialBuffers {
  json: Record<string, unknown>;
  rawId: ArrayBuffer;
  response: Record<string, unknown>;
  clientExtensionResults: Record<string, unknown>;
}

/** Extension outputs back to the object form (prf results and largeBlob.blob are ArrayBuffers there). */
function extensionResultsFromJSON(r: unknown): Record<string, unknown> {
  if (!isObj(r)) return {};
  const out: Record<string, unknown> = { ...r };
  if (isObj(r.prf) && isObj(r.prf.results)) {
    const results: Record<string, unknown> = { first: ab(r.prf.results.first, 'prf.results.first') };
    if (r.prf.results.second !== undefined) results.second = ab(r.prf.results.second, 'prf.results.second');
    out.prf = { ...r.prf, results };
  }
  if (isObj(r.largeBlob) && typeof r.largeBlob.blob === 'string') out.largeBlob = { ...r.largeBlob, blob: ab(r.largeBlob.blob, 'largeBlob.blob') };
  return out;
}

/** RegistrationResponseJSON / AuthenticationResponseJSON → the buffers of a PublicKeyCredential. */
export function responseToBuffers(json: unknown): CredentialBuffers {
  if (!isObj(json) || !isObj(json.response)) throw new TypeError('The bridge sent a malformed credential');
  const r = json.response;
  const response: Record<string, unknown> = { clientDataJSON: ab(r.clientDataJSON, 'clientDataJSON') };
  if (r.attestationObject !== undefined) {
    response.attestationObject = ab(r.attestationObject, 'attestationObject');
    response.authenticatorData = ab(r.authenticatorData, 'authenticatorData');
    if (r.publicKey !== undefined) response.publicKey = ab(r.publicKey, 'publicKey');
    response.publicKeyAlgorithm = r.publicKeyAlgorithm;
    response.transports = Array.isArray(r.transports) ? r.transports.filter((t) => typeof t === 'string') : [];
  } else {
    response.authenticatorData = ab(r.authenticatorData, 'authenticatorData');
    response.signature = ab(r.signature, 'signature');
    if (r.userHandle !== undefined) response.userHandle = ab(r.userHandle, 'userHandle');
  }
  return {
    json,
    rawId: ab(json.rawId, 'rawId'),
    response,
    clientExtensionResults: extensionResultsFromJSON(json.clientExtensionResults),
  };
}
