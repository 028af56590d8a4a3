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

// device/: open/list/watch by device spec, diagnostics
export * from './device/index.js';
