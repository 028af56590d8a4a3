import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CborMapReader, encodeCbor, type CborValue } from '../../src/cbor/index.js';
import { sha256 } from '../../src/crypto/hashes.js';
import { randomBytes } from '../../src/crypto/primitives.js';
import { CTAP2_CMD } from '../../src/ctap2/commands.js';
import { decodeGetInfo } from '../../src/ctap2/get-info.js';
import { concatBytes, utf8Encode } from '../../src/util/bytes.js';
import { VirtualAuthenticator } from '../../src/virtual/index.js';
import { TestCtapHidHost } from '../helpers/virtual-driver.js';
import { pinRetries, pinToken, setPin } from './pin-client.js';

async function setup(opts: Record<string, unknown> = {}): Promise<{ key: VirtualAuthenticator; host: TestCtapHidHost }> {
  const key = await VirtualAuthenticator.create(opts);
  return { key, host: await TestCtapHidHost.open(key.port()) };
}

async function makeResident(host: TestCtapHidHost, rpId: string, user: string, pin: string): Promise<Uint8Array> {
  const t = await pinToken(host, 2, pin, 0x01, rpId);
  const cdh = randomBytes(32);
  const r = await host.cbor(
    CTAP2_CMD.makeCredential,
    new Map<number, CborValue>([
      [1, cdh],
      [2, { id: rpId, name: rpId.toUpperCase() }],
      [3, { id: utf8Encode(user), name: user, displayName: user.toUpperCase() }],
      [4, [{ alg: -7, type: 'public-key' }]],
      [7, { rk: true }],
      [8, t.proto.authenticate(t.token!, cdh)],
      [9, 2],
    ]),
  );
  assert.equal(r.status, 0);
  const ad = CborMapReader.from(r.value, 'mc').bytes(2);
  const len = (ad[53]! << 8) | ad[54]!;
  return ad.slice(55, 55 + len);
}

function cm(token: Uint8Array, proto: { authenticate(k: Uint8Array, m: Uint8Array): Uint8Array }, sub: number, params?: Map<number, CborValue>): Map<number, CborValue> {
  const msg = params ? concatBytes(Uint8Array.of(sub), encodeCbor(params)) : Uint8Array.of(sub);
  const req = new Map<number, CborValue>([[1, sub], [3, 2], [4, proto.authenticate(token, msg)]]);
  if (params) req.set(2, params);
  return req;
}

test('credentialManagement: metadata, enumerate RPs and credentials, update user, delete', async () => {
  const { key, host } = await setup({ pin: '1234', capacity: 10 });
  await makeResident(host, 'a.example', 'alice', '1234');
  await makeResident(host, 'a.example', 'anna', '1234');
  const bobId = await makeResident(host, 'b.example', 'bob', '1234');
  const t = await pinToken(host, 2, '1234', 0x04);
  const meta = CborMapReader.from((await host.cbor(CTAP2_CMD.credentialManagement, cm(t.token!, t.proto, 1))).value, 'meta');
  assert.equal(meta.uint(1), 3);
  assert.equal(meta.uint(2), 7);
  // The FIDO_2_1_PRE command byte (libfido2 1.12 sends it) reaches the same handler.
  assert.equal((await host.cbor(CTAP2_CMD.credentialManagementPreview, cm(t.token!, t.proto, 1))).status, 0);
  const rp1 = CborMapReader.from((await host.cbor(CTAP2_CMD.credentialManagement, cm(t.token!, t.proto, 2))).value, 'rp');
  assert.equal(rp1.uint(5), 2);
  const rps = [rp1.reader(3).text('id')];
  const rp2 = await host.cbor(CTAP2_CMD.credentialManagement, new Map<number, CborValue>([[1, 3]]));
  rps.push(CborMapReader.from(rp2.value, 'rp').reader(3).text('id'));
  assert.deepEqual(rps.sort(), ['a.example', 'b.example']);
  assert.equal((await host.cbor(CTAP2_CMD.credentialManagement, new Map<number, CborValue>([[1, 3]]))).status, 0x30, 'no more RPs');
  const hashA = sha256(utf8Encode('a.example'));
  const c1 = CborMapReader.from((await host.cbor(CTAP2_CMD.credentialManagement, cm(t.token!, t.proto, 4, new Map([[1, hashA]])))).value, 'cred');
  assert.equal(c1.uint(9), 2);
  assert.equal(c1.reader(6).text('name'), 'anna', 'newest first');
  assert.equal(c1.reader(8).int(3), -7);
  const c2 = CborMapReader.from((await host.cbor(CTAP2_CMD.credentialManagement, new Map<number, CborValue>([[1, 5]]))).value, 'cred');
  assert.equal(c2.reader(6).text('name'), 'alice');
  // Update bob's names; a different user id is refused.
  const cred = { id: bobId, type: 'public-key' };
  assert.equal((await host.cbor(CTAP2_CMD.credentialManagement, cm(t.token!, t.proto, 7, new Map<number, CborValue>([[2, cred], [3, { id: utf8Encode('bob'), name: 'robert' }]])))).status, 0);
  assert.equal((await host.cbor(CTAP2_CMD.credentialManagement, cm(t.token!, t.proto, 7, new Map<number, CborValue>([[2, cred], [3, { id: utf8Encode('eve'), name: 'x' }]])))).status, 0x02);
  const hashB = sha256(utf8Encode('b.example'));
  const b = CborMapReader.from((await host.cbor(CTAP2_CMD.credentialManagement, cm(t.token!, t.proto, 4, new Map([[1, hashB]])))).value, 'cred');
  assert.equal(b.reader(6).text('name'), 'robert');
  assert.equal(b.reader(6).has('displayName'), false, 'absent fields are removed');
  // Delete bob: the credential stops working.
  assert.equal((await host.cbor(CTAP2_CMD.credentialManagement, cm(t.token!, t.proto, 6, new Map<number, CborValue>([[2, cred]])))).status, 0);
  assert.equal((await host.cbor(CTAP2_CMD.credentialManagement, cm(t.token!, t.proto, 4, new Map([[1, hashB]])))).status, 0x2e);
  const g = await host.cbor(CTAP2_CMD.getAssertion, new Map<number, CborValue>([[1, 'b.example'], [2, randomBytes(32)], [3, [cred]]]));
  assert.equal(g.status, 0x2e);
  // Without the cm permission, or with a wrong param.
  const mcTok = await pinToken(host, 2, '1234', 0x01, 'a.example');
  assert.equal((await host.cbor(CTAP2_CMD.credentialManagement, cm(mcTok.token!, mcTok.proto, 1))).status, 0x40);
  assert.equal((await host.cbor(CTAP2_CMD.credentialManagement, new Map<number, CborValue>([[1, 1]]))).status, 0x36);
  await key.close();
});

test('largeBlobs: the initial array, a fragmented write with the token, integrity failure', async () => {
  const { key, host } = await setup({ pin: '1234' });
  // Read the whole array in 500-byte fragments, as a client with a small maxMsgSize would.
  const read = async (): Promise<Uint8Array> => {
    const parts: Uint8Array[] = [];
    for (let offset = 0; ; ) {
      const part = CborMapReader.from((await host.cbor(CTAP2_CMD.largeBlobs, new Map<number, CborValue>([[1, 500], [3, offset]]))).value, 'lb').bytes(1);
      parts.push(part);
      offset += part.length;
      if (part.length < 500) return concatBytes(...parts);
    }
  };
  const initial = await read();
  assert.deepEqual(initial, concatBytes(Uint8Array.of(0x80), sha256(Uint8Array.of(0x80)).slice(0, 16)));
  const array = encodeCbor([new Map<number, CborValue>([[1, randomBytes(900)], [2, randomBytes(12)], [3, 1000]])]);
  const full = concatBytes(array, sha256(array).slice(0, 16));
  const t = await pinToken(host, 2, '1234', 0x10);
  const write = async (offset: number, chunk: Uint8Array, total?: number): Promise<number> => {
    const off = new Uint8Array(4);
    new DataView(off.buffer).setUint32(0, offset, true);
    const msg = concatBytes(new Uint8Array(32).fill(0xff), Uint8Array.of(0x0c, 0x00), off, sha256(chunk));
    const req = new Map<number, CborValue>([[2, chunk], [3, offset], [5, t.proto.authenticate(t.token!, msg)], [6, 2]]);
    if (total !== undefined) req.set(4, total);
    return (await host.cbor(CTAP2_CMD.largeBlobs, req)).status;
  };
  assert.equal(await write(0, full.subarray(0, 600), full.length), 0);
  assert.equal(await write(700, full.subarray(700)), 0x04, 'out of sequence');
  assert.equal(await write(0, full.subarray(0, 600), full.length), 0);
  assert.equal(await write(600, full.subarray(600)), 0);
  assert.deepEqual(await read(), full);
  assert.equal((await host.cbor(CTAP2_CMD.largeBlobs, new Map<number, CborValue>([[1, 10], [3, full.length + 1]]))).status, 0x02, 'offset past the end');
  const corrupt = full.slice();
  corrupt[3]! ^= 1;
  assert.equal(await write(0, corrupt, corrupt.length), 0x3d);
  // No token: PUAT_REQUIRED on a PIN-protected key.
  assert.equal((await host.cbor(CTAP2_CMD.largeBlobs, new Map<number, CborValue>([[2, full], [3, 0], [4, full.length]]))).status, 0x36);
  await key.close();
});

test('config: toggleAlwaysUv and enterprise attestation need the acfg permission', async () => {
  const { key, host } = await setup({ pin: '1234' });
  const t = await pinToken(host, 2, '1234', 0x20);
  const cfg = (sub: number, token = t.token!) => {
    const msg = concatBytes(new Uint8Array(32).fill(0xff), Uint8Array.of(0x0d, sub));
    return new Map<number, CborValue>([[1, sub], [3, 2], [4, t.proto.authenticate(token, msg)]]);
  };
  assert.equal((await host.cbor(CTAP2_CMD.config, cfg(0x02))).status, 0);
  assert.equal(decodeGetInfo((await host.cbor(CTAP2_CMD.getInfo)).value).options.alwaysUv, true);
  // alwaysUv: a non-resident credential without UV is now refused.
  const cdh = randomBytes(32);
  const mc = new Map<number, CborValue>([[1, cdh], [2, { id: 'x.example' }], [3, { id: utf8Encode('u') }], [4, [{ alg: -7, type: 'public-key' }]]]);
  assert.equal((await host.cbor(CTAP2_CMD.makeCredential, mc)).status, 0x36);
  // alwaysUv is on now: every makeCredential below carries a fresh PIN token.
  const epMc = async (ep: number): Promise<Map<number, CborValue>> => {
    const cdh = randomBytes(32);
    const tok = await pinToken(host, 2, '1234', 0x01, 'x.example');
    return new Map<number, CborValue>([
      [1, cdh],
      [2, { id: 'x.example' }],
      [3, { id: utf8Encode('u') }],
      [4, [{ alg: -7, type: 'public-key' }]],
      [8, tok.proto.authenticate(tok.token!, cdh)],
      [9, 2],
      [10, ep],
    ]);
  };
  assert.equal((await host.cbor(CTAP2_CMD.makeCredential, await epMc(1))).status, 0x02, 'enterprise attestation not enabled yet');
  // Each new token replaces the last, so config needs a fresh acfg token now.
  assert.equal((await host.cbor(CTAP2_CMD.config, cfg(0x01))).status, 0x33, 'the acfg token was replaced');
  assert.equal((await host.cbor(CTAP2_CMD.config, cfg(0x01, (await pinToken(host, 2, '1234', 0x20)).token))).status, 0);
  assert.equal(decodeGetInfo((await host.cbor(CTAP2_CMD.getInfo)).value).options.ep, true);
  const epRes = await host.cbor(CTAP2_CMD.makeCredential, await epMc(2));
  assert.equal(epRes.status, 0);
  assert.equal(CborMapReader.from(epRes.value, 'mc').bool(4), true, 'epAtt');
  assert.equal((await host.cbor(CTAP2_CMD.makeCredential, await epMc(3))).status, 0x2c, 'only 1 and 2 exist');
  assert.equal((await host.cbor(CTAP2_CMD.config, cfg(0x7e))).status, 0x3e);
  assert.equal((await host.cbor(CTAP2_CMD.config, new Map<number, CborValue>([[1, 0x02]]))).status, 0x36);
  const bad = cfg(0x02, randomBytes(32));
  assert.equal((await host.cbor(CTAP2_CMD.config, bad)).status, 0x33);
  await key.close();
});

test('reset: needs a touch and the power-up window; wipes credentials and PIN', async () => {
  let now = 1_000_000;
  const { key, host } = await setup({ now: () => now });
  assert.equal(await setPin(host, 2, '1234'), 0);
  await makeResident(host, 'r.example', 'u', '1234');
  now += 11_000;
  assert.equal((await host.cbor(CTAP2_CMD.reset)).status, 0x30, 'outside the 10 s window');
  key.powerCycle();
  assert.equal((await host.cbor(CTAP2_CMD.reset)).status, 0);
  const info = decodeGetInfo((await host.cbor(CTAP2_CMD.getInfo)).value);
  assert.equal(info.options.clientPin, false);
  assert.equal(info.remainingDiscoverableCredentials, 100);
  assert.deepEqual(await pinRetries(host), { retries: 8, powerCycle: false });
  assert.equal((await host.cbor(CTAP2_CMD.getAssertion, new Map<number, CborValue>([[1, 'r.example'], [2, randomBytes(32)]]))).status, 0x2e);
  await key.close();
  const denied = await setup({ presence: 'deny' });
  assert.equal((await denied.host.cbor(CTAP2_CMD.reset)).status, 0x27);
  assert.equal((await denied.host.cbor(CTAP2_CMD.selection)).status, 0x27);
  await denied.key.close();
});

test('features off: a key without credMgmt/largeBlobs/config answers INVALID_COMMAND and does not list them', async () => {
  const { key, host } = await setup({ features: { credMgmt: false, largeBlobs: false, config: false } });
  const info = decodeGetInfo((await host.cbor(CTAP2_CMD.getInfo)).value);
  assert.equal(info.options.credMgmt, undefined);
  assert.equal(info.options.largeBlobs, undefined);
  assert.equal(info.options.authnrCfg, undefined);
  for (const cmd of [CTAP2_CMD.credentialManagement, CTAP2_CMD.largeBlobs, CTAP2_CMD.config]) {
    assert.equal((await host.cbor(cmd, new Map<number, CborValue>([[1, 1]]))).status, 0x01);
  }
  await key.close();
});
