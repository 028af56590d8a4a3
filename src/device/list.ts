/**
 * listDevices(): the FIDO keys node-hid can see (usage page 0xF1D0, usage
 * 0x01). No key is not an error: it resolves to []. When node-hid cannot load
 * (its native library is missing), it rejects with the HidError
 * BACKEND_UNAVAILABLE whose hint names the package to install.
 */
import { listHidDevices } from '../hid/node-hid.js';
import { watchHidDevices } from '../hid/watch.js';
import type { HidDeviceInfo } from '../hid/port.js';

export async function listDevices(): Promise<HidDeviceInfo[]> {
  return listHidDevices();
}

export type { HidDeviceEvent as DeviceEvent } from '../hid/watch.js';

/**
 * Hot-plug events (`added` / `removed`, keyed by path) until `signal` fires.
 * node-hid has no device events, so this polls enumeration (default every 500 ms).
 */
export async function watchDevices(
  onEvent: (event: import('../hid/watch.js').HidDeviceEvent) => void,
  opts: { signal?: AbortSignal | undefined; intervalMs?: number | undefined; initial?: boolean | undefined } = {},
): Promise<void> {
  return watchHidDevices({ signal: opts.signal, intervalMs: opts.intervalMs, initial: opts.initial, list: listHidDevices }, onEvent);
}
