/**
 * Runs the `ctap` CLI the way a user does: a child process of this Node,
 * `--import tsx src/cli/main.ts ...`, from the repo root.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { createSocket } from 'node:dgram';
import { fileURLToPath } from 'node:url';
import { Writable } from 'node:stream';
import { runCli } from '../../src/cli/run.js';

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

export interface CtapResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface CtapRunOptions {
  input?: string | undefined;
  env?: Record<string, string | undefined> | undefined;
  timeoutMs?: number | undefined;
}

function childEnv(extra: CtapRunOptions['env']): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env.CTAP_PIN;
  delete env.CTAP_NEW_PIN;
  delete env.CTAP_DEVICE;
  delete env.NODE_TEST_CONTEXT; // the child is not a test file
  for (const [k, v] of Object.entries(extra ?? {})) {
    if (v === undefined) delete env[k];
    else env[k] = v;
  }
  return env;
}

export function spawnCtap(args: readonly string[], opts: CtapRunOptions = {}): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], {
    cwd: REPO_ROOT,
    env: childEnv(opts.env),
    stdio: ['pipe', 'pipe', 'pipe'],
  });
}

/** Run `ctap ARGS` to completion (killed after timeoutMs, default 60 s). */
export function ctap(args: readonly string[], opts: CtapRunOptions = {}): Promise<CtapResult> {
  return new Promise((resolve, reject) => {
    const child = spawnCtap(args, opts);
    let stdout = '';
    let stderr = '';
    child.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`ctap ${args.join(' ')} did not finish in time; stderr: ${stderr}`));
    }, opts.timeoutMs ?? 60_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin!.end(opts.input ?? '');
  });
}

/**
 * The same runCli the bin calls, in this process, with captured streams —
 * used for sweeps over many vectors where a process per vector would be slow.
 */
export async function ctapInProcess(args: readonly string[]): Promise<CtapResult> {
  let stdout = '';
  let stderr = '';
  const sink = (f: (s: string) => void): Writable =>
    new Writable({
      write(chunk: Buffer | string, _enc, cb) {
        f(chunk.toString());
        cb();
      },
    });
  const code = await runCli(args, {
    streams: { stdout: sink((s) => (stdout += s)), stderr: sink((s) => (stderr += s)) },
  });
  return { code, stdout, stderr };
}

/** A UDP port nobody is bound to right now on 127.0.0.1. */
export function freeUdpPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createSocket('udp4');
    s.on('error', reject);
    s.bind(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/** A TCP port, for completeness (unused ports for other listeners). */
export function freeTcpPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const a = srv.address();
      srv.close(() => resolve(typeof a === 'object' && a ? a.port : 0));
    });
  });
}

/** Wait until `child` prints a line on stdout/stderr matching `re`. */
export function waitForOutput(child: ChildProcess, re: RegExp, timeoutMs = 30_000): Promise<string> {
  return new Promise((resolve, reject) => {
    let seen = '';
    const onData = (d: Buffer): void => {
      seen += d.toString();
      if (re.test(seen)) {
        cleanup();
        resolve(seen);
      }
    };
    const onExit = (code: number | null): void => {
      cleanup();
      reject(new Error(`exited (${code}) before printing ${re}; output: ${seen}`));
    };
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`no ${re} within ${timeoutMs} ms; output: ${seen}`));
    }, timeoutMs);
    const cleanup = (): void => {
      clearTimeout(timer);
      child.stdout?.off('data', onData);
      child.stderr?.off('data', onData);
      child.off('exit', onExit);
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.on('exit', onExit);
  });
}

/** Stop a child we started, by its own handle, and wait for it. */
export async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  await new Promise<void>((resolve) => {
    const t = setTimeout(() => child.kill('SIGKILL'), 5_000);
    child.once('exit', () => {
      clearTimeout(t);
      resolve();
    });
    child.kill('SIGTERM');
  });
}
