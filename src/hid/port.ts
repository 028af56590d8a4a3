/**
 * The lowest layer's contract: one HID report in, one report out. Ports know
 * nothing of CTAP. Reports are the 64-byte CTAPHID packet without the
 * report-ID byte (adapters add or strip it).
 */
import type { CallOptions } from '../util/deadline.js';

export type HidTransportKind = 'usb' | 'udp' | 'virtual' | 'fake';

export interface HidDeviceInfo {
  /** What `--device` takes to open this device again (node-hid path, `udp:...`, `virtual`). */
  path: string;
  transport: HidTransportKind;
  vendorId?: number | undefined;
  productId?: number | undefined;
  manufacturer?: string | undefined;
  product?: string | undefined;
  serialNumber?: string | undefined;
  /** Interface release number, when the OS reports it. */
  release?: number | undefined;
}

export interface HidPort {
  readonly info: HidDeviceInfo;
  /** Packet size in bytes (64 for every FIDO key seen in practice). */
  readonly reportSize: number;
  /** Write one report of exactly `reportSize` bytes (no report ID). */
  write(report: Uint8Array, opts?: CallOptions): Promise<void>;
  /**
   * Read one report, waiting at most `timeoutMs`. Resolves `null` when nothing
   * arrived in time; rejects with HidError DEVICE_REMOVED when the device is gone,
   * AbortedError when the signal fires. `read(0)` is a poll and must not wait
   * (no timer): it resolves a report already received, or null at once; the
   * channel drains stale reports that way before every request.
   */
  read(timeoutMs: number, signal?: AbortSignal): Promise<Uint8Array | null>;
  close(): Promise<void>;
  readonly closed: boolean;
}

/** Opens ports for paths of one transport kind; enumerates what is there. */
export interface HidPortProvider {
  list(): Promise<HidDeviceInfo[]>;
  open(path: string): Promise<HidPort>;
}
