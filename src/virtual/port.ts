/**
 * An in-process HidPort onto a virtual key's CTAPHID device: every report
 * the host writes goes through the device's real reassembly, every report
 * the device sends is read back one at a time, as from a USB key.
 */
import type { HidDeviceInfo, HidPort } from '../hid/port.js';
import { HidError } from '../hid/errors.js';
import { AbortedError } from '../util/errors.js';
import type { CtapHidDevice, PacketSink } from './ctaphid-device.js';

export class VirtualHidPort implements HidPort, PacketSink {
  readonly info: HidDeviceInfo;
  readonly reportSize: number;
  readonly #device: CtapHidDevice;
  readonly #queue: Uint8Array[] = [];
  #waiter: ((packet: Uint8Array | null) => void) | undefined;
  #closed = false;
  #removed = false;
  readonly #onClose: (() => void) | undefined;

  constructor(device: CtapHidDevice, info: HidDeviceInfo, onClose?: () => void) {
    this.#device = device;
    this.info = info;
    this.reportSize = device.reportSize;
    this.#onClose = onClose;
  }

  get closed(): boolean {
    return this.#closed;
  }

  async write(report: Uint8Array): Promise<void> {
    if (this.#closed) throw new HidError('CLOSED', 'the virtual key port is closed');
    if (this.#removed) throw new HidError('DEVICE_REMOVED', 'the virtual key was disconnected');
    if (report.length !== this.reportSize) {
      throw new HidError('IO_ERROR', `a report is exactly ${this.reportSize} bytes, got ${report.length}`);
    }
    this.#device.receive(report.slice(), this);
  }

  read(timeoutMs: number, signal?: AbortSignal): Promise<Uint8Array | null> {
    if (this.#closed) return Promise.reject(new HidError('CLOSED', 'the virtual key port is closed'));
    const queued = this.#queue.shift();
    if (queued) return Promise.resolve(queued);
    if (this.#removed) return Promise.reject(new HidError('DEVICE_REMOVED', 'the virtual key was disconnected'));
    if (signal?.aborted) return Promise.reject(new AbortedError(undefined, { cause: signal.reason }));
    if (this.#waiter) return Promise.reject(new HidError('IO_ERROR', 'another read is already waiting on this port'));
    // read(0) is a poll (HidPort contract): nothing queued means null now, without a timer.
    if (timeoutMs <= 0) return Promise.resolve(null);
    return new Promise((resolve, reject) => {
      const done = (): void => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        this.#waiter = undefined;
      };
      const timer = setTimeout(() => {
        done();
        resolve(null);
      }, timeoutMs);
      const onAbort = (): void => {
        done();
        reject(new AbortedError(undefined, { cause: signal?.reason }));
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#waiter = (packet) => {
        done();
        if (packet) resolve(packet);
        else reject(new HidError('DEVICE_REMOVED', 'the virtual key was disconnected'));
      };
    });
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#queue.length = 0;
    this.#waiter?.(null);
    this.#onClose?.();
  }

  /** PacketSink: the device sends one report. */
  deliver(packet: Uint8Array): void {
    if (this.#closed || this.#removed) return;
    if (this.#waiter) this.#waiter(packet);
    else this.#queue.push(packet);
  }

  /** PacketSink: the device was unplugged. */
  disconnected(): void {
    this.#removed = true;
    this.#waiter?.(null);
  }
}
