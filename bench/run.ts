/**
 * Benchmark runner (`npm run bench`): runs every benchmark in bench/ and
 * prints tables; `--json` prints the raw results instead. Benchmarks never
 * run as part of the test suite.
 */
import { cpus, loadavg } from 'node:os';
import { formatChannel, runChannelBench } from './channel.js';
import { formatFraming, runFramingBench } from './framing.js';

const json = process.argv.includes('--json');
const machine =
  `${cpus().length} CPU(s) ${cpus()[0]?.model ?? ''}`.trim() +
  `, Node ${process.versions.node}, ${process.platform}-${process.arch}, load average ${loadavg()[0]!.toFixed(1)}`;
const framing = runFramingBench();
const channel = await runChannelBench();
if (json) {
  process.stdout.write(`${JSON.stringify({ machine, framing, channel }, null, 2)}\n`);
} else {
  process.stdout.write(`${machine}\n\n${formatFraming(framing)}\n\n${formatChannel(channel)}\n`);
}
