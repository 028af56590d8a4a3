/**
 * The device side of CTAPHID (CTAP 2.2 §11.2): channel allocation, message
 * reassembly with the spec's errors (INVALID_SEQ, INVALID_LEN, MSG_TIMEOUT,
 * INVALID_CHANNEL, CHANNEL_BUSY, INVALID_CMD), one transaction at a time,
 * KEEPALIVE every ~100 ms while a command runs, CANCEL, LOCK, WINK, PING.
 * Packets come in through `receive(packet, sink)`; every packet out goes to
 * the sink that sent the request, so the same device serves an in-process
 * port and UDP peers.
 */
import { randomBytes } from '../crypto/primitives.js';
import {
  BROADCAST_CID,
  CAPABILITY,
  CONT_HEADER_SIZE,
  CTAPHID,
  CTAPHID_ERR,
  HID_REPORT_SIZE,
  INIT_HEADER_SIZE,
  KEEPALIVE_STATUS,
} from '../ctaphid/constants.js';
import { encodeMessage, maxMessageSize, parseHeader } from '../ctaphid/framing.js';
import type { FaultDeviceControl, FaultInjector, FaultTransaction } from './fault-types.js';

/** Where a device's packets go: the port or UDP peer that sent the request. */
export interface PacketSink {
  deliver(packet: Uint8Array): void | Promise<void>;
  /** The device was unplugged (fault injection): fail reads with DEVICE_REMOVED. */
  disconnected?(): void;
}

/** What the device asks of the authenticator behind it. */
export interface CtapHidApplication {
  /** CTAPHID capability flags for the INIT response (WINK, CBOR, NMSG). */
  readonly capabilities: number;
  /** Device version (major, minor, build) for the INIT response. */
  readonly deviceVersion: readonly [number, number, number];
  handleCbor(request: Uint8Array, ctx: CommandTransportContext): Promise<Uint8Array>;
  handleMsg(apdu: Uint8Array, ctx: CommandTransportContext): Promise<Uint8Array>;
  wink?(): void;
}

export interface CommandTransportContext {
  /** Fires on CTAPHID_CANCEL (or INIT resync) for this transaction. */
  signal: AbortSignal;
  /** Set the KEEPALIVE status the device repeats while the command runs. */
  keepalive(status: number): void;
}

export interface CtapHidDeviceOptions {
  reportSize?: number;
  /** How long an incomplete message may wait for its next packet (spec: implementation-defined; 500 ms here). */
  msgTimeoutMs?: number;
  keepaliveIntervalMs?: number;
  /** CTAPHID protocol version in INIT (2). */
  protocolVersion?: number;
  faults?: FaultInjector | undefined;
}

interface Receiving {
  cid: number;
  cmd: number;
  sink: PacketSink;
  buffer: Uint8Array;
  filled: number;
  nextSeq: number;
  timer: ReturnType<typeof setTimeout>;
}

interface Processing {
  cid: number;
  cmd: number;
  sink: PacketSink;
  abort: AbortController;
  /** Set when INIT resynced the channel: the response is discarded. */
  discarded: boolean;
  keepaliveStatus: number;
  keepaliveTimer: ReturnType<typeof setInterval> | undefined;
}

const MAX_LOCK_SECONDS = 10;

export class CtapHidDevice {
  readonly app: CtapHidApplication;
  readonly reportSize: number;
  readonly msgTimeoutMs: number;
  readonly keepaliveIntervalMs: number;
  readonly protocolVersion: number;
  faults: FaultInjector | undefined;
  readonly #channels = new Set<number>();
  #receiving: Receiving | undefined;
  #processing: Processing | undefined;
  #lock: { cid: number; until: number } | undefined;
  #txIndex = 0;
  #sendChain: Promise<void> = Promise.resolve();
  #closed = false;
  readonly #sinks = new Set<PacketSink>();

  constructor(app: CtapHidApplication, opts: CtapHidDeviceOptions = {}) {
    this.app = app;
    this.reportSize = opts.reportSize ?? HID_REPORT_SIZE;
    this.msgTimeoutMs = opts.msgTimeoutMs ?? 500;
    this.keepaliveIntervalMs = opts.keepaliveIntervalMs ?? 100;
    this.protocolVersion = opts.protocolVersion ?? 2;
    this.faults = opts.faults;
  }

  /** Channels allocated so far (for tests and diagnostics). */
  get channelCount(): number {
    return this.#channels.size;
  }

  /** True while a request is being received or processed. */
  get busy(): boolean {
    return this.#receiving !== undefined || this.#processing !== undefined;
  }

  /** Stop timers and abort the running command; later packets are ignored. */
  close(): void {
    this.#closed = true;
    this.#dropReceiving();
    if (this.#processing) {
      this.#processing.discarded = true;
      this.#stopKeepalive(this.#processing);
      this.#processing.abort.abort();
    }
  }

  /** Simulate an unplug: every sink seen so far is told, and the device stops. */
  disconnect(): void {
    this.close();
    for (const s of this.#sinks) s.disconnected?.();
  }

  /** One report from the host. Never throws for bad input: it answers as the spec says or ignores. */
  receive(packet: Uint8Array, sink: PacketSink): void {
    if (this.#closed) return;
    this.#sinks.add(sink);
    const h = parseHeader(packet);
    if (!h || packet.length !== this.reportSize) return; // not a report of ours: a real key never sees it
    const cid = h.cid;
    if (h.type === 'cont') {
      const r = this.#receiving;
      // Spurious continuation packets (no message in progress, or another channel) are ignored (§11.2.4).
      if (!r || r.cid !== cid) return;
      if (h.seq !== r.nextSeq) {
        this.#dropReceiving();
        this.#sendError(cid, CTAPHID_ERR.INVALID_SEQ, r.sink);
        return;
      }
      r.nextSeq++;
      const n = Math.min(r.buffer.length - r.filled, this.reportSize - CONT_HEADER_SIZE);
      r.buffer.set(packet.subarray(CONT_HEADER_SIZE, CONT_HEADER_SIZE + n), r.filled);
      r.filled += n;
      if (r.filled < r.buffer.length) {
        this.#armMsgTimer(r);
        return;
      }
      this.#dropReceiving();
      this.#dispatch(cid, r.cmd, r.buffer, r.sink);
      return;
    }

    // Initialization packet.
    const cmd = h.cmd;
    if (cid === 0) {
      this.#sendError(cid, CTAPHID_ERR.INVALID_CHANNEL, sink);
      return;
    }
    if (cmd === CTAPHID.INIT) {
      // INIT is answered at once, even while another channel is busy; on an
      // allocated channel it aborts that channel's transaction (resync).
      if (h.bcnt !== 8) {
        this.#sendError(cid, CTAPHID_ERR.INVALID_LEN, sink);
        return;
      }
      if (cid !== BROADCAST_CID && !this.#channels.has(cid)) {
        this.#sendError(cid, CTAPHID_ERR.INVALID_CHANNEL, sink);
        return;
      }
      if (this.#receiving?.cid === cid) this.#dropReceiving();
      if (this.#processing?.cid === cid) this.#abortProcessing(true);
      const nonce = packet.slice(INIT_HEADER_SIZE, INIT_HEADER_SIZE + 8);
      const newCid = cid === BROADCAST_CID ? this.#allocateChannel() : cid;
      const body = new Uint8Array(17);
      body.set(nonce, 0);
      body[8] = (newCid >>> 24) & 0xff;
      body[9] = (newCid >>> 16) & 0xff;
      body[10] = (newCid >>> 8) & 0xff;
      body[11] = newCid & 0xff;
      body[12] = this.protocolVersion;
      body[13] = this.app.deviceVersion[0];
      body[14] = this.app.deviceVersion[1];
      body[15] = this.app.deviceVersion[2];
      body[16] = this.app.capabilities;
      const tx = this.#transaction(cid, cmd, packet.slice(INIT_HEADER_SIZE, INIT_HEADER_SIZE + 8));
      void this.#respond(tx, cid, CTAPHID.INIT, body, sink);
      return;
    }
    if (cid === BROADCAST_CID || !this.#channels.has(cid)) {
      this.#sendError(cid, CTAPHID_ERR.INVALID_CHANNEL, sink);
      return;
    }
    if (cmd === CTAPHID.CANCEL) {
      // CANCEL never gets a reply of its own; the cancelled command answers KEEPALIVE_CANCEL.
      if (this.#processing?.cid === cid) this.#processing.abort.abort();
      return;
    }
    if (this.#receiving) {
      if (this.#receiving.cid === cid) {
        // A new request on the same channel before the last one was complete.
        this.#dropReceiving();
        this.#sendError(cid, CTAPHID_ERR.INVALID_SEQ, sink);
      } else {
        this.#sendError(cid, CTAPHID_ERR.CHANNEL_BUSY, sink);
      }
      return;
    }
    if (this.#processing) {
      this.#sendError(cid, CTAPHID_ERR.CHANNEL_BUSY, sink);
      return;
    }
    if (this.#lock && this.#lock.cid !== cid && Date.now() < this.#lock.until) {
      this.#sendError(cid, CTAPHID_ERR.CHANNEL_BUSY, sink);
      return;
    }
    if (h.bcnt > maxMessageSize(this.reportSize)) {
      this.#sendError(cid, CTAPHID_ERR.INVALID_LEN, sink);
      return;
    }
    const n = Math.min(h.bcnt, this.reportSize - INIT_HEADER_SIZE);
    if (n === h.bcnt) {
      this.#dispatch(cid, cmd, packet.slice(INIT_HEADER_SIZE, INIT_HEADER_SIZE + n), sink);
      return;
    }
    const buffer = new Uint8Array(h.bcnt);
    buffer.set(packet.subarray(INIT_HEADER_SIZE, INIT_HEADER_SIZE + n));
    const r: Receiving = { cid, cmd, sink, buffer, filled: n, nextSeq: 0, timer: setTimeout(() => undefined, 0) };
    this.#receiving = r;
    this.#armMsgTimer(r);
  }

  #allocateChannel(): number {
    for (;;) {
      const b = randomBytes(4);
      const cid = ((b[0]! << 24) | (b[1]! << 16) | (b[2]! << 8) | b[3]!) >>> 0;
      if (cid !== 0 && cid !== BROADCAST_CID && !this.#channels.has(cid)) {
        // Keep the table bounded like a real key: forget the oldest channel.
        if (this.#channels.size >= 256) {
          const oldest = this.#channels.values().next().value;
          if (oldest !== undefined && oldest !== this.#processing?.cid) this.#channels.delete(oldest);
        }
        this.#channels.add(cid);
        return cid;
      }
    }
  }

  #armMsgTimer(r: Receiving): void {
    clearTimeout(r.timer);
    r.timer = setTimeout(() => {
      if (this.#receiving !== r) return;
      this.#dropReceiving();
      this.#sendError(r.cid, CTAPHID_ERR.MSG_TIMEOUT, r.sink);
    }, this.msgTimeoutMs);
  }

  #dropReceiving(): void {
    if (this.#receiving) clearTimeout(this.#receiving.timer);
    this.#receiving = undefined;
  }

  #abortProcessing(discard: boolean): void {
    const p = this.#processing;
    if (!p) return;
    p.discarded = discard;
    this.#stopKeepalive(p);
    p.abort.abort();
    this.#processing = undefined;
  }

  #stopKeepalive(p: Processing): void {
    if (p.keepaliveTimer) clearInterval(p.keepaliveTimer);
    p.keepaliveTimer = undefined;
  }

  #transaction(cid: number, cmd: number, payload: Uint8Array): FaultTransaction {
    return { index: this.#txIndex++, cid, cmd, payload };
  }

  #dispatch(cid: number, cmd: number, payload: Uint8Array, sink: PacketSink): void {
    const tx = this.#transaction(cid, cmd, payload);
    const p: Processing = {
      cid,
      cmd,
      sink,
      abort: new AbortController(),
      discarded: false,
      keepaliveStatus: KEEPALIVE_STATUS.PROCESSING,
      keepaliveTimer: undefined,
    };
    this.#processing = p;
    void this.#run(tx, p).finally(() => {
      this.#stopKeepalive(p);
      if (this.#processing === p) this.#processing = undefined;
    });
  }

  async #run(tx: FaultTransaction, p: Processing): Promise<void> {
    const { cid, cmd, sink } = p;
    if (this.faults?.onTransaction) {
      const action = await this.faults.onTransaction(tx, this.#control(sink));
      if (action?.kind === 'stall') {
        // Hold the channel until cancelled or resynced; nothing is sent.
        await new Promise<void>((resolve) => {
          if (p.abort.signal.aborted) resolve();
          else p.abort.signal.addEventListener('abort', () => resolve(), { once: true });
        });
        return;
      }
      if (action?.kind === 'disconnect') {
        this.disconnect();
        return;
      }
    }
    const ctx: CommandTransportContext = {
      signal: p.abort.signal,
      keepalive: (status) => {
        p.keepaliveStatus = status;
      },
    };
    let response: Uint8Array | undefined;
    let error: number | undefined;
    switch (cmd) {
      case CTAPHID.PING:
        response = tx.payload;
        break;
      case CTAPHID.WINK:
        if (!(this.app.capabilities & CAPABILITY.WINK)) error = CTAPHID_ERR.INVALID_CMD;
        else if (tx.payload.length !== 0) error = CTAPHID_ERR.INVALID_LEN;
        else {
          this.app.wink?.();
          response = new Uint8Array(0);
        }
        break;
      case CTAPHID.LOCK: {
        const seconds = tx.payload[0];
        if (tx.payload.length !== 1) error = CTAPHID_ERR.INVALID_LEN;
        else if (seconds === undefined || seconds > MAX_LOCK_SECONDS) error = CTAPHID_ERR.INVALID_PAR;
        else {
          this.#lock = seconds === 0 ? undefined : { cid, until: Date.now() + seconds * 1000 };
          response = new Uint8Array(0);
        }
        break;
      }
      case CTAPHID.CBOR:
      case CTAPHID.MSG: {
        const cbor = cmd === CTAPHID.CBOR;
        if (cbor && !(this.app.capabilities & CAPABILITY.CBOR)) {
          error = CTAPHID_ERR.INVALID_CMD;
          break;
        }
        if (!cbor && this.app.capabilities & CAPABILITY.NMSG) {
          error = CTAPHID_ERR.INVALID_CMD;
          break;
        }
        if (tx.payload.length === 0) {
          error = CTAPHID_ERR.INVALID_LEN;
          break;
        }
        p.keepaliveTimer = setInterval(() => {
          if (p.discarded || this.#processing !== p) return;
          void this.#send(tx, cid, CTAPHID.KEEPALIVE, Uint8Array.of(p.keepaliveStatus), sink);
        }, this.keepaliveIntervalMs);
        try {
          response = cbor ? await this.app.handleCbor(tx.payload, ctx) : await this.app.handleMsg(tx.payload, ctx);
        } catch {
          // The application layer maps its own failures to status bytes; anything else is a device fault.
          error = CTAPHID_ERR.OTHER;
        }
        this.#stopKeepalive(p);
        break;
      }
      default:
        error = CTAPHID_ERR.INVALID_CMD;
    }
    if (p.discarded || this.#closed) return;
    // The channel is free as soon as the answer starts to leave: the host may send its next request at once.
    this.#stopKeepalive(p);
    if (this.#processing === p) this.#processing = undefined;
    if (error !== undefined) {
      await this.#send(tx, cid, CTAPHID.ERROR, Uint8Array.of(error), sink);
      return;
    }
    await this.#respond(tx, cid, cmd, response ?? new Uint8Array(0), sink);
  }

  async #respond(tx: FaultTransaction, cid: number, cmd: number, payload: Uint8Array, sink: PacketSink): Promise<void> {
    let body = payload;
    if (this.faults?.onResponse) body = await this.faults.onResponse(tx, payload);
    await this.#send(tx, cid, cmd, body, sink);
  }

  #sendError(cid: number, code: number, sink: PacketSink): void {
    void this.#send(undefined, cid, CTAPHID.ERROR, Uint8Array.of(code), sink);
  }

  #control(sink: PacketSink): FaultDeviceControl {
    return {
      disconnect: () => this.disconnect(),
      sendRaw: (packet) => this.#enqueue([packet], sink),
    };
  }

  async #send(tx: FaultTransaction | undefined, cid: number, cmd: number, payload: Uint8Array, sink: PacketSink): Promise<void> {
    let packets = encodeMessage(cid, cmd, payload, this.reportSize);
    if (this.faults?.onOutgoing) packets = await this.faults.onOutgoing(packets, { tx, cid, cmd }, this.#control(sink));
    await this.#enqueue(packets, sink);
  }

  /** Packets leave in order, one message after another. */
  #enqueue(packets: Uint8Array[], sink: PacketSink): Promise<void> {
    const next = this.#sendChain.then(async () => {
      if (this.#closed) return; // after close (or an unplug) nothing leaves the device
      for (const packet of packets) await sink.deliver(packet);
    });
    this.#sendChain = next.catch(() => undefined);
    return next;
  }
}
