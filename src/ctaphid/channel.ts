/**
 * CtapHidChannel: a CTAPHID channel over any HidPort (CTAP 2.2 §11.2).
 *
 * One transaction at a time per device (callers queue); one Deadline counted
 * down across every packet of a transaction (and the time spent queued);
 * packets on other channels are ignored (another process may share the key);
 * KEEPALIVE statuses reach `onKeepalive` once per change; CTAPHID_ERROR
 * becomes CtapHidError with the spec name; CHANNEL_BUSY (also an answer to the
 * broadcast INIT that allocates the channel) is retried with
 * backoff until the deadline; an AbortSignal sends CTAPHID_CANCEL, also in the
 * middle of a multi-packet write. After a framing error, a timeout or an
 * unanswered cancel the channel is resynchronised (CTAPHID_INIT on its own
 * CID, else a new channel from the broadcast CID) before the next call.
 */
import { randomBytes } from '../crypto/primitives.js';
import { HidError } from '../hid/errors.js';
import type { HidDeviceInfo, HidPort } from '../hid/port.js';
import { bytesEqual } from '../util/bytes.js';
import { Deadline, DEFAULT_TIMEOUT_MS, SerialQueue, sleep, type CallOptions } from '../util/deadline.js';
import { AbortedError, TimeoutError } from '../util/errors.js';
import {
  CTAPHID,
  CTAPHID_ERR,
  INIT_HEADER_SIZE,
  INIT_NONCE_SIZE,
  MAX_MESSAGE_SIZE,
} from './constants.js';
import { commandName, errorFromPayload, keepaliveStatus, type InitResponse } from './decode.js';
import { allocateChannel, busyError, initExchange, jittered, MAX_WAIT_MS } from './init.js';
import { CtapHidError } from './errors.js';
import { encodeMessage, parseHeader, Reassembler } from './framing.js';
import type { CtapHidInitInfo, CtapTransport, KeepaliveStatus, TransactOptions } from './transport.js';

export interface CtapHidChannelOptions extends CallOptions {
  /** After CANCEL, how long to keep reading for the device's answer (default 500 ms, never past the deadline). */
  cancelGraceMs?: number | undefined;
  /** First wait after CHANNEL_BUSY (default 10 ms), doubled each time up to `maxBusyBackoffMs` (default 250 ms). */
  busyBackoffMs?: number | undefined;
  maxBusyBackoffMs?: number | undefined;
  /** Budget of a transaction whose caller gives no timeoutMs (default 30 s). */
  defaultTimeoutMs?: number | undefined;
  /** Source of the 8-byte INIT nonces (default: random). */
  nonce?: (() => Uint8Array) | undefined;
}

/** Default budget for CTAPHID_INIT when open() is given no timeoutMs. */
export const DEFAULT_OPEN_TIMEOUT_MS = 5_000;
const DEFAULT_BUSY_BACKOFF_MS = 10;
const DEFAULT_MAX_BUSY_BACKOFF_MS = 250;
/** How long a resync tries CTAPHID_INIT on the channel's own CID before allocating a new one. */
const RESYNC_OWN_CID_MS = 1_000;
/** Most stale reports discarded before a request (a device spewing reports cannot stall us). */
const DRAIN_LIMIT = 256;
/** Bound on the best-effort CANCEL write after a timeout. */
const CANCEL_WRITE_MS = 250;

/** Commands that are not request/response transactions and so cannot go through transact(). */
const NOT_TRANSACTIONS: ReadonlySet<number> = new Set([CTAPHID.INIT, CTAPHID.CANCEL, CTAPHID.KEEPALIVE, CTAPHID.ERROR]);

export class CtapHidChannel implements CtapTransport {
  readonly port: HidPort;
  #init: InitResponse;
  #queue = new SerialQueue();
  /** The channel must be resynchronised before the next transaction. */
  #dirty = false;
  /** Set once the device is gone or the channel closed: every later call rejects with it. */
  #dead: HidError | undefined;
  #closing = new AbortController();
  readonly #cancelGraceMs: number;
  readonly #busyBackoffMs: number;
  readonly #maxBusyBackoffMs: number;
  readonly #defaultTimeoutMs: number;
  readonly #nonce: () => Uint8Array;

  private constructor(port: HidPort, init: InitResponse, opts: CtapHidChannelOptions) {
    this.port = port;
    this.#init = init;
    this.#cancelGraceMs = opts.cancelGraceMs ?? 500;
    this.#busyBackoffMs = opts.busyBackoffMs ?? DEFAULT_BUSY_BACKOFF_MS;
    this.#maxBusyBackoffMs = opts.maxBusyBackoffMs ?? DEFAULT_MAX_BUSY_BACKOFF_MS;
    this.#defaultTimeoutMs = opts.defaultTimeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.#nonce = opts.nonce ?? (() => randomBytes(INIT_NONCE_SIZE));
  }

  /**
   * Allocate a channel: CTAPHID_INIT on the broadcast CID with a random
   * nonce. Replies carrying another nonce (another process's INIT) are ignored.
   * A key busy with another program answers CTAPHID_ERROR ERR_CHANNEL_BUSY
   * on the broadcast CID: while our INIT is unanswered that means INIT again
   * (fresh nonce) after the same capped backoff as a busy transaction.
   * Rejects with TimeoutError when the key never answers in time, CtapHidError
   * BUSY when it stayed busy until the deadline, CtapHidError INIT_FAILED
   * when the reply is malformed.
   */
  static async open(port: HidPort, opts: CtapHidChannelOptions = {}): Promise<CtapHidChannel> {
    if (port.reportSize < INIT_HEADER_SIZE + 17 || port.reportSize > 0x10000) {
      throw new RangeError(`CTAPHID needs a report size of at least 24 bytes; the port reports ${port.reportSize}`);
    }
    const deadline = new Deadline(opts, DEFAULT_OPEN_TIMEOUT_MS);
    const nonce = opts.nonce ?? (() => randomBytes(INIT_NONCE_SIZE));
    const init = await allocateChannel(port, nonce, deadline, opts.signal, {
      initialMs: opts.busyBackoffMs ?? DEFAULT_BUSY_BACKOFF_MS,
      maxMs: opts.maxBusyBackoffMs ?? DEFAULT_MAX_BUSY_BACKOFF_MS,
    });
    return new CtapHidChannel(port, init, opts);
  }

  get info(): HidDeviceInfo {
    return this.port.info;
  }

  /** The CTAPHID_INIT data of the current channel (the CID changes if a resync had to allocate a new one). */
  get init(): CtapHidInitInfo {
    const { nonce: _nonce, ...info } = this.#init;
    return info;
  }

  get cid(): number {
    return this.#init.cid;
  }

  get closed(): boolean {
    return this.#dead !== undefined;
  }

  cbor(request: Uint8Array, opts?: TransactOptions): Promise<Uint8Array> {
    if (!this.#init.capabilities.cbor) {
      return Promise.reject(new CtapHidError('UNSUPPORTED', 'the key does not speak CTAP2 (no CTAPHID_CBOR capability); it is U2F-only'));
    }
    return this.transact(CTAPHID.CBOR, request, opts);
  }

  msg(apdu: Uint8Array, opts?: TransactOptions): Promise<Uint8Array> {
    if (this.#init.capabilities.nmsg) {
      return Promise.reject(new CtapHidError('UNSUPPORTED', 'the key does not implement CTAPHID_MSG (NMSG capability): it has no U2F/CTAP1'));
    }
    return this.transact(CTAPHID.MSG, apdu, opts);
  }

  /** Send `data` and resolve to the echo; an echo that differs is a CtapHidError PROTOCOL. */
  async ping(data: Uint8Array, opts?: TransactOptions): Promise<Uint8Array> {
    const echo = await this.transact(CTAPHID.PING, data, opts);
    if (!bytesEqual(echo, data)) {
      throw new CtapHidError('PROTOCOL', `the PING echo differs from what was sent (${echo.length} bytes back for ${data.length})`);
    }
    return echo;
  }

  async wink(opts?: TransactOptions): Promise<void> {
    if (!this.#init.capabilities.wink) throw new CtapHidError('UNSUPPORTED', 'the key does not support CTAPHID_WINK');
    await this.transact(CTAPHID.WINK, new Uint8Array(0), opts);
  }

  async lock(seconds: number, opts?: TransactOptions): Promise<void> {
    if (!Number.isInteger(seconds) || seconds < 0 || seconds > 10) {
      throw new RangeError('lock: seconds must be an integer from 0 (release) to 10');
    }
    await this.transact(CTAPHID.LOCK, Uint8Array.of(seconds), opts);
  }

  /**
   * One request/response transaction (any command but INIT, CANCEL, KEEPALIVE
   * and ERROR, vendor commands included). Resolves to the response payload.
   */
  transact(cmd: number, payload: Uint8Array, opts: TransactOptions = {}): Promise<Uint8Array> {
    if (!Number.isInteger(cmd) || cmd < 0 || cmd > 0x7f || NOT_TRANSACTIONS.has(cmd)) {
      return Promise.reject(new RangeError(`transact: 0x${cmd.toString(16)} is not a request command`));
    }
    if (payload.length > MAX_MESSAGE_SIZE) {
      return Promise.reject(new CtapHidError('MESSAGE_TOO_LONG', `a CTAPHID message holds at most ${MAX_MESSAGE_SIZE} bytes, got ${payload.length}`));
    }
    let deadline: Deadline;
    try {
      deadline = new Deadline(opts, this.#defaultTimeoutMs);
    } catch (e) {
      return Promise.reject(e);
    }
    return this.#enqueue(deadline, (signal) => this.#transaction(cmd, payload, deadline, signal, opts.onKeepalive));
  }

  /** Close the channel and the port. A transaction in flight is cancelled; queued ones reject with HidError CLOSED. */
  async close(): Promise<void> {
    if (this.#dead?.code !== 'CLOSED') {
      this.#dead ??= new HidError('CLOSED', 'the CTAPHID channel was closed');
      this.#closing.abort(this.#dead);
      await this.#queue.run(async () => undefined);
    }
    if (!this.port.closed) await this.port.close();
  }

  /**
   * Run `task` behind the transactions already queued. While it waits its
   * turn, the caller's signal and deadline still apply: it gives up (and
   * never runs) when either fires.
   */
  #enqueue<T>(deadline: Deadline, task: (signal: AbortSignal) => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const user = deadline.signal;
      if (user?.aborted) {
        reject(new AbortedError(undefined, { cause: user.reason }));
        return;
      }
      let state: 'queued' | 'running' | 'gave-up' = 'queued';
      const giveUp = (error: Error): void => {
        if (state !== 'queued') return;
        state = 'gave-up';
        cleanup();
        reject(error);
      };
      const onAbort = (): void => giveUp(new AbortedError(undefined, { cause: user?.reason }));
      const timer = setTimeout(() => giveUp(new TimeoutError('The CTAPHID transaction timed out while waiting for the device to be free')), Math.min(deadline.remaining(), MAX_WAIT_MS));
      const cleanup = (): void => {
        clearTimeout(timer);
        user?.removeEventListener('abort', onAbort);
      };
      user?.addEventListener('abort', onAbort, { once: true });
      void this.#queue.run(async () => {
        if (state !== 'queued') return;
        state = 'running';
        cleanup();
        if (this.#dead) {
          reject(this.#dead);
          return;
        }
        const signal = user ? AbortSignal.any([user, this.#closing.signal]) : this.#closing.signal;
        try {
          resolve(await task(signal));
        } catch (e) {
          reject(e);
        }
      });
    });
  }

  async #transaction(
    cmd: number,
    payload: Uint8Array,
    deadline: Deadline,
    signal: AbortSignal,
    onKeepalive: ((status: KeepaliveStatus) => void) | undefined,
  ): Promise<Uint8Array> {
    let busy: CtapHidError | undefined;
    try {
      if (this.#dirty) await this.#resync(deadline, signal);
      let backoff = this.#busyBackoffMs;
      for (;;) {
        try {
          return await this.#exchange(cmd, payload, deadline, signal, onKeepalive);
        } catch (e) {
          if (!(e instanceof CtapHidError && e.hidError === CTAPHID_ERR.CHANNEL_BUSY)) throw e;
          busy = e;
          if (deadline.remaining() <= 0) throw busyError(e);
          const wait = Math.min(jittered(backoff), deadline.remaining());
          await sleep(wait, signal);
          if (deadline.remaining() <= 0) throw busyError(e);
          backoff = Math.min(backoff * 2, this.#maxBusyBackoffMs);
        }
      }
    } catch (e) {
      const settled = this.#settle(e, signal);
      // The deadline can pass anywhere in a retry (a slow machine): after CHANNEL_BUSY it is still "busy until the deadline".
      if (busy && settled instanceof TimeoutError) throw busyError(busy);
      throw settled;
    }
  }

  /** Decide what an error means for the channel; returns the error the caller gets. */
  #settle(e: unknown, signal: AbortSignal): unknown {
    if (e instanceof HidError && (e.code === 'DEVICE_REMOVED' || e.code === 'CLOSED')) {
      this.#dead ??= e;
      return this.#dead;
    }
    if (e instanceof AbortedError && this.#closing.signal.aborted && this.#dead) return this.#dead;
    if (e instanceof AbortedError && !signal.aborted) this.#dirty = true;
    if (e instanceof CtapHidError && (e.code === 'PROTOCOL' || e.code === 'INIT_FAILED')) this.#dirty = true;
    if (e instanceof TimeoutError) this.#dirty = true;
    if (!(e instanceof CtapHidError) && !(e instanceof AbortedError) && !(e instanceof TimeoutError)) this.#dirty = true;
    return e;
  }

  async #exchange(
    cmd: number,
    payload: Uint8Array,
    deadline: Deadline,
    signal: AbortSignal,
    onKeepalive: ((status: KeepaliveStatus) => void) | undefined,
  ): Promise<Uint8Array> {
    const cid = this.#init.cid;
    const packets = encodeMessage(cid, cmd, payload, this.port.reportSize);
    await this.#drain();
    // Continuation packets go out back to back; between them only the signal and the deadline are checked.
    for (let i = 0; i < packets.length; i++) {
      if (signal.aborted) {
        if (i === 0) throw new AbortedError(undefined, { cause: signal.reason });
        return this.#abort(cmd, deadline, signal);
      }
      if (deadline.expired()) {
        if (i > 0) await this.#cancelQuietly(cid);
        throw this.#timeout(cmd);
      }
      await this.port.write(packets[i]!, { timeoutMs: Math.max(1, deadline.remaining()) });
    }
    const reassembler = new Reassembler(cid, MAX_MESSAGE_SIZE, this.port.reportSize);
    let lastStatus: KeepaliveStatus | undefined;
    for (;;) {
      let report: Uint8Array | null;
      try {
        report = await this.port.read(Math.min(deadline.remaining(), MAX_WAIT_MS), signal);
      } catch (e) {
        if (e instanceof AbortedError && signal.aborted) return this.#abort(cmd, deadline, signal);
        throw e;
      }
      if (signal.aborted) return this.#abort(cmd, deadline, signal);
      if (report === null) {
        if (deadline.remaining() > 0) continue;
        if (cmd === CTAPHID.CBOR || cmd === CTAPHID.MSG) await this.#cancelQuietly(cid);
        throw this.#timeout(cmd, lastStatus);
      }
      const header = parseHeader(report);
      if (!header) throw new CtapHidError('PROTOCOL', `CTAPHID framing error: short report of ${report.length} bytes`);
      if (header.cid !== cid) continue; // another channel: another process's traffic
      if (header.type === 'init') {
        if (header.cmd === CTAPHID.KEEPALIVE) {
          if (reassembler.inProgress) throw new CtapHidError('PROTOCOL', 'CTAPHID framing error: KEEPALIVE in the middle of a message');
          const status = keepaliveStatus(report.subarray(INIT_HEADER_SIZE, INIT_HEADER_SIZE + Math.min(header.bcnt, 1)));
          if (status !== lastStatus) {
            lastStatus = status;
            try {
              onKeepalive?.(status);
            } catch (e) {
              // The caller's callback failed: stop the key waiting for a touch nobody will see, then report it.
              await this.#cancelQuietly(cid);
              this.#dirty = true;
              throw e;
            }
          }
          continue;
        }
        if (header.cmd === CTAPHID.ERROR) {
          // The device ended the transaction (possibly mid-message); the channel stays in step.
          reassembler.reset();
          throw errorFromPayload(report.subarray(INIT_HEADER_SIZE, INIT_HEADER_SIZE + Math.min(header.bcnt, 1)));
        }
        if (header.cmd !== cmd) {
          throw new CtapHidError('PROTOCOL', `CTAPHID framing error: the device answered CTAPHID_${commandName(cmd)} with CTAPHID_${commandName(header.cmd)}`);
        }
      }
      const message = reassembler.push(report);
      if (message) return message.payload;
    }
  }

  /**
   * Discard reports already waiting before a request goes out: nothing on our
   * channel can be an answer to it yet (a device that sent a reply twice, a
   * late reply after a cancel). Reads with a zero timeout never block.
   */
  async #drain(): Promise<void> {
    for (let i = 0; i < DRAIN_LIMIT; i++) {
      if ((await this.port.read(0)) === null) return;
    }
  }

  /**
   * The caller aborted with a request on the wire: send CANCEL, then read for
   * a short grace period until the device answers (for CBOR, status
   * CTAP2_ERR_KEEPALIVE_CANCEL; or a CTAPHID_ERROR), and reject with
   * AbortedError. An unanswered cancel leaves the channel to be resynchronised.
   */
  async #abort(cmd: number, deadline: Deadline, signal: AbortSignal): Promise<never> {
    const cid = this.#init.cid;
    try {
      await this.#writeCancel(cid);
    } catch (e) {
      if (e instanceof HidError && e.code === 'DEVICE_REMOVED') throw e;
      this.#dirty = true;
      throw new AbortedError(undefined, { cause: signal.reason });
    }
    const grace = new Deadline({ timeoutMs: Math.min(this.#cancelGraceMs, deadline.remaining()) });
    let answered = false;
    const reassembler = new Reassembler(cid, MAX_MESSAGE_SIZE, this.port.reportSize);
    try {
      while (!answered) {
        const report = await this.port.read(grace.remaining());
        if (report === null) {
          if (grace.remaining() > 0) continue;
          break;
        }
        const header = parseHeader(report);
        if (!header || header.cid !== cid) continue;
        if (header.type === 'init' && header.cmd === CTAPHID.KEEPALIVE) continue;
        if (header.type === 'init' && header.cmd === CTAPHID.ERROR) {
          answered = true;
        } else if (header.type === 'cont' || header.cmd === cmd) {
          // Usually CTAP2_ERR_KEEPALIVE_CANCEL, but a response that was already on its way counts too.
          answered = reassembler.push(report) !== null;
        } else {
          break;
        }
      }
    } catch (e) {
      if (e instanceof HidError) throw e;
      answered = false; // a framing error while draining: resync before the next call
    }
    this.#dirty = !answered;
    if (this.#closing.signal.aborted && this.#dead) throw this.#dead;
    throw new AbortedError(undefined, { cause: signal.reason });
  }

  /** CTAPHID_CANCEL: an init packet with BCNT 0 on the channel. */
  async #writeCancel(cid: number): Promise<void> {
    const [packet] = encodeMessage(cid, CTAPHID.CANCEL, new Uint8Array(0), this.port.reportSize);
    await this.port.write(packet!, { timeoutMs: CANCEL_WRITE_MS });
  }

  /** CANCEL on a timeout: best effort (the deadline has passed); only a removed device is reported. */
  async #cancelQuietly(cid: number): Promise<void> {
    try {
      await this.#writeCancel(cid);
    } catch (e) {
      if (e instanceof HidError && e.code === 'DEVICE_REMOVED') throw e;
    }
  }

  #timeout(cmd: number, lastStatus?: KeepaliveStatus): TimeoutError {
    this.#dirty = true;
    const why = lastStatus === 'up-needed' ? ' (it was waiting for a touch)' : lastStatus === 'processing' ? ' (it was still processing)' : '';
    return new TimeoutError(`The key did not complete CTAPHID_${commandName(cmd)} in time${why}`);
  }

  /**
   * Bring the channel back in step after a framing error, a timeout or an
   * unanswered cancel: CTAPHID_INIT on our own CID makes the device abandon
   * whatever it was doing on it, and everything before the reply (which
   * echoes our fresh nonce) is discarded. A device that refuses it gets a new
   * channel from the broadcast CID.
   */
  async #resync(deadline: Deadline, signal: AbortSignal): Promise<void> {
    const own = new Deadline({ timeoutMs: Math.min(RESYNC_OWN_CID_MS, deadline.remaining()), signal });
    try {
      const init = await initExchange(this.port, this.#init.cid, this.#nonce(), own, signal);
      // The spec has the device answer with the same CID; if it hands out another, use that one.
      this.#init = init;
      this.#dirty = false;
      return;
    } catch (e) {
      if (e instanceof HidError || e instanceof AbortedError) throw e;
    }
    this.#init = await allocateChannel(this.port, this.#nonce, deadline, signal, { initialMs: this.#busyBackoffMs, maxMs: this.#maxBusyBackoffMs });
    this.#dirty = false;
  }
}
