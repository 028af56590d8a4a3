/**
 * listDevices(): the FIDO keys node-hid can see (usage page 0xF1D0, usage
 * 0x01). No key is not an error: it resolves to []. When node-hid cannot load
 * (its native library is missing), it rejects with the HidError
 * BACKEND_UNAVAILABLE whose hint names the package to install.
 */
import { listHidDevices } from '../hid/node-hid.js';
import type { HidDeviceInfo } from '../hid/port.js';

export async function listDevices(): Promise<HidDeviceInfo[]> {
  return listHidDevices();
}
