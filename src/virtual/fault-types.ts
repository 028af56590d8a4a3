/**
 * The hook points where fault injection (faults.ts) plugs into the virtual
 * key's CTAPHID device. The device calls these at fixed places; without an
 * injector it behaves as a correct key. Implementations may be stateful
 * (per-transaction schedules, seeded probabilities).
 */

/** One complete request the device has reassembled. */
export interface FaultTransaction {
  /** Counts complete requests since the device started (0-based), INIT included. */
  readonly index: number;
  readonly cid: number;
  /** CTAPHID command (7 bits), e.g. 0x10 for CBOR. */
  readonly cmd: number;
  readonly payload: Uint8Array;
}

/** What the device lets an injector do to the link. */
export interface FaultDeviceControl {
  /** Simulate unplugging: every port reading from this device fails with DEVICE_REMOVED. */
  disconnect(): void;
  /** Send one raw report to the requester (e.g. an answer on a foreign CID). */
  sendRaw(packet: Uint8Array): Promise<void>;
}

export type FaultTransactionAction =
  /** Process normally. */
  | { kind: 'pass' }
  /** Never answer (no KEEPALIVE either): the client must time out or cancel. */
  | { kind: 'stall' }
  /** Unplug the device now. */
  | { kind: 'disconnect' };

export interface FaultInjector {
  /** Called once per complete request, before it is processed. */
  onTransaction?(tx: FaultTransaction, device: FaultDeviceControl): FaultTransactionAction | undefined | Promise<FaultTransactionAction | undefined>;
  /**
   * Called with the response payload (for CBOR: status byte + CBOR) before it
   * is framed; return a replacement (garbage CBOR, a wrong rpIdHash, the UP
   * flag cleared, ...).
   */
  onResponse?(tx: FaultTransaction, payload: Uint8Array): Uint8Array | Promise<Uint8Array>;
  /**
   * Called with the framed packets of one outgoing message (a response, a
   * KEEPALIVE or an ERROR); return the packets to send instead (drop,
   * duplicate, reorder, corrupt SEQ or CID, an ERROR mid-message). May delay
   * by returning a promise (a stall).
   */
  onOutgoing?(packets: Uint8Array[], ctx: FaultOutgoingContext, device: FaultDeviceControl): Uint8Array[] | Promise<Uint8Array[]>;
}

export interface FaultOutgoingContext {
  /** The transaction being answered, when the message belongs to one. */
  readonly tx: FaultTransaction | undefined;
  readonly cid: number;
  /** CTAPHID command of the outgoing message (response command, KEEPALIVE 0x3b or ERROR 0x3f). */
  readonly cmd: number;
}
