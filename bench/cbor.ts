/**
 * CBOR micro-benchmark: the strict scan alone (src/cbor/scan.ts, what runs
 * before any value is built) and the whole decodeCbor (scan + cbor-x + plain
 * Uint8Array copies) of real key replies from the shared vectors: a YubiKey 5
 * getInfo and a packed makeCredential with its certificate.
 */
import { decodeCbor } from '../src/cbor/codec.js';
import { scanItem } from '../src/cbor/scan.js';
import { fromHex } from '../src/util/bytes.js';
import { loadVectors } from '../test/helpers/vectors.js';

export interface CborResult {
  name: string;
  bytes: number;
  /** Microseconds per call. */
  scanP50: number;
  scanP95: number;
  decodeP50: number;
  decodeP95: number;
}

const CASES = [
  ['getInfo (YubiKey 5 NFC)', 'kanidm-getinfo-yubikey-5-nfc'],
  ['makeCredential (packed, x5c)', 'pyfido2-makecredential-packed-yubikey-preview'],
] as const;

function percentile(sorted: Float64Array, p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
}

/** µs per call of `fn`, timed in batches of `inner` calls (one call is below the clock's resolution). */
function time(fn: () => void, samples: number, inner: number): { p50: number; p95: number } {
  for (let i = 0; i < 2000; i++) fn();
  const t = new Float64Array(samples);
  for (let s = 0; s < samples; s++) {
    const start = process.hrtime.bigint();
    for (let i = 0; i < inner; i++) fn();
    t[s] = Number(process.hrtime.bigint() - start) / 1000 / inner;
  }
  t.sort();
  return { p50: percentile(t, 0.5), p95: percentile(t, 0.95) };
}

export function runCborBench(samples = 2000, inner = 20): CborResult[] {
  const vectors = loadVectors('ctap2-responses.json');
  return CASES.map(([name, id]) => {
    const v = vectors.find((x) => x.id === id);
    if (!v) throw new Error(`cbor benchmark: vector ${id} is missing`);
    const bytes = fromHex(v.input);
    const scan = time(() => scanItem(bytes), samples, inner);
    const decode = time(() => decodeCbor(bytes), samples, inner);
    return { name, bytes: bytes.length, scanP50: scan.p50, scanP95: scan.p95, decodeP50: decode.p50, decodeP95: decode.p95 };
  });
}

export function formatCbor(results: CborResult[]): string {
  const lines = ['CBOR: strict scan alone and whole decodeCbor, µs per reply', `  ${'case'.padEnd(30)}${'bytes'.padStart(7)}${'scan p50'.padStart(10)}${'p95'.padStart(8)}${'decode p50'.padStart(12)}${'p95'.padStart(8)}`];
  for (const r of results) {
    lines.push(
      `  ${r.name.padEnd(30)}${String(r.bytes).padStart(7)}${r.scanP50.toFixed(2).padStart(10)}${r.scanP95.toFixed(2).padStart(8)}${r.decodeP50.toFixed(2).padStart(12)}${r.decodeP95.toFixed(2).padStart(8)}`,
    );
  }
  return lines.join('\n');
}
