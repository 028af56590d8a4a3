/**
 * Several keys at once (as browsers do it): every key blinks and waits for a
 * touch, the first one touched is used, the others get CANCEL. A key plugged
 * in while waiting joins the race; one pulled out is reported (`removed`).
 *
 * How a key is asked for a touch without using a credential:
 * - CTAP 2.1: authenticatorSelection;
 * - CTAP 2.0: a makeCredential with a zero-length pinUvAuthParam (the key
 *   waits for a touch, then answers PIN_NOT_SET or PIN_INVALID);
 * - U2F only: a REGISTER with a throw-away application parameter (the touch
 *   is what ends its CONDITIONS_NOT_SATISFIED polling; the key pair is never used).
 *
 * The key source is abstract (list / open / watch) so tests race several
 * virtual keys; `hidDeviceSource()` is the real one over node-hid.
 */
import { selection, waitForTouchByMakeCredential } from '../ctap2/selection.js';
import { isCtap21 } from '../ctap2/get-info.js';
import { CTAP2_STATUS, CtapError } from '../ctap2/status.js';
import { Ctap1Session } from '../ctap1/session.js';
import { sha256 } from '../crypto/hashes.js';
import type { CtapTransport, TransactOptions } from '../ctaphid/transport.js';
import type { HidDeviceInfo } from '../hid/port.js';
import type { HidDeviceEvent } from '../hid/watch.js';
import { utf8Encode } from '../util/bytes.js';
import type { CallOptions } from '../util/deadline.js';
import { AbortedError } from '../util/errors.js';
import { handleFor, type AcquireContext, type AuthenticatorHandle, type DeviceProvider } from '../webauthn/device-handle.js';
import { WebAuthnError } from '../webauthn/errors.js';
import { notify, type DeviceSummary } from '../webauthn/interaction.js';
import { listDevices, watchDevices } from './list.js';
import { openDevice } from './open.js';

export interface OpenedKey {
  transport: CtapTransport;
  close(): Promise<void>;
}

export interface DeviceSource {
  /** The keys present now. */
  list(): Promise<HidDeviceInfo[]>;
  /** Open one (CTAPHID channel ready). */
  open(device: HidDeviceInfo, opts: CallOptions): Promise<OpenedKey>;
  /** Report keys added / removed until `signal` fires (optional: without it, no hot-plug). */
  watch?(onEvent: (event: HidDeviceEvent) => void, signal: AbortSignal): void;
}

/** The real keys, over node-hid (enumeration polled for hot-plug). */
export function hidDeviceSource(opts: { watchIntervalMs?: number } = {}): DeviceSource {
  return {
    list: () => listDevices(),
    async open(device, o) {
      const d = await openDevice(device.path, o);
      return { transport: d.channel, close: () => d.close() };
    },
    watch(onEvent, signal) {
      void watchDevices(onEvent, { signal, intervalMs: opts.watchIntervalMs, initial: false }).catch(() => undefined);
    },
  };
}

const summary = (d: HidDeviceInfo): DeviceSummary => ({ path: d.path, product: d.product, manufacturer: d.manufacturer });

/** Ask one key for a touch without using a credential; resolves when it is touched. */
export async function waitForTouchOn(handle: AuthenticatorHandle, opts: TransactOptions): Promise<void> {
  const { session, info } = handle;
  if (!session || !info) {
    await new Ctap1Session(handle.transport).register(new Uint8Array(32), sha256(utf8Encode('.dummy')), opts);
    return;
  }
  if (isCtap21(info)) {
    try {
      await selection(session, opts);
      return;
    } catch (e) {
      // A 2.1 key that still lacks the command: fall through to the 2.0 way.
      if (!(e instanceof CtapError) || e.status !== CTAP2_STATUS.CTAP1_ERR_INVALID_COMMAND) throw e;
    }
  }
  await waitForTouchByMakeCredential(session, opts);
}

interface Candidate {
  device: HidDeviceInfo;
  abort: AbortController;
  key?: OpenedKey;
}

/**
 * Choose the key for one ceremony. One key present: it is used at once (the
 * ceremony's own touch follows). None: wait for one to be plugged in. Several:
 * the first touched wins.
 */
export async function selectDevice(source: DeviceSource, ctx: AcquireContext): Promise<{ handle: AuthenticatorHandle; key: OpenedKey }> {
  const deadline = Date.now() + ctx.timeoutMs;
  const remaining = (): number => Math.max(1, deadline - Date.now());
  const present = await source.list();
  if (present.length === 1) {
    const key = await source.open(present[0]!, { signal: ctx.signal, timeoutMs: remaining() });
    try {
      return { handle: await handleFor(key.transport, undefined, { signal: ctx.signal, timeoutMs: remaining() }), key };
    } catch (e) {
      await key.close().catch(() => undefined);
      throw e;
    }
  }
  if (present.length === 0 && !source.watch) throw new WebAuthnError('NotAllowedError', 'No security key is connected.');
  notify(ctx.interaction, { type: 'select-device', devices: present.map(summary) }, ctx.signal);

  return new Promise((resolve, reject) => {
    const candidates = new Map<string, Candidate>();
    const watchStop = new AbortController();
    let settled = false;
    const waitForFirstPlugIn = present.length === 0;

    const finish = (winner: Candidate | undefined, result?: { handle: AuthenticatorHandle; key: OpenedKey }, error?: unknown): void => {
      if (settled) return;
      settled = true;
      watchStop.abort();
      ctx.signal.removeEventListener('abort', onAbort);
      for (const c of candidates.values()) {
        if (c === winner) continue;
        c.abort.abort(new Error('another key was chosen')); // the channel sends CANCEL
        void c.key?.close().catch(() => undefined);
      }
      if (result) resolve(result);
      else reject(error);
    };
    const onAbort = (): void => finish(undefined, undefined, new AbortedError(undefined, { cause: ctx.signal.reason }));
    ctx.signal.addEventListener('abort', onAbort, { once: true });

    const maybeAllFailed = (error: unknown): void => {
      if (!settled && candidates.size === 0 && !source.watch) finish(undefined, undefined, error);
    };

    const start = async (device: HidDeviceInfo, immediate: boolean): Promise<void> => {
      if (settled || candidates.has(device.path)) return;
      const c: Candidate = { device, abort: new AbortController() };
      candidates.set(device.path, c);
      const signal = AbortSignal.any([c.abort.signal, ctx.signal]);
      try {
        c.key = await source.open(device, { signal, timeoutMs: remaining() });
        if (settled) throw new AbortedError();
        const handle = await handleFor(c.key.transport, undefined, { signal, timeoutMs: remaining() });
        if (!immediate) await waitForTouchOn(handle, { signal, timeoutMs: remaining() });
        if (settled) throw new AbortedError();
        finish(c, { handle, key: c.key });
      } catch (e) {
        candidates.delete(device.path);
        await c.key?.close().catch(() => undefined);
        if (!settled) maybeAllFailed(e);
      }
    };

    for (const d of present) void start(d, false);
    source.watch?.((event) => {
      if (settled) return;
      if (event.type === 'added') void start(event.device, waitForFirstPlugIn && candidates.size === 0);
      else {
        const c = candidates.get(event.device.path);
        notify(ctx.interaction, { type: 'removed', device: summary(event.device) }, ctx.signal);
        if (c) {
          c.abort.abort(new Error('the key was removed'));
          candidates.delete(event.device.path);
        }
      }
    }, watchStop.signal);
  });
}

/** A DeviceProvider for WebAuthnClient: touch-to-select among the keys of `source` for each ceremony. */
export class TouchToSelect implements DeviceProvider {
  readonly source: DeviceSource;
  readonly #open = new Map<AuthenticatorHandle, OpenedKey>();

  constructor(source: DeviceSource = hidDeviceSource()) {
    this.source = source;
  }

  async acquire(ctx: AcquireContext): Promise<AuthenticatorHandle> {
    const { handle, key } = await selectDevice(this.source, ctx);
    this.#open.set(handle, key);
    return handle;
  }

  async release(handle: AuthenticatorHandle): Promise<void> {
    const key = this.#open.get(handle);
    this.#open.delete(handle);
    await key?.close();
  }

  async close(): Promise<void> {
    const keys = [...this.#open.values()];
    this.#open.clear();
    await Promise.all(keys.map((k) => k.close().catch(() => undefined)));
  }
}
