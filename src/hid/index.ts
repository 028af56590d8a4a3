export { HidError, type HidErrorCode } from './errors.js';
export type { HidDeviceInfo, HidPort, HidPortProvider, HidTransportKind } from './port.js';
export {
  backendUnavailable,
  createNodeHidBackend,
  FIDO_REPORT_SIZE,
  FIDO_USAGE_CTAPHID,
  FIDO_USAGE_PAGE,
  isLoadFailure,
  listHidDevices,
  openHidDevice,
  permissionHint,
  UDEV_RULES_PATH,
  type NodeHidAsyncHandle,
  type NodeHidBackend,
  type NodeHidDevice,
  type NodeHidModule,
} from './node-hid.js';
export { isLoopbackAddress, openUdpPort, parseUdpSpec, UDP_CONVENTIONAL_SIMULATOR_PORT, UDP_DEFAULT_LOCAL_PORT, type UdpPortOptions, type UdpSpec } from './udp.js';
export { watchHidDevices, type HidDeviceEvent, type WatchHidOptions } from './watch.js';
