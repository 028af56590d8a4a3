import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CtapHidChannel } from '../../src/ctaphid/channel.js';
import { CtapHidError } from '../../src/ctaphid/errors.js';
import type { KeepaliveStatus } from '../../src/ctaphid/transport.js';
import { HidError } from '../../src/hid/errors.js';
import { AbortedError, TimeoutError } from '../../src/util/errors.js';
import {
  BROADCAST,
  cidBytes,
  contFrame,
  FakeCtapDevice,
  framesOf,
  initFrame,
  ScriptedHidPort,
  type FakeRequest,
} from '../helpers/scripted-hid-port.js';

const T = { timeout: 10_000 };
const CID = 0x0a0b0c0d;
const OTHER = 0x00990001;

function fixedNonce(): Uint8Array {
  return Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8);
}

async function openChannel(dev = new FakeCtapDevice(), opts: Parameters<typeof CtapHidChannel.open>[1] = {}) {
  const channel = await CtapHidChannel.open(dev.port, { cancelGraceMs: 50, busyBackoffMs: 1, maxBusyBackoffMs: 4, ...opts });
  return { dev, channel };
}

function bytes(n: number, seed = 7): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = (i * 31 + seed) & 0xff;
  return b;
}

/** The exact CTAPHID_CANCEL report: CID, 0x91, BCNT 0, zero padding. */
function cancelReport(cid: number): Uint8Array {
  const r = new Uint8Array(64);
  r.set([...cidBytes(cid), 0x91, 0x00, 0x00]);
  return r;
}

test('open: INIT on the broadcast CID with an 8-byte nonce; the reply is parsed', T, async () => {
  const dev = new FakeCtapDevice();
  dev.capabilities = 0x0d;
  dev.version = [5, 4, 3];
  const { channel } = await openChannel(dev, { nonce: fixedNonce });
  const init = dev.port.writes[0]!;
  assert.deepEqual([...init.subarray(0, 15)], [0xff, 0xff, 0xff, 0xff, 0x86, 0x00, 0x08, 1, 2, 3, 4, 5, 6, 7, 8]);
  assert.ok(init.subarray(15).every((b) => b === 0), 'init.subarray(15).every((b) => b === 0)');
  assert.equal(channel.cid, CID);
  assert.deepEqual(channel.init, {
    cid: CID,
    protocolVersion: 2,
    deviceVersion: { major: 5, minor: 4, build: 3 },
    capabilities: { wink: true, lock: false, cbor: true, nmsg: true, raw: 0x0d },
  });
});

test('open: an INIT reply with another nonce, or on another CID, is ignored', T, async () => {
  const dev = new FakeCtapDevice();
  dev.onInit = (req, d) => {
    const wrongNonce = d.initReply(req, 0x11111111);
    wrongNonce[0]! ^= 0xff;
    d.send(BROADCAST, 0x06, wrongNonce); // another process's INIT
    d.send(0x22222222, 0x06, d.initReply(req, 0x22222222)); // right nonce, wrong channel
    d.send(BROADCAST, 0x3f, [0x06]); // someone else's CHANNEL_BUSY on the broadcast CID
    d.send(BROADCAST, 0x06, d.initReply(req, 0x33333333));
  };
  const { channel } = await openChannel(dev);
  assert.equal(channel.cid, 0x33333333);
});

test('open: silence → TimeoutError; a malformed reply → INIT_FAILED', T, async () => {
  const silent = new FakeCtapDevice();
  silent.onInit = () => {};
  await assert.rejects(CtapHidChannel.open(silent.port, { timeoutMs: 30 }), TimeoutError);

  const reserved = new FakeCtapDevice();
  reserved.onInit = (req, d) => d.send(BROADCAST, 0x06, d.initReply(req, 0xffffffff));
  await assert.rejects(CtapHidChannel.open(reserved.port, { timeoutMs: 1000 }), (e: unknown) => e instanceof CtapHidError && e.code === 'INIT_FAILED');

  const short = new FakeCtapDevice();
  short.onInit = (req, d) => d.send(BROADCAST, 0x06, d.initReply(req, 0x1234).slice(0, 12));
  await assert.rejects(CtapHidChannel.open(short.port, { timeoutMs: 1000 }), (e: unknown) => e instanceof CtapHidError && e.code === 'INIT_FAILED');
});

/** INIT requests the host wrote: [cid, nonce] of each, in order. */
function initWrites(port: ScriptedHidPort): { cid: number; nonce: number[] }[] {
  return port.writes
    .filter((w) => w[4] === 0x86)
    .map((w) => {
      assert.deepEqual([w[5], w[6]], [0x00, 0x08], 'an INIT request carries an 8-byte nonce');
      return { cid: ((w[0]! << 24) | (w[1]! << 16) | (w[2]! << 8) | w[3]!) >>> 0, nonce: [...w.subarray(7, 15)] };
    });
}

/** Nonces 1,1,…; 2,2,…; … so each INIT's nonce can be recognised on the wire. */
function countingNonces(): () => Uint8Array {
  let n = 0;
  return () => new Uint8Array(8).fill(++n);
}

test('open: ERR_CHANNEL_BUSY on the broadcast CID → INIT again with a fresh nonce until the reply', T, async () => {
  const dev = new FakeCtapDevice();
  let answered = 0;
  dev.onInit = (req, d) => {
    if (++answered <= 2) d.sendError(BROADCAST, 0x06); // busy with another process's transaction
    else d.send(BROADCAST, 0x06, d.initReply(req, CID));
  };
  const { channel } = await openChannel(dev, { nonce: countingNonces() });
  assert.equal(channel.cid, CID);
  assert.deepEqual(initWrites(dev.port), [
    { cid: BROADCAST, nonce: [1, 1, 1, 1, 1, 1, 1, 1] },
    { cid: BROADCAST, nonce: [2, 2, 2, 2, 2, 2, 2, 2] },
    { cid: BROADCAST, nonce: [3, 3, 3, 3, 3, 3, 3, 3] },
  ]);
  assert.deepEqual(await channel.ping(Uint8Array.of(9)), Uint8Array.of(9));
});

test('open: ERR_CHANNEL_BUSY until the deadline → CtapHidError BUSY (as a busy transaction), never a hang', T, async () => {
  const dev = new FakeCtapDevice();
  dev.onInit = (_req, d) => d.sendError(BROADCAST, 0x06);
  await assert.rejects(openChannel(dev, { timeoutMs: 60, nonce: countingNonces() }), (e: unknown) => {
    assert.ok(e instanceof CtapHidError);
    assert.equal(e.code, 'BUSY');
    assert.equal(e.specName, 'ERR_CHANNEL_BUSY');
    return true;
  });
  const inits = initWrites(dev.port);
  assert.ok(inits.length >= 2, `INIT was retried (${inits.length} sent)`);
  assert.ok(inits.every((w) => w.cid === BROADCAST));
  assert.deepEqual(inits.map((w) => w.nonce[0]), inits.map((_, i) => i + 1), 'every retry has a fresh nonce');
  // Nothing was allocated: the port was left open for the caller to close.
  assert.equal(dev.port.closed, false);
});

test('open: a reply with our nonce wins while backing off after a busy answer (the busy was someone else\'s)', T, async () => {
  const dev = new FakeCtapDevice();
  dev.onInit = (req, d) => {
    d.sendError(BROADCAST, 0x06); // answers another process's INIT
    d.send(BROADCAST, 0x06, d.initReply(req, CID)); // ours, arriving during the backoff
  };
  // A long backoff: the reply is taken while waiting, not after another INIT.
  const { channel } = await openChannel(dev, { nonce: countingNonces(), busyBackoffMs: 2_000, maxBusyBackoffMs: 2_000 });
  assert.equal(channel.cid, CID);
  assert.deepEqual(initWrites(dev.port).map((w) => w.nonce[0]), [1]);
});

test('open: a late reply to an earlier INIT of ours is accepted after a retry', T, async () => {
  const dev = new FakeCtapDevice();
  let first: FakeRequest | undefined;
  dev.onInit = (req, d) => {
    if (!first) {
      first = req;
      d.sendError(BROADCAST, 0x06);
    } else {
      d.send(BROADCAST, 0x06, d.initReply(first, 0x0c0c0c0c)); // echoes nonce 1
    }
  };
  const { channel } = await openChannel(dev, { nonce: countingNonces() });
  assert.equal(channel.cid, 0x0c0c0c0c);
  assert.deepEqual(initWrites(dev.port).map((w) => w.nonce[0]), [1, 2]);
});

test('open: ERR_CHANNEL_BUSY after our INIT was answered, or another error code on the broadcast CID, changes nothing', T, async () => {
  const dev = new FakeCtapDevice();
  dev.onInit = (req, d) => {
    d.sendError(BROADCAST, 0x01); // ERR_INVALID_CMD: someone else's, skipped
    d.send(BROADCAST, 0x06, d.initReply(req, CID));
    d.sendError(BROADCAST, 0x06); // busy, but our INIT is already answered
  };
  const { channel } = await openChannel(dev, { nonce: countingNonces() });
  assert.equal(channel.cid, CID);
  assert.deepEqual(await channel.ping(Uint8Array.of(5)), Uint8Array.of(5));
  assert.deepEqual(initWrites(dev.port).map((w) => w.nonce[0]), [1], 'one INIT only');
});

test('open: abort while backing off after a busy INIT → AbortedError, no further INIT', T, async () => {
  const dev = new FakeCtapDevice();
  const ac = new AbortController();
  dev.onInit = (_req, d) => {
    d.sendError(BROADCAST, 0x06);
    setImmediate(() => ac.abort()); // by then the host is in its (long) backoff
  };
  await assert.rejects(openChannel(dev, { signal: ac.signal, busyBackoffMs: 60_000, maxBusyBackoffMs: 60_000, timeoutMs: 120_000 }), AbortedError);
  assert.equal(initWrites(dev.port).length, 1);
});

test('transactions: single and multi-packet PING (0, 57, 58, 7609 bytes) round-trip', T, async () => {
  const { dev, channel } = await openChannel();
  for (const n of [0, 57, 58, 59 + 57, 7609]) {
    const data = bytes(n, n);
    assert.deepEqual(await channel.ping(data), data);
    assert.deepEqual(dev.requests.at(-1)!.payload, data);
  }
  await assert.rejects(channel.ping(new Uint8Array(7610)), (e: unknown) => e instanceof CtapHidError && e.code === 'MESSAGE_TOO_LONG');
});

test('packets on other channels are ignored (another process shares the key)', T, async () => {
  const { dev, channel } = await openChannel();
  const answer = bytes(150);
  dev.respond = (req, d) => {
    d.port.deliver(...framesOf(OTHER, 0x10, bytes(130, 1))); // a whole foreign message
    d.port.deliver(contFrame(OTHER, 5, [9, 9, 9])); // a stray foreign continuation
    const mine = framesOf(req.cid, 0x10, answer);
    d.port.deliver(mine[0]!, ...framesOf(OTHER, 0x3b, [2]), mine[1]!, initFrame(OTHER, 0x3f, 1, [4]), mine[2]!);
  };
  assert.deepEqual(await channel.cbor(Uint8Array.of(4)), answer);
});

test('KEEPALIVE statuses reach onKeepalive once per change', T, async () => {
  const { dev, channel } = await openChannel();
  dev.respond = (req, d) => {
    for (const s of [1, 1, 2, 2, 2, 1, 0x42]) d.sendKeepalive(req.cid, s);
    d.send(req.cid, 0x10, [0x00, 0xa0]);
  };
  const seen: KeepaliveStatus[] = [];
  const reply = await channel.cbor(Uint8Array.of(1), { onKeepalive: (s) => seen.push(s) });
  assert.deepEqual(reply, Uint8Array.of(0x00, 0xa0));
  assert.deepEqual(seen, ['processing', 'up-needed', 'processing', 0x42]);
});

test('CHANNEL_BUSY is retried with backoff, then succeeds', T, async () => {
  const { dev, channel } = await openChannel();
  let calls = 0;
  dev.respond = (req, d) => {
    if (++calls <= 3) d.sendError(req.cid, 0x06);
    else d.defaultReply(req);
  };
  assert.deepEqual(await channel.ping(Uint8Array.of(1, 2)), Uint8Array.of(1, 2));
  assert.equal(dev.requests.length, 4);
});

test('CHANNEL_BUSY until the deadline → CtapHidError BUSY', T, async () => {
  const { dev, channel } = await openChannel();
  dev.respond = (req, d) => d.sendError(req.cid, 0x06);
  await assert.rejects(channel.ping(Uint8Array.of(1), { timeoutMs: 60 }), (e: unknown) => {
    assert.ok(e instanceof CtapHidError, String(e));
    assert.equal(e.code, 'BUSY');
    assert.equal(e.specName, 'ERR_CHANNEL_BUSY');
    return true;
  });
  assert.ok(dev.requests.length >= 2, 'retried at least once');
});

test('CTAPHID_ERROR in the middle of a message → typed error with the spec name; the next call works', T, async () => {
  const { dev, channel } = await openChannel();
  let first = true;
  dev.respond = (req, d) => {
    if (!first) return d.defaultReply(req);
    first = false;
    const frames = framesOf(req.cid, 0x10, bytes(300));
    d.port.deliver(frames[0]!, frames[1]!);
    d.sendError(req.cid, 0x04);
  };
  await assert.rejects(channel.cbor(Uint8Array.of(4)), (e: unknown) => {
    assert.ok(e instanceof CtapHidError, String(e));
    assert.equal(e.code, 'CTAPHID_ERROR');
    assert.equal(e.hidError, 0x04);
    assert.equal(e.specName, 'ERR_INVALID_SEQ');
    assert.match(e.message, /ERR_INVALID_SEQ/);
    return true;
  });
  assert.deepEqual(await channel.cbor(Uint8Array.of(4)), Uint8Array.of(0));
});

/** Run one malformed reply, expect PROTOCOL, then check the channel resyncs (INIT on its own CID) and works. */
async function protocolErrorThenRecovery(bad: (req: FakeRequest, dev: FakeCtapDevice) => void, match: RegExp): Promise<void> {
  const { dev, channel } = await openChannel();
  let first = true;
  dev.respond = (req, d) => {
    if (first) {
      first = false;
      bad(req, d);
    } else d.defaultReply(req);
  };
  await assert.rejects(channel.cbor(Uint8Array.of(4), { timeoutMs: 2000 }), (e: unknown) => {
    assert.ok(e instanceof CtapHidError, String(e));
    assert.equal(e.code, 'PROTOCOL');
    assert.match(e.message, match);
    return true;
  });
  assert.deepEqual(dev.inits, [BROADCAST]);
  assert.deepEqual(await channel.ping(Uint8Array.of(9)), Uint8Array.of(9));
  assert.deepEqual(dev.inits, [BROADCAST, CID], 'resynchronised with INIT on its own CID');
}

test('SEQ gap → PROTOCOL, channel usable afterwards', T, () =>
  protocolErrorThenRecovery((req, d) => {
    d.port.deliver(initFrame(req.cid, 0x10, 200, [0]), contFrame(req.cid, 0), contFrame(req.cid, 2));
  }, /expected SEQ 1, got 2/));

test('SEQ repeat → PROTOCOL, channel usable afterwards', T, () =>
  protocolErrorThenRecovery((req, d) => {
    d.port.deliver(initFrame(req.cid, 0x10, 200, [0]), contFrame(req.cid, 0), contFrame(req.cid, 0));
  }, /expected SEQ 1, got 0/));

test('BCNT beyond 7609 → PROTOCOL', T, () =>
  protocolErrorThenRecovery((req, d) => d.port.deliver(initFrame(req.cid, 0x10, 7610, [0])), /7610 exceeds the maximum of 7609/));

test('a continuation without an initialization packet → PROTOCOL', T, () =>
  protocolErrorThenRecovery((req, d) => d.port.deliver(contFrame(req.cid, 0, [1])), /without an initialization packet/));

test('a short report → PROTOCOL (too short for a header, or short in mid-message)', T, async () => {
  await protocolErrorThenRecovery((_req, d) => d.port.deliver(Uint8Array.of(0x0a, 0x0b, 0x0c)), /short report of 3 bytes/);
  await protocolErrorThenRecovery(
    (req, d) => d.port.deliver(initFrame(req.cid, 0x10, 200, [0]).subarray(0, 40), contFrame(req.cid, 0)),
    /short report of 40 bytes in the middle/,
  );
});

test('a reply with another command → PROTOCOL', T, () =>
  protocolErrorThenRecovery((req, d) => d.send(req.cid, 0x03, [0x90, 0x00]), /answered CTAPHID_CBOR with CTAPHID_MSG/));

test('BCNT beyond the data (the rest never comes) → TimeoutError, CANCEL sent, channel usable', T, async () => {
  const { dev, channel } = await openChannel();
  let first = true;
  dev.respond = (req, d) => {
    if (!first) return d.defaultReply(req);
    first = false;
    d.port.deliver(initFrame(req.cid, 0x10, 300, [0, 1, 2]));
  };
  await assert.rejects(channel.cbor(Uint8Array.of(4), { timeoutMs: 80 }), TimeoutError);
  assert.deepEqual(dev.port.writes.at(-1), cancelReport(CID));
  assert.deepEqual(await channel.cbor(Uint8Array.of(4)), Uint8Array.of(0));
  assert.deepEqual(dev.inits, [BROADCAST, CID]);
});

test('silence → TimeoutError within the deadline; the next call works', T, async () => {
  const { dev, channel } = await openChannel();
  let first = true;
  dev.respond = (req, d) => {
    if (!first) d.defaultReply(req);
    first = false;
  };
  await assert.rejects(channel.ping(Uint8Array.of(1), { timeoutMs: 50 }), (e: unknown) => e instanceof TimeoutError && /CTAPHID_PING/.test(e.message));
  assert.deepEqual(await channel.ping(Uint8Array.of(2)), Uint8Array.of(2));
});

test('endless KEEPALIVE ends at the deadline with TimeoutError (and CANCEL)', T, async () => {
  const { dev, channel } = await openChannel();
  const timers: NodeJS.Timeout[] = [];
  dev.respond = (req, d) => {
    timers.push(setInterval(() => d.sendKeepalive(req.cid, 2), 5));
  };
  try {
    const seen: KeepaliveStatus[] = [];
    await assert.rejects(
      channel.cbor(Uint8Array.of(2), { timeoutMs: 120, onKeepalive: (s) => seen.push(s) }),
      (e: unknown) => e instanceof TimeoutError && /waiting for a touch/.test(e.message),
    );
    assert.deepEqual(seen, ['up-needed']);
    assert.deepEqual(dev.cancels, [CID]);
  } finally {
    for (const t of timers) clearInterval(t);
  }
});

test('abort in the middle of a multi-packet write: remaining packets are not sent, CANCEL is', T, async () => {
  const { dev, channel } = await openChannel();
  const ctl = new AbortController();
  const onWrite = dev.port.onWrite;
  let written = 0;
  dev.port.onWrite = async (report) => {
    await onWrite(report);
    if (report[4] !== 0x86 && ++written === 2) ctl.abort(); // after the init packet and the first continuation
  };
  await assert.rejects(channel.cbor(bytes(500), { signal: ctl.signal }), AbortedError);
  const sent = dev.port.writes.slice(1); // after INIT
  assert.equal(sent.length, 3);
  assert.equal(sent[0]![4], 0x90);
  assert.equal(sent[1]![4], 0x00); // SEQ 0
  assert.deepEqual(sent[2], cancelReport(CID));
  dev.port.onWrite = onWrite;
  // The cancel went unanswered: the channel resynchronises and works.
  assert.deepEqual(await channel.cbor(Uint8Array.of(4)), Uint8Array.of(0));
  assert.deepEqual(dev.inits, [BROADCAST, CID]);
});

test('abort while waiting for a touch: CANCEL, the device answers KEEPALIVE_CANCEL, AbortedError; no resync needed', T, async () => {
  const { dev, channel } = await openChannel();
  dev.respond = (req, d) => {
    if (req.payload[0] === 0x02) d.sendKeepalive(req.cid, 2);
    else d.defaultReply(req);
  };
  dev.onCancel = (cid, d) => {
    d.sendKeepalive(cid, 2);
    d.send(cid, 0x10, [0x2d]);
  };
  const ctl = new AbortController();
  const pending = channel.cbor(Uint8Array.of(2), { signal: ctl.signal, onKeepalive: () => ctl.abort('user cancelled') });
  await assert.rejects(pending, (e: unknown) => e instanceof AbortedError && e.cause === 'user cancelled');
  assert.deepEqual(dev.port.writes.at(-1), cancelReport(CID));
  assert.deepEqual(await channel.cbor(Uint8Array.of(4)), Uint8Array.of(0));
  assert.deepEqual(dev.inits, [BROADCAST], 'the cancel was answered: no resync');
});

test('an already aborted signal writes nothing', T, async () => {
  const { dev, channel } = await openChannel();
  const before = dev.port.writes.length;
  await assert.rejects(channel.ping(Uint8Array.of(1), { signal: AbortSignal.abort() }), AbortedError);
  assert.equal(dev.port.writes.length, before);
});

test('concurrent callers are serialised: one request on the wire at a time, each gets its own answer', T, async () => {
  const { dev, channel } = await openChannel();
  let inFlight = 0;
  let maxInFlight = 0;
  dev.respond = (req, d) => {
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    setTimeout(() => {
      inFlight--;
      d.defaultReply(req);
    }, 5);
  };
  const data = [1, 2, 3, 4, 5].map((i) => bytes(60 * i, i));
  const results = await Promise.all(data.map((d) => channel.ping(d)));
  assert.deepEqual(results, data);
  assert.equal(maxInFlight, 1);
  assert.deepEqual(
    dev.requests.map((r) => r.payload.length),
    data.map((d) => d.length),
  );
});

test('a queued caller that aborts never reaches the device', T, async () => {
  const { dev, channel } = await openChannel();
  let release: () => void = () => {};
  dev.respond = (req, d) => {
    if (req.payload[0] === 0xaa) release = () => d.defaultReply(req);
    else d.defaultReply(req);
  };
  const first = channel.ping(Uint8Array.of(0xaa));
  const ctl = new AbortController();
  const second = channel.ping(Uint8Array.of(0xbb), { signal: ctl.signal });
  while (dev.requests.length === 0) await new Promise((r) => setImmediate(r));
  ctl.abort();
  await assert.rejects(second, AbortedError);
  release();
  assert.deepEqual(await first, Uint8Array.of(0xaa));
  assert.deepEqual(
    dev.requests.map((r) => r.payload[0]),
    [0xaa],
  );
});

test('unplug rejects the pending call and every queued one with DEVICE_REMOVED', T, async () => {
  const { dev, channel } = await openChannel();
  dev.respond = (_req, d) => {
    setTimeout(() => d.port.unplug(), 5);
  };
  const calls = [channel.cbor(Uint8Array.of(1)), channel.ping(Uint8Array.of(2)), channel.wink()];
  const results = await Promise.allSettled(calls);
  for (const r of results) {
    assert.equal(r.status, 'rejected');
    assert.ok(r.reason instanceof HidError && r.reason.code === 'DEVICE_REMOVED', String(r.reason));
  }
  assert.equal(dev.requests.length, 1, 'queued calls never wrote');
  await assert.rejects(channel.ping(Uint8Array.of(3)), (e: unknown) => e instanceof HidError && e.code === 'DEVICE_REMOVED');
  assert.equal(channel.closed, true);
});

test('close() rejects queued calls with CLOSED and closes the port', T, async () => {
  const { dev, channel } = await openChannel();
  dev.respond = () => {}; // never answers
  const pending = channel.ping(Uint8Array.of(1));
  const queued = channel.ping(Uint8Array.of(2));
  while (dev.requests.length === 0) await new Promise((r) => setImmediate(r));
  await channel.close();
  for (const p of [pending, queued]) await assert.rejects(p, (e: unknown) => e instanceof HidError && e.code === 'CLOSED');
  assert.equal(dev.port.closed, true);
});

test('capabilities: U2F-only keys refuse CBOR and WINK; NMSG keys refuse MSG; LOCK validates its argument', T, async () => {
  const u2f = new FakeCtapDevice();
  u2f.capabilities = 0x00;
  const { channel: a } = await openChannel(u2f);
  await assert.rejects(a.cbor(Uint8Array.of(4)), (e: unknown) => e instanceof CtapHidError && e.code === 'UNSUPPORTED');
  await assert.rejects(a.wink(), (e: unknown) => e instanceof CtapHidError && e.code === 'UNSUPPORTED');
  const fido2 = new FakeCtapDevice();
  fido2.capabilities = 0x0d;
  const { channel: b } = await openChannel(fido2);
  await assert.rejects(b.msg(Uint8Array.of(0, 3, 0, 0)), (e: unknown) => e instanceof CtapHidError && e.code === 'UNSUPPORTED');
  await b.wink();
  await b.lock(3);
  assert.deepEqual([...fido2.requests.at(-1)!.payload], [3]);
  await assert.rejects(b.lock(11), RangeError);
});

test('a PING echo that differs is a PROTOCOL error', T, async () => {
  const { dev, channel } = await openChannel();
  dev.respond = (req, d) => d.send(req.cid, 0x01, [...req.payload].reverse());
  await assert.rejects(channel.ping(Uint8Array.of(1, 2)), (e: unknown) => e instanceof CtapHidError && e.code === 'PROTOCOL');
});

test('a device that refuses INIT on its own CID gets a fresh channel from the broadcast CID', T, async () => {
  const dev = new FakeCtapDevice();
  let next = 0x1000;
  dev.onInit = (req, d) => {
    if (req.cid === BROADCAST) d.send(BROADCAST, 0x06, d.initReply(req, ++next));
    else d.sendError(req.cid, 0x0b); // ERR_INVALID_CHANNEL
  };
  const { channel } = await openChannel(dev);
  assert.equal(channel.cid, 0x1001);
  let first = true;
  dev.respond = (req, d) => {
    if (first) d.port.deliver(contFrame(req.cid, 3));
    else d.defaultReply(req);
    first = false;
  };
  await assert.rejects(channel.ping(Uint8Array.of(1)), CtapHidError);
  assert.deepEqual(await channel.ping(Uint8Array.of(1)), Uint8Array.of(1));
  assert.equal(channel.cid, 0x1002);
  assert.deepEqual(dev.inits, [BROADCAST, 0x1001, BROADCAST]);
});

test('resync that falls back to the broadcast CID also retries an ERR_CHANNEL_BUSY answer', T, async () => {
  const dev = new FakeCtapDevice();
  let next = 0x2000;
  let broadcasts = 0;
  dev.onInit = (req, d) => {
    if (req.cid !== BROADCAST) d.sendError(req.cid, 0x0b); // ERR_INVALID_CHANNEL: refuses the resync on its own CID
    else if (++broadcasts === 2) d.sendError(BROADCAST, 0x06); // busy once, on the fallback
    else d.send(BROADCAST, 0x06, d.initReply(req, ++next));
  };
  const { channel } = await openChannel(dev);
  let first = true;
  dev.respond = (req, d) => {
    if (first) d.port.deliver(contFrame(req.cid, 3)); // framing error: the channel must resync
    else d.defaultReply(req);
    first = false;
  };
  await assert.rejects(channel.ping(Uint8Array.of(1)), CtapHidError);
  assert.deepEqual(await channel.ping(Uint8Array.of(1)), Uint8Array.of(1));
  assert.equal(channel.cid, 0x2002);
  assert.deepEqual(dev.inits, [BROADCAST, 0x2001, BROADCAST, BROADCAST]);
});

test('works over a port with a non-64-byte report size', T, async () => {
  const dev = new FakeCtapDevice(new ScriptedHidPort(32));
  const { channel } = await openChannel(dev);
  const data = bytes(1000);
  assert.deepEqual(await channel.ping(data), data);
});

test('a reply the device sent twice is discarded before the next request', T, async () => {
  const { dev, channel } = await openChannel();
  let first = true;
  dev.respond = (req, d) => {
    d.defaultReply(req);
    if (first) d.defaultReply(req);
    first = false;
  };
  assert.deepEqual(await channel.cbor(Uint8Array.of(4)), Uint8Array.of(0));
  assert.deepEqual(await channel.ping(Uint8Array.of(1)), Uint8Array.of(1));
  assert.deepEqual(dev.inits, [BROADCAST], 'no resync was needed');
});

test('an onKeepalive callback that throws: the error reaches the caller, the key gets CANCEL, the channel recovers', T, async () => {
  const { dev, channel } = await openChannel();
  dev.respond = (req, d) => {
    if (req.payload[0] === 0x02) d.sendKeepalive(req.cid, 2);
    else d.defaultReply(req);
  };
  const bug = new Error('UI crashed');
  await assert.rejects(
    channel.cbor(Uint8Array.of(2), {
      onKeepalive: () => {
        throw bug;
      },
    }),
    (e: unknown) => e === bug,
  );
  assert.deepEqual(dev.cancels, [CID]);
  assert.deepEqual(await channel.cbor(Uint8Array.of(4)), Uint8Array.of(0));
});

test('CHANNEL_BUSY, then the deadline passes elsewhere in the retry (a slow port): still BUSY, not a bare timeout', T, async (t) => {
  const { dev, channel } = await openChannel();
  let busyAnswers = 0;
  dev.respond = (req, d) => {
    busyAnswers++;
    d.sendError(req.cid, 0x06);
  };
  // The clock (Date, which Deadline reads) moves only when this test says so; timers stay real.
  t.mock.timers.enable({ apis: ['Date'], now: Date.now() });
  const read = dev.port.read.bind(dev.port);
  dev.port.read = async (ms, signal) => {
    // A slow port: the non-blocking poll that starts the retry after a BUSY answer takes the rest of the deadline.
    if (ms === 0 && busyAnswers > 0) t.mock.timers.tick(61);
    return read(ms, signal);
  };
  await assert.rejects(channel.ping(Uint8Array.of(1), { timeoutMs: 60 }), (e: unknown) => e instanceof CtapHidError && e.code === 'BUSY');
  assert.equal(busyAnswers, 1, 'one BUSY answer, then the deadline passed in the retry\'s poll, before anything was sent again');
});

test('two hosts share one key (hidraw gives every reader every report): each channel sees only its own replies', T, async () => {
  // One device, two ports; every report the device sends reaches both, as on Linux hidraw.
  const portA = new ScriptedHidPort();
  const portB = new ScriptedHidPort();
  const dev = new FakeCtapDevice(portA);
  let next = 0x100;
  const broadcastTo = (reports: Uint8Array[]): void => {
    portA.deliver(...reports.map((r) => new Uint8Array(r)));
    portB.deliver(...reports.map((r) => new Uint8Array(r)));
  };
  dev.send = (cid, cmd, payload) => broadcastTo(framesOf(cid, cmd, payload));
  dev.onInit = (req, d) => d.send(BROADCAST, 0x06, d.initReply(req, ++next));
  // Replies are interleaved packet by packet across channels.
  const pending: Uint8Array[][] = [];
  dev.respond = (req) => {
    pending.push(framesOf(req.cid, req.cmd, req.payload));
    if (pending.length < 2) return;
    const [a, b] = pending.splice(0, 2) as [Uint8Array[], Uint8Array[]];
    for (let i = 0; i < Math.max(a.length, b.length); i++) broadcastTo([a[i], b[i]].filter((x): x is Uint8Array => x !== undefined));
  };
  portB.onWrite = portA.onWrite; // both hosts write to the same device
  const a = await CtapHidChannel.open(portA);
  const b = await CtapHidChannel.open(portB);
  assert.notEqual(a.cid, b.cid);
  const dataA = bytes(400, 1);
  const dataB = bytes(250, 2);
  const [ra, rb] = await Promise.all([a.ping(dataA), b.ping(dataB)]);
  assert.deepEqual(ra, dataA);
  assert.deepEqual(rb, dataB);
});
