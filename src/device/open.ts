/**
 * openDevice(spec): one call from a device spec (DESIGN.md "Device specs") to
 * an open device facade: the HID port, a CTAPHID channel (INIT done) and a
 * CTAP2 session over it (getInfo cached per device).
 *
 *   auto              the only key; several → touch-to-select; none → HidError NOT_FOUND
 *   <node-hid path>   as `ctap list` / listDevices() print it
 *   udp:HOST:PORT[?local=N]  a CTAPHID-over-UDP firmware simulator
 *   virtual           a fresh in-process VirtualAuthenticator
 *   virtual:FILE      an in-process VirtualAuthenticator with its state in FILE
 */
import { Ctap2Session } from '../ctap2/session.js';
import { CtapHidChannel } from '../ctaphid/channel.js';
import type { CtapHidInitInfo, CtapTransport } from '../ctaphid/transport.js';
import { HidError } from '../hid/errors.js';
import { openHidDevice } from '../hid/node-hid.js';
import { openUdpPort } from '../hid/udp.js';
import type { HidDeviceInfo, HidPort } from '../hid/port.js';
import { DEFAULT_TIMEOUT_MS, type CallOptions } from '../util/deadline.js';
import { listDevices } from './list.js';
import type { VirtualAuthenticatorOptions } from '../virtual/index.js';
import { tracePort, type TraceSink } from './trace.js';

export type DeviceSpec =
  | { kind: 'auto' }
  | { kind: 'path'; path: string }
  | { kind: 'udp'; spec: string }
  | { kind: 'virtual'; file?: string | undefined };

/** Classify a spec string (no I/O). Throws HidError INVALID_SPEC for an empty or malformed one. */
export function parseDeviceSpec(spec: string): DeviceSpec {
  if (typeof spec !== 'string' || spec.trim() === '') throw new HidError('INVALID_SPEC', 'the device spec is empty', { hint: 'Use auto, a path from `ctap list`, udp:HOST:PORT, virtual or virtual:FILE' });
  if (spec === 'auto') return { kind: 'auto' };
  if (spec === 'virtual') return { kind: 'virtual' };
  if (spec.startsWith('virtual:')) {
    const file = spec.slice('virtual:'.length);
    if (file === '') throw new HidError('INVALID_SPEC', 'virtual: needs a state file name (virtual:FILE)');
    return { kind: 'virtual', file };
  }
  if (spec.startsWith('udp:')) return { kind: 'udp', spec };
  return { kind: 'path', path: spec };
}

export interface OpenDeviceOptions extends CallOptions {
  /** Message trace (tracePort): one line per CTAPHID message, secrets redacted. */
  trace?: TraceSink | undefined;
  /** Called when several keys are present and the user must touch one. */
  onSelect?: (() => void) | undefined;
  /**
   * For `udp:HOST:PORT`: allow a HOST that is not a loopback address (the CLI's
   * `--allow-remote`). Off by default: a simulator is reached on this machine only.
   */
  allowRemote?: boolean | undefined;
  /** For `virtual` / `virtual:FILE`: options of the in-process VirtualAuthenticator. */
  virtual?: VirtualAuthenticatorOptions | undefined;
}

/** An open key: what upper layers and the CLI use. */
export interface OpenedDevice {
  readonly spec: string;
  readonly info: HidDeviceInfo;
  /** CTAPHID (or any CtapTransport): whole messages. */
  readonly channel: CtapTransport;
  /** CTAP2 commands over the channel; getInfo cached. */
  readonly session: Ctap2Session;
  /** CTAPHID_INIT data: protocol and device version, capabilities. */
  readonly init: CtapHidInitInfo;
  close(): Promise<void>;
}

class Device implements OpenedDevice {
  readonly spec: string;
  readonly channel: CtapTransport;
  readonly session: Ctap2Session;
  readonly #cleanup: (() => Promise<void>) | undefined;
  #closed = false;

  constructor(spec: string, channel: CtapTransport, session?: Ctap2Session, cleanup?: () => Promise<void>) {
    this.spec = spec;
    this.channel = channel;
    this.session = session ?? new Ctap2Session(channel);
    this.#cleanup = cleanup;
  }

  get info(): HidDeviceInfo {
    return this.channel.info;
  }

  get init(): CtapHidInitInfo {
    return this.channel.init;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    try {
      await this.channel.close();
    } finally {
      await this.#cleanup?.();
    }
  }
}

async function openPort(spec: string, parsed: DeviceSpec, opts: OpenDeviceOptions): Promise<{ port: HidPort; cleanup?: () => Promise<void> } | { selected: OpenedDevice }> {
  switch (parsed.kind) {
    case 'path':
      return { port: await openHidDevice(parsed.path) };
    case 'udp':
      return { port: await openUdpPort(parsed.spec, { allowRemote: opts.allowRemote === true }) };
    case 'virtual': {
      // Loaded on demand: programs that never use the virtual key do not load it.
      const { VirtualAuthenticator } = await import('../virtual/index.js');
      const key = await VirtualAuthenticator.create({ ...(opts.virtual ?? {}), ...(parsed.file ? { stateFile: parsed.file } : {}) });
      return { port: key.port(), cleanup: async () => key.close() };
    }
    case 'auto': {
      const found = await listDevices();
      if (found.length === 0) {
        throw new HidError('NOT_FOUND', 'No security key found', {
          hint: 'Plug one in (a key that is plugged in but not listed usually means a permissions problem: run `ctap doctor`), or use --device virtual',
        });
      }
      if (found.length === 1) return { port: await openHidDevice(found[0]!.path) };
      return { selected: await touchToSelect(opts) };
    }
    default:
      throw new HidError('INVALID_SPEC', `unknown device spec ${JSON.stringify(spec)}`);
  }
}

/**
 * Several keys: all blink, the first touched is used, the rest get CANCEL
 * (device/select.ts, loaded only here: it imports this module).
 */
async function touchToSelect(opts: OpenDeviceOptions): Promise<OpenedDevice> {
  const { hidDeviceSource, selectDevice } = await import('./select.js');
  const signal = opts.signal ?? new AbortController().signal;
  const { handle, key } = await selectDevice(hidDeviceSource(), {
    signal,
    timeoutMs: opts.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    interaction: { 'select-device': () => opts.onSelect?.() },
  });
  return new Device('auto', handle.transport, handle.session, async () => {
    await key.close();
  });
}

/**
 * Open the device named by `spec` (default `auto`). Rejects with HidError
 * (NOT_FOUND, PERMISSION_DENIED with the fix, BACKEND_UNAVAILABLE naming the
 * missing library, INVALID_SPEC), TimeoutError when CTAPHID_INIT gets no
 * answer, CtapHidError INIT_FAILED when the answer is malformed.
 */
export async function openDevice(spec = 'auto', opts: OpenDeviceOptions = {}): Promise<OpenedDevice> {
  const parsed = parseDeviceSpec(spec);
  const opened = await openPort(spec, parsed, opts);
  if ('selected' in opened) return opened.selected;
  const { port: raw, cleanup } = opened;
  const port = opts.trace ? tracePort(raw, opts.trace) : raw;
  try {
    const channel = await CtapHidChannel.open(port, { signal: opts.signal, timeoutMs: opts.timeoutMs });
    return new Device(spec, channel, undefined, cleanup);
  } catch (e) {
    await raw.close().catch(() => undefined);
    await cleanup?.().catch(() => undefined);
    throw e;
  }
}
