/** `ctap bench`: per-command latency histogram against the chosen device. */
import { ClientPin } from '../../ctap2/client-pin.js';
import { getOption } from '../../ctap2/get-info.js';
import { randomBytes } from '../../crypto/primitives.js';
import { intOption } from '../args.js';
import { noMoreOperands, type CommandDef } from '../context.js';

/** Histogram bucket upper bounds in ms (a USB full-speed frame is 1 ms). */
const BUCKETS = [0.5, 1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, Infinity];

interface Stats {
  command: string;
  n: number;
  minMs: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  maxMs: number;
  meanMs: number;
  histogram: { leMs: number | null; count: number }[];
}

const round = (x: number): number => Math.round(x * 1000) / 1000;

function stats(command: string, samples: number[]): Stats {
  const s = [...samples].sort((a, b) => a - b);
  const q = (p: number): number => s[Math.min(s.length - 1, Math.floor(p * s.length))]!;
  return {
    command,
    n: s.length,
    minMs: round(s[0]!),
    p50Ms: round(q(0.5)),
    p90Ms: round(q(0.9)),
    p99Ms: round(q(0.99)),
    maxMs: round(s[s.length - 1]!),
    meanMs: round(s.reduce((a, b) => a + b, 0) / s.length),
    histogram: BUCKETS.map((le, i) => ({
      leMs: Number.isFinite(le) ? le : null,
      count: s.filter((x) => x <= le && (i === 0 || x > BUCKETS[i - 1]!)).length,
    })).filter((b) => b.count > 0),
  };
}

export const benchCommand: CommandDef = {
  name: 'bench',
  summary: 'latency of each command against the chosen key (histogram, percentiles)',
  usage: 'bench [--iterations N] [--json]',
  details: `Runs commands that need no touch: CTAPHID PING (57 and 1024 bytes), getInfo, and
clientPIN getPINRetries / getKeyAgreement where the key has a PIN capability.
A USB full-speed key moves one 64-byte report per 1 ms frame each way, so PING of
1024 bytes cannot beat about 2 x 18 ms on real hardware.
Unlike other commands, --timeout here bounds each call, not the whole run (-n picks its length).`,
  options: { iterations: { type: 'string', short: 'n' } },
  async run(ctx) {
    noMoreOperands(ctx, 0);
    const n = intOption(ctx.args.values, 'iterations', 1, 100_000) ?? 50;
    const d = await ctx.device();
    // the one command whose length the user picks (-n): each call gets --timeout, not a share of it
    const opts = { signal: ctx.signal, timeoutMs: ctx.args.globals.timeoutMs };
    const tasks: [string, () => Promise<unknown>][] = [];
    const small = randomBytes(57);
    const big = randomBytes(1024);
    tasks.push(['ping 57B (1 report)', () => d.channel.ping(small, opts)]);
    tasks.push(['ping 1024B (18 reports)', () => d.channel.ping(big, opts)]);
    if (d.init.capabilities.cbor) {
      const info = await d.session.getInfo(opts);
      tasks.push(['getInfo', () => d.session.getInfo({ ...opts, refresh: true })]);
      if (getOption(info, 'clientPin') !== undefined) {
        const cp = new ClientPin(d.session);
        const protocol = await cp.protocol(opts);
        tasks.push(['clientPin getPINRetries', () => cp.getPinRetries(opts)]);
        tasks.push(['clientPin getKeyAgreement', () => cp.getKeyAgreement(protocol, opts)]);
      }
    }
    const results: Stats[] = [];
    for (const [name, task] of tasks) {
      ctx.out.status(`${name}: ${n} runs…`);
      await task(); // warm-up
      const samples: number[] = [];
      for (let i = 0; i < n; i++) {
        const t0 = performance.now();
        await task();
        samples.push(performance.now() - t0);
      }
      results.push(stats(name, samples));
    }
    ctx.out.result({ device: d.info.path, iterations: n, commands: results }, () => {
      ctx.out.line(`${d.info.product ?? d.info.path}: ${n} runs per command (ms)`);
      ctx.out.line();
      ctx.out.table(
        ['COMMAND', 'MIN', 'P50', 'P90', 'P99', 'MAX', 'MEAN'],
        results.map((r) => [r.command, ...[r.minMs, r.p50Ms, r.p90Ms, r.p99Ms, r.maxMs, r.meanMs].map((x) => x.toFixed(2))]),
      );
      for (const r of results) {
        ctx.out.line();
        ctx.out.line(r.command);
        const max = Math.max(...r.histogram.map((b) => b.count));
        for (const b of r.histogram) {
          const label = b.leMs === null ? '> 1000' : `<= ${b.leMs}`;
          ctx.out.line(`  ${label.padStart(8)} ms  ${'#'.repeat(Math.max(1, Math.round((b.count / max) * 40)))} ${b.count}`);
        }
      }
    });
    return undefined;
  },
};
