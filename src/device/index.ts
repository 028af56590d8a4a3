/** The device layer: open a key from a spec, list and watch keys, diagnostics, frame traces. */
export { openDevice, parseDeviceSpec, type DeviceSpec, type OpenDeviceOptions, type OpenedDevice } from './open.js';
export { listDevices, watchDevices, type DeviceEvent } from './list.js';
export { tracePort, type TraceSink } from './trace.js';
export { accessChecks, backendCheck, getInfoConformance, platformChecks, udevCheck, type Check, type CheckStatus } from './diagnostics.js';
export * from './interaction.js';
export { TouchToSelect, hidDeviceSource, selectDevice, waitForTouchOn, type DeviceSource, type OpenedKey } from './select.js';
