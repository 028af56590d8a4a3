import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CborMapReader, type CborValue } from '../../src/cbor/index.js';
import { randomBytes } from '../../src/crypto/primitives.js';
import { CTAP2_CMD } from '../../src/ctap2/commands.js';
import { utf8Encode } from '../../src/util/bytes.js';
import { VirtualAuthenticator } from '../../src/virtual/index.js';
import { TestCtapHidHost } from '../helpers/virtual-driver.js';
import { keyAgreement, pinToken } from './pin-client.js';
import { checkAssertion, checkAttestation } from './verify.js';

const RP = 'example.com';

async function setup(opts: Record<string, unknown> = {}): Promise<{ key: VirtualAuthenticator; host: TestCtapHidHost }> {
  const key = await VirtualAuthenticator.create(opts);
  return { key, host: await TestCtapHidHost.open(key.port()) };
}

function mcReq(user: string, ext: Map<string, CborValue> | undefined, rk: boolean, auth?: { token: Uint8Array; proto: { authenticate(k: Uint8Array, m: Uint8Array): Uint8Array; version: number } }) {
  const cdh = randomBytes(32);
  const req = new Map<number, CborValue>([
    [1, cdh],
    [2, { id: RP }],
    [3, { id: utf8Encode(user), name: user }],
    [4, [{ alg: -7, type: 'public-key' }]],
  ]);
  if (ext) req.set(6, ext);
  if (rk) req.set(7, { rk: true });
  if (auth) {
    req.set(8, auth.proto.authenticate(auth.token, cdh));
    req.set(9, auth.proto.version);
  }
  return { req, cdh };
}

function gaReq(allow: Uint8Array[] | undefined, ext?: Map<string, CborValue>, auth?: { token: Uint8Array; proto: { authenticate(k: Uint8Array, m: Uint8Array): Uint8Array; version: number } }) {
  const cdh = randomBytes(32);
  const req = new Map<number, CborValue>([[1, RP], [2, cdh]]);
  if (allow) req.set(3, allow.map((id) => ({ id, type: 'public-key' })));
  if (ext) req.set(4, ext);
  if (auth) {
    req.set(6, auth.proto.authenticate(auth.token, cdh));
    req.set(7, auth.proto.version);
  }
  return { req, cdh };
}

test('credProtect: level 3 is invisible without UV; level 2 needs UV or an allowList; output echoes the level', async () => {
  const { key, host } = await setup({ pin: '1234' });
  const made: Record<number, ReturnType<typeof checkAttestation>> = {};
  for (const level of [1, 2, 3]) {
    const t = await pinToken(host, 2, '1234', 0x01, RP);
    const m = mcReq(`user${level}`, new Map([['credProtect', level]]), true, { token: t.token!, proto: t.proto });
    const r = await host.cbor(CTAP2_CMD.makeCredential, m.req);
    assert.equal(r.status, 0);
    made[level] = checkAttestation(r.value, RP, m.cdh);
    assert.equal(made[level]!.extensions!.uint('credProtect'), level);
  }
  // Without UV and without allowList only level 1 is discoverable.
  const g = gaReq(undefined);
  const r = await host.cbor(CTAP2_CMD.getAssertion, g.req);
  const a = checkAssertion(r.value, made[1]!.publicKey!, RP, g.cdh);
  assert.equal(a.numberOfCredentials, 1);
  // With an allowList, level 2 works without UV, level 3 does not.
  const g2 = gaReq([made[2]!.credentialId!]);
  assert.equal((await host.cbor(CTAP2_CMD.getAssertion, g2.req)).status, 0);
  assert.equal((await host.cbor(CTAP2_CMD.getAssertion, gaReq([made[3]!.credentialId!]).req)).status, 0x2e);
  // Excluding a level-3 credential without UV does not reveal it.
  assert.equal((await host.cbor(CTAP2_CMD.makeCredential, (() => {
    const m = mcReq('x', undefined, false);
    m.req.set(5, [{ id: made[3]!.credentialId!, type: 'public-key' }]);
    return m.req;
  })())).status, 0, 'makeCredUvNotRqd: a non-resident credential without UV is made, and the level-3 one is not matched');
  // With UV (a PIN token) all three are found.
  const t = await pinToken(host, 2, '1234', 0x02, RP);
  const g3 = gaReq(undefined, undefined, { token: t.token!, proto: t.proto });
  const r3 = await host.cbor(CTAP2_CMD.getAssertion, g3.req);
  assert.equal(CborMapReader.from(r3.value, 'ga').uint(5), 3);
  await key.close();
});

test('hmac-secret: the same salt gives the same output; different with and without UV; hmac-secret-mc at creation', async () => {
  const { key, host } = await setup();
  const s = await keyAgreement(host, 2);
  const salt = randomBytes(32);
  const saltEnc = s.proto.encrypt(s.shared, salt);
  const mcInput = new Map<number, CborValue>([[1, s.keyAgreement], [2, saltEnc], [3, s.proto.authenticate(s.shared, saltEnc)], [4, 2]]);
  const m = mcReq('h', new Map<string, CborValue>([['hmac-secret', true], ['hmac-secret-mc', mcInput]]), false);
  const att = checkAttestation((await host.cbor(CTAP2_CMD.makeCredential, m.req)).value, RP, m.cdh);
  assert.equal(att.extensions!.bool('hmac-secret'), true);
  const mcOut = s.proto.decrypt(s.shared, att.extensions!.bytes('hmac-secret-mc'));
  const outputs: Uint8Array[] = [];
  for (let i = 0; i < 2; i++) {
    const k = await keyAgreement(host, 2);
    const enc = k.proto.encrypt(k.shared, salt);
    const input = new Map<number, CborValue>([[1, k.keyAgreement], [2, enc], [3, k.proto.authenticate(k.shared, enc)], [4, 2]]);
    const g = gaReq([att.credentialId!], new Map([['hmac-secret', input]]));
    const a = checkAssertion((await host.cbor(CTAP2_CMD.getAssertion, g.req)).value, att.publicKey!, RP, g.cdh);
    outputs.push(k.proto.decrypt(k.shared, a.extensions!.bytes('hmac-secret')));
  }
  assert.deepEqual(outputs[0], outputs[1]);
  assert.equal(outputs[0]!.length, 32);
  assert.deepEqual(mcOut, outputs[0], 'hmac-secret-mc gives the no-UV output for the same salt');
  // A bad saltAuth is PIN_AUTH_INVALID.
  const k = await keyAgreement(host, 2);
  const enc = k.proto.encrypt(k.shared, salt);
  const bad = new Map<number, CborValue>([[1, k.keyAgreement], [2, enc], [3, new Uint8Array(32)], [4, 2]]);
  assert.equal((await host.cbor(CTAP2_CMD.getAssertion, gaReq([att.credentialId!], new Map([['hmac-secret', bad]])).req)).status, 0x33);
  await key.close();
});

test('credBlob and largeBlobKey are stored with a discoverable credential and returned on request', async () => {
  const { key, host } = await setup();
  const blob = randomBytes(16);
  const m = mcReq('b', new Map<string, CborValue>([['credBlob', blob], ['largeBlobKey', true]]), true);
  const r = await host.cbor(CTAP2_CMD.makeCredential, m.req);
  const att = checkAttestation(r.value, RP, m.cdh);
  assert.equal(att.extensions!.bool('credBlob'), true);
  const lbk = CborMapReader.from(r.value, 'mc').bytes(5);
  assert.equal(lbk.length, 32);
  const g = gaReq(undefined, new Map<string, CborValue>([['credBlob', true], ['largeBlobKey', true]]));
  const ga = await host.cbor(CTAP2_CMD.getAssertion, g.req);
  const a = checkAssertion(ga.value, att.publicKey!, RP, g.cdh);
  assert.deepEqual(a.extensions!.bytes('credBlob'), blob);
  assert.deepEqual(CborMapReader.from(ga.value, 'ga').bytes(7), lbk);
  // Too long a blob is refused (output false); largeBlobKey without rk is INVALID_OPTION.
  const m2 = mcReq('c', new Map<string, CborValue>([['credBlob', randomBytes(33)]]), true);
  assert.equal(checkAttestation((await host.cbor(CTAP2_CMD.makeCredential, m2.req)).value, RP, m2.cdh).extensions!.bool('credBlob'), false);
  assert.equal((await host.cbor(CTAP2_CMD.makeCredential, mcReq('d', new Map<string, CborValue>([['largeBlobKey', true]]), false).req)).status, 0x2c);
  await key.close();
});

test('a key configured without extensions ignores their inputs', async () => {
  const { key, host } = await setup({ features: { credProtect: false, hmacSecret: false } });
  const m = mcReq('e', new Map<string, CborValue>([['credProtect', 3], ['hmac-secret', true]]), false);
  const att = checkAttestation((await host.cbor(CTAP2_CMD.makeCredential, m.req)).value, RP, m.cdh);
  assert.equal(att.extensions, undefined);
  assert.ok(!(att.flags & 0x80));
  await key.close();
});
