/** `ctap-bridge/virtual`: a software CTAP 2.1 security key, in-process or over UDP. */
export { VirtualAuthenticator, type U2fHandler } from './authenticator.js';
export {
  CommandContext,
  type CommandHandler,
  type PresenceMode,
  type PresenceRequest,
  type UvMode,
  type VirtualAuthenticatorOptions,
  type VirtualFeatures,
} from './core.js';
export { CtapHidDevice, type CtapHidApplication, type CommandTransportContext, type CtapHidDeviceOptions, type PacketSink } from './ctaphid-device.js';
export type { FaultInjector, FaultTransaction, FaultTransactionAction, FaultDeviceControl, FaultOutgoingContext } from './fault-types.js';
export { VirtualHidPort } from './port.js';
export { VirtualStateError, type VirtualStateErrorCode, type StateFileHooks } from './state.js';
export { serveVirtualUdp, type VirtualUdpServer, type VirtualUdpServerOptions } from './udp-server.js';
export {
  createVirtualFromCliOptions,
  serveVirtualFromCliOptions,
  virtualOptionsFromCli,
  parseListenAddress,
  parsePresence,
  parseUv,
  VirtualOptionError,
  type VirtualCliOptions,
} from './cli-options.js';
