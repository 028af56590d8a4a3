/**
 * CTAPHID framing benchmark: encode (message → packets) + reassemble (packets
 * → message) of the largest message (7609 bytes, 129 packets) and of a
 * typical 300-byte response (6 packets), next to what USB full-speed HID can
 * carry: one 64-byte report per 1 ms frame, about 64 KB/s each way.
 */
import { encodeMessage, Reassembler } from '../src/ctaphid/framing.js';

export const USB_FS_HID_BYTES_PER_SECOND = 64 * 1000;

export interface FramingResult {
  name: string;
  bytes: number;
  packets: number;
  iterations: number;
  /** Payload throughput of encode + reassemble. */
  mbPerSecond: number;
  /** Microseconds per message (encode + reassemble). */
  p50: number;
  p95: number;
  p99: number;
  /** Time the message spends on a USB full-speed wire (one report per ms), in µs. */
  wireMicros: number;
  /** How many times faster than the wire the framing is (wire time / p50). */
  timesFasterThanWire: number;
}

function roundTrip(cid: number, payload: Uint8Array): number {
  const packets = encodeMessage(cid, 0x10, payload);
  const r = new Reassembler(cid);
  let length = -1;
  for (const p of packets) {
    const m = r.push(p);
    if (m) length = m.payload.length;
  }
  if (length !== payload.length) throw new Error('framing benchmark: reassembly failed');
  return packets.length;
}

function percentile(sorted: Float64Array, p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

export function benchFraming(name: string, bytes: number, iterations: number): FramingResult {
  const payload = new Uint8Array(bytes);
  for (let i = 0; i < bytes; i++) payload[i] = (i * 131 + 7) & 0xff;
  const cid = 0x00220002;
  for (let i = 0; i < Math.min(2000, iterations); i++) roundTrip(cid, payload); // warm-up (JIT)
  const samples = new Float64Array(iterations);
  let packets = 0;
  const start = process.hrtime.bigint();
  for (let i = 0; i < iterations; i++) {
    const t0 = process.hrtime.bigint();
    packets = roundTrip(cid, payload);
    samples[i] = Number(process.hrtime.bigint() - t0) / 1000;
  }
  const totalSeconds = Number(process.hrtime.bigint() - start) / 1e9;
  samples.sort();
  const p50 = percentile(samples, 50);
  const wireMicros = packets * 1000;
  return {
    name,
    bytes,
    packets,
    iterations,
    mbPerSecond: (bytes * iterations) / totalSeconds / 1e6,
    p50,
    p95: percentile(samples, 95),
    p99: percentile(samples, 99),
    wireMicros,
    timesFasterThanWire: wireMicros / p50,
  };
}

export function runFramingBench(): FramingResult[] {
  return [benchFraming('max message (7609 B)', 7609, 20_000), benchFraming('typical response (300 B)', 300, 200_000)];
}

export function formatFraming(results: FramingResult[]): string {
  const usbMb = USB_FS_HID_BYTES_PER_SECOND / 1e6;
  const lines = [
    'CTAPHID framing: encode + reassemble, per message',
    `USB full-speed HID limit: 64 B per 1 ms frame = ${usbMb.toFixed(3)} MB/s each way`,
    '',
    `${'case'.padEnd(28)}${'packets'.padStart(8)}${'MB/s'.padStart(10)}${'x USB'.padStart(9)}${'p50 µs'.padStart(10)}${'p95 µs'.padStart(10)}${'p99 µs'.padStart(10)}${'wire µs'.padStart(10)}`,
  ];
  for (const r of results) {
    lines.push(
      `${r.name.padEnd(28)}${String(r.packets).padStart(8)}${r.mbPerSecond.toFixed(1).padStart(10)}${Math.round(r.mbPerSecond / usbMb).toString().padStart(9)}` +
        `${r.p50.toFixed(2).padStart(10)}${r.p95.toFixed(2).padStart(10)}${r.p99.toFixed(2).padStart(10)}${String(r.wireMicros).padStart(10)}`,
    );
  }
  lines.push('', 'x USB = framing throughput / USB full-speed HID throughput; wire µs = packets × 1 ms frame.');
  return lines.join('\n');
}
