/**
 * Benchmark runner (`npm run bench [-- NAME] [--json]`). Benchmarks never run
 * as part of the test suite.
 *
 *   npm run bench                     the default set: framing, channel, cbor
 *   npm run bench -- framing          one benchmark by name (also channel, cbor)
 *   npm run bench -- clients [opts]   ours vs python-fido2 vs libfido2 (bench/clients.ts;
 *                                     opts: --iterations N --warmup N --batch N)
 *
 * `--json` prints the raw results instead of tables.
 */
import { cpus, loadavg } from 'node:os';
import { formatCbor, runCborBench } from './cbor.js';
import { formatChannel, runChannelBench } from './channel.js';
import { formatFraming, runFramingBench } from './framing.js';

interface Benchmark {
  /** Part of the default set (`npm run bench` without a name). */
  default: boolean;
  describe: string;
  /** Runs it with the arguments after its name; returns [raw result, table]. */
  run(args: string[]): Promise<[unknown, string]>;
}

const BENCHMARKS: Record<string, Benchmark> = {
  framing: {
    default: true,
    describe: 'CTAPHID encode + reassemble of a 7609-byte and a 300-byte message',
    run: async () => {
      const r = runFramingBench();
      return [r, formatFraming(r)];
    },
  },
  channel: {
    default: true,
    describe: 'PING round trips through CtapHidChannel over an in-memory echo port',
    run: async () => {
      const r = await runChannelBench();
      return [r, formatChannel(r)];
    },
  },
  cbor: {
    default: true,
    describe: 'strict CBOR scan and decodeCbor of real getInfo / makeCredential replies',
    run: async () => {
      const r = runCborBench();
      return [r, formatCbor(r)];
    },
  },
  clients: {
    default: false,
    describe: 'ours vs python-fido2 vs libfido2 against one `ctap virtual serve --udp` (about 15-20 s)',
    run: async (args) => {
      // Loaded only when asked for: it starts processes and compiles C.
      const { formatClients, parseClientsArgs, runClientsBench } = await import('./clients.js');
      const { options } = parseClientsArgs(args);
      const r = await runClientsBench(options, (line) => process.stderr.write(`${line}\n`));
      return [r, formatClients(r)];
    },
  },
};

function usage(): string {
  const names = Object.entries(BENCHMARKS).map(([n, b]) => `  ${n.padEnd(9)}${b.default ? '(default) ' : ''}${b.describe}`);
  return ['usage: npm run bench [-- NAME [options]] [--json]', ...names].join('\n');
}

const argv = process.argv.slice(2);
const json = argv.includes('--json');
const rest = argv.filter((a) => a !== '--json');
if (rest.includes('--help') || rest.includes('-h')) {
  process.stdout.write(`${usage()}\n`);
  process.exit(0);
}
const name = rest[0] !== undefined && !rest[0].startsWith('-') ? rest[0] : undefined;
if (name !== undefined && !(name in BENCHMARKS)) {
  process.stderr.write(`bench: unknown benchmark ${JSON.stringify(name)}\n${usage()}\n`);
  process.exit(2);
}
const args = name === undefined ? rest : rest.slice(1);
if (name !== 'clients' && args.length) {
  process.stderr.write(`bench: ${name ?? 'the default set'} takes no options (got ${args.join(' ')})\n${usage()}\n`);
  process.exit(2);
}
const selected = name === undefined ? Object.keys(BENCHMARKS).filter((n) => BENCHMARKS[n]!.default) : [name];

const machine =
  `${cpus().length} CPU(s) ${cpus()[0]?.model ?? ''}`.trim() +
  `, Node ${process.versions.node}, ${process.platform}-${process.arch}, load average ${loadavg()[0]!.toFixed(1)}`;
const results: Record<string, unknown> = {};
const tables: string[] = [];
for (const n of selected) {
  try {
    const [raw, table] = await BENCHMARKS[n]!.run(args);
    results[n] = raw;
    tables.push(table);
  } catch (e) {
    process.stderr.write(`bench ${n}: ${(e as Error).message}\n`);
    process.exit(n === 'clients' && /takes a whole number|unknown option/.test((e as Error).message) ? 2 : 1);
  }
}
if (json) process.stdout.write(`${JSON.stringify({ machine, ...results }, null, 2)}\n`);
else process.stdout.write(`${machine}\n\n${tables.join('\n\n')}\n`);
