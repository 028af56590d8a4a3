/**
 * Benchmark runner (`npm run bench`): runs every benchmark in bench/ and
 * prints a table; `--json` prints the raw results instead. Benchmarks never
 * run as part of the test suite.
 */
import { cpus } from 'node:os';
import { formatFraming, runFramingBench } from './framing.js';

const json = process.argv.includes('--json');
const machine = `${cpus().length} CPU(s) ${cpus()[0]?.model ?? ''}`.trim() + `, Node ${process.versions.node}, ${process.platform}-${process.arch}`;
const framing = runFramingBench();
if (json) {
  process.stdout.write(`${JSON.stringify({ machine, framing }, null, 2)}\n`);
} else {
  process.stdout.write(`${machine}\n\n${formatFraming(framing)}\n`);
}
