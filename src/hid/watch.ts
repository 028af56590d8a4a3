/**
 * Hot-plug watching by polling enumeration: node-hid has no device events.
 * Emits `added` for each key present at the start (unless `initial: false`)
 * and for each that appears, `removed` for each that disappears, keyed by path.
 */
import type { HidDeviceInfo } from './port.js';

export type HidDeviceEvent = { type: 'added'; device: HidDeviceInfo } | { type: 'removed'; device: HidDeviceInfo };

export interface WatchHidOptions {
  /** Time between two enumerations (default 500 ms, at least 50). */
  intervalMs?: number | undefined;
  /** Stops watching; the returned promise then resolves and no timer is left running. */
  signal?: AbortSignal | undefined;
  /** Report the keys present at the start as `added` (default true). */
  initial?: boolean | undefined;
  /** Enumeration to poll (default: node-hid's listHidDevices, loaded on first use). */
  list?: (() => Promise<HidDeviceInfo[]>) | undefined;
}

/**
 * Watch until `signal` fires. Resolves then; rejects when enumeration fails
 * (e.g. HidError BACKEND_UNAVAILABLE) or `onEvent` throws, after stopping.
 */
export async function watchHidDevices(opts: WatchHidOptions, onEvent: (event: HidDeviceEvent) => void): Promise<void> {
  const interval = Math.max(50, opts.intervalMs ?? 500);
  const signal = opts.signal;
  const list = opts.list ?? (await import('./node-hid.js')).listHidDevices;
  let known = new Map<string, HidDeviceInfo>();
  let first = true;
  while (!signal?.aborted) {
    const now = new Map<string, HidDeviceInfo>();
    for (const d of await list()) now.set(d.path, d);
    if (signal?.aborted) break;
    if (!first || opts.initial !== false) {
      for (const [path, d] of known) if (!now.has(path)) onEvent({ type: 'removed', device: d });
      for (const [path, d] of now) if (!known.has(path)) onEvent({ type: 'added', device: d });
    }
    first = false;
    known = now;
    await pause(interval, signal);
  }
}

/** Wait `ms`, or less if `signal` fires; never leaves a timer behind. */
function pause(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const done = (): void => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}
