import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket, type Socket } from 'node:dgram';
import { CtapHidChannel } from '../../src/ctaphid/channel.js';
import { HidError } from '../../src/hid/errors.js';
import { isLoopbackAddress, openUdpPort, parseUdpSpec } from '../../src/hid/udp.js';
import { AbortedError } from '../../src/util/errors.js';
import { framesOf } from '../helpers/scripted-hid-port.js';

const T = { timeout: 10_000 };

function bind(address = '127.0.0.1', port = 0): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = createSocket('udp4');
    s.once('error', reject);
    s.bind(port, address, () => resolve(s));
  });
}

/**
 * A tiny CTAPHID-over-UDP simulator: answers INIT on the broadcast CID and
 * echoes PING (single-packet requests only), replying to the sender.
 */
/** Send one datagram to 127.0.0.1:port; resolves when the kernel has taken it. */
function sendTo(socket: Socket, data: Uint8Array, port: number): Promise<void> {
  return new Promise((resolve, reject) => socket.send(data, port, '127.0.0.1', (e) => (e ? reject(e) : resolve())));
}

async function simulator(): Promise<{ socket: Socket; port: number; received: Buffer[] }> {
  const socket = await bind();
  const received: Buffer[] = [];
  socket.on('message', (msg, rinfo) => {
    received.push(msg);
    const cid = msg.readUInt32BE(0);
    const cmd = msg[4]! & 0x7f;
    const bcnt = (msg[5]! << 8) | msg[6]!;
    const payload = msg.subarray(7, 7 + bcnt);
    const reply =
      cmd === 0x06 ? framesOf(cid, 0x06, [...payload, 0x00, 0x00, 0x00, 0x2a, 2, 1, 0, 0, 0x05]) : cmd === 0x01 ? framesOf(cid, 0x01, payload) : [];
    for (const r of reply) socket.send(r, rinfo.port, rinfo.address);
  });
  return { socket, port: socket.address().port, received };
}

test('parseUdpSpec: HOST:PORT, [IPv6]:PORT, ?local=N; default local port 7112', () => {
  assert.deepEqual(parseUdpSpec('udp:127.0.0.1:8111'), { host: '127.0.0.1', port: 8111, localPort: 7112 });
  assert.deepEqual(parseUdpSpec('udp:localhost:9000?local=0'), { host: 'localhost', port: 9000, localPort: 0 });
  assert.deepEqual(parseUdpSpec('udp:[::1]:8111?local=7200'), { host: '::1', port: 8111, localPort: 7200 });
  for (const bad of ['udp:', 'udp:127.0.0.1', 'udp:127.0.0.1:0', 'udp:127.0.0.1:65536', 'udp:127.0.0.1:80?local=x', 'udp:127.0.0.1:80?remote=1', 'udp:::1:80', 'tcp:1.2.3.4:5', 'udp:a b:1']) {
    assert.throws(() => parseUdpSpec(bad), (e: unknown) => e instanceof HidError && e.code === 'INVALID_SPEC', bad);
  }
});

test('isLoopbackAddress', () => {
  for (const a of ['127.0.0.1', '127.1.2.3', '::1', '::ffff:127.0.0.1']) assert.equal(isLoopbackAddress(a), true, a);
  for (const a of ['10.0.0.1', '0.0.0.0', '::', '192.168.1.1', '::ffff:10.0.0.1']) assert.equal(isLoopbackAddress(a), false, a);
});

test('a non-loopback host is refused unless allowed', T, async () => {
  await assert.rejects(openUdpPort('udp:192.0.2.1:8111?local=0'), (e: unknown) => e instanceof HidError && e.code === 'INVALID_SPEC' && /loopback/.test(e.message));
});

test('one 64-byte report per datagram, no report ID; a CtapHidChannel runs over it', T, async () => {
  const sim = await simulator();
  const port = await openUdpPort(`udp:127.0.0.1:${sim.port}?local=0`);
  try {
    assert.equal(port.info.transport, 'udp');
    assert.equal(port.info.path, `udp:127.0.0.1:${sim.port}?local=0`);
    const channel = await CtapHidChannel.open(port, { timeoutMs: 2000 });
    assert.equal(channel.cid, 0x2a);
    assert.deepEqual(channel.init.deviceVersion, { major: 1, minor: 0, build: 0 });
    assert.deepEqual(await channel.ping(Uint8Array.of(1, 2, 3), { timeoutMs: 2000 }), Uint8Array.of(1, 2, 3));
    assert.ok(sim.received.length >= 2, 'sim.received.length >= 2');
    for (const d of sim.received) assert.equal(d.length, 64);
    assert.deepEqual([...sim.received[0]!.subarray(0, 7)], [0xff, 0xff, 0xff, 0xff, 0x86, 0x00, 0x08]);
  } finally {
    await port.close();
    sim.socket.close();
  }
});

test('?local=N binds that port; a port in use → DEVICE_BUSY naming it', T, async () => {
  const taken = await bind();
  const n = taken.address().port;
  try {
    await assert.rejects(openUdpPort(`udp:127.0.0.1:8111?local=${n}`), (e: unknown) => e instanceof HidError && e.code === 'DEVICE_BUSY' && e.message.includes(String(n)));
  } finally {
    taken.close();
  }
  const free = await bind();
  const m = free.address().port;
  await new Promise<void>((r) => free.close(() => r()));
  const sim = await bind();
  const port = await openUdpPort(`udp:127.0.0.1:${sim.address().port}?local=${m}`);
  try {
    const seen = new Promise<number>((resolve) => sim.once('message', (_msg, rinfo) => resolve(rinfo.port)));
    await port.write(new Uint8Array(64));
    assert.equal(await seen, m, 'the datagram comes from the local port asked for');
  } finally {
    await port.close();
    sim.close();
  }
});

test('datagrams from other addresses, and oversized ones, are ignored', T, async (t) => {
  const sim = await bind();
  let intruder: Socket;
  try {
    intruder = await bind('127.0.0.2');
  } catch {
    sim.close();
    return t.skip('cannot bind 127.0.0.2 on this system');
  }
  const port = await openUdpPort(`udp:127.0.0.1:${sim.address().port}?local=0`);
  try {
    await port.write(new Uint8Array(64));
    const local = await new Promise<number>((resolve) => sim.once('message', (_m, r) => resolve(r.port)));
    const good = new Uint8Array(64).fill(0x11);
    // each send's callback runs once the kernel has the datagram (on loopback: queued at the port), so the
    // foreign and oversized ones are ahead of the good one
    await sendTo(intruder, new Uint8Array(64).fill(0xee), local);
    await sendTo(sim, new Uint8Array(65).fill(0xdd), local);
    await sendTo(sim, good, local);
    assert.deepEqual(await port.read(2000), good);
    assert.equal(await port.read(20), null);
  } finally {
    await port.close();
    sim.close();
    intruder.close();
  }
});

test('read: timeout → null, abort → AbortedError, close → CLOSED', T, async () => {
  const sim = await bind();
  const port = await openUdpPort(`udp:127.0.0.1:${sim.address().port}?local=0`);
  assert.equal(await port.read(10), null);
  const ctl = new AbortController();
  const p = port.read(5000, ctl.signal);
  ctl.abort();
  await assert.rejects(p, AbortedError);
  const pending = port.read(5000);
  await port.close();
  await assert.rejects(pending, (e: unknown) => e instanceof HidError && e.code === 'CLOSED');
  await assert.rejects(port.write(new Uint8Array(64)), (e: unknown) => e instanceof HidError && e.code === 'CLOSED');
  assert.equal(port.closed, true);
  sim.close();
});
