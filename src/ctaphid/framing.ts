/**
 * CTAPHID framing with no I/O (CTAP 2.2 §11.2.4): a message becomes one
 * initialization packet and up to 128 continuation packets; reassembly
 * checks CID, SEQ order and the declared length. Packets are `reportSize`
 * bytes without the report-ID byte.
 */
import { CONT_HEADER_SIZE, HID_REPORT_SIZE, INIT_HEADER_SIZE, MAX_MESSAGE_SIZE, TYPE_INIT } from './constants.js';
import { CtapHidError } from './errors.js';

export interface CtapHidMessage {
  cid: number;
  /** 7-bit command (without the TYPE_INIT bit). */
  cmd: number;
  payload: Uint8Array;
}

export function maxMessageSize(reportSize = HID_REPORT_SIZE): number {
  return reportSize - INIT_HEADER_SIZE + 128 * (reportSize - CONT_HEADER_SIZE);
}

/** Split a message into packets, zero-padded to `reportSize`. */
export function encodeMessage(cid: number, cmd: number, payload: Uint8Array, reportSize = HID_REPORT_SIZE): Uint8Array[] {
  if (payload.length > maxMessageSize(reportSize) || payload.length > 0xffff) {
    throw new CtapHidError('MESSAGE_TOO_LONG', `a CTAPHID message holds at most ${maxMessageSize(reportSize)} bytes, got ${payload.length}`);
  }
  const packets: Uint8Array[] = [];
  const first = new Uint8Array(reportSize);
  writeCid(first, cid);
  first[4] = TYPE_INIT | (cmd & 0x7f);
  first[5] = (payload.length >> 8) & 0xff;
  first[6] = payload.length & 0xff;
  let offset = Math.min(payload.length, reportSize - INIT_HEADER_SIZE);
  first.set(payload.subarray(0, offset), INIT_HEADER_SIZE);
  packets.push(first);
  let seq = 0;
  while (offset < payload.length) {
    const p = new Uint8Array(reportSize);
    writeCid(p, cid);
    p[4] = seq++;
    const n = Math.min(payload.length - offset, reportSize - CONT_HEADER_SIZE);
    p.set(payload.subarray(offset, offset + n), CONT_HEADER_SIZE);
    offset += n;
    packets.push(p);
  }
  return packets;
}

export function readCid(packet: Uint8Array): number {
  return ((packet[0]! << 24) | (packet[1]! << 16) | (packet[2]! << 8) | packet[3]!) >>> 0;
}

function writeCid(packet: Uint8Array, cid: number): void {
  packet[0] = (cid >>> 24) & 0xff;
  packet[1] = (cid >>> 16) & 0xff;
  packet[2] = (cid >>> 8) & 0xff;
  packet[3] = cid & 0xff;
}

export type PacketHeader =
  | { cid: number; type: 'init'; cmd: number; bcnt: number }
  | { cid: number; type: 'cont'; seq: number };

/** Parse a packet's header; null when the packet is too short to have one. */
export function parseHeader(packet: Uint8Array): PacketHeader | null {
  if (packet.length < CONT_HEADER_SIZE) return null;
  const cid = readCid(packet);
  const b4 = packet[4]!;
  if (b4 & TYPE_INIT) {
    if (packet.length < INIT_HEADER_SIZE) return null;
    return { cid, type: 'init', cmd: b4 & 0x7f, bcnt: (packet[5]! << 8) | packet[6]! };
  }
  return { cid, type: 'cont', seq: b4 };
}

/**
 * Reassembles one message from packets on one channel. Feed it packets that
 * belong to the channel (the caller filters others out); `push` returns the
 * message when complete, else null, and throws CtapHidError PROTOCOL when the
 * device breaks the rules (the message is then lost, not repaired).
 */
export class Reassembler {
  readonly cid: number;
  readonly maxLength: number;
  readonly reportSize: number;
  #cmd = -1;
  #buffer: Uint8Array | null = null;
  #filled = 0;
  #nextSeq = 0;

  constructor(cid: number, maxLength = MAX_MESSAGE_SIZE, reportSize = HID_REPORT_SIZE) {
    this.cid = cid;
    this.maxLength = Math.min(maxLength, maxMessageSize(reportSize));
    this.reportSize = reportSize;
  }

  /** The command of the message being reassembled (-1 when idle). */
  get cmd(): number {
    return this.#cmd;
  }

  /** BCNT of the message being reassembled (0 when idle). */
  get declaredLength(): number {
    return this.#buffer?.length ?? 0;
  }

  /** True after an init packet and before the message completes. */
  get inProgress(): boolean {
    return this.#buffer !== null;
  }

  reset(): void {
    this.#buffer = null;
    this.#filled = 0;
    this.#nextSeq = 0;
    this.#cmd = -1;
  }

  push(packet: Uint8Array): CtapHidMessage | null {
    const h = parseHeader(packet);
    if (!h) throw this.#fail(`short report of ${packet.length} bytes`);
    if (h.cid !== this.cid) throw this.#fail(`packet on channel 0x${hex8(h.cid)} while reading channel 0x${hex8(this.cid)}`);
    if (h.type === 'init') {
      if (this.#buffer) throw this.#fail('a new initialization packet arrived before the message was complete');
      if (h.bcnt > this.maxLength) throw this.#fail(`declared length ${h.bcnt} exceeds the maximum of ${this.maxLength}`);
      const n = Math.min(h.bcnt, packet.length - INIT_HEADER_SIZE);
      // A report shorter than the report size may only end a message (some
      // simulators do not pad); in the middle it would shift every later byte.
      if (n < h.bcnt && packet.length < this.reportSize) throw this.#fail(`short report of ${packet.length} bytes in the middle of a message`);
      if (n === h.bcnt) return { cid: h.cid, cmd: h.cmd, payload: packet.slice(INIT_HEADER_SIZE, INIT_HEADER_SIZE + n) };
      this.#buffer = new Uint8Array(h.bcnt);
      this.#buffer.set(packet.subarray(INIT_HEADER_SIZE, INIT_HEADER_SIZE + n));
      this.#filled = n;
      this.#cmd = h.cmd;
      this.#nextSeq = 0;
      return null;
    }
    if (!this.#buffer) throw this.#fail(`continuation packet (SEQ ${h.seq}) without an initialization packet`);
    if (h.seq !== this.#nextSeq) throw this.#fail(`expected SEQ ${this.#nextSeq}, got ${h.seq}`);
    this.#nextSeq++;
    const n = Math.min(this.#buffer.length - this.#filled, packet.length - CONT_HEADER_SIZE);
    if (this.#filled + n < this.#buffer.length && packet.length < this.reportSize) {
      throw this.#fail(`short report of ${packet.length} bytes in the middle of a message`);
    }
    this.#buffer.set(packet.subarray(CONT_HEADER_SIZE, CONT_HEADER_SIZE + n), this.#filled);
    this.#filled += n;
    if (this.#filled < this.#buffer.length) {
      if (this.#nextSeq > 0x7f) throw this.#fail('SEQ ran past 127 before the message was complete');
      return null;
    }
    const message = { cid: this.cid, cmd: this.#cmd, payload: this.#buffer };
    this.reset();
    return message;
  }

  #fail(reason: string): CtapHidError {
    this.reset();
    return new CtapHidError('PROTOCOL', `CTAPHID framing error: ${reason}`);
  }
}

function hex8(n: number): string {
  return n.toString(16).padStart(8, '0');
}
