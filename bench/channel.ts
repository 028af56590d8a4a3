/**
 * CtapHidChannel overhead: PING round trips over an in-memory port that
 * echoes every report at once (for PING the reply packets are byte for byte
 * the request packets). What is left is the channel's own cost per
 * transaction: queueing, the deadline, framing both ways, the CID filter,
 * draining stale reports. A real key adds the wire (1 ms per report each way
 * on USB full speed) and its own processing.
 */
import { CtapHidChannel } from '../src/ctaphid/channel.js';
import type { HidDeviceInfo, HidPort } from '../src/hid/port.js';

/** Echoes reports; answers CTAPHID_INIT on the broadcast channel. */
class EchoPort implements HidPort {
  readonly info: HidDeviceInfo = { path: 'bench:echo', transport: 'fake' };
  readonly reportSize = 64;
  closed = false;
  #inbox: Uint8Array[] = [];
  #waiter: ((r: Uint8Array | null) => void) | null = null;

  async write(report: Uint8Array): Promise<void> {
    let reply = report;
    if (report[4] === 0x86) {
      reply = new Uint8Array(64);
      reply.set(report.subarray(0, 4));
      reply.set([0x86, 0, 17], 4);
      reply.set(report.subarray(7, 15), 7);
      reply.set([0, 0, 0, 1, 2, 1, 0, 0, 0x05], 15);
    }
    if (this.#waiter) {
      const w = this.#waiter;
      this.#waiter = null;
      w(reply);
    } else this.#inbox.push(reply);
  }

  read(timeoutMs: number): Promise<Uint8Array | null> {
    const r = this.#inbox.shift();
    if (r) return Promise.resolve(r);
    if (timeoutMs <= 0) return Promise.resolve(null);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#waiter = null;
        resolve(null);
      }, timeoutMs);
      this.#waiter = (report) => {
        clearTimeout(timer);
        resolve(report);
      };
    });
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}

export interface ChannelResult {
  name: string;
  bytes: number;
  /** Reports per direction. */
  packets: number;
  iterations: number;
  p50: number;
  p95: number;
  p99: number;
  /** Request + reply on a USB full-speed wire (1 ms per report each way), in µs. */
  wireMicros: number;
}

async function benchPing(channel: CtapHidChannel, name: string, bytes: number, iterations: number): Promise<ChannelResult> {
  const data = new Uint8Array(bytes).map((_, i) => i & 0xff);
  for (let i = 0; i < Math.min(500, iterations); i++) await channel.ping(data);
  const samples = new Float64Array(iterations);
  for (let i = 0; i < iterations; i++) {
    const t0 = process.hrtime.bigint();
    await channel.ping(data);
    samples[i] = Number(process.hrtime.bigint() - t0) / 1000;
  }
  samples.sort();
  const at = (p: number): number => samples[Math.min(samples.length - 1, Math.floor((p / 100) * samples.length))]!;
  const packets = bytes <= 57 ? 1 : 1 + Math.ceil((bytes - 57) / 59);
  return { name, bytes, packets, iterations, p50: at(50), p95: at(95), p99: at(99), wireMicros: 2 * packets * 1000 };
}

export async function runChannelBench(): Promise<ChannelResult[]> {
  const channel = await CtapHidChannel.open(new EchoPort());
  const results = [
    await benchPing(channel, 'PING 300 B round trip', 300, 5_000),
    await benchPing(channel, 'PING 7609 B round trip', 7609, 1_000),
  ];
  await channel.close();
  return results;
}

export function formatChannel(results: ChannelResult[]): string {
  const lines = [
    'CtapHidChannel: PING over an in-memory echo port (the channel\'s own cost per transaction)',
    '',
    `${'case'.padEnd(26)}${'packets'.padStart(8)}${'p50 µs'.padStart(10)}${'p95 µs'.padStart(10)}${'p99 µs'.padStart(10)}${'wire µs'.padStart(10)}${'% of wire'.padStart(11)}`,
  ];
  for (const r of results) {
    lines.push(
      `${r.name.padEnd(26)}${String(r.packets).padStart(8)}${r.p50.toFixed(1).padStart(10)}${r.p95.toFixed(1).padStart(10)}${r.p99.toFixed(1).padStart(10)}` +
        `${String(r.wireMicros).padStart(10)}${((100 * r.p50) / r.wireMicros).toFixed(2).padStart(11)}`,
    );
  }
  lines.push('', 'packets = reports each way; wire µs = 2 × packets × 1 ms (USB full-speed HID, request + reply).');
  return lines.join('\n');
}
