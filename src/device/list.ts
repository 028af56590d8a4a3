/**
 * listDevices(): the FIDO keys node-hid can see (usage page 0xF1D0, usage
 * 0x01). No key is not an error: it resolves to []. When node-hid cannot load
 * (its native library is missing), it rejects with the HidError
 * BACKEND_UNAVAILABLE whose hint names the package to install.
 */
import type { HidDeviceInfo } from '../hid/port.js';

export async function listDevices(): Promise<HidDeviceInfo[]> {
  // TEMPORARY until src/hid/node-hid.ts lands (then a static import).
  const spec = '../hid/node-hid.js';
  const m = (await import(spec)) as { listHidDevices(): Promise<HidDeviceInfo[]> };
  return m.listHidDevices();
}
