/**
 * `ctap-bridge/electron/preload`: the renderer half of the bridge, for a
 * preload script with contextIsolation on.
 *
 *   import { contextBridge, ipcRenderer } from 'electron';
 *   import { exposeInRenderer } from 'ctap-bridge/electron/preload';
 *   exposeInRenderer({ contextBridge, ipcRenderer });   // window.ctap
 *
 * The page gets `window.ctap = { create(optionsJSON), get(optionsJSON),
 * cancel(), credentials: { create({ publicKey }), get({ publicKey }) } }`.
 * `create`/`get` resolve to RegistrationResponseJSON /
 * AuthenticationResponseJSON; `credentials.*` take BufferSource options and
 * resolve to PublicKeyCredential-shaped objects, like navigator.credentials.
 * Rejections are DOMExceptions with the WebAuthn name (NotAllowedError,
 * SecurityError, …; TypeError for bad arguments) and, when a CTAP status is
 * behind it, a `ctap` property.
 *
 * Never imports `electron` (the app passes its objects in) and nothing from
 * the key stack: this file, protocol.ts, main-world.ts and buffer-json.ts are
 * all a sandboxed preload bundle carries.
 */
import type { PublicKeyCredentialCreationOptionsJSON, PublicKeyCredentialRequestOptionsJSON } from '../webauthn/options-json.js';
import type { AuthenticationResponseJSON, RegistrationResponseJSON } from '../webauthn/credential.js';
import type { PublicKeyCredentialCreationOptions, PublicKeyCredentialRequestOptions } from '../webauthn/options.js';
import { creationOptionsToJSON, requestOptionsToJSON, responseToBuffers } from './buffer-json.js';
import { installInMainWorld, type RawBridge } from './main-world.js';
import { type BridgeErrorJSON, type BridgeReply, channelsFor, checkOptionsPayload, isBridgeReply, readErrorJSON } from './protocol.js';

export type { PublicKeyCredentialCreationOptionsJSON, PublicKeyCredentialRequestOptionsJSON } from '../webauthn/options-json.js';
export type { AuthenticationResponseJSON, RegistrationResponseJSON } from '../webauthn/credential.js';
export type { PublicKeyCredentialCreationOptions, PublicKeyCredentialRequestOptions } from '../webauthn/options.js';
export { DEFAULT_CHANNEL_PREFIX } from './protocol.js';

/** The parts of Electron's ipcRenderer we use. */
export interface IpcRendererLike {
  invoke(channel: string, ...args: any[]): Promise<any>;
}

/** The parts of Electron's contextBridge we use (`executeInMainWorld` is Electron ≥ 35). */
export interface ContextBridgeLike {
  exposeInMainWorld(apiKey: string, api: any): void;
  executeInMainWorld?(executionScript: { func: (...args: any[]) => any; args?: any[] }): any;
}

export interface RendererOptions {
  /** Must match registerMainHandlers' channelPrefix (default `ctap-bridge`). */
  channelPrefix?: string | undefined;
}

/** What the page (or preload code) calls. */
export interface CtapRendererApi {
  create(options: PublicKeyCredentialCreationOptionsJSON): Promise<RegistrationResponseJSON>;
  get(options: PublicKeyCredentialRequestOptionsJSON): Promise<AuthenticationResponseJSON>;
  /** Cancels this frame's pending request (resolves true if there was one; another frame's is never touched). */
  cancel(): Promise<boolean>;
}

/** `window.ctap.credentials.*` resolve to these (ArrayBuffers, like PublicKeyCredential). */
export interface BridgePublicKeyCredential<R, J> {
  readonly id: string;
  readonly rawId: ArrayBuffer;
  readonly type: 'public-key';
  readonly authenticatorAttachment: string | null;
  readonly response: R;
  getClientExtensionResults(): Record<string, unknown>;
  toJSON(): J;
}

export interface BridgeAttestationResponse {
  readonly clientDataJSON: ArrayBuffer;
  readonly attestationObject: ArrayBuffer;
  getTransports(): string[];
  getAuthenticatorData(): ArrayBuffer;
  getPublicKey(): ArrayBuffer | null;
  getPublicKeyAlgorithm(): number;
}

export interface BridgeAssertionResponse {
  readonly clientDataJSON: ArrayBuffer;
  readonly authenticatorData: ArrayBuffer;
  readonly signature: ArrayBuffer;
  readonly userHandle: ArrayBuffer | null;
}

/** What the page sees as `window.ctap` (declare it on Window in the page's code). */
export interface CtapPageApi extends CtapRendererApi {
  readonly credentials: {
    create(options: { publicKey: PublicKeyCredentialCreationOptions; signal?: AbortSignal }): Promise<BridgePublicKeyCredential<BridgeAttestationResponse, RegistrationResponseJSON>>;
    get(options: {
      publicKey: PublicKeyCredentialRequestOptions;
      signal?: AbortSignal;
      mediation?: 'silent' | 'optional' | 'required' | 'conditional';
    }): Promise<BridgePublicKeyCredential<BridgeAssertionResponse, AuthenticationResponseJSON>>;
  };
}

/** An error from the bridge in the preload's own world: its `name` is the WebAuthn name. */
export function bridgeError(e: BridgeErrorJSON): Error {
  let x: Error;
  if (e.name === 'TypeError') x = new TypeError(e.message);
  else if (typeof DOMException === 'function') x = new DOMException(e.message, e.name);
  else {
    x = new Error(e.message);
    x.name = e.name;
  }
  if (e.ctap !== undefined) Object.defineProperty(x, 'ctap', { value: e.ctap, enumerable: true });
  return x;
}

/** The envelope-level calls: never reject, always a BridgeReply (what crosses into the page world). */
function rawBridge(ipcRenderer: IpcRendererLike, channelPrefix: string | undefined): RawBridge {
  const channels = channelsFor(channelPrefix);
  const fail = (e: unknown): BridgeReply<never> => {
    if (e instanceof TypeError) return { ok: false, error: { name: 'TypeError', message: e.message } };
    const name = e instanceof Error && /^[A-Za-z]{1,64}$/.test(e.name) && e.name !== 'Error' ? e.name : 'UnknownError';
    return { ok: false, error: { name, message: e instanceof Error ? e.message : 'The security-key bridge failed' } };
  };
  const invoke = async (channel: string, payload?: unknown): Promise<BridgeReply<unknown>> => {
    try {
      const reply: unknown = payload === undefined ? await ipcRenderer.invoke(channel) : await ipcRenderer.invoke(channel, payload);
      if (!isBridgeReply(reply)) return { ok: false, error: readErrorJSON(undefined) };
      return reply.ok ? reply : { ok: false, error: readErrorJSON(reply.error) };
    } catch (e) {
      // ipcRenderer.invoke itself failed (no handler registered, the main process threw, clone failure).
      return fail(e instanceof Error ? new Error(`The security-key bridge is not available: ${e.message}`) : e);
    }
  };
  // JSON options are checked here too, so a bad argument fails fast with a TypeError naming the field
  // (the size limit is the main process's: its maxPayloadBytes may differ from the default).
  const call = async (channel: string, options: unknown): Promise<BridgeReply<unknown>> => {
    let json;
    try {
      json = checkOptionsPayload(options, Number.MAX_SAFE_INTEGER);
    } catch (e) {
      return fail(e);
    }
    return invoke(channel, json);
  };
  const withBuffers = async (channel: string, convert: (o: unknown) => unknown, publicKey: unknown): Promise<BridgeReply<unknown>> => {
    let json;
    try {
      json = convert(publicKey);
    } catch (e) {
      return fail(e);
    }
    const reply = await invoke(channel, json);
    if (!reply.ok) return reply;
    try {
      return { ok: true, value: responseToBuffers(reply.value) };
    } catch (e) {
      return fail(e);
    }
  };
  return {
    create: (options) => call(channels.create, options),
    get: (options) => call(channels.get, options),
    cancel: () => invoke(channels.cancel),
    credentialsCreate: (publicKey) => withBuffers(channels.create, creationOptionsToJSON, publicKey),
    credentialsGet: (publicKey) => withBuffers(channels.get, requestOptionsToJSON, publicKey),
  };
}

/**
 * The API for code in the preload's own world (or a renderer without context
 * isolation): rejections are errors with the WebAuthn name.
 */
export function createRendererApi(ipcRenderer: IpcRendererLike, opts: RendererOptions = {}): CtapRendererApi {
  const raw = rawBridge(ipcRenderer, opts.channelPrefix);
  const unwrap = <T>(r: unknown): T => {
    const reply = r as BridgeReply<T>;
    if (reply.ok) return reply.value;
    throw bridgeError(reply.error);
  };
  return {
    create: (options) => raw.create(options).then((r) => unwrap<RegistrationResponseJSON>(r)),
    get: (options) => raw.get(options).then((r) => unwrap<AuthenticationResponseJSON>(r)),
    cancel: () => raw.cancel().then((r) => unwrap<boolean>(r)),
  };
}

/**
 * Expose the bridge to the page as `window[name]` (default `window.ctap`).
 * On Electron ≥ 35 the page-side wrapper is installed with
 * `contextBridge.executeInMainWorld`, so rejections are DOMExceptions with
 * the WebAuthn name. On older Electron, `exposeInMainWorld` is used and,
 * because its bridge copies an error as `Error(message)`, the name is put in
 * front of the message ("NotAllowedError: …").
 */
export function exposeInRenderer(
  electron: { contextBridge: ContextBridgeLike; ipcRenderer: IpcRendererLike },
  name = 'ctap',
  opts: RendererOptions = {},
): void {
  const { contextBridge, ipcRenderer } = electron ?? {};
  if (!contextBridge || typeof contextBridge.exposeInMainWorld !== 'function' || !ipcRenderer || typeof ipcRenderer.invoke !== 'function') {
    throw new TypeError("exposeInRenderer needs { contextBridge, ipcRenderer } from 'electron' (in a preload script with contextIsolation on)");
  }
  if (typeof name !== 'string' || !/^[A-Za-z_$][A-Za-z0-9_$]{0,63}$/.test(name)) throw new TypeError('name must be a JavaScript identifier');
  const raw = rawBridge(ipcRenderer, opts.channelPrefix);
  if (typeof contextBridge.executeInMainWorld === 'function') {
    contextBridge.executeInMainWorld({ func: installInMainWorld, args: [name, raw] });
    return;
  }
  const legacy = (r: unknown): unknown => {
    const reply = r as BridgeReply<unknown>;
    if (reply.ok) return reply.value;
    throw new Error(`${reply.error.name}: ${reply.error.message}`);
  };
  contextBridge.exposeInMainWorld(name, {
    create: (options: unknown) => raw.create(options).then(legacy),
    get: (options: unknown) => raw.get(options).then(legacy),
    cancel: () => raw.cancel().then(legacy),
  });
}
