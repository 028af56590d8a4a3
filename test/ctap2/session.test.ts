import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CborError, encodeCbor } from '../../src/cbor/index.js';
import { CTAP2_CMD } from '../../src/ctap2/commands.js';
import { GET_INFO } from '../../src/ctap2/get-info.js';
import { reset } from '../../src/ctap2/reset.js';
import { selection } from '../../src/ctap2/selection.js';
import { Ctap2Session } from '../../src/ctap2/session.js';
import { CtapError } from '../../src/ctap2/status.js';
import { concatBytes } from '../../src/util/bytes.js';
import { FakeTransport } from './fake-transport.js';

function infoReply(versions: string[], maxMsgSize?: number): Uint8Array {
  const m = new Map<number, unknown>([
    [GET_INFO.versions, versions],
    [GET_INFO.aaguid, new Uint8Array(16).fill(0xab)],
  ]);
  if (maxMsgSize !== undefined) m.set(GET_INFO.maxMsgSize, maxMsgSize);
  return concatBytes(Uint8Array.of(0), encodeCbor(m as never));
}

test('getInfo is fetched once per session, shared by concurrent callers, refetched after invalidate or refresh', async () => {
  const t = new FakeTransport([infoReply(['FIDO_2_1']), infoReply(['FIDO_2_0']), infoReply(['FIDO_2_2'])]);
  const s = new Ctap2Session(t);
  const [a, b] = await Promise.all([s.getInfo(), s.getInfo()]);
  assert.equal(a, b);
  assert.equal(t.requests.length, 1);
  assert.equal(s.cachedInfo, a);
  s.invalidateInfo();
  assert.equal(s.cachedInfo, undefined);
  assert.deepEqual((await s.getInfo()).versions, ['FIDO_2_0']);
  assert.deepEqual((await s.getInfo({ refresh: true })).versions, ['FIDO_2_2']);
  assert.equal(t.requests.length, 3);
});

test('requests beyond the key\'s maxMsgSize are refused before sending', async () => {
  const t = new FakeTransport([infoReply(['FIDO_2_1'], 1024)]);
  const s = new Ctap2Session(t);
  await s.getInfo();
  await assert.rejects(s.send(CTAP2_CMD.largeBlobs, new Map([[2, new Uint8Array(1100)]]) as never), (e: unknown) => e instanceof CtapError && e.specName === 'CTAP2_ERR_REQUEST_TOO_LARGE');
  assert.equal(t.requests.length, 1);
});

test('a maxMsgSize below CTAP\'s 1024-byte floor is raised to 1024 (every key must accept 1024-byte messages)', async () => {
  const t = new FakeTransport([infoReply(['FIDO_2_1'], 64), Uint8Array.of(0)]);
  const s = new Ctap2Session(t);
  assert.equal((await s.getInfo()).maxMsgSize, 64, 'getInfo keeps the reported value (ctap info / diagnostics show it)');
  await s.send(CTAP2_CMD.largeBlobs, new Map([[2, new Uint8Array(900)]]) as never);
  assert.equal(t.requests.length, 2);
  await assert.rejects(s.send(CTAP2_CMD.largeBlobs, new Map([[2, new Uint8Array(1100)]]) as never), (e: unknown) => e instanceof CtapError && /maxMsgSize of 1024/.test(e.message));
});

test('a malformed getInfo is a CborError and nothing is cached', async () => {
  const s = new Ctap2Session(new FakeTransport([Uint8Array.of(0, 0xa1, 0x01), infoReply(['FIDO_2_0'])]));
  await assert.rejects(s.getInfo(), CborError);
  assert.equal(s.cachedInfo, undefined);
  assert.deepEqual((await s.getInfo()).versions, ['FIDO_2_0']);
});

test('selection: sends 0x0b on a CTAP 2.1 key, refuses plainly on a 2.0 key', async () => {
  const t = new FakeTransport([infoReply(['FIDO_2_0', 'FIDO_2_1']), Uint8Array.of(0)]);
  await selection(new Ctap2Session(t));
  assert.deepEqual(t.requests.map((r) => r[0]), [CTAP2_CMD.getInfo, CTAP2_CMD.selection]);
  const old = new FakeTransport([infoReply(['U2F_V2', 'FIDO_2_0', 'FIDO_2_1_PRE'])]);
  await assert.rejects(selection(new Ctap2Session(old)), (e: unknown) => e instanceof CtapError && e.status === 0x01 && /CTAP 2.1/.test(e.message));
  assert.equal(old.requests.length, 1);
});

test('reset: success drops the cached getInfo; NOT_ALLOWED explains the replug-within-10-seconds rule', async () => {
  const t = new FakeTransport([infoReply(['FIDO_2_1']), Uint8Array.of(0), Uint8Array.of(0x30), Uint8Array.of(0x2f)]);
  const s = new Ctap2Session(t);
  await s.getInfo();
  await reset(s);
  assert.equal(s.cachedInfo, undefined);
  assert.equal(t.requests[1]!.length, 1);
  assert.equal(t.requests[1]![0], CTAP2_CMD.reset);
  await assert.rejects(reset(s), (e: unknown) => e instanceof CtapError && e.specName === 'CTAP2_ERR_NOT_ALLOWED' && /10 seconds/.test(e.message));
  await assert.rejects(reset(s), (e: unknown) => e instanceof CtapError && /touch/.test(e.message));
});
