import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MAX_MESSAGE_SIZE } from '../../src/ctaphid/constants.js';
import { CtapHidError } from '../../src/ctaphid/errors.js';
import { encodeMessage, maxMessageSize, parseHeader, Reassembler } from '../../src/ctaphid/framing.js';

const CID = 0x01020304;

function payload(n: number): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = (i * 7 + 3) & 0xff;
  return b;
}

function reassemble(packets: Uint8Array[], cid = CID) {
  const r = new Reassembler(cid);
  let out = null;
  for (let i = 0; i < packets.length; i++) {
    out = r.push(packets[i]!);
    if (i < packets.length - 1) assert.equal(out, null, `complete too early at packet ${i}`);
  }
  return out;
}

const protocolError = (re: RegExp) => (e: unknown) => e instanceof CtapHidError && e.code === 'PROTOCOL' && re.test(e.message);

test('the maximum message is 64 - 7 + 128 * (64 - 5) = 7609 bytes', () => {
  assert.equal(maxMessageSize(64), 7609);
  assert.equal(MAX_MESSAGE_SIZE, 7609);
});

test('round trips: 0, 1, 57, 58, 116, 117, 7609 bytes with the expected packet count', () => {
  for (const [n, count] of [
    [0, 1],
    [1, 1],
    [57, 1],
    [58, 2],
    [57 + 59, 2],
    [57 + 59 + 1, 3],
    [7609, 129],
  ] as const) {
    const data = payload(n);
    const packets = encodeMessage(CID, 0x10, data);
    assert.equal(packets.length, count, `${n} bytes`);
    for (const p of packets) assert.equal(p.length, 64);
    const m = reassemble(packets);
    assert.ok(m, 'm');
    assert.equal(m.cid, CID);
    assert.equal(m.cmd, 0x10);
    assert.deepEqual(m.payload, data);
  }
});

test('7610 bytes are rejected with MESSAGE_TOO_LONG', () => {
  assert.throws(() => encodeMessage(CID, 0x10, new Uint8Array(7610)), (e: unknown) => e instanceof CtapHidError && e.code === 'MESSAGE_TOO_LONG');
});

test('exact packet bytes: header, BCNT big-endian, SEQ from 0, zero padding', () => {
  const data = payload(60);
  const [init, cont, ...rest] = encodeMessage(CID, 0x10, data);
  assert.equal(rest.length, 0);
  assert.deepEqual([...init!.subarray(0, 7)], [0x01, 0x02, 0x03, 0x04, 0x90, 0x00, 60]);
  assert.deepEqual(init!.subarray(7), data.subarray(0, 57));
  assert.deepEqual([...cont!.subarray(0, 5)], [0x01, 0x02, 0x03, 0x04, 0x00]);
  assert.deepEqual(cont!.subarray(5, 8), data.subarray(57));
  assert.ok(cont!.subarray(8).every((b) => b === 0), 'cont!.subarray(8).every((b) => b === 0)');
  const big = encodeMessage(0xffffffff, 0x06, payload(7609));
  assert.deepEqual([...big[0]!.subarray(4, 7)], [0x86, 0x1d, 0xb9]);
  assert.equal(big[128]![4], 127);
});

test('parseHeader: init vs continuation; too short → null', () => {
  assert.deepEqual(parseHeader(Uint8Array.of(0, 0x22, 0, 2, 0xbb, 0, 1, 2)), { cid: 0x00220002, type: 'init', cmd: 0x3b, bcnt: 1 });
  assert.deepEqual(parseHeader(Uint8Array.of(0, 0x22, 0, 2, 0x05)), { cid: 0x00220002, type: 'cont', seq: 5 });
  assert.equal(parseHeader(Uint8Array.of(0, 0x22, 0, 2)), null);
  assert.equal(parseHeader(Uint8Array.of(0, 0x22, 0, 2, 0x90, 0)), null);
});

test('reassembler: wrong CID, SEQ gap/repeat, init mid-message, orphan continuation, BCNT > 7609', () => {
  const packets = encodeMessage(CID, 0x10, payload(200));
  const other = encodeMessage(0x0badcafe, 0x10, payload(200));
  const r = new Reassembler(CID);
  r.push(packets[0]!);
  assert.throws(() => r.push(other[1]!), protocolError(/channel 0x0badcafe while reading channel 0x01020304/));
  assert.equal(r.inProgress, false, 'a broken message is dropped, not repaired');
  r.push(packets[0]!);
  assert.throws(() => r.push(packets[2]!), protocolError(/expected SEQ 0, got 1/));
  r.push(packets[0]!);
  r.push(packets[1]!);
  assert.throws(() => r.push(packets[1]!), protocolError(/expected SEQ 1, got 0/));
  r.push(packets[0]!);
  assert.throws(() => r.push(packets[0]!), protocolError(/before the message was complete/));
  assert.throws(() => r.push(packets[1]!), protocolError(/without an initialization packet/));
  const huge = new Uint8Array(64);
  huge.set([1, 2, 3, 4, 0x90, 0x1d, 0xba]); // 7610
  assert.throws(() => r.push(huge), protocolError(/7610 exceeds the maximum of 7609/));
  assert.throws(() => r.push(Uint8Array.of(1, 2, 3)), protocolError(/short report/));
  // After all that, a clean message still goes through.
  assert.deepEqual(reassemble(packets)!.payload, payload(200));
});

test('reassembler: a short final report is accepted, a short middle one is not', () => {
  const data = payload(100);
  const [init, cont] = encodeMessage(CID, 0x10, data);
  assert.deepEqual(reassemble([init!, cont!.subarray(0, 5 + 43)])!.payload, data);
  const r = new Reassembler(CID);
  assert.throws(() => r.push(init!.subarray(0, 40)), protocolError(/short report of 40 bytes in the middle/));
  const three = encodeMessage(CID, 0x10, payload(150));
  r.push(three[0]!);
  assert.throws(() => r.push(three[1]!.subarray(0, 30)), protocolError(/short report of 30 bytes in the middle/));
});

test('other report sizes: the limit follows 64 → 7609, 32 → 3609', () => {
  assert.equal(maxMessageSize(32), 32 - 7 + 128 * 27);
  const data = payload(1000);
  const packets = encodeMessage(CID, 0x01, data, 32);
  const r = new Reassembler(CID, undefined, 32);
  let m = null;
  for (const p of packets) m = r.push(p);
  assert.deepEqual(m!.payload, data);
});
