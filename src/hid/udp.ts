/**
 * A HidPort over UDP for firmware simulators (DESIGN.md, "Device specs"):
 * `udp:HOST:PORT[?local=N]`. One 64-byte CTAPHID report per datagram, no
 * report-ID byte. The simulator listens on PORT (8111 by convention) and
 * replies to 127.0.0.1:7112, so we bind local port 7112 unless `?local=N`
 * says otherwise (`?local=0`: an ephemeral port, for simulators that reply
 * to the sender's address). This is the convention of the SoloKeys and
 * CanoKey simulators. Loopback only unless the caller allows remote hosts.
 * The socket is connected to HOST:PORT, so the kernel drops datagrams from
 * any other address or port (these simulators reply from PORT), and a
 * simulator that is not running can show up as IO_ERROR "nothing is listening"
 * on a write (an ICMP port-unreachable the OS reports on connected sockets).
 *
 * Per report (DESIGN.md "Performance, by construction"): write() is one send
 * on the connected socket, no address lookup; a report that has arrived is
 * read from the queue at once; only a read that has to wait arms a timer and
 * an abort listener (both shared functions, removed when it settles).
 */
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import type { CallOptions } from '../util/deadline.js';
import { AbortedError } from '../util/errors.js';
import { HidError } from './errors.js';
import type { HidDeviceInfo, HidPort } from './port.js';

export const UDP_DEFAULT_LOCAL_PORT = 7112;
export const UDP_CONVENTIONAL_SIMULATOR_PORT = 8111;
const UDP_REPORT_SIZE = 64;
/** Reports kept while nobody reads; beyond that the oldest are dropped. */
const INBOX_LIMIT = 1024;

export interface UdpSpec {
  host: string;
  port: number;
  /** 0 = ephemeral. */
  localPort: number;
}

export interface UdpPortOptions {
  /** Allow a HOST that is not a loopback address (a simulator on another machine). Default false. */
  allowRemote?: boolean | undefined;
}

const SPEC_HINT = 'Use udp:HOST:PORT or udp:HOST:PORT?local=N, e.g. udp:127.0.0.1:8111';

/** Parse `udp:HOST:PORT[?local=N]` (HOST may be a name, an IPv4 address or [IPv6]). */
export function parseUdpSpec(spec: string): UdpSpec {
  const bad = (why: string): HidError => new HidError('INVALID_SPEC', `invalid UDP device spec ${JSON.stringify(spec)}: ${why}`, { hint: SPEC_HINT });
  if (typeof spec !== 'string' || !spec.startsWith('udp:')) throw bad('it must start with udp:');
  const [address = '', query, ...more] = spec.slice(4).split('?');
  if (more.length) throw bad('more than one ?');
  let host: string;
  let portText: string;
  const v6 = /^\[([^\]]+)\]:(\d+)$/.exec(address);
  if (v6) {
    host = v6[1]!;
    portText = v6[2]!;
  } else {
    const i = address.lastIndexOf(':');
    if (i <= 0) throw bad('HOST:PORT expected');
    host = address.slice(0, i);
    portText = address.slice(i + 1);
    if (host.includes(':')) throw bad('write an IPv6 address in brackets, e.g. udp:[::1]:8111');
  }
  if (!/^[A-Za-z0-9.:%_-]+$/.test(host)) throw bad('bad host');
  const port = parsePort(portText);
  if (port === undefined || port === 0) throw bad('PORT must be 1-65535');
  let localPort = UDP_DEFAULT_LOCAL_PORT;
  if (query !== undefined) {
    for (const pair of query.split('&')) {
      const [key, value = ''] = pair.split('=');
      if (key !== 'local') throw bad(`unknown option ${JSON.stringify(key)} (only local=N)`);
      const n = parsePort(value);
      if (n === undefined) throw bad('local must be 0-65535');
      localPort = n;
    }
  }
  return { host, port, localPort };
}

function parsePort(text: string): number | undefined {
  if (!/^\d{1,5}$/.test(text)) return undefined;
  const n = Number(text);
  return n <= 65535 ? n : undefined;
}

export function isLoopbackAddress(address: string): boolean {
  if (isIP(address) === 4) return address.startsWith('127.');
  const a = address.toLowerCase();
  return a === '::1' || a === '0:0:0:0:0:0:0:1' || /^::ffff:127\./.test(a);
}

/** Open a CTAPHID-over-UDP port. Resolves once the local socket is bound. */
export async function openUdpPort(spec: string, opts: UdpPortOptions = {}): Promise<HidPort> {
  const parsed = parseUdpSpec(spec);
  let address: string;
  let family: number;
  try {
    // Simulators bind 127.0.0.1; "localhost" may resolve to ::1 first.
    ({ address, family } = parsed.host === 'localhost' ? { address: '127.0.0.1', family: 4 } : await lookup(parsed.host));
  } catch (e) {
    throw new HidError('NOT_FOUND', `cannot resolve ${parsed.host}`, { cause: e, hint: SPEC_HINT });
  }
  const loopback = isLoopbackAddress(address);
  if (!loopback && !opts.allowRemote) {
    throw new HidError('INVALID_SPEC', `${parsed.host} (${address}) is not a loopback address; UDP simulators are reached on this machine only`, {
      hint: 'Run the simulator locally (udp:127.0.0.1:PORT), or allow remote hosts explicitly (allowRemote: true; ctap --allow-remote)',
    });
  }
  const socket = createSocket({ type: family === 6 ? 'udp6' : 'udp4' });
  const bindAddress = loopback ? (family === 6 ? '::1' : '127.0.0.1') : family === 6 ? '::' : '0.0.0.0';
  await new Promise<void>((resolve, reject) => {
    const onError = (e: Error): void => {
      socket.close();
      reject(bindError(e, parsed.localPort));
    };
    socket.once('error', onError);
    socket.bind({ port: parsed.localPort, address: bindAddress, exclusive: true }, () => {
      socket.removeListener('error', onError);
      resolve();
    });
  });
  // Connected: the kernel delivers only datagrams from HOST:PORT (Linux
  // udp(7): "only receives packets from that address"; the same on macOS and
  // Windows), and send() skips the per-datagram address lookup. Known
  // simulators (SoloKeys, CanoKey fido-hid-over-udp, `ctap virtual serve`)
  // reply from the socket bound to PORT, so their replies come from HOST:PORT.
  await new Promise<void>((resolve, reject) => {
    const onError = (e: Error): void => {
      socket.close();
      reject(new HidError('OPEN_FAILED', `cannot connect the UDP socket to ${address}:${parsed.port}: ${e.message}`, { cause: e }));
    };
    socket.once('error', onError);
    socket.connect(parsed.port, address, () => {
      socket.removeListener('error', onError);
      resolve();
    });
  });
  socket.unref(); // a forgotten port must not keep the process alive (pending reads hold their own timer)
  return new UdpPort(socket, { ...parsed, address }, spec);
}

function bindError(e: Error, localPort: number): HidError {
  const code = (e as NodeJS.ErrnoException).code;
  if (code === 'EADDRINUSE') {
    return new HidError('DEVICE_BUSY', `local UDP port ${localPort} is already in use`, {
      cause: e,
      hint:
        'Another program (another ctap session, a test of python-fido2 or libfido2) is bound to it: stop it, or pick another ' +
        'local port with ?local=N (simulators that reply to 127.0.0.1:7112 need 7112; ?local=0 suits those that reply to the sender)',
    });
  }
  if (code === 'EACCES' || code === 'EPERM') {
    return new HidError('PERMISSION_DENIED', `not allowed to bind local UDP port ${localPort}`, { cause: e, hint: 'Use a port above 1023 with ?local=N' });
  }
  return new HidError('OPEN_FAILED', `cannot bind local UDP port ${localPort}: ${e.message}`, { cause: e });
}

/** read(0) with nothing waiting: one shared, already-settled promise. */
const NO_REPORT: Promise<Uint8Array | null> = Promise.resolve(null);

class UdpPort implements HidPort {
  readonly info: HidDeviceInfo;
  readonly reportSize = UDP_REPORT_SIZE;
  /** Datagrams dropped: longer than a report, empty, or (before the socket was connected) from another address. */
  dropped = 0;
  #socket: Socket;
  #remote: { address: string; port: number };
  /** HOST's address as rinfo reports it, computed once (lowercase, no ::ffff: prefix). */
  #expectedAddress: string;
  /** Reports received and not yet read: #inbox[#head..] (a queue without shift()). */
  #inbox: Uint8Array[] = [];
  #head = 0;
  // The one pending read, if any: its settle functions, timer and signal.
  #resolve: ((report: Uint8Array | null) => void) | null = null;
  #reject: ((error: Error) => void) | null = null;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #signal: AbortSignal | undefined;
  #closed = false;
  // Created once per port, not per read.
  readonly #onTimeout = (): void => this.#settle(null, undefined);
  readonly #onAbort = (): void => this.#settle(null, new AbortedError(undefined, { cause: this.#signal?.reason }));

  constructor(socket: Socket, target: UdpSpec & { address: string }, spec: string) {
    this.#socket = socket;
    this.#remote = { address: target.address, port: target.port };
    this.#expectedAddress = normalizeAddress(target.address);
    this.info = { path: spec, transport: 'udp', product: `CTAPHID simulator at ${target.host}:${target.port}` };
    socket.on('message', (msg, rinfo) => this.#onMessage(msg, rinfo));
    socket.on('error', () => {
      // Receive-side errors (e.g. an ICMP "port unreachable" on the connected
      // socket while the simulator restarts): reads time out instead.
    });
  }

  get closed(): boolean {
    return this.#closed;
  }

  #onMessage(msg: Buffer, rinfo: RemoteInfo): void {
    // The connected socket already filters by sender; this check costs one
    // string comparison and only matters for a datagram queued between bind
    // and connect.
    const from = rinfo.address;
    if ((from !== this.#expectedAddress && normalizeAddress(from) !== this.#expectedAddress) || msg.length > this.reportSize || msg.length === 0) {
      this.dropped++;
      return;
    }
    // dgram gives every datagram a Buffer over its own ArrayBuffer (not a
    // pooled slab): a view is then as private as a copy. Copy otherwise.
    const report =
      msg.byteOffset === 0 && msg.buffer.byteLength === msg.byteLength ? new Uint8Array(msg.buffer, 0, msg.byteLength) : new Uint8Array(msg);
    if (this.#resolve) {
      this.#settle(report, undefined);
      return;
    }
    if (this.#inbox.length - this.#head >= INBOX_LIMIT) this.#head++;
    this.#inbox.push(report);
  }

  #settle(report: Uint8Array | null, error: Error | undefined): void {
    const resolve = this.#resolve;
    const reject = this.#reject;
    if (!resolve || !reject) return;
    this.#resolve = null;
    this.#reject = null;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#signal?.removeEventListener('abort', this.#onAbort);
    this.#signal = undefined;
    if (error) reject(error);
    else resolve(report);
  }

  write(report: Uint8Array, _opts?: CallOptions): Promise<void> {
    if (this.#closed) return Promise.reject(new HidError('CLOSED', 'the UDP port was closed'));
    if (report.length !== this.reportSize) return Promise.reject(new RangeError(`a report is ${this.reportSize} bytes; got ${report.length}`));
    return new Promise<void>((resolve, reject) => {
      this.#socket.send(report, (e) => {
        if (e) reject(this.#sendError(e));
        else resolve();
      });
    });
  }

  #sendError(e: Error): HidError {
    const where = `${this.#remote.address}:${this.#remote.port}`;
    if ((e as NodeJS.ErrnoException).code === 'ECONNREFUSED') {
      return new HidError('IO_ERROR', `nothing is listening at UDP ${where} (the last datagram was refused)`, {
        cause: e,
        hint: 'Start the simulator (e.g. ctap virtual serve --udp 127.0.0.1:8111) or check HOST:PORT in the device spec',
      });
    }
    return new HidError('IO_ERROR', `UDP send to ${where} failed: ${e.message}`, { cause: e });
  }

  read(timeoutMs: number, signal?: AbortSignal): Promise<Uint8Array | null> {
    if (this.#closed) return Promise.reject(new HidError('CLOSED', 'the UDP port was closed'));
    if (signal?.aborted) return Promise.reject(new AbortedError(undefined, { cause: signal.reason }));
    if (this.#resolve) return Promise.reject(new Error('UdpPort: a read is already pending (one reader per device)'));
    const inbox = this.#inbox;
    if (this.#head < inbox.length) {
      const report = inbox[this.#head]!;
      if (++this.#head === inbox.length) {
        inbox.length = 0;
        this.#head = 0;
      }
      return Promise.resolve(report);
    }
    if (timeoutMs <= 0) return NO_REPORT; // a poll: never a timer
    return new Promise((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
      this.#timer = setTimeout(this.#onTimeout, timeoutMs);
      if (signal) {
        this.#signal = signal;
        signal.addEventListener('abort', this.#onAbort, { once: true });
      }
    });
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#settle(null, new HidError('CLOSED', 'the UDP port was closed'));
    this.#inbox.length = 0;
    this.#head = 0;
    await new Promise<void>((resolve) => this.#socket.close(() => resolve()));
  }
}

function normalizeAddress(address: string): string {
  const a = address.toLowerCase();
  return a.startsWith('::ffff:') ? a.slice(7) : a;
}
