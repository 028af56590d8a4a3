/**
 * UdpPort's per-report path (src/hid/udp.ts): the queue of reports that
 * arrive while nobody reads, read(0) as a pure poll, the single waiter, and
 * the connected socket (datagrams from HOST but another port are not ours).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket, type Socket } from 'node:dgram';
import { openUdpPort } from '../../src/hid/udp.js';
import { AbortedError } from '../../src/util/errors.js';

const T = { timeout: 10_000 };

function bind(): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = createSocket('udp4');
    s.once('error', reject);
    s.bind(0, '127.0.0.1', () => resolve(s));
  });
}

const report = (fill: number): Uint8Array => new Uint8Array(64).fill(fill);

test('reports that arrive while nobody reads are queued in order; read(0) takes them, then answers null at once', T, async () => {
  const sim = await bind();
  const port = await openUdpPort(`udp:127.0.0.1:${sim.address().port}?local=0`);
  try {
    await port.write(report(0));
    const local = await new Promise<number>((resolve) => sim.once('message', (_m, r) => resolve(r.port)));
    for (let i = 1; i <= 5; i++) sim.send(report(i), local, '127.0.0.1');
    // The first waits (timer), the rest are already queued behind it.
    assert.deepEqual(await port.read(2000), report(1));
    await new Promise((r) => setTimeout(r, 50));
    for (let i = 2; i <= 5; i++) assert.deepEqual(await port.read(0), report(i), `report ${i}`);
    // An empty queue: read(0) settles before any timer could fire.
    const order: string[] = [];
    const poll = port.read(0).then((r) => order.push(`poll:${r === null ? 'null' : 'report'}`));
    setImmediate(() => order.push('immediate'));
    await poll;
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(order, ['poll:null', 'immediate']);
    // The queue works again after being emptied (head index reset).
    sim.send(report(6), local, '127.0.0.1');
    assert.deepEqual(await port.read(2000), report(6));
    assert.equal(await port.read(0), null);
  } finally {
    await port.close();
    sim.close();
  }
});

test('one waiter at a time; after an abort or a timeout the next read works and receives the next report', T, async () => {
  const sim = await bind();
  const port = await openUdpPort(`udp:127.0.0.1:${sim.address().port}?local=0`);
  try {
    await port.write(report(0));
    const local = await new Promise<number>((resolve) => sim.once('message', (_m, r) => resolve(r.port)));
    const ctl = new AbortController();
    const first = port.read(5000, ctl.signal);
    await assert.rejects(port.read(100), /already pending/);
    ctl.abort();
    await assert.rejects(first, AbortedError);
    assert.equal(await port.read(20), null); // timed out; the abort listener of the first is gone
    // The same signal object reused for later reads (as a channel does for one transaction).
    const shared = new AbortController();
    sim.send(report(7), local, '127.0.0.1');
    assert.deepEqual(await port.read(2000, shared.signal), report(7));
    sim.send(report(8), local, '127.0.0.1');
    assert.deepEqual(await port.read(2000, shared.signal), report(8));
    const late = port.read(5000, shared.signal);
    shared.abort();
    await assert.rejects(late, AbortedError);
  } finally {
    await port.close();
    sim.close();
  }
});

test('connected socket: a datagram from HOST but another port is not delivered', T, async () => {
  const sim = await bind();
  const other = await bind(); // same address 127.0.0.1, another port
  const port = await openUdpPort(`udp:127.0.0.1:${sim.address().port}?local=0`);
  try {
    await port.write(report(0));
    const local = await new Promise<number>((resolve) => sim.once('message', (_m, r) => resolve(r.port)));
    other.send(report(0xee), local, '127.0.0.1');
    await new Promise((r) => setTimeout(r, 30));
    sim.send(report(0x11), local, '127.0.0.1');
    assert.deepEqual(await port.read(2000), report(0x11));
    assert.equal(await port.read(30), null);
  } finally {
    await port.close();
    sim.close();
    other.close();
  }
});
