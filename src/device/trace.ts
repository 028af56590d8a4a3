/**
 * A HidPort wrapper that reports every CTAPHID packet as one line (for
 * `ctap --verbose` and for apps that want a frame trace). PIN traffic is
 * redacted: the payload of a CTAP2 clientPin request (command 0x06) and of
 * the reply to it never reaches the trace, only the packet headers do.
 */
import type { HidDeviceInfo, HidPort } from '../hid/port.js';
import type { CallOptions } from '../util/deadline.js';
import { CTAPHID, CTAPHID_COMMAND_NAMES } from '../ctaphid/constants.js';
import { parseHeader } from '../ctaphid/framing.js';
import { CTAP2_CMD } from '../ctap2/commands.js';
import { toHex } from '../util/bytes.js';

export type TraceSink = (line: string) => void;

const hex32 = (n: number): string => n.toString(16).padStart(8, '0');

/** Per-channel, per-direction state: is the message in flight secret? */
class Redactor {
  readonly #secretOut = new Map<number, boolean>();
  readonly #secretIn = new Map<number, boolean>();
  /** Channels whose last request was secret: their reply is secret too. */
  readonly #awaitingSecretReply = new Set<number>();

  describe(dir: '>' | '<', packet: Uint8Array): string {
    const h = parseHeader(packet);
    if (!h) return `${dir} short report (${packet.length} bytes)`;
    const state = dir === '>' ? this.#secretOut : this.#secretIn;
    let secret: boolean;
    let head: string;
    let body: Uint8Array;
    if (h.type === 'init') {
      body = packet.subarray(7, 7 + h.bcnt);
      if (dir === '>') {
        secret = h.cmd === CTAPHID.CBOR && packet[7] === CTAP2_CMD.clientPin;
        if (secret) this.#awaitingSecretReply.add(h.cid);
        else if (h.cmd !== CTAPHID.CANCEL) this.#awaitingSecretReply.delete(h.cid);
      } else {
        secret = this.#awaitingSecretReply.has(h.cid) && h.cmd !== CTAPHID.KEEPALIVE;
        if (secret) this.#awaitingSecretReply.delete(h.cid);
      }
      state.set(h.cid, secret);
      head = `${dir} ${hex32(h.cid)} ${CTAPHID_COMMAND_NAMES[h.cmd] ?? `0x${h.cmd.toString(16)}`} bcnt=${h.bcnt}`;
    } else {
      secret = state.get(h.cid) ?? false;
      body = packet.subarray(5);
      head = `${dir} ${hex32(h.cid)} cont seq=${h.seq}`;
    }
    if (secret) return `${head} [clientPin traffic redacted]`;
    return `${head} ${toHex(trimZeros(body))}`;
  }
}

function trimZeros(b: Uint8Array): Uint8Array {
  let end = b.length;
  while (end > 0 && b[end - 1] === 0) end--;
  return b.subarray(0, end);
}

/** Wrap `port` so each report written (`>`) and read (`<`) is traced to `sink`. */
export function tracePort(port: HidPort, sink: TraceSink): HidPort {
  const r = new Redactor();
  return {
    get info(): HidDeviceInfo {
      return port.info;
    },
    get reportSize(): number {
      return port.reportSize;
    },
    get closed(): boolean {
      return port.closed;
    },
    async write(report: Uint8Array, opts?: CallOptions): Promise<void> {
      sink(r.describe('>', report));
      await port.write(report, opts);
    },
    async read(timeoutMs: number, signal?: AbortSignal): Promise<Uint8Array | null> {
      const report = await port.read(timeoutMs, signal);
      if (report) sink(r.describe('<', report));
      return report;
    },
    close(): Promise<void> {
      return port.close();
    },
  };
}
