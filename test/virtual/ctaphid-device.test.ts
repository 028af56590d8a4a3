import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BROADCAST_CID, CTAPHID, CTAPHID_ERR, KEEPALIVE_STATUS } from '../../src/ctaphid/constants.js';
import { encodeMessage, readCid } from '../../src/ctaphid/framing.js';
import { CTAP2_CMD } from '../../src/ctap2/commands.js';
import { randomBytes } from '../../src/crypto/primitives.js';
import { encodeCbor } from '../../src/cbor/index.js';
import { utf8Encode } from '../../src/util/bytes.js';
import { VirtualAuthenticator } from '../../src/virtual/index.js';
import { TestCtapHidHost } from '../helpers/virtual-driver.js';

function mcBytes(): Uint8Array {
  const body = encodeCbor(
    new Map<number, unknown>([
      [1, randomBytes(32)],
      [2, { id: 'example.com' }],
      [3, { id: utf8Encode('u') }],
      [4, [{ alg: -7, type: 'public-key' }]],
    ]) as never,
  );
  const req = new Uint8Array(1 + body.length);
  req[0] = CTAP2_CMD.makeCredential;
  req.set(body, 1);
  return req;
}

test('INIT allocates distinct channels; an unknown CID or a broadcast non-INIT command is INVALID_CHANNEL', async () => {
  const key = await VirtualAuthenticator.create();
  const a = await TestCtapHidHost.open(key.port());
  const b = await TestCtapHidHost.open(key.port());
  assert.notEqual(a.cid, b.cid);
  assert.notEqual(a.cid, BROADCAST_CID);
  const ping = await a.transact(CTAPHID.PING, Uint8Array.of(1, 2, 3));
  assert.equal(ping.cmd, CTAPHID.PING);
  assert.deepEqual(ping.payload, Uint8Array.of(1, 2, 3));
  const big = randomBytes(1000);
  assert.deepEqual((await a.transact(CTAPHID.PING, big)).payload, big, 'a multi-packet PING echoes');
  const unknown = await a.transact(CTAPHID.PING, Uint8Array.of(1), 0x01020304);
  assert.equal(unknown.cmd, CTAPHID.ERROR);
  assert.equal(unknown.payload[0], CTAPHID_ERR.INVALID_CHANNEL);
  const bc = await a.transact(CTAPHID.PING, Uint8Array.of(1), BROADCAST_CID);
  assert.equal(bc.payload[0], CTAPHID_ERR.INVALID_CHANNEL);
  const badCmd = await a.transact(0x33, new Uint8Array(0));
  assert.deepEqual([badCmd.cmd, badCmd.payload[0]], [CTAPHID.ERROR, CTAPHID_ERR.INVALID_CMD]);
  const wink = await a.transact(CTAPHID.WINK, new Uint8Array(0));
  assert.equal(wink.cmd, CTAPHID.WINK);
  assert.equal(key.winks, 1);
  await key.close();
});

test('a continuation with the wrong SEQ answers ERR_INVALID_SEQ and drops the message', async () => {
  const key = await VirtualAuthenticator.create();
  const host = await TestCtapHidHost.open(key.port());
  const packets = encodeMessage(host.cid, CTAPHID.PING, randomBytes(200));
  await host.port.write(packets[0]!);
  await host.port.write(packets[2]!); // SEQ 1 where 0 was due
  const m = await host.readMessage();
  assert.deepEqual([m.cmd, m.payload[0]], [CTAPHID.ERROR, CTAPHID_ERR.INVALID_SEQ]);
  // The channel works again afterwards.
  assert.equal((await host.transact(CTAPHID.PING, Uint8Array.of(9))).cmd, CTAPHID.PING);
  await key.close();
});

test('an incomplete message ends in ERR_MSG_TIMEOUT', async () => {
  const key = await VirtualAuthenticator.create();
  const host = await TestCtapHidHost.open(key.port());
  const packets = encodeMessage(host.cid, CTAPHID.PING, randomBytes(200));
  await host.port.write(packets[0]!);
  const m = await host.readMessage();
  assert.deepEqual([m.cmd, m.payload[0]], [CTAPHID.ERROR, CTAPHID_ERR.MSG_TIMEOUT]);
  await key.close();
});

test('a length beyond the CTAPHID maximum is ERR_INVALID_LEN', async () => {
  const key = await VirtualAuthenticator.create();
  const host = await TestCtapHidHost.open(key.port());
  const p = encodeMessage(host.cid, CTAPHID.PING, new Uint8Array(0))[0]!;
  p[5] = 0xff;
  p[6] = 0xff;
  await host.port.write(p);
  const m = await host.readMessage();
  assert.deepEqual([m.cmd, m.payload[0]], [CTAPHID.ERROR, CTAPHID_ERR.INVALID_LEN]);
  await key.close();
});

test('another channel gets CHANNEL_BUSY while a transaction waits for presence; KEEPALIVE UPNEEDED is sent; CANCEL ends it with KEEPALIVE_CANCEL', async () => {
  let approve: ((v: boolean) => void) | undefined;
  const key = await VirtualAuthenticator.create({
    presence: () => new Promise<boolean>((resolve) => (approve = resolve)),
  });
  const a = await TestCtapHidHost.open(key.port());
  const b = await TestCtapHidHost.open(key.port());
  await a.writeMessage(CTAPHID.CBOR, mcBytes());
  // Wait for the first KEEPALIVE: the key is waiting for a touch.
  const ka = await a.readMessage();
  assert.equal(ka.cmd, CTAPHID.KEEPALIVE);
  assert.equal(ka.payload[0], KEEPALIVE_STATUS.UPNEEDED);
  const busy = await b.transact(CTAPHID.PING, Uint8Array.of(1));
  assert.deepEqual([busy.cmd, busy.payload[0]], [CTAPHID.ERROR, CTAPHID_ERR.CHANNEL_BUSY]);
  // CANCEL on the busy channel: the pending command answers KEEPALIVE_CANCEL.
  await a.port.write(encodeMessage(a.cid, CTAPHID.CANCEL, new Uint8Array(0))[0]!);
  let m = await a.readMessage();
  while (m.cmd === CTAPHID.KEEPALIVE) m = await a.readMessage();
  assert.equal(m.cmd, CTAPHID.CBOR);
  assert.deepEqual(m.payload, Uint8Array.of(0x2d));
  approve?.(true);
  // The device is free again.
  assert.equal((await b.transact(CTAPHID.PING, Uint8Array.of(1))).cmd, CTAPHID.PING);
  await key.close();
});

test('INIT on a busy channel resyncs it: the pending answer is discarded', async () => {
  const key = await VirtualAuthenticator.create({ presence: { delayMs: 300 } });
  const a = await TestCtapHidHost.open(key.port());
  await a.writeMessage(CTAPHID.CBOR, mcBytes());
  const nonce = randomBytes(8);
  await a.writeMessage(CTAPHID.INIT, nonce);
  let m = await a.readMessage();
  while (m.cmd === CTAPHID.KEEPALIVE) m = await a.readMessage();
  assert.equal(m.cmd, CTAPHID.INIT);
  assert.deepEqual(m.payload.subarray(0, 8), nonce);
  assert.equal(readCid(m.payload.subarray(8, 12)), a.cid, 'INIT on an allocated CID keeps it');
  assert.equal((await a.transact(CTAPHID.PING, Uint8Array.of(7))).cmd, CTAPHID.PING);
  await key.close();
});

test('LOCK keeps other channels out until released', async () => {
  const key = await VirtualAuthenticator.create();
  const a = await TestCtapHidHost.open(key.port());
  const b = await TestCtapHidHost.open(key.port());
  assert.equal((await a.transact(CTAPHID.LOCK, Uint8Array.of(5))).cmd, CTAPHID.LOCK);
  const busy = await b.transact(CTAPHID.PING, Uint8Array.of(1));
  assert.deepEqual([busy.cmd, busy.payload[0]], [CTAPHID.ERROR, CTAPHID_ERR.CHANNEL_BUSY]);
  assert.equal((await a.transact(CTAPHID.PING, Uint8Array.of(1))).cmd, CTAPHID.PING);
  assert.equal((await a.transact(CTAPHID.LOCK, Uint8Array.of(0))).cmd, CTAPHID.LOCK);
  assert.equal((await b.transact(CTAPHID.PING, Uint8Array.of(1))).cmd, CTAPHID.PING);
  const bad = await a.transact(CTAPHID.LOCK, Uint8Array.of(11));
  assert.deepEqual([bad.cmd, bad.payload[0]], [CTAPHID.ERROR, CTAPHID_ERR.INVALID_PAR]);
  await key.close();
});

test('a delayed touch sends KEEPALIVE UPNEEDED while waiting, then the answer', async () => {
  const key = await VirtualAuthenticator.create({ presence: { delayMs: 350 } });
  const host = await TestCtapHidHost.open(key.port());
  const statuses: number[] = [];
  const reply = await host.cborRaw(mcBytes(), (s) => statuses.push(s));
  assert.equal(reply[0], 0);
  assert.ok(statuses.length >= 1, 'at least one KEEPALIVE');
  assert.ok(statuses.includes(KEEPALIVE_STATUS.UPNEEDED));
  await key.close();
});

test('CTAPHID_MSG answers SW_INS_NOT_SUPPORTED without a U2F module, and stays well-formed', async () => {
  const key = await VirtualAuthenticator.create();
  key.u2f = undefined;
  const host = await TestCtapHidHost.open(key.port());
  const m = await host.transact(CTAPHID.MSG, Uint8Array.of(0x00, 0x55, 0, 0, 0));
  assert.equal(m.cmd, CTAPHID.MSG);
  assert.deepEqual(m.payload, Uint8Array.of(0x6d, 0x00));
  await key.close();
});

test('replug: ports on the old device fail with DEVICE_REMOVED; a new port works; channels are forgotten', async () => {
  const key = await VirtualAuthenticator.create();
  const old = await TestCtapHidHost.open(key.port());
  const pending = old.port.read(5000);
  key.replug();
  await assert.rejects(pending, (e: unknown) => (e as { code?: string }).code === 'DEVICE_REMOVED');
  await assert.rejects(old.port.write(new Uint8Array(64)), (e: unknown) => (e as { code?: string }).code === 'DEVICE_REMOVED');
  const fresh = await TestCtapHidHost.open(key.port());
  const stale = await fresh.transact(CTAPHID.PING, Uint8Array.of(1), old.cid);
  assert.deepEqual([stale.cmd, stale.payload[0]], [CTAPHID.ERROR, CTAPHID_ERR.INVALID_CHANNEL]);
  assert.equal((await fresh.transact(CTAPHID.PING, Uint8Array.of(1))).cmd, CTAPHID.PING);
  await key.close();
});

test('no touch in time: USER_ACTION_TIMEOUT, and the presence callback is told to stop', async () => {
  let stopped = false;
  const key = await VirtualAuthenticator.create({
    userPresenceTimeoutMs: 250,
    presence: ({ signal }) =>
      new Promise<boolean>(() => {
        signal.addEventListener('abort', () => (stopped = true));
      }),
  });
  const host = await TestCtapHidHost.open(key.port());
  const reply = await host.cborRaw(Uint8Array.of(CTAP2_CMD.selection));
  assert.deepEqual(reply, Uint8Array.of(0x2f));
  assert.equal(stopped, true);
  await key.close();
});
