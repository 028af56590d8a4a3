/**
 * The function the preload runs in the page's world through Electron's
 * `contextBridge.executeInMainWorld` (Electron ≥ 35), so that the page gets
 * real errors carrying their WebAuthn `name` (Electron's contextBridge copies
 * an Error as `new Error(message)` — name and custom properties are lost — so
 * the preload hands over envelopes and the errors are built here, in the
 * page's own realm: `DOMException` like navigator.credentials, `TypeError`
 * for argument errors).
 *
 * Electron serializes `installInMainWorld` by its source text and compiles it
 * in the page's world, so it must be self-contained: no imports, no
 * module-level helpers, no closures over this file. It is also written
 * without name-inferred function bindings (`const f = () => …`, `{ f: () => … }`)
 * and with member assignments instead: bundlers that keep names (esbuild
 * `keepNames`, which tsx uses) wrap those in a module-level `__name(...)` call
 * that would not exist in the page. The test's fake contextBridge compiles the
 * source in a separate realm, so any such leak fails the tests.
 */

/** What the preload hands to the page world (functions proxied by contextBridge). */
export interface RawBridge {
  create(options: unknown): Promise<unknown>;
  get(options: unknown): Promise<unknown>;
  cancel(): Promise<unknown>;
  /** navigator.credentials-shaped: BufferSource options in, buffers out (see buffer-json.ts). */
  credentialsCreate(publicKey: unknown): Promise<unknown>;
  credentialsGet(publicKey: unknown): Promise<unknown>;
}

export function installInMainWorld(name: string, raw: RawBridge): void {
  const g = globalThis as unknown as Record<string, unknown>;
  if (Object.prototype.hasOwnProperty.call(g, name)) throw new Error(`Cannot expose the security-key API: window.${name} is already defined`);
  const h: Record<string, (...args: any[]) => any> = {};
  h.error = (e: { name?: unknown; message?: unknown; ctap?: unknown } | null | undefined): Error => {
    const n = e && typeof e.name === 'string' ? e.name : 'UnknownError';
    const m = e && typeof e.message === 'string' ? e.message : 'The security-key bridge failed';
    let x: Error;
    if (n === 'TypeError') x = new TypeError(m);
    else if (typeof DOMException === 'function') x = new DOMException(m, n) as unknown as Error;
    else {
      x = new Error(m);
      x.name = n;
    }
    if (e && typeof e.ctap === 'string') Object.defineProperty(x, 'ctap', { value: e.ctap, enumerable: true });
    return x;
  };
  h.unwrap = (r: { ok?: unknown; value?: unknown; error?: unknown } | null | undefined): unknown => {
    if (r && r.ok === true) return r.value;
    throw h.error!(r && r.ok === false ? r.error : undefined);
  };
  // A PublicKeyCredential-shaped object from the preload's { json, buffers } value.
  h.credential = (v: {
    json: Record<string, unknown>;
    rawId: ArrayBuffer;
    response: Record<string, unknown>;
    clientExtensionResults: Record<string, unknown>;
  }): unknown => {
    const json = v.json;
    const r = v.response;
    const response: Record<string, unknown> = { clientDataJSON: r.clientDataJSON };
    if (r.attestationObject !== undefined) {
      response.attestationObject = r.attestationObject;
      response.getTransports = (): unknown[] => (Array.isArray(r.transports) ? r.transports.slice() : []);
      response.getAuthenticatorData = (): unknown => r.authenticatorData;
      response.getPublicKey = (): unknown => (r.publicKey === undefined ? null : r.publicKey);
      response.getPublicKeyAlgorithm = (): unknown => r.publicKeyAlgorithm;
    } else {
      response.authenticatorData = r.authenticatorData;
      response.signature = r.signature;
      response.userHandle = r.userHandle === undefined ? null : r.userHandle;
    }
    const cred: Record<string, unknown> = {
      id: json.id,
      rawId: v.rawId,
      type: json.type,
      authenticatorAttachment: json.authenticatorAttachment === undefined ? null : json.authenticatorAttachment,
      response: Object.freeze(response),
    };
    cred.getClientExtensionResults = (): unknown => v.clientExtensionResults;
    // A copy each time, as PublicKeyCredential.toJSON() returns a fresh object.
    cred.toJSON = (): unknown => JSON.parse(JSON.stringify(json));
    return Object.freeze(cred);
  };
  // navigator.credentials.create/get({ publicKey, signal }) semantics around a raw call.
  h.ceremony = (call: (publicKey: unknown) => Promise<unknown>, o: { publicKey?: unknown; signal?: AbortSignal; mediation?: unknown } | null | undefined): Promise<unknown> => {
    if (!o || typeof o !== 'object' || !o.publicKey || typeof o.publicKey !== 'object') {
      return Promise.reject(new TypeError('Only { publicKey } credential requests are supported by this bridge'));
    }
    if (o.mediation === 'conditional') {
      return Promise.reject(h.error!({ name: 'NotSupportedError', message: 'Conditional mediation is not supported by the security-key bridge' }));
    }
    const signal = o.signal;
    if (signal && signal.aborted) return Promise.reject(h.error!({ name: 'AbortError', message: 'The operation was aborted.' }));
    const l: Record<string, () => void> = {};
    l.abort = (): void => {
      raw.cancel().catch(() => undefined);
    };
    if (signal) signal.addEventListener('abort', l.abort!, { once: true });
    return call(o.publicKey).then(
      (r) => {
        if (signal) signal.removeEventListener('abort', l.abort!);
        return h.credential!(h.unwrap!(r));
      },
      (e: unknown) => {
        if (signal) signal.removeEventListener('abort', l.abort!);
        throw e;
      },
    );
  };
  const api: Record<string, unknown> = {};
  api.create = (options: unknown): Promise<unknown> => raw.create(options).then(h.unwrap);
  api.get = (options: unknown): Promise<unknown> => raw.get(options).then(h.unwrap);
  api.cancel = (): Promise<unknown> => raw.cancel().then(h.unwrap);
  const credentials: Record<string, unknown> = {};
  credentials.create = (o: { publicKey?: unknown; signal?: AbortSignal }): Promise<unknown> =>
    h.ceremony!((p: unknown) => raw.credentialsCreate(p), o);
  credentials.get = (o: { publicKey?: unknown; signal?: AbortSignal; mediation?: unknown }): Promise<unknown> =>
    h.ceremony!((p: unknown) => raw.credentialsGet(p), o);
  api.credentials = Object.freeze(credentials);
  Object.defineProperty(g, name, { value: Object.freeze(api), enumerable: true, writable: false, configurable: false });
}
