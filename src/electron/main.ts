/**
 * `ctap-bridge/electron/main`: the main-process half of the bridge. The main
 * process owns the key and decides the origin; the renderer only sends JSON
 * options and gets JSON back.
 *
 *   const dispose = registerMainHandlers({ ipcMain, allowOrigins: ['https://app.example.com'],
 *     interaction: (req) => myDialogs(BrowserWindow.fromWebContents(req.webContents)) });
 *
 * Rules (see docs/electron.md):
 * - The origin is taken from `event.senderFrame` (sender-origin.ts), never from
 *   the payload; it must be in `allowOrigins` when that is given.
 * - The frame must be same-origin with every ancestor frame (NotAllowedError
 *   otherwise) unless the app passes `allowCrossOriginFrames`.
 * - One request per frame: requests are keyed by (webContents id, frame
 *   process id, frame routing id). A second one from the same frame while the
 *   first is pending is refused at once with InvalidStateError (it does not
 *   wait — a page that wants to restart calls cancel() first). Requests from
 *   other frames — of the same window or of other windows — wait their turn
 *   for the key (KeyQueue), each cancellable.
 * - `cancel` aborts only the calling frame's request, after the same origin
 *   checks as create/get. A request is aborted when its window is destroyed or
 *   its renderer process goes away (crash, kill), when the main frame starts a
 *   cross-document navigation, and when the requesting frame (or one of its
 *   ancestors) navigates to another document or is detached.
 * - Interaction (PIN, touch, account choice) goes to the app's callbacks in
 *   this process, with the window that asked.
 * - Nothing is thrown across IPC: every reply is a BridgeReply envelope.
 *
 * This module never imports `electron`; the app passes `ipcMain` in.
 */
import { toWebAuthnError, webAuthnError } from '../webauthn/errors.js';
import type { Interaction } from '../webauthn/interaction.js';
import { AbortedError } from '../util/errors.js';
import type { BridgeClient, ClientFactory, ClientInit, NativeWindowHandle, VerifyRpIdHook } from './client.js';
import { DefaultClients } from './default-client.js';
import type { DeviceInput } from '../webauthn/device-handle.js';
import { KeyQueue } from './key-queue.js';
import { RelatedOriginsChecker, type RelatedOriginsOptions } from '../webauthn/related-origins.js';
import { type BridgeErrorJSON, type BridgeReply, channelsFor, checkOptionsPayload, PAYLOAD_LIMITS } from './protocol.js';
import { type AllowOrigins, checkAllowOrigins, decideOrigin, type SenderFrameLike } from './sender-origin.js';

export type { AllowOrigins, SenderFrameLike } from './sender-origin.js';
export type { BridgeClient, BridgeCredential, BridgeCallOptions, ClientFactory, ClientInit, NativeWindowHandle, VerifyRpIdHook } from './client.js';
export type { BridgeReply, BridgeErrorJSON } from './protocol.js';
export type { RelatedOriginsOptions, RelatedOriginsFetcher, RelatedOriginsFetchInit, RelatedOriginsFetchResponse } from '../webauthn/related-origins.js';
export { DEFAULT_CHANNEL_PREFIX, channelsFor } from './protocol.js';
export type { Interaction, InteractionEvent, InteractionContext } from '../webauthn/interaction.js';

/** The WebContents events the bridge listens to while a request is pending. */
export type WebContentsEventName = 'destroyed' | 'did-start-navigation' | 'did-frame-navigate' | 'render-process-gone';

/** The parts of Electron's WebContents we use. */
export interface WebContentsLike {
  readonly id: number;
  isDestroyed(): boolean;
  on(event: WebContentsEventName, listener: (...args: unknown[]) => void): unknown;
  removeListener(event: WebContentsEventName, listener: (...args: unknown[]) => void): unknown;
}

/** The parts of Electron's IpcMainInvokeEvent we use. */
export interface IpcInvokeEventLike {
  readonly sender: WebContentsLike;
  readonly senderFrame: SenderFrameLike | null;
  /** The sending frame's renderer process id and routing id (Electron's IpcMainInvokeEvent). */
  readonly processId?: number;
  readonly frameId?: number;
}

/** The parts of Electron's ipcMain we use. */
export interface IpcMainLike<E extends IpcInvokeEventLike> {
  handle(channel: string, listener: (event: E, ...args: unknown[]) => unknown): void;
  removeHandler(channel: string): void;
}

/** What the app's interaction factory is told about a request. */
export interface BridgeRequest<W> {
  readonly kind: 'create' | 'get';
  /** The origin decided from the sender frame (what goes into clientDataJSON). */
  readonly origin: string;
  /** The window (Electron WebContents) that asked: parent your dialogs on it. */
  readonly webContents: W;
  /** Fires when the request ends early (cancel, window closed, navigation, dispose): close your dialogs. */
  readonly signal: AbortSignal;
}

export interface MainHandlersOptions<E extends IpcInvokeEventLike, I = Interaction> {
  ipcMain: IpcMainLike<E>;
  /**
   * The key: a device spec (default `auto`; `virtual` for development), an
   * open key (HidPort, CtapTransport, Ctap2Session, DeviceProvider), or a
   * function choosing one per request.
   */
  device?: string | DeviceInput | ((req: BridgeRequest<E['sender']>) => string | DeviceInput) | undefined;
  /**
   * The client's interaction callbacks (PIN entry, touch prompt, account
   * choice). Pass a function to get the requesting window and build them per
   * request.
   */
  interaction?: I | ((req: BridgeRequest<E['sender']>) => I) | undefined;
  /** Exact origins allowed to use the key, or a predicate. Without it any secure origin may. */
  allowOrigins?: AllowOrigins | undefined;
  /**
   * Let a frame that is not same-origin with all its ancestor frames use the
   * key (with its own origin, still subject to `allowOrigins`). Default false:
   * such frames get NotAllowedError, as in a browser without the
   * publickey-credentials-create/get permissions policy.
   */
  allowCrossOriginFrames?: boolean | undefined;
  /**
   * Honour the CTAP_BRIDGE_WEBAUTHN_DLL environment variable (a stand-in for
   * webauthn.dll, for testing). Default false: in an app, an environment
   * variable must not choose a native library to load into the main process.
   */
  allowWebAuthnDllOverride?: boolean | undefined;
  /**
   * The requesting window's native handle, for Windows' own WebAuthn dialog
   * (the webauthn.dll route on Windows without Administrator):
   * `(req) => BrowserWindow.fromWebContents(req.webContents)?.getNativeWindowHandle()`.
   * Without it Windows parents the dialog on the foreground window.
   */
  windowHandle?: ((req: BridgeRequest<E['sender']>) => NativeWindowHandle | null | undefined) | undefined;
  /** Passed to the client: accept an RP ID the registrable-suffix rule would refuse. */
  verifyRpId?: VerifyRpIdHook | undefined;
  /**
   * Passed to every client the bridge creates: WebAuthn L3 related origin
   * requests. When the page's RP ID does not cover its origin, the client
   * fetches `https://{rpId}/.well-known/webauthn` and accepts the RP ID if the
   * page's origin is listed there. `true` uses Node's fetch; or
   * `{ fetch?, maxBytes?, timeoutMs? }`. The origin is still the sender
   * frame's. Default off. Ignored when `verifyRpId` is given (the app decides).
   */
  relatedOrigins?: boolean | RelatedOriginsOptions | undefined;
  /** Channel prefix (default `ctap-bridge`); must match the preload's. */
  channelPrefix?: string | undefined;
  /** Largest options payload accepted, in (approximate JSON) bytes. Default 64 KiB. */
  maxPayloadBytes?: number | undefined;
  /** The client seam (default: the real WebAuthnClient). */
  createClient?: ClientFactory<I> | undefined;
}

interface Pending {
  readonly controller: AbortController;
}

function errorJSON(e: unknown): BridgeErrorJSON {
  const w = toWebAuthnError(e);
  return w.ctap ? { name: w.name, message: w.message, ctap: w.ctap } : { name: w.name, message: w.message };
}

/** Check the app's relatedOrigins option at registration (not per request) and keep a copy the app cannot change later. */
function checkRelatedOrigins(ro: unknown): boolean | RelatedOriginsOptions | undefined {
  if (ro === undefined || typeof ro === 'boolean') return ro;
  if (typeof ro !== 'object' || ro === null) throw new TypeError('relatedOrigins must be a boolean or { fetch?, maxBytes?, timeoutMs? }');
  const { fetch, maxBytes, timeoutMs } = ro as RelatedOriginsOptions;
  const copy: RelatedOriginsOptions = Object.freeze({ fetch, maxBytes, timeoutMs });
  new RelatedOriginsChecker(copy); // throws TypeError on a bad fetch/maxBytes/timeoutMs
  return copy;
}

/** How often a pending request checks that its frame is still attached (Electron has no event for a removed iframe). */
export const FRAME_CHECK_INTERVAL_MS = 1000;

/** A frame's identity: its renderer process id and routing id. */
interface FrameId {
  readonly processId: number | undefined;
  readonly routingId: number | undefined;
}

function frameIdOf(event: IpcInvokeEventLike, frame: SenderFrameLike | null): FrameId {
  return {
    processId: typeof event.processId === 'number' ? event.processId : frame?.processId,
    routingId: typeof event.frameId === 'number' ? event.frameId : frame?.routingId,
  };
}

function pendingKey(sender: WebContentsLike, id: FrameId): string {
  return `${sender.id}:${id.processId ?? '?'}:${id.routingId ?? '?'}`;
}

/** `f` is the requesting frame or one of its ancestors (navigating it unloads the requesting document). */
function isSelfOrAncestor(requesting: SenderFrameLike | null, id: FrameId, f: unknown): boolean {
  if (f === null || typeof f !== 'object') return false;
  const o = f as { processId?: unknown; routingId?: unknown };
  const sameIds = (x: SenderFrameLike): boolean => typeof o.processId === 'number' && x.processId === o.processId && x.routingId === o.routingId;
  if (typeof o.processId === 'number' && o.processId === id.processId && o.routingId === id.routingId) return true;
  for (let x = requesting, depth = 0; x && depth < 64; x = x.parent ?? null, depth++) {
    if (x === f || sameIds(x)) return true;
  }
  return false;
}

/**
 * 'did-start-navigation': a cross-document navigation of the main frame (every
 * frame's document goes), or of the requesting frame or one of its ancestors,
 * is starting: the document that asked is leaving (as a browser aborts a
 * ceremony when its document goes away). Electron passes `(details, url,
 * isInPlace, isMainFrame, frameProcessId, frameRoutingId)`; details carries
 * `{ isSameDocument, isMainFrame, frame }` in Electron ≥ 25.
 */
function startLeaves(args: readonly unknown[], requesting: SenderFrameLike | null, id: FrameId): boolean {
  const d = args[0] as { isMainFrame?: unknown; isSameDocument?: unknown; frame?: unknown } | undefined;
  const isMainFrame = typeof d?.isMainFrame === 'boolean' ? d.isMainFrame : args[3] === true;
  const sameDocument = typeof d?.isSameDocument === 'boolean' ? d.isSameDocument : args[2] === true;
  if (sameDocument) return false;
  if (isMainFrame) return true;
  if (d?.frame !== undefined && d.frame !== null) return isSelfOrAncestor(requesting, id, d.frame);
  return isSelfOrAncestor(requesting, id, { processId: args[4], routingId: args[5] });
}

/**
 * 'did-frame-navigate' (a committed cross-document navigation; in-page ones do
 * not fire it): `(event, url, httpResponseCode, httpStatusText, isMainFrame,
 * frameProcessId, frameRoutingId)`.
 */
function commitLeaves(args: readonly unknown[], requesting: SenderFrameLike | null, id: FrameId): boolean {
  if (args[4] === true) return true;
  return isSelfOrAncestor(requesting, id, { processId: args[5], routingId: args[6] });
}

function frameGone(frame: SenderFrameLike | null): boolean {
  if (!frame) return false;
  try {
    return frame.detached === true || frame.isDestroyed?.() === true;
  } catch {
    return true;
  }
}

function isDeviceChooser<W>(v: unknown): v is (req: BridgeRequest<W>) => string | DeviceInput {
  // A DeviceProvider/HidPort/transport is an object; only a chooser is a bare function.
  return typeof v === 'function';
}

function isInteractionFactory<W, I>(v: unknown): v is (req: BridgeRequest<W>) => I {
  return typeof v === 'function';
}

/**
 * Register the `create`, `get` and `cancel` handlers on `ipcMain`. Returns a
 * disposer that removes them and aborts every request still pending.
 */
export function registerMainHandlers<E extends IpcInvokeEventLike, I = Interaction>(options: MainHandlersOptions<E, I>): () => void {
  const { ipcMain } = options;
  if (!ipcMain || typeof ipcMain.handle !== 'function' || typeof ipcMain.removeHandler !== 'function') {
    throw new TypeError('registerMainHandlers needs { ipcMain } (Electron\'s ipcMain)');
  }
  const channels = channelsFor(options.channelPrefix);
  const allowOrigins = checkAllowOrigins(options.allowOrigins);
  const maxBytes = options.maxPayloadBytes ?? PAYLOAD_LIMITS.maxBytes;
  if (!(Number.isInteger(maxBytes) && maxBytes > 0)) throw new RangeError('maxPayloadBytes must be a positive integer');
  const relatedOrigins = checkRelatedOrigins(options.relatedOrigins);
  const defaults = options.createClient ? undefined : new DefaultClients({ allowWebAuthnDllOverride: options.allowWebAuthnDllOverride === true });
  if (defaults && typeof options.device === 'string') defaults.provider(options.device); // a malformed spec fails here
  const createClient: ClientFactory<I> = options.createClient ?? ((init) => defaults!.create(init as ClientInit<Interaction>));
  const pending = new Map<string, Pending>();
  const originOpts = { allowCrossOriginFrames: options.allowCrossOriginFrames === true };
  const queue = new KeyQueue();
  let disposed = false;

  const ceremony = async (kind: 'create' | 'get', event: E, payload: unknown): Promise<BridgeReply<unknown>> => {
    try {
      if (disposed) throw webAuthnError('NotAllowedError', 'The security-key bridge has been shut down');
      const sender = event.sender;
      if (!sender || sender.isDestroyed()) throw webAuthnError('AbortError', 'The window that asked is closed');
      // Read the frame once, synchronously: Electron's getter returns null after navigation.
      let frame: SenderFrameLike | null;
      try {
        frame = event.senderFrame;
      } catch {
        frame = null;
      }
      const origin = decideOrigin(frame, allowOrigins, originOpts);
      if (typeof origin !== 'string') throw origin;
      const json = checkOptionsPayload(payload, maxBytes);
      const id = frameIdOf(event, frame);
      const key = pendingKey(sender, id);
      if (pending.has(key)) {
        throw webAuthnError(
          'InvalidStateError',
          'A security-key request is already pending in this frame; wait for it or call cancel() first',
        );
      }
      const controller = new AbortController();
      const entry: Pending = { controller };
      pending.set(key, entry);
      const abort = (why: string): void => {
        if (!controller.signal.aborted) controller.abort(new AbortedError(why));
      };
      const onDestroyed = (): void => abort('The window was closed');
      const onGone = (): void => abort('The page\'s renderer process went away');
      const onStart = (...args: unknown[]): void => {
        if (startLeaves(args, frame, id)) abort('The page that asked navigated away');
      };
      const onCommit = (...args: unknown[]): void => {
        if (commitLeaves(args, frame, id)) abort('The page that asked navigated away');
      };
      sender.on('destroyed', onDestroyed);
      sender.on('render-process-gone', onGone);
      sender.on('did-start-navigation', onStart);
      sender.on('did-frame-navigate', onCommit);
      const frameCheck = setInterval(() => {
        if (frameGone(frame)) abort('The frame that asked was removed');
      }, FRAME_CHECK_INTERVAL_MS);
      frameCheck.unref?.();
      let release: (() => void) | undefined;
      try {
        release = await queue.acquire(controller.signal);
        const req: BridgeRequest<E['sender']> = { kind, origin, webContents: sender, signal: controller.signal };
        const interaction = isInteractionFactory<E['sender'], I>(options.interaction) ? options.interaction(req) : options.interaction;
        const device = isDeviceChooser<E['sender']>(options.device) ? options.device(req) : options.device;
        const windowHandle = options.windowHandle?.(req);
        const client: BridgeClient = createClient({ origin, device, interaction, verifyRpId: options.verifyRpId, relatedOrigins, windowHandle });
        controller.signal.throwIfAborted();
        let credential;
        try {
          credential = await client[kind](json, { signal: controller.signal });
        } catch (e) {
          // Whatever the client threw after a cancel/close/navigation, the page is told AbortError.
          if (controller.signal.aborted) throw controller.signal.reason;
          throw e;
        }
        if (controller.signal.aborted) throw new AbortedError(undefined, { cause: controller.signal.reason });
        // Plain JSON only crosses IPC (a credential's toJSON() may hold non-cloneable getters otherwise).
        return { ok: true, value: JSON.parse(JSON.stringify(credential.toJSON())) as unknown };
      } finally {
        release?.();
        clearInterval(frameCheck);
        if (pending.get(key) === entry) pending.delete(key);
        sender.removeListener('destroyed', onDestroyed);
        sender.removeListener('render-process-gone', onGone);
        sender.removeListener('did-start-navigation', onStart);
        sender.removeListener('did-frame-navigate', onCommit);
      }
    } catch (e) {
      return { ok: false, error: errorJSON(e) };
    }
  };

  ipcMain.handle(channels.create, (event: E, payload: unknown) => ceremony('create', event, payload));
  ipcMain.handle(channels.get, (event: E, payload: unknown) => ceremony('get', event, payload));
  ipcMain.handle(channels.cancel, (event: E): BridgeReply<boolean> => {
    // The same frame and origin checks as create/get: only the frame that asked can cancel, and only if it could have asked.
    const sender = event.sender;
    if (!sender || sender.isDestroyed()) return { ok: true, value: false };
    let frame: SenderFrameLike | null;
    try {
      frame = event.senderFrame;
    } catch {
      frame = null;
    }
    if (!frame) return { ok: true, value: false };
    const origin = decideOrigin(frame, allowOrigins, originOpts);
    if (typeof origin !== 'string') return { ok: false, error: errorJSON(origin) };
    const entry = pending.get(pendingKey(sender, frameIdOf(event, frame)));
    if (!entry) return { ok: true, value: false };
    entry.controller.abort(new AbortedError('The page cancelled the request'));
    return { ok: true, value: true };
  });

  return () => {
    if (disposed) return;
    disposed = true;
    ipcMain.removeHandler(channels.create);
    ipcMain.removeHandler(channels.get);
    ipcMain.removeHandler(channels.cancel);
    for (const entry of pending.values()) entry.controller.abort(new AbortedError('The security-key bridge was shut down'));
    // Close what the bridge opened once the aborted ceremonies have let go of the key.
    if (defaults) void queue.idle().then(() => defaults.close());
  };
}
