/**
 * CTAPHID over UDP for the virtual key, in the firmware-simulator convention
 * (DESIGN.md, device specs): one 64-byte report per datagram, no report-ID
 * byte. Every reply goes to the address and port the request came from, so
 * a client bound to 7112 and one on an ephemeral port both work.
 */
import { createSocket, type Socket } from 'node:dgram';
import type { VirtualAuthenticator } from './authenticator.js';
import type { PacketSink } from './ctaphid-device.js';

export interface VirtualUdpServerOptions {
  /** Default 127.0.0.1 (loopback only). */
  host?: string | undefined;
  /** Default 8111 (the simulator convention); 0 picks a free port. */
  port?: number | undefined;
}

export interface VirtualUdpServer {
  readonly address: string;
  readonly port: number;
  close(): Promise<void>;
}

export async function serveVirtualUdp(auth: VirtualAuthenticator, opts: VirtualUdpServerOptions = {}): Promise<VirtualUdpServer> {
  const host = opts.host ?? '127.0.0.1';
  const port = opts.port ?? 8111;
  const socket: Socket = createSocket(host.includes(':') ? 'udp6' : 'udp4');
  const sinks = new Map<string, PacketSink>();
  const sinkFor = (address: string, remotePort: number): PacketSink => {
    const k = `${address}|${remotePort}`;
    let s = sinks.get(k);
    if (!s) {
      s = {
        deliver: (packet) =>
          new Promise<void>((resolve) => {
            socket.send(packet, remotePort, address, () => resolve());
          }),
      };
      if (sinks.size > 256) sinks.clear();
      sinks.set(k, s);
    }
    return s;
  };
  socket.on('message', (msg, rinfo) => {
    // Datagrams of another size are not CTAPHID reports: a real key never sees them.
    if (msg.length !== auth.device.reportSize) return;
    auth.device.receive(new Uint8Array(msg.buffer, msg.byteOffset, msg.byteLength).slice(), sinkFor(rinfo.address, rinfo.port));
  });
  await new Promise<void>((resolve, reject) => {
    const onError = (e: Error): void => reject(e);
    socket.once('error', onError);
    socket.bind(port, host, () => {
      socket.off('error', onError);
      resolve();
    });
  });
  socket.on('error', () => undefined);
  const bound = socket.address();
  let closed = false;
  return {
    address: bound.address,
    port: bound.port,
    close: () =>
      new Promise<void>((resolve) => {
        if (closed) return resolve();
        closed = true;
        socket.close(() => resolve());
      }),
  };
}
