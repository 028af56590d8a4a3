import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sha256 } from '../../src/crypto/hashes.js';
import { Ctap1Error, Ctap1Session, encodeApdu, U2F_INS } from '../../src/ctap1/index.js';
import { concatBytes, fromHex, toHex, utf8Encode } from '../../src/util/bytes.js';
import { TimeoutError, AbortedError } from '../../src/util/errors.js';
import { loadVectors } from '../helpers/vectors.js';
import { FakeKey } from '../ctap2/fake-ctap2-key.js';

const vectors = loadVectors('u2f-responses');
const REGISTER = fromHex(vectors.find((v) => v.id === 'libfido2-u2f-register-payload')!.input); // ends with 9000
const AUTH = fromHex(vectors.find((v) => v.id === 'pyfido2-ctap1-authenticate-response')!.input); // ends with 9000

test('APDUs in extended-length form (ISO 7816-4): header, 00 Lc(2), data, Le 00 00; no data: 00 00 00', () => {
  assert.equal(toHex(encodeApdu({ ins: U2F_INS.VERSION })), '00030000000000');
  const data = new Uint8Array(64).fill(0xab);
  const reg = encodeApdu({ ins: U2F_INS.REGISTER, data });
  assert.equal(toHex(reg.subarray(0, 7)), '00010000000040');
  assert.equal(toHex(reg.subarray(7, 71)), 'ab'.repeat(64));
  assert.equal(toHex(reg.subarray(71)), '0000');
  const long = encodeApdu({ ins: 0x02, p1: 0x03, data: new Uint8Array(300) });
  assert.equal(toHex(long.subarray(0, 7)), '0002030000012c', 'Lc beyond 255 is two bytes');
  assert.throws(() => encodeApdu({ ins: 1, data: new Uint8Array(0x10000) }), RangeError);
});

function u2fKey(script: (apdu: Uint8Array, n: number) => Uint8Array): FakeKey {
  const key = new FakeKey();
  let n = 0;
  key.msgHandler = (apdu) => script(apdu, n++);
  return key;
}

test('REGISTER repeats while the key answers 0x6985 (touch needed), reports up-needed once, then returns the registration', async () => {
  const key = u2fKey((_a, n) => (n < 3 ? Uint8Array.of(0x69, 0x85) : REGISTER));
  const events: unknown[] = [];
  const client = sha256(utf8Encode('client'));
  const app = sha256(utf8Encode('example.com'));
  const reg = await new Ctap1Session(key).register(client, app, { onKeepalive: (s) => events.push(s) });
  assert.equal(reg.keyHandle.length, 64);
  assert.deepEqual(events, ['up-needed']);
  assert.equal(key.apdus.length, 4);
  assert.equal(toHex(key.apdus[0]!), '00010000000040' + toHex(client) + toHex(app) + '0000');
});

test('a key that is never touched: TimeoutError at the deadline; abort stops the polling', async () => {
  const key = u2fKey(() => Uint8Array.of(0x69, 0x85));
  const s = new Ctap1Session(key);
  await assert.rejects(s.register(new Uint8Array(32), new Uint8Array(32), { timeoutMs: 250 }), (e: TimeoutError) => e instanceof TimeoutError && /not touched/.test(e.message));
  const ac = new AbortController();
  setTimeout(() => ac.abort(), 50);
  await assert.rejects(s.register(new Uint8Array(32), new Uint8Array(32), { signal: ac.signal }), AbortedError);
});

test('AUTHENTICATE modes: enforce (P1 0x03), dont-enforce (0x08), check-only (0x07: 6985 = yes, 6a80 = no)', async () => {
  const owned = Uint8Array.of(9, 9, 9);
  const key = u2fKey((apdu) => {
    const p1 = apdu[2];
    const kh = apdu.subarray(7 + 64 + 1, apdu.length - 2);
    const mine = toHex(kh) === toHex(owned);
    if (p1 === 0x07) return mine ? Uint8Array.of(0x69, 0x85) : Uint8Array.of(0x6a, 0x80);
    if (!mine) return Uint8Array.of(0x6a, 0x80);
    return AUTH;
  });
  const s = new Ctap1Session(key);
  const app = sha256(utf8Encode('example.com'));
  const client = new Uint8Array(32).fill(1);
  assert.equal(await s.isKeyHandleValid(app, owned), true);
  assert.equal(await s.isKeyHandleValid(app, Uint8Array.of(1)), false);
  const a = await s.authenticate(client, app, owned);
  assert.equal(a.counter, 1);
  assert.equal(key.apdus.at(-1)![2], 0x03);
  await s.authenticate(client, app, owned, { mode: 'dont-enforce' });
  assert.equal(key.apdus.at(-1)![2], 0x08);
  assert.equal(toHex(key.apdus.at(-1)!.subarray(7)), toHex(concatBytes(client, app, Uint8Array.of(3), owned)) + '0000');
  await assert.rejects(s.authenticate(client, app, Uint8Array.of(1)), (e: Ctap1Error) => e.code === 'SW_WRONG_DATA' && e.statusWord === 0x6a80);
  // getAssertion: check-only over the list, then enforce on the owned handle, CTAP2-shaped
  const ga = await s.getAssertion(client, 'example.com', [Uint8Array.of(1), owned]);
  assert.deepEqual(ga.credential!.id, owned);
  assert.deepEqual(ga.authData.rpIdHash, app);
  assert.equal(ga.authData.signCount, 1);
  await assert.rejects(s.getAssertion(client, 'example.com', [Uint8Array.of(1)]), /none of the credentials/);
});

test('VERSION, and status words as typed errors', async () => {
  const key = u2fKey((apdu) => (apdu[1] === U2F_INS.VERSION ? fromHex('5532465f56329000') : Uint8Array.of(0x6d, 0x00)));
  const s = new Ctap1Session(key);
  assert.equal(await s.getVersion(), 'U2F_V2');
  await assert.rejects(s.register(new Uint8Array(32), new Uint8Array(32)), (e: Ctap1Error) => e.code === 'SW_INS_NOT_SUPPORTED');
  const reg = await new Ctap1Session(u2fKey(() => REGISTER)).makeCredential(new Uint8Array(32), 'example.com');
  assert.equal(reg.fmt, 'fido-u2f');
  assert.deepEqual(reg.authData.rpIdHash, sha256(utf8Encode('example.com')));
});
