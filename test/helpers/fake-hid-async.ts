/**
 * A fake of node-hid v3's module and `HIDAsync`, with node-hid's observable
 * behaviour (node-hid 3.x, nodehid.js + src/HIDAsync.cc, hidapi 0.14 on Linux):
 * - `HIDAsync.open(path)` rejects with hidapi's message text (no `code`),
 *   e.g. "cannot open device with path /dev/hidraw0: Failed to open a device
 *   with path '/dev/hidraw0': Permission denied";
 * - `read(timeOut)` resolves a Buffer with one report, or an EMPTY Buffer when
 *   nothing arrived in time; `read()` without a timeout blocks;
 * - `write(number[] | Buffer)` expects the report-ID byte first and resolves
 *   the number of bytes written (report-ID byte included);
 * - on unplug a pending read rejects ("could not read data from device"), later
 *   reads/writes reject, and 'error' is emitted to listeners;
 * - after `close()` every call rejects with "device has been closed".
 * One stricter-than-real rule: two reads at once reject (node-hid would run two
 * hid_read_timeout calls on two threads; the adapter must never do that).
 */
import { EventEmitter } from 'node:events';
import type { NodeHidAsyncHandle, NodeHidDevice, NodeHidModule } from '../../src/hid/node-hid.js';

export class FakeHIDAsync extends EventEmitter implements NodeHidAsyncHandle {
  readonly path: string;
  /** Every write, exactly as the adapter passed it (converted to a Buffer). */
  readonly writes: Buffer[] = [];
  /** Called after each write; script device replies with `deliver`. */
  onWrite: ((data: Buffer) => void) | undefined;
  /** Reads return reports with a leading report-ID byte (65 bytes), as some backends do. */
  reportIdOnRead = false;
  /** Writes take this long (a key that stalls its OUT endpoint). */
  writeDelayMs = 0;
  readsStarted = 0;
  #queue: Buffer[] = [];
  #pending: { resolve: (b: Buffer) => void; reject: (e: Error) => void; timer: NodeJS.Timeout | undefined } | null = null;
  #unplugged = false;
  #closed = false;

  constructor(path: string) {
    super();
    this.path = path;
  }

  get closed(): boolean {
    return this.#closed;
  }

  get readPending(): boolean {
    return this.#pending !== null;
  }

  /** The device sends one 64-byte input report. */
  deliver(report: Uint8Array): void {
    const buf = this.reportIdOnRead ? Buffer.concat([Buffer.of(0), Buffer.from(report)]) : Buffer.from(report);
    const p = this.#pending;
    if (p) {
      this.#pending = null;
      clearTimeout(p.timer);
      p.resolve(buf);
    } else this.#queue.push(buf);
  }

  /** The key is pulled out. */
  unplug(): void {
    this.#unplugged = true;
    const p = this.#pending;
    this.#pending = null;
    if (p) {
      clearTimeout(p.timer);
      p.reject(new Error('could not read data from device: hid_read_timeout: unexpected poll error (device disconnected)'));
    }
    if (this.listenerCount('error') > 0) this.emit('error', new Error('could not read data from device'));
  }

  async read(timeOut?: number): Promise<Buffer | undefined> {
    if (this.#closed) throw new TypeError('device has been closed');
    if (timeOut !== undefined && typeof timeOut !== 'number') throw new TypeError('time out parameter must be a number');
    if (this.#unplugged) throw new Error('could not read data from device: No such device');
    if (this.#pending) throw new Error('FakeHIDAsync: a second read while one is in flight (node-hid would read from two threads)');
    this.readsStarted++;
    const queued = this.#queue.shift();
    if (queued) return queued;
    return new Promise<Buffer>((resolve, reject) => {
      const timer = timeOut === undefined ? undefined : setTimeout(() => {
        this.#pending = null;
        resolve(Buffer.alloc(0));
      }, timeOut);
      this.#pending = { resolve, reject, timer };
    });
  }

  async write(values: number[] | Buffer): Promise<number> {
    if (this.#closed) throw new TypeError('device has been closed');
    if (this.#unplugged) throw new Error('Cannot write to hid device: No such device');
    const data = Buffer.from(values);
    if (this.writeDelayMs) await new Promise((r) => setTimeout(r, this.writeDelayMs));
    this.writes.push(data);
    this.onWrite?.(data);
    return data.length;
  }

  async close(): Promise<void> {
    if (this.#closed) throw new TypeError('device is already closed');
    if (this.#pending) throw new Error('FakeHIDAsync: close() while a read is in flight');
    this.#closed = true;
    this.removeAllListeners();
  }
}

export interface FakeNodeHidOptions {
  devices?: NodeHidDevice[];
  /** Make open(path) fail with hidapi's message for this errno text (e.g. 'Permission denied'). */
  openFailure?: ((path: string) => string | undefined) | undefined;
  /** Make devicesAsync/open fail the way a missing native library does. */
  bindingError?: Error | undefined;
}

export interface FakeNodeHid {
  module: NodeHidModule;
  opened: FakeHIDAsync[];
  /** The options each open() was given. */
  openOptions: ({ nonExclusive?: boolean } | undefined)[];
  devices: NodeHidDevice[];
}

export function fakeNodeHid(options: FakeNodeHidOptions = {}): FakeNodeHid {
  const state: FakeNodeHid = { module: undefined as unknown as NodeHidModule, opened: [], openOptions: [], devices: options.devices ?? [] };
  state.module = {
    async devicesAsync() {
      if (options.bindingError) throw options.bindingError;
      return state.devices.map((d) => ({ ...d }));
    },
    HIDAsync: {
      async open(path: string, openOptions?: { nonExclusive?: boolean }) {
        if (options.bindingError) throw options.bindingError;
        state.openOptions.push(openOptions);
        const errno = options.openFailure?.(path) ?? (state.devices.some((d) => d.path === path) ? undefined : 'No such file or directory');
        if (errno) throw new Error(`cannot open device with path ${path}: Failed to open a device with path '${path}': ${errno}`);
        const dev = new FakeHIDAsync(path);
        state.opened.push(dev);
        return dev;
      },
    },
  };
  return state;
}

/** A FIDO key record as node-hid enumerates it on Linux (hidraw). */
export function fidoDevice(n: number, extra: Partial<NodeHidDevice> = {}): NodeHidDevice {
  return {
    vendorId: 0x1050,
    productId: 0x0407,
    path: `/dev/hidraw${n}`,
    serialNumber: '',
    manufacturer: 'Yubico',
    product: 'YubiKey OTP+FIDO+CCID',
    release: 0x0527,
    interface: 1,
    usagePage: 0xf1d0,
    usage: 0x01,
    ...extra,
  };
}
