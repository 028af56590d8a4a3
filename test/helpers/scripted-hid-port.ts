/**
 * A scripted in-memory HidPort and a CTAPHID device on top of it, for tests
 * of the channel. The device parses requests and builds replies with its own
 * few lines of framing (not src/ctaphid/framing.ts), so the channel is not
 * tested against itself.
 */
import { HidError } from '../../src/hid/errors.js';
import type { HidDeviceInfo, HidPort } from '../../src/hid/port.js';
import type { CallOptions } from '../../src/util/deadline.js';
import { AbortedError } from '../../src/util/errors.js';

export class ScriptedHidPort implements HidPort {
  readonly info: HidDeviceInfo = { path: 'scripted:0', transport: 'fake' };
  readonly reportSize: number;
  /** Every report written, in order (copies). */
  readonly writes: Uint8Array[] = [];
  /** Called after each write is recorded; may deliver replies. */
  onWrite: (report: Uint8Array) => void | Promise<void> = () => {};
  #inbox: Uint8Array[] = [];
  #waiter: ((report: Uint8Array | null, error?: Error) => void) | null = null;
  #removed = false;
  #closed = false;

  constructor(reportSize = 64) {
    this.reportSize = reportSize;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Queue reports for the host to read. */
  deliver(...reports: Uint8Array[]): void {
    for (const r of reports) this.#inbox.push(r);
    this.#wake();
  }

  /** The device disappears: pending and later reads/writes fail with DEVICE_REMOVED. */
  unplug(): void {
    this.#removed = true;
    const w = this.#waiter;
    this.#waiter = null;
    w?.(null, new HidError('DEVICE_REMOVED', 'the security key was removed'));
  }

  async write(report: Uint8Array, _opts?: CallOptions): Promise<void> {
    if (this.#closed) throw new HidError('CLOSED', 'port closed');
    if (this.#removed) throw new HidError('DEVICE_REMOVED', 'the security key was removed');
    if (report.length !== this.reportSize) throw new RangeError(`write: report of ${report.length} bytes`);
    const copy = new Uint8Array(report);
    this.writes.push(copy);
    await this.onWrite(copy);
  }

  read(timeoutMs: number, signal?: AbortSignal): Promise<Uint8Array | null> {
    if (this.#closed) return Promise.reject(new HidError('CLOSED', 'port closed'));
    if (this.#removed) return Promise.reject(new HidError('DEVICE_REMOVED', 'the security key was removed'));
    if (this.#waiter) return Promise.reject(new Error('ScriptedHidPort: two reads at once (the channel must have one reader)'));
    if (signal?.aborted) return Promise.reject(new AbortedError(undefined, { cause: signal.reason }));
    const queued = this.#inbox.shift();
    if (queued) return Promise.resolve(queued);
    if (timeoutMs <= 0) return Promise.resolve(null); // a poll never waits (HidPort contract)
    return new Promise((resolve, reject) => {
      const done = (report: Uint8Array | null, error?: Error): void => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        this.#waiter = null;
        if (error) reject(error);
        else resolve(report);
      };
      const onAbort = (): void => done(null, new AbortedError(undefined, { cause: signal?.reason }));
      const timer = setTimeout(() => done(null), timeoutMs);
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#waiter = done;
    });
  }

  async close(): Promise<void> {
    this.#closed = true;
    const w = this.#waiter;
    this.#waiter = null;
    w?.(null, new HidError('CLOSED', 'port closed'));
  }

  #wake(): void {
    if (!this.#waiter) return;
    const next = this.#inbox.shift();
    if (next) this.#waiter(next);
  }
}

// ---- independent CTAPHID framing for the fake device ----

export const BROADCAST = 0xffffffff;

export function cidBytes(cid: number): number[] {
  return [(cid >>> 24) & 0xff, (cid >>> 16) & 0xff, (cid >>> 8) & 0xff, cid & 0xff];
}

/** Init + continuation reports for a message, built byte by byte. */
export function framesOf(cid: number, cmd: number, payload: Uint8Array | number[], size = 64): Uint8Array[] {
  const data = Array.from(payload);
  const first = new Uint8Array(size);
  first.set([...cidBytes(cid), 0x80 | cmd, data.length >> 8, data.length & 0xff]);
  first.set(data.slice(0, size - 7), 7);
  const out = [first];
  let off = size - 7;
  for (let seq = 0; off < data.length; seq++) {
    const p = new Uint8Array(size);
    p.set([...cidBytes(cid), seq]);
    p.set(data.slice(off, off + size - 5), 5);
    out.push(p);
    off += size - 5;
  }
  return out;
}

/** A continuation report with an explicit SEQ. */
export function contFrame(cid: number, seq: number, data: number[] = [], size = 64): Uint8Array {
  const p = new Uint8Array(size);
  p.set([...cidBytes(cid), seq, ...data]);
  return p;
}

/** An init report with an explicit (possibly lying) BCNT. */
export function initFrame(cid: number, cmd: number, bcnt: number, data: number[] = [], size = 64): Uint8Array {
  const p = new Uint8Array(size);
  p.set([...cidBytes(cid), 0x80 | cmd, bcnt >> 8, bcnt & 0xff, ...data]);
  return p;
}

export interface FakeRequest {
  cid: number;
  cmd: number;
  payload: Uint8Array;
}

/**
 * A CTAPHID device over a ScriptedHidPort. INIT is answered by default
 * (broadcast: allocates `cid`; own CID: resync with the same CID); every
 * other request goes to `respond`. CANCEL packets are recorded and handed to
 * `onCancel`.
 */
export class FakeCtapDevice {
  readonly port: ScriptedHidPort;
  cid = 0x0a0b0c0d;
  capabilities = 0x05; // WINK | CBOR
  version: [number, number, number] = [5, 4, 3];
  readonly requests: FakeRequest[] = [];
  readonly cancels: number[] = [];
  /** INIT requests seen (cid they were sent on). */
  readonly inits: number[] = [];
  respond: (req: FakeRequest, dev: FakeCtapDevice) => void | Promise<void> = (req, dev) => dev.defaultReply(req);
  onInit: ((req: FakeRequest, dev: FakeCtapDevice) => void) | undefined;
  onCancel: (cid: number, dev: FakeCtapDevice) => void = () => {};
  #partial = new Map<number, { cmd: number; data: number[]; need: number; seq: number }>();

  constructor(port = new ScriptedHidPort()) {
    this.port = port;
    port.onWrite = (report) => this.#receive(report);
  }

  send(cid: number, cmd: number, payload: Uint8Array | number[]): void {
    this.port.deliver(...framesOf(cid, cmd, payload, this.port.reportSize));
  }

  sendError(cid: number, code: number): void {
    this.send(cid, 0x3f, [code]);
  }

  sendKeepalive(cid: number, status: number): void {
    this.send(cid, 0x3b, [status]);
  }

  initReply(req: FakeRequest, newCid: number): number[] {
    return [...req.payload.subarray(0, 8), ...cidBytes(newCid), 2, ...this.version, this.capabilities];
  }

  defaultReply(req: FakeRequest): void {
    if (req.cmd === 0x01) this.send(req.cid, 0x01, req.payload); // PING echo
    else if (req.cmd === 0x08 || req.cmd === 0x04) this.send(req.cid, req.cmd, []);
    else if (req.cmd === 0x10) this.send(req.cid, 0x10, [0x00]);
    else this.sendError(req.cid, 0x01);
  }

  async #receive(report: Uint8Array): Promise<void> {
    const cid = ((report[0]! << 24) | (report[1]! << 16) | (report[2]! << 8) | report[3]!) >>> 0;
    const b4 = report[4]!;
    if (b4 & 0x80) {
      const cmd = b4 & 0x7f;
      if (cmd === 0x11) {
        this.#partial.delete(cid);
        this.cancels.push(cid);
        this.onCancel(cid, this);
        return;
      }
      const need = (report[5]! << 8) | report[6]!;
      const data = Array.from(report.subarray(7, 7 + Math.min(need, report.length - 7)));
      if (data.length >= need) return this.#dispatch({ cid, cmd, payload: Uint8Array.from(data) });
      this.#partial.set(cid, { cmd, data, need, seq: 0 });
      return;
    }
    const p = this.#partial.get(cid);
    if (!p || b4 !== p.seq) return;
    p.seq++;
    p.data.push(...report.subarray(5, 5 + Math.min(p.need - p.data.length, report.length - 5)));
    if (p.data.length >= p.need) {
      this.#partial.delete(cid);
      return this.#dispatch({ cid, cmd: p.cmd, payload: Uint8Array.from(p.data) });
    }
  }

  async #dispatch(req: FakeRequest): Promise<void> {
    if (req.cmd === 0x06) {
      this.inits.push(req.cid);
      if (this.onInit) return this.onInit(req, this);
      this.send(req.cid, 0x06, this.initReply(req, req.cid === BROADCAST ? this.cid : req.cid));
      return;
    }
    this.requests.push(req);
    await this.respond(req, this);
  }
}
