/**
 * The seam between the IPC handlers and the WebAuthn client: the handlers
 * only need "create/get these JSON options for this origin, cancellable, and
 * give me something with toJSON()". The default is the real WebAuthnClient;
 * tests and apps with special needs pass their own factory.
 */
import type { DeviceInput } from '../webauthn/device-handle.js';
import type { RelatedOriginsOptions } from '../webauthn/related-origins.js';
import type { JsonObject } from './protocol.js';

/** What create()/get() resolve to: a PublicKeyCredential-shaped object. */
export interface BridgeCredential {
  toJSON(): unknown;
}

export interface BridgeCallOptions {
  signal: AbortSignal;
}

export interface BridgeClient {
  create(options: JsonObject, opts: BridgeCallOptions): Promise<BridgeCredential>;
  get(options: JsonObject, opts: BridgeCallOptions): Promise<BridgeCredential>;
}

/** An app-supplied check for an RP ID the usual origin rule would refuse (related origins, custom schemes). */
export type VerifyRpIdHook = (rpId: string, origin: string) => boolean | Promise<boolean>;

export interface ClientInit<I> {
  /** Decided by the main process from the sender frame. */
  origin: string;
  /**
   * A device spec (`auto`, a HID path, `udp:HOST:PORT`, `virtual[:FILE]`), or
   * an open key (HidPort, CtapTransport, Ctap2Session, DeviceProvider).
   */
  device?: string | DeviceInput | undefined;
  interaction?: I | undefined;
  verifyRpId?: VerifyRpIdHook | undefined;
  /**
   * The app's related-origins setting (WebAuthn L3 related origin requests,
   * `https://{rpId}/.well-known/webauthn`), the same for every request; never
   * from the renderer. Only widens which RP IDs `origin` may claim.
   */
  relatedOrigins?: boolean | RelatedOriginsOptions | undefined;
  /** The requesting window's native handle (webauthn.dll parents its dialog on it). */
  windowHandle?: NativeWindowHandle | null | undefined;
}

/** Electron's `BrowserWindow.getNativeWindowHandle()` (a Buffer holding the HWND), or the HWND as a number. */
export type NativeWindowHandle = Uint8Array | bigint | number;

export type ClientFactory<I> = (init: ClientInit<I>) => BridgeClient;
