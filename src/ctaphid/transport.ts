/**
 * What the layers above need from a CTAPHID channel: whole messages, not
 * packets. Implemented by CtapHidChannel (channel.ts); tests may plug in a
 * message-level fake here (as libfido2's fido_dev_transport_t).
 */
import type { CallOptions } from '../util/deadline.js';
import type { HidDeviceInfo } from '../hid/port.js';

export type KeepaliveStatus = 'processing' | 'up-needed' | number;

export interface TransactOptions extends CallOptions {
  /** Called once per change of KEEPALIVE status (PROCESSING, UPNEEDED). */
  onKeepalive?: ((status: KeepaliveStatus) => void) | undefined;
}

/** CTAPHID INIT response data. */
export interface CtapHidInitInfo {
  cid: number;
  protocolVersion: number;
  deviceVersion: { major: number; minor: number; build: number };
  /** nmsg = the device does NOT implement CTAPHID_MSG (no U2F); lock = U2F HID CAPFLAG_LOCK (bit 0x02). */
  capabilities: { wink: boolean; cbor: boolean; nmsg: boolean; raw: number; lock?: boolean };
}

export interface CtapTransport {
  readonly info: HidDeviceInfo;
  readonly init: CtapHidInitInfo;
  /** CTAPHID_CBOR: `request` = command byte + CBOR parameters; resolves to status byte + CBOR. */
  cbor(request: Uint8Array, opts?: TransactOptions): Promise<Uint8Array>;
  /** CTAPHID_MSG: a U2F/CTAP1 APDU; resolves to response data + status word. */
  msg(apdu: Uint8Array, opts?: TransactOptions): Promise<Uint8Array>;
  ping(data: Uint8Array, opts?: TransactOptions): Promise<Uint8Array>;
  wink(opts?: TransactOptions): Promise<void>;
  /** Lock the channel for `seconds` (0 releases). */
  lock(seconds: number, opts?: TransactOptions): Promise<void>;
  close(): Promise<void>;
}
