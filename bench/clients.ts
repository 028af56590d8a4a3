/**
 * Client comparison (DESIGN.md "Performance, by construction"): the same
 * operations, against ONE `ctap virtual serve --udp` process (same key, same
 * UDP path), from
 *
 *   ours          this library in this process (openDevice('udp:…?local=0'))
 *   python-fido2  scripts/bench/pyfido2_bench.py under /usr/bin/python3
 *   libfido2      scripts/bench/libfido2_bench.c, compiled here with cc
 *   virtual       reference: this library against the in-process virtual key
 *                 (openDevice('virtual'): no UDP, no second process)
 *
 * Clients take turns in rounds (A B C D, B C D A, …; a batch of a few
 * iterations per turn, the order rotated every round) so the noise of a shared
 * machine hits all of them alike. The drivers time each call themselves
 * (monotonic clock around the library call only); talking to them is not timed.
 *
 *   node --import tsx bench/clients.ts [--iterations N] [--warmup N] [--batch N] [--json]
 */
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface, type Interface } from 'node:readline';
import { pathToFileURL } from 'node:url';
import { getAssertion } from '../src/ctap2/get-assertion.js';
import { makeCredential, type MakeCredentialRequest } from '../src/ctap2/make-credential.js';
import type { PublicKeyCredentialDescriptor } from '../src/ctap2/entities.js';
import { openDevice, type OpenDeviceOptions, type OpenedDevice } from '../src/device/open.js';
import { REPO_ROOT, startVirtualServe } from '../test/helpers/virtual-serve.js';

export const OPS = ['getInfo', 'ping1k', 'ping7k', 'makeCredential', 'getAssertion'] as const;
export type Op = (typeof OPS)[number];
const PING_BYTES: Partial<Record<Op, number>> = { ping1k: 1024, ping7k: 7168 };
/** USB full-speed HID: one 64-byte report per 1 ms frame in each direction. */
const USB_FRAME_MS = 1;
const USB_KB_PER_S = 64;
const PYTHON = '/usr/bin/python3';

export interface ClientsOptions {
  /** Timed iterations per operation and client. */
  iterations: number;
  /** Untimed iterations per operation and client before the rounds. */
  warmup: number;
  /** Iterations per client turn within a round. */
  batch: number;
}

export const DEFAULT_CLIENTS_OPTIONS: ClientsOptions = { iterations: 1000, warmup: 50, batch: 20 };

export interface ClientStats {
  client: string;
  n: number;
  p50: number;
  p95: number;
  p99: number;
  mean: number;
  opsPerSec: number;
  /** CPU time (user + system) of the client's process per call, in ms: what the client itself costs. */
  cpuPerOp: number;
  /** ours p50 ÷ this client's p50 (below 1: ours is faster). Absent for ours. */
  oursOverThisP50?: number | undefined;
  oursOverThisP95?: number | undefined;
  /** PING only: payload bytes each way ÷ p50 round trip, in KB/s (1 KB = 1000 B). */
  kbPerSecEachWay?: number | undefined;
}

export interface OpResult {
  op: Op;
  /** Reports per direction, counted on our client's frame trace. */
  requestPackets: number;
  replyPackets: number;
  /** The floor USB full speed puts under one round trip: (request + reply packets) × 1 ms. */
  usbFloorMs: number;
  /** PING only: payload each way ÷ usbFloorMs. */
  usbKbPerSecEachWay?: number | undefined;
  results: ClientStats[];
  /** Clients that cannot do this operation (e.g. libfido2 has no public PING call). */
  unsupported: string[];
}

export interface ClientsReport {
  date: string;
  machine: string;
  options: ClientsOptions;
  clients: { name: string; description: string }[];
  skipped: { client: string; reason: string }[];
  failed: { client: string; op: string; error: string }[];
  ops: OpResult[];
  wallSeconds: number;
}

interface Batch {
  samples: number[];
  cpuMicros: number;
}

interface Client {
  readonly name: string;
  readonly description: string;
  setup(): Promise<void>;
  /** Microseconds per call and the client process's CPU time over them, or 'unsupported'. */
  run(op: Op, n: number): Promise<Batch | 'unsupported'>;
  close(): Promise<void>;
}

const RP = { id: 'bench.example.com', name: 'Bench RP' };
const CDH = Uint8Array.from({ length: 32 }, (_, i) => i);
const pingData = (bytes: number): Uint8Array => Uint8Array.from({ length: bytes }, (_, i) => i & 0xff);

/** This library, in this process, over any device spec. */
class OurClient implements Client {
  #device: OpenedDevice | undefined;
  #allow: PublicKeyCredentialDescriptor[] = [];
  readonly #pings = new Map<Op, Uint8Array>(Object.entries(PING_BYTES).map(([op, n]) => [op as Op, pingData(n)]));
  readonly #request: MakeCredentialRequest;

  constructor(
    readonly name: string,
    readonly description: string,
    readonly spec: string,
    readonly openOptions: OpenDeviceOptions = {},
  ) {
    this.#request = {
      clientDataHash: CDH,
      rp: RP,
      user: { id: new TextEncoder().encode(`bench-user-${name}`), name: 'bench', displayName: 'Bench' },
      pubKeyCredParams: [{ type: 'public-key', alg: -7 }],
    };
  }

  async setup(): Promise<void> {
    this.#device = await openDevice(this.spec, this.openOptions);
    await this.#device.session.getInfo();
    const made = await makeCredential(this.#device.session, this.#request);
    this.#allow = [{ type: 'public-key', id: made.authData.attestedCredentialData!.credentialId }];
  }

  #call(op: Op): () => Promise<unknown> {
    const d = this.#device!;
    switch (op) {
      case 'getInfo':
        return () => d.session.getInfo({ refresh: true });
      case 'makeCredential':
        return () => makeCredential(d.session, this.#request);
      case 'getAssertion':
        return () => getAssertion(d.session, { rpId: RP.id, clientDataHash: CDH, allowList: this.#allow });
      case 'ping1k':
      case 'ping7k': {
        const data = this.#pings.get(op)!;
        return async () => {
          const echo = await d.channel.ping(data);
          if (echo.length !== data.length) throw new Error('PING echo differs');
        };
      }
    }
  }

  async run(op: Op, n: number): Promise<Batch> {
    const fn = this.#call(op);
    const samples = new Array<number>(n);
    const cpu0 = process.cpuUsage();
    for (let i = 0; i < n; i++) {
      const t0 = process.hrtime.bigint();
      await fn();
      samples[i] = Number(process.hrtime.bigint() - t0) / 1000;
    }
    const cpu = process.cpuUsage(cpu0);
    return { samples, cpuMicros: cpu.user + cpu.system };
  }

  async close(): Promise<void> {
    await this.#device?.close();
  }
}

/** A driver program (scripts/bench/*) speaking the line protocol described there. */
class DriverClient implements Client {
  readonly #child: ChildProcessWithoutNullStreams;
  readonly #lines: Interface;
  readonly #pending: ((line: string | null) => void)[] = [];
  readonly #queued: string[] = [];
  #stderr = '';
  #ended = false;

  constructor(
    readonly name: string,
    public description: string,
    command: string,
    args: string[],
  ) {
    this.#child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    this.#child.stderr.on('data', (d: Buffer) => (this.#stderr = (this.#stderr + d.toString()).slice(-2000)));
    this.#child.on('error', (e) => (this.#stderr += String(e)));
    this.#lines = createInterface({ input: this.#child.stdout });
    this.#lines.on('line', (line) => {
      const waiter = this.#pending.shift();
      if (waiter) waiter(line);
      else this.#queued.push(line);
    });
    this.#lines.on('close', () => {
      this.#ended = true;
      for (const w of this.#pending.splice(0)) w(null);
    });
  }

  #next(): Promise<string> {
    const queued = this.#queued.shift();
    if (queued !== undefined) return Promise.resolve(queued);
    if (this.#ended) return Promise.reject(new Error(`${this.name} driver exited: ${this.#stderr.trim()}`));
    return new Promise((resolve, reject) =>
      this.#pending.push((line) => (line === null ? reject(new Error(`${this.name} driver exited: ${this.#stderr.trim()}`)) : resolve(line))),
    );
  }

  async #ask(command: string): Promise<string> {
    this.#child.stdin.write(`${command}\n`);
    const answer = await this.#next();
    if (answer.startsWith('err')) throw new Error(answer.slice(4));
    return answer;
  }

  async setup(): Promise<void> {
    const ready = await this.#next();
    if (!ready.startsWith('ready ')) throw new Error(`${this.name} driver: ${ready}`);
    this.description = `${ready.slice(6)} (${this.description})`;
    await this.#ask('setup');
  }

  async run(op: Op, n: number): Promise<Batch | 'unsupported'> {
    const answer = await this.#ask(`run ${op} ${n}`);
    if (answer === 'unsupported') return 'unsupported';
    const [cpuMicros, ...samples] = answer.split(' ').slice(1).map(Number);
    if (cpuMicros === undefined || samples.length !== n || [cpuMicros, ...samples].some((x) => !Number.isFinite(x))) {
      throw new Error(`${this.name} driver: malformed answer`);
    }
    return { samples, cpuMicros };
  }

  async close(): Promise<void> {
    if (this.#child.exitCode === null && !this.#ended) {
      this.#child.stdin.end('quit\n');
      const exited = new Promise<void>((resolve) => this.#child.once('exit', () => resolve()));
      const timer = setTimeout(() => this.#child.kill('SIGKILL'), 3000);
      await exited;
      clearTimeout(timer);
    }
  }
}

function pythonClient(port: number): Client | { skip: string } {
  const probe = spawnSync(PYTHON, ['-c', 'import fido2; print(fido2.__version__)'], { encoding: 'utf8' });
  if (probe.error || probe.status !== 0) return { skip: 'python3-fido2 is not installed for /usr/bin/python3 (apt-get install python3-fido2)' };
  return new DriverClient('python-fido2', `${PYTHON}, fido2.ctap2.Ctap2`, PYTHON, [join(REPO_ROOT, 'scripts/bench/pyfido2_bench.py'), '127.0.0.1', String(port)]);
}

function libfido2Client(port: number, workdir: string): Client | { skip: string } {
  const pc = spawnSync('pkg-config', ['--cflags', '--libs', 'libfido2'], { encoding: 'utf8' });
  const version = spawnSync('pkg-config', ['--modversion', 'libfido2'], { encoding: 'utf8' });
  if (pc.error || pc.status !== 0) return { skip: 'libfido2-dev (and pkg-config) is not installed (apt-get install libfido2-dev pkg-config)' };
  const binary = join(workdir, 'libfido2_bench');
  const cc = spawnSync(
    'cc',
    ['-O2', '-Wall', '-Wextra', '-Werror', `-DBENCH_LIBFIDO2_VERSION="${version.stdout.trim()}"`, '-o', binary, join(REPO_ROOT, 'scripts/bench/libfido2_bench.c'), ...pc.stdout.trim().split(/\s+/)],
    { encoding: 'utf8' },
  );
  if (cc.error) return { skip: 'no C compiler (apt-get install gcc)' };
  if (cc.status !== 0) return { skip: `scripts/bench/libfido2_bench.c does not compile: ${cc.stderr.trim()}` };
  return new DriverClient('libfido2', 'custom UDP I/O, fido_dev_* calls', binary, ['127.0.0.1', String(port)]);
}

/** Count the reports each way for one call of each operation (a separate, traced device: tracing is not free). */
async function countPackets(spec: string): Promise<Map<Op, { request: number; reply: number }>> {
  let request = 0;
  let reply = 0;
  const client = new OurClient('packet-count', '', spec, {
    // The trace prints one line per whole message with its length (bcnt=N); the reports it took
    // follow from the CTAPHID framing: 57 payload bytes in the init packet, 59 per continuation.
    trace: (line) => {
      const bcnt = /\bbcnt=(\d+)/.exec(line);
      if (!bcnt) return;
      const reports = 1 + Math.ceil(Math.max(0, Number(bcnt[1]) - 57) / 59);
      if (line.startsWith('>')) request += reports;
      else if (line.startsWith('<') && !line.includes('KEEPALIVE')) reply += reports;
    },
  });
  const counts = new Map<Op, { request: number; reply: number }>();
  try {
    await client.setup();
    for (const op of OPS) {
      request = reply = 0;
      await client.run(op, 1);
      counts.set(op, { request, reply });
    }
  } finally {
    await client.close();
  }
  return counts;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

function stats(client: string, samples: number[], cpuMicros: number): ClientStats {
  const s = [...samples].sort((a, b) => a - b);
  const mean = s.reduce((a, b) => a + b, 0) / s.length;
  return { client, n: s.length, p50: percentile(s, 50) / 1000, p95: percentile(s, 95) / 1000, p99: percentile(s, 99) / 1000, mean: mean / 1000, opsPerSec: 1e6 / mean, cpuPerOp: cpuMicros / s.length / 1000 };
}

function machine(): string {
  return (
    `${cpus().length} CPU(s) ${cpus()[0]?.model ?? ''}`.trim() +
    `, Node ${process.versions.node}, ${process.platform}-${process.arch}, load average ${loadavg()[0]!.toFixed(1)}`
  );
}

export async function runClientsBench(options: ClientsOptions = DEFAULT_CLIENTS_OPTIONS, log: (line: string) => void = () => undefined): Promise<ClientsReport> {
  const started = Date.now();
  const workdir = mkdtempSync(join(tmpdir(), 'ctap-bench-'));
  const served = await startVirtualServe();
  const udpSpec = `udp:127.0.0.1:${served.port}?local=0`;
  const skipped: ClientsReport['skipped'] = [];
  const failed: ClientsReport['failed'] = [];
  const clients: Client[] = [new OurClient('ours', `ctap-bridge over UDP, ${udpSpec.replace(/:\d+\?/, ':PORT?')}`, udpSpec)];
  for (const c of [pythonClient(served.port), libfido2Client(served.port, workdir)]) {
    if ('skip' in c) skipped.push({ client: c.skip.startsWith('python') ? 'python-fido2' : 'libfido2', reason: c.skip });
    else clients.push(c);
  }
  clients.push(new OurClient('virtual', 'reference: ctap-bridge against the in-process virtual key (no UDP)', 'virtual'));
  const samples = new Map<string, number[]>();
  const unsupported = new Map<Op, Set<string>>(OPS.map((op) => [op, new Set<string>()]));
  let active: Client[] = [];
  try {
    for (const c of clients) {
      try {
        await c.setup();
        active.push(c);
      } catch (e) {
        skipped.push({ client: c.name, reason: `could not attach: ${(e as Error).message}` });
        await c.close().catch(() => undefined);
      }
    }
    log(`clients: ${active.map((c) => c.name).join(', ')}; counting packets`);
    const packets = await countPackets(udpSpec);

    const cpu = new Map<string, number>();
    const turn = async (c: Client, op: Op, n: number, keep: boolean): Promise<void> => {
      if (unsupported.get(op)!.has(c.name)) return;
      try {
        const r = await c.run(op, n);
        if (r === 'unsupported') unsupported.get(op)!.add(c.name);
        else if (keep) {
          const key = `${op}|${c.name}`;
          const kept = samples.get(key) ?? [];
          for (const x of r.samples) kept.push(x);
          samples.set(key, kept);
          cpu.set(key, (cpu.get(key) ?? 0) + r.cpuMicros);
        }
      } catch (e) {
        failed.push({ client: c.name, op, error: (e as Error).message });
        active = active.filter((x) => x !== c);
      }
    };
    log(`warm-up: ${options.warmup} per operation and client`);
    if (options.warmup > 0) for (const op of OPS) for (const c of [...active]) await turn(c, op, options.warmup, false);
    const rounds = Math.ceil(options.iterations / options.batch);
    for (let r = 0; r < rounds; r++) {
      const n = Math.min(options.batch, options.iterations - r * options.batch);
      for (const op of OPS) {
        const order = active.map((_, i) => active[(i + r) % active.length]!);
        for (const c of order) await turn(c, op, n, true);
      }
      if ((r + 1) % Math.max(1, Math.floor(rounds / 4)) === 0) log(`round ${r + 1}/${rounds}`);
    }

    const ops: OpResult[] = OPS.map((op) => {
      const count = packets.get(op)!;
      const usbFloorMs = (count.request + count.reply) * USB_FRAME_MS;
      const bytes = PING_BYTES[op];
      const results = clients
        .filter((c) => samples.has(`${op}|${c.name}`))
        .map((c) => stats(c.name, samples.get(`${op}|${c.name}`)!, cpu.get(`${op}|${c.name}`)!));
      const ours = results.find((r) => r.client === 'ours');
      for (const r of results) {
        if (ours && r !== ours) {
          r.oursOverThisP50 = ours.p50 / r.p50;
          r.oursOverThisP95 = ours.p95 / r.p95;
        }
        if (bytes !== undefined) r.kbPerSecEachWay = bytes / r.p50; // bytes per ms = KB/s
      }
      return {
        op,
        requestPackets: count.request,
        replyPackets: count.reply,
        usbFloorMs,
        usbKbPerSecEachWay: bytes === undefined ? undefined : bytes / usbFloorMs,
        results,
        unsupported: [...unsupported.get(op)!],
      };
    });
    return {
      date: new Date().toISOString(),
      machine: machine(),
      options,
      clients: clients.filter((c) => !skipped.some((s) => s.client === c.name)).map((c) => ({ name: c.name, description: c.description })),
      skipped,
      failed,
      ops,
      wallSeconds: (Date.now() - started) / 1000,
    };
  } finally {
    for (const c of clients) await c.close().catch(() => undefined);
    await served.stop();
    rmSync(workdir, { recursive: true, force: true });
  }
}

const num = (x: number, digits = 2): string => (x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(digits));

export function formatClients(report: ClientsReport): string {
  const lines = [
    `Clients against one \`ctap virtual serve --udp\` (${report.date}; ${report.machine})`,
    `${report.options.iterations} timed iterations per operation and client (after ${report.options.warmup} warm-up), in rounds of ${report.options.batch}; wall ${report.wallSeconds.toFixed(0)} s`,
    '',
  ];
  for (const c of report.clients) lines.push(`  ${c.name.padEnd(13)} ${c.description}`);
  for (const s of report.skipped) lines.push(`  ${s.client.padEnd(13)} SKIPPED: ${s.reason}`);
  for (const f of report.failed) lines.push(`  ${f.client.padEnd(13)} FAILED at ${f.op}: ${f.error}`);
  const header =
    `  ${'client'.padEnd(13)}${'p50 ms'.padStart(9)}${'p95 ms'.padStart(9)}${'p99 ms'.padStart(9)}${'ops/s'.padStart(8)}` +
    `${'CPU ms'.padStart(8)}${'ours÷this p50'.padStart(15)}${'p95'.padStart(7)}`;
  for (const o of report.ops) {
    lines.push('');
    let title = `${o.op}: ${o.requestPackets} + ${o.replyPackets} reports; USB full-speed floor ${o.usbFloorMs} ms per round trip`;
    if (o.usbKbPerSecEachWay !== undefined) title += ` (= ${o.usbKbPerSecEachWay.toFixed(1)} KB/s each way; raw link ${USB_KB_PER_S} KB/s)`;
    lines.push(title, o.usbKbPerSecEachWay !== undefined ? `${header}${'KB/s each way'.padStart(15)}${'x USB'.padStart(8)}` : header);
    for (const r of o.results) {
      let line =
        `  ${r.client.padEnd(13)}${num(r.p50).padStart(9)}${num(r.p95).padStart(9)}${num(r.p99).padStart(9)}${r.opsPerSec.toFixed(0).padStart(8)}${num(r.cpuPerOp).padStart(8)}` +
        `${(r.oursOverThisP50 === undefined ? '—' : `${r.oursOverThisP50.toFixed(2)}×`).padStart(15)}` +
        `${(r.oursOverThisP95 === undefined ? '—' : `${r.oursOverThisP95.toFixed(2)}×`).padStart(7)}`;
      if (r.kbPerSecEachWay !== undefined) line += `${r.kbPerSecEachWay.toFixed(0).padStart(15)}${(r.kbPerSecEachWay / o.usbKbPerSecEachWay!).toFixed(1).padStart(8)}`;
      lines.push(line);
    }
    for (const u of o.unsupported) lines.push(`  ${u.padEnd(13)} (no such call in this client)`);
  }
  lines.push(
    '',
    'CPU ms = CPU time (user + system) of the client\'s own process per call (for virtual: client and key together).',
    'ours÷this: our p50 (p95) divided by that client\'s; below 1 means ours is faster. ops/s = 1 / mean latency (one call at a time).',
    'USB floor = (request + reply reports) × 1 ms: the least a real full-speed key can take, before any crypto or touch.',
    'KB/s each way = PING payload ÷ p50 round trip; x USB = that ÷ the same round trip on USB full speed.',
  );
  return lines.join('\n');
}

function parseArgs(argv: string[]): { options: ClientsOptions; json: boolean } {
  const options = { ...DEFAULT_CLIENTS_OPTIONS };
  let json = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--json') json = true;
    else if (a === '--iterations' || a === '--warmup' || a === '--batch') {
      const n = Number(argv[++i]);
      if (!Number.isSafeInteger(n) || n < (a === '--warmup' ? 0 : 1) || n > 100_000) throw new Error(`${a} takes a whole number (got ${argv[i]})`);
      options[a.slice(2) as keyof ClientsOptions] = n;
    } else if (a !== 'clients') throw new Error(`unknown option ${a} (use --iterations N, --warmup N, --batch N, --json)`);
  }
  return { options, json };
}

/** The command-line parser, for bench/run.ts (`npm run bench -- clients …`). */
export { parseArgs as parseClientsArgs };

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs(process.argv.slice(2));
  } catch (e) {
    process.stderr.write(`bench/clients.ts: ${(e as Error).message}\n`);
    process.exit(2);
  }
  const { options, json } = parsed;
  const report = await runClientsBench(options, (line) => process.stderr.write(`${line}\n`));
  process.stdout.write(json ? `${JSON.stringify(report, null, 2)}\n` : `${formatClients(report)}\n`);
}
