import { test } from 'node:test';
import assert from 'node:assert/strict';
import { VirtualAuthenticator } from '../../src/virtual/index.js';
import { TestCtapHidHost } from '../helpers/virtual-driver.js';
import { decodeGetInfo } from '../../src/ctap2/get-info.js';
import { CTAP2_CMD } from '../../src/ctap2/commands.js';
import { CTAPHID } from '../../src/ctaphid/constants.js';

test('getInfo through real CTAPHID framing describes a CTAP 2.1 key', async () => {
  const key = await VirtualAuthenticator.create({ aaguid: '00112233-4455-6677-8899-aabbccddeeff' });
  const host = await TestCtapHidHost.open(key.port());
  const { status, value } = await host.cbor(CTAP2_CMD.getInfo);
  assert.equal(status, 0);
  const info = decodeGetInfo(value);
  assert.deepEqual(info.versions, ['U2F_V2', 'FIDO_2_0', 'FIDO_2_1']);
  assert.equal(Buffer.from(info.aaguid).toString('hex'), '00112233445566778899aabbccddeeff');
  assert.equal(info.options.clientPin, false);
  assert.equal(info.options.rk, true);
  assert.equal(info.options.uv, undefined);
  assert.deepEqual(info.pinUvAuthProtocols, [2, 1]);
  assert.deepEqual(info.algorithms?.map((a) => a.alg), [-7, -8]);
  assert.ok(info.maxMsgSize! >= 1200);
  assert.equal(info.remainingDiscoverableCredentials, 100);
  assert.ok(info.extensions.includes('hmac-secret') && info.extensions.includes('credProtect'));
  await key.close();
});

test('a U2F-only key has no CBOR capability and answers CTAPHID_CBOR with ERR_INVALID_CMD', async () => {
  const key = await VirtualAuthenticator.create({ u2fOnly: true });
  const host = await TestCtapHidHost.open(key.port());
  const init = await host.init();
  assert.equal(init[16]! & 0x04, 0);
  const reply = await host.transact(CTAPHID.CBOR, Uint8Array.of(CTAP2_CMD.getInfo));
  assert.equal(reply.cmd, CTAPHID.ERROR);
  assert.equal(reply.payload[0], 0x01);
  await key.close();
});

test('inspection and control from the host program: credentials(), removeCredential(), presence and uv setters', async () => {
  const { randomBytes } = await import('../../src/crypto/primitives.js');
  const { utf8Encode } = await import('../../src/util/bytes.js');
  const key = await VirtualAuthenticator.create();
  const host = await TestCtapHidHost.open(key.port());
  const mc = (user: string) =>
    new Map<number, import('../../src/cbor/index.js').CborValue>([
      [1, randomBytes(32)],
      [2, { id: 'example.com' }],
      [3, { id: utf8Encode(user), name: user }],
      [4, [{ alg: -8, type: 'public-key' }]],
      [7, { rk: true }],
    ]);
  assert.equal((await host.cbor(CTAP2_CMD.makeCredential, mc('a'))).status, 0);
  assert.equal((await host.cbor(CTAP2_CMD.makeCredential, mc('b'))).status, 0);
  const list = key.credentials();
  assert.deepEqual(list.map((c) => new TextDecoder().decode(c.userId)), ['b', 'a']);
  assert.equal(list[0]!.alg, -8);
  assert.equal(await key.removeCredential(list[0]!.id), true);
  assert.equal(await key.removeCredential(list[0]!.id), false);
  assert.equal(key.credentials().length, 1);
  key.presence = 'deny';
  assert.equal((await host.cbor(CTAP2_CMD.makeCredential, mc('c'))).status, 0x27);
  key.presence = 'auto';
  key.uv = 'auto';
  assert.equal(decodeGetInfo((await host.cbor(CTAP2_CMD.getInfo)).value).options.uv, true);
  await key.close();
});

test('a key with capacity in the thousands reports it', async () => {
  const key = await VirtualAuthenticator.create({ capacity: 5000 });
  const host = await TestCtapHidHost.open(key.port());
  assert.equal(decodeGetInfo((await host.cbor(CTAP2_CMD.getInfo)).value).remainingDiscoverableCredentials, 5000);
  await key.close();
  await assert.rejects(VirtualAuthenticator.create({ capacity: -1 }), RangeError);
  await assert.rejects(VirtualAuthenticator.create({ maxMsgSize: 100 }), RangeError);
  await assert.rejects(VirtualAuthenticator.create({ aaguid: 'not-a-uuid' }), RangeError);
});
