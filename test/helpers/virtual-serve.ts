/**
 * Starts `ctap virtual serve --udp 127.0.0.1:PORT` as a child process (the real CLI, as a
 * user would run it) and waits until it answers a CTAPHID INIT datagram.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

export async function freeUdpPort(): Promise<number> {
  const s = createSocket('udp4');
  await new Promise<void>((resolve) => s.bind(0, '127.0.0.1', () => resolve()));
  const { port } = s.address();
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

/** Sends CTAPHID INIT on the broadcast channel until the simulator answers with our nonce. */
export async function waitForCtapHidUdp(port: number, timeoutMs = 20_000): Promise<void> {
  const sock = createSocket('udp4');
  await new Promise<void>((resolve) => sock.bind(0, '127.0.0.1', () => resolve()));
  const nonce = randomBytes(8);
  const packet = new Uint8Array(64);
  packet.set([0xff, 0xff, 0xff, 0xff, 0x86, 0x00, 0x08]);
  packet.set(nonce, 7);
  const deadline = Date.now() + timeoutMs;
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setInterval(() => {
        if (Date.now() > deadline) {
          clearInterval(timer);
          reject(new Error(`no CTAPHID answer on udp:127.0.0.1:${port} within ${timeoutMs} ms`));
          return;
        }
        sock.send(packet, port, '127.0.0.1');
      }, 100);
      sock.on('message', (msg) => {
        if (msg.length >= 15 && msg[4] === 0x86 && Buffer.compare(msg.subarray(7, 15), nonce) === 0) {
          clearInterval(timer);
          resolve();
        }
      });
    });
  } finally {
    sock.close();
  }
}

export interface ServedKey {
  port: number;
  child: ChildProcess;
  output(): string;
  stop(): Promise<void>;
}

export async function startVirtualServe(extraArgs: string[] = [], env: NodeJS.ProcessEnv = {}): Promise<ServedKey> {
  const port = await freeUdpPort();
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', 'src/cli/main.ts', 'virtual', 'serve', '--udp', `127.0.0.1:${port}`, ...extraArgs],
    { cwd: REPO_ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  try {
    await Promise.race([
      waitForCtapHidUdp(port),
      exited.then(() => {
        throw new Error(`ctap virtual serve exited early:\n${out}`);
      }),
    ]);
  } catch (e) {
    child.kill('SIGKILL');
    throw e;
  }
  return {
    port,
    child,
    output: () => out,
    async stop() {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        const t = setTimeout(() => child.kill('SIGKILL'), 3000);
        await exited;
        clearTimeout(t);
      }
    },
  };
}
