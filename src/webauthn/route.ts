/**
 * Another way to the key than the client's own CTAP stack: the client builds
 * clientDataJSON and checks origin and RP ID, then hands the normalised
 * options to the route, which returns the same credential objects. The
 * webauthn.dll binding (src/platform/windows/, `webAuthnDllRoute()`) is one;
 * it sits beside device/, so this layer only declares the shape it needs.
 */
import type { CallOptions } from '../util/deadline.js';
import type { AuthenticationCredential, RegistrationCredential } from './credential.js';
import type { CreationParams, RequestParams } from './options.js';

/** What the client resolved and built for the ceremony. */
export interface RouteCeremonySettings {
  /** The RP ID the client resolved from the origin. */
  rpId: string;
  /** The full clientDataJSON (the route hashes it, or lets the platform hash it). */
  clientDataJSON: Uint8Array;
  /** RP IDs approved for enterprise attestation (create only). */
  enterpriseAttestationRpIds?: readonly string[] | undefined;
}

export interface CeremonyRoute {
  /** A name for diagnostics, e.g. "webauthn-dll". */
  readonly transport: string;
  create(p: CreationParams, s: RouteCeremonySettings, call?: CallOptions): Promise<RegistrationCredential>;
  get(p: RequestParams, s: RouteCeremonySettings, call?: CallOptions): Promise<AuthenticationCredential>;
  /**
   * When present, the client uses its `device` first and takes this route
   * only when acquiring the device fails with an error this accepts (elevated
   * Windows: raw HID first, webauthn.dll when the key cannot be opened).
   * Errors after the key was opened never switch routes.
   */
  fallbackFor?(error: unknown): boolean;
}
