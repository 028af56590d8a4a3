/**
 * ctap-bridge: FIDO2 / U2F security keys from Node.js the way a browser uses
 * them. The public API of every layer, bottom to top. The virtual key is the
 * `ctap-bridge/virtual` subpath; the Electron bridge is
 * `ctap-bridge/electron/main` and `ctap-bridge/electron/preload`.
 */
export { CtapBridgeError, AbortedError, TimeoutError } from './util/errors.js';
export { DEFAULT_TIMEOUT_MS, type CallOptions } from './util/deadline.js';

// hid/: ports, enumeration, hot-plug
export * from './hid/index.js';

// ctaphid/: framing and the channel
export * from './ctaphid/index.js';

// cbor/: the strict canonical codec
export * from './cbor/index.js';

// ctap2/: every command family, PIN/UV auth protocols, extensions, decoders
export * from './ctap2/index.js';
// both layers name a command; `commandName` is the CTAP2 one
export { commandName } from './ctap2/session.js';
export { commandName as ctaphidCommandName } from './ctaphid/decode.js';

// ctap1/: U2F over CTAPHID_MSG
export * from './ctap1/index.js';

// webauthn/: navigator.credentials.create/get for Node, L3 JSON, errors named as browsers name them
export { WebAuthnClient, type WebAuthnClientOptions, type CreationOptionsInput, type RequestOptionsInput } from './webauthn/client.js';
export { WebAuthnError, toWebAuthnError, webAuthnError, WEBAUTHN_ERROR_NAMES, type WebAuthnErrorName } from './webauthn/errors.js';
export {
  AuthenticatorAssertionResponse,
  AuthenticatorAttestationResponse,
  AuthenticationCredential,
  RegistrationCredential,
  type AuthenticationResponseJSON,
  type AuthenticatorTransport,
  type ClientExtensionResults,
  type RegistrationResponseJSON,
} from './webauthn/credential.js';
export type {
  PublicKeyCredentialCreationOptionsJSON,
  PublicKeyCredentialDescriptorJSON,
  PublicKeyCredentialRequestOptionsJSON,
} from './webauthn/options-json.js';
export type {
  AttestationConveyance,
  AuthenticationExtensionsClientInputs,
  AuthenticatorSelectionCriteria,
  BufferSource,
  CredentialProtectionPolicy,
  PublicKeyCredentialCreationOptions,
  PublicKeyCredentialDescriptor,
  PublicKeyCredentialRequestOptions,
  ResidentKeyRequirement,
  UserVerificationRequirement,
} from './webauthn/options.js';
export { base64urlDecode, base64urlEncode } from './webauthn/base64url.js';
export type { DeviceInput, DeviceProvider, AuthenticatorHandle } from './webauthn/device-handle.js';
export type { CeremonyRoute, RouteCeremonySettings } from './webauthn/route.js';

// device/: open/list/watch by device spec, interaction helpers, diagnostics
export * from './device/index.js';

// platform/windows/: webauthn.dll for processes without Administrator on Windows 10 1903+
export {
  selectRoute,
  withRoute,
  routeChecks,
  diagnoseRoute,
  probeWebAuthnDll,
  describeRoute,
  chooseTransport,
  unsupportedOnWebAuthnDll,
  webAuthnDllRoute,
  ceremonyRouteFor,
  isUserVerifyingPlatformAuthenticatorAvailable,
  webAuthnDllApiVersion,
  WebAuthnDllError,
  type RouteChoice,
  type RouteCheck,
  type RouteDescription,
  type Transport,
  type UnsupportedOperation,
  type WebAuthnDllCallOptions,
  type WebAuthnDllDefaults,
  type WebAuthnDllProbe,
  type WebAuthnDllRoute,
} from './platform/windows/index.js';
export { createWebAuthnClient, type CreateWebAuthnClientOptions } from './client-factory.js';
