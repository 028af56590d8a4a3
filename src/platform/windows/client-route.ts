/**
 * The route a WebAuthnClient takes for a RouteChoice: nothing (its own CTAP
 * stack over `device`), webauthn.dll, or — elevated Windows — `device` first
 * with webauthn.dll when the key cannot be opened over HID. The client
 * (src/webauthn/) only knows the CeremonyRoute shape; this builds it.
 */
import { HidError } from '../../hid/errors.js';
import type { CeremonyRoute } from '../../webauthn/route.js';
import { webAuthnDllRoute, type WebAuthnDllRoute } from './adapter.js';
import type { WebAuthnDllCallOptions } from './client.js';
import { withoutWebAuthnDllOverride, type RouteChoice } from './route.js';
import { OPEN_FAILURES } from './select.js';

export type WebAuthnDllDefaults = Pick<WebAuthnDllCallOptions, 'windowHandle' | 'env' | 'library'> & {
  /**
   * Honour CTAP_BRIDGE_WEBAUTHN_DLL (default true, with a warning on stderr).
   * false: the variable is dropped from the environment the route reads, so
   * the system's webauthn.dll is loaded whatever it says (the Electron bridge
   * unless the app sets allowWebAuthnDllOverride).
   */
  allowDllOverride?: boolean | undefined;
};

/** True for HID errors that mean "could not open the key" (the elevated-Windows fallback condition, as withRoute()). */
export function isHidOpenFailure(e: unknown): boolean {
  return e instanceof HidError && OPEN_FAILURES.has(e.code);
}

/** `route` for WebAuthnClientOptions, given the choice selectRoute() made. */
export function ceremonyRouteFor(choice: RouteChoice, defaults: WebAuthnDllDefaults = {}): (CeremonyRoute & WebAuthnDllRoute) | undefined {
  if (choice.transport !== 'webauthn-dll' && choice.fallback !== 'webauthn-dll') return undefined;
  const { allowDllOverride, ...rest } = defaults;
  const callDefaults = allowDllOverride === false ? { ...rest, env: withoutWebAuthnDllOverride(rest.env ?? process.env) } : rest;
  if (choice.transport === 'webauthn-dll') return webAuthnDllRoute(callDefaults);
  return { ...webAuthnDllRoute(callDefaults), fallbackFor: isHidOpenFailure };
}
