/** The webauthn.dll route (Windows 10 1903+ without Administrator). */
export { createViaWebAuthnDll, getViaWebAuthnDll, isUserVerifyingPlatformAuthenticatorAvailable, webAuthnDllApiVersion, resolveWindowHandle, DEFAULT_CEREMONY_TIMEOUT_MS, FAKE_WINDOW_HANDLE, type WebAuthnDllCallOptions } from './client.js';
export { chooseTransport, describeRoute, detectRouteFacts, isElevated, parseTransport, unsupportedOnWebAuthnDll, webAuthnDllPath, windowsBuild, TRANSPORTS, type RouteChoice, type RouteDescription, type RouteFacts, type Transport, type UnsupportedOperation } from './route.js';
export { WebAuthnDllError, errorFromHresult } from './errors.js';
export { structVersionsFor, supports, FEATURE_MIN_API, WEBAUTHN_API_MAX_KNOWN, type StructVersions } from './api-versions.js';
export type * from './types.js';
export { runCreateViaWebAuthnDll, runGetViaWebAuthnDll, creationOptionsForDll, requestOptionsForDll, registrationFromDll, authenticationFromDll, webAuthnDllRoute, type DllCeremonySettings, type WebAuthnDllRoute } from './adapter.js';
export { selectRoute, withRoute, probeWebAuthnDll, diagnoseRoute, routeChecks, type RouteCheck, type WebAuthnDllProbe } from './select.js';
export { ceremonyRouteFor, isHidOpenFailure, type WebAuthnDllDefaults } from './client-route.js';
