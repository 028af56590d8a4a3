/**
 * `ctap-bridge/virtual`: a software CTAP 2.1 security key (U2F_V2, FIDO_2_0,
 * FIDO_2_1) for tests and development, in-process or over UDP.
 *
 *   const key = await VirtualAuthenticator.create({ statePath: 'key.json', pin: '1234' });
 *   const channel = await CtapHidChannel.open(key.port());     // in-process, real CTAPHID framing
 *   const server = await serveVirtualUdp(key, { port: 8111 }); // or: --device udp:127.0.0.1:8111
 *
 * Options (VirtualAuthenticatorOptions): aaguid, pin (fresh keys only),
 * presence ('auto' | 'deny' | { delayMs } | async callback), uv ('none' |
 * 'auto' | 'deny'), capacity (discoverable slots, default 100), statePath
 * (JSON state, atomic 0600 writes; a corrupt file throws VirtualStateError),
 * u2fOnly, versions, maxMsgSize, algorithms ([-7, -8]), pinUvAuthProtocols
 * ([2, 1]), features (turn credMgmt, largeBlobs, config, extensions... off),
 * attestation ('batch' | 'self'), resetWindowMs (10000), now, faults.
 * Test hooks: powerCycle(), replug(), port(), close(), the `faults` setter.
 */
export { VirtualAuthenticator, type U2fHandler, type VirtualCredentialInfo } from './authenticator.js';
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
export { FaultPlan, FaultSpecError, parseFaultSpec, parseFaultSpecs, FAULT_KINDS, type FaultKind, type FaultRule, type FaultRecord, type FaultCommandFilter } from './faults.js';
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
