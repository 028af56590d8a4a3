import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from '../../src/crypto/primitives.js';
import { CTAP2_CMD } from '../../src/ctap2/commands.js';
import { utf8Encode } from '../../src/util/bytes.js';
import type { CborValue } from '../../src/cbor/index.js';
import { VirtualAuthenticator } from '../../src/virtual/index.js';
import { TestCtapHidHost } from '../helpers/virtual-driver.js';
import { checkAssertion, checkAttestation } from './verify.js';

const RP = 'example.com';

function mcRequest(opts: { userId?: Uint8Array; name?: string; rk?: boolean; alg?: number[]; exclude?: Uint8Array[]; rpId?: string; ext?: Map<string, CborValue> } = {}): { req: Map<number, CborValue>; cdh: Uint8Array } {
  const cdh = randomBytes(32);
  const req = new Map<number, CborValue>([
    [1, cdh],
    [2, { id: opts.rpId ?? RP, name: 'Example' }],
    [3, { id: opts.userId ?? utf8Encode('user-1'), name: opts.name ?? 'alice', displayName: 'Alice' }],
    [4, (opts.alg ?? [-7]).map((alg) => ({ alg, type: 'public-key' }))],
  ]);
  if (opts.exclude) req.set(5, opts.exclude.map((id) => ({ id, type: 'public-key' })));
  if (opts.ext) req.set(6, opts.ext);
  if (opts.rk) req.set(7, { rk: true });
  return { req, cdh };
}

function gaRequest(allow?: Uint8Array[], rpId = RP, options?: Record<string, boolean>): { req: Map<number, CborValue>; cdh: Uint8Array } {
  const cdh = randomBytes(32);
  const req = new Map<number, CborValue>([[1, rpId], [2, cdh]]);
  if (allow) req.set(3, allow.map((id) => ({ id, type: 'public-key' })));
  if (options) req.set(5, options);
  return { req, cdh };
}

async function setup(opts: ConstructorParameters<typeof Object>[0] = {}): Promise<{ key: VirtualAuthenticator; host: TestCtapHidHost }> {
  const key = await VirtualAuthenticator.create(opts as never);
  return { key, host: await TestCtapHidHost.open(key.port()) };
}

for (const alg of [-7, -8]) {
  test(`non-resident ${alg === -7 ? 'ES256' : 'EdDSA'}: packed x5c attestation and assertion signatures verify, counter grows`, async () => {
    const { key, host } = await setup();
    const mc = mcRequest({ alg: [alg] });
    const r = await host.cbor(CTAP2_CMD.makeCredential, mc.req);
    assert.equal(r.status, 0);
    const att = checkAttestation(r.value, RP, mc.cdh);
    assert.equal(att.publicKey!.int(3), alg);
    assert.deepEqual(att.aaguid, key.aaguid);
    assert.ok(att.x5c);
    const ga1 = gaRequest([att.credentialId!]);
    const a1 = await host.cbor(CTAP2_CMD.getAssertion, ga1.req);
    assert.equal(a1.status, 0);
    const s1 = checkAssertion(a1.value, att.publicKey!, RP, ga1.cdh);
    assert.deepEqual(s1.id, att.credentialId);
    assert.equal(s1.user, undefined);
    const ga2 = gaRequest([att.credentialId!]);
    const s2 = checkAssertion((await host.cbor(CTAP2_CMD.getAssertion, ga2.req)).value, att.publicKey!, RP, ga2.cdh);
    assert.ok(s2.signCount > s1.signCount);
    await key.close();
  });
}

test('self attestation signs with the credential key', async () => {
  const { key, host } = await setup({ attestation: 'self' });
  const mc = mcRequest({ alg: [-8, -7] });
  const r = await host.cbor(CTAP2_CMD.makeCredential, mc.req);
  const att = checkAttestation(r.value, RP, mc.cdh);
  assert.equal(att.x5c, undefined);
  assert.equal(att.publicKey!.int(3), -8, 'first supported algorithm of the list');
  await key.close();
});

test('a key handle is bound to its RP and to this key', async () => {
  const { key, host } = await setup();
  const mc = mcRequest();
  const att = checkAttestation((await host.cbor(CTAP2_CMD.makeCredential, mc.req)).value, RP, mc.cdh);
  assert.equal((await host.cbor(CTAP2_CMD.getAssertion, gaRequest([att.credentialId!], 'evil.example').req)).status, 0x2e);
  const tampered = att.credentialId!.slice();
  tampered[20]! ^= 1;
  assert.equal((await host.cbor(CTAP2_CMD.getAssertion, gaRequest([tampered]).req)).status, 0x2e);
  const other = await setup();
  assert.equal((await other.host.cbor(CTAP2_CMD.getAssertion, gaRequest([att.credentialId!]).req)).status, 0x2e);
  await other.key.close();
  await key.close();
});

test('excludeList: an existing credential answers CREDENTIAL_EXCLUDED; unknown ids are ignored', async () => {
  const { key, host } = await setup();
  const mc = mcRequest();
  const att = checkAttestation((await host.cbor(CTAP2_CMD.makeCredential, mc.req)).value, RP, mc.cdh);
  assert.equal((await host.cbor(CTAP2_CMD.makeCredential, mcRequest({ exclude: [att.credentialId!] }).req)).status, 0x19);
  assert.equal((await host.cbor(CTAP2_CMD.makeCredential, mcRequest({ exclude: [randomBytes(64)] }).req)).status, 0);
  // Excluding on another RP does not match.
  assert.equal((await host.cbor(CTAP2_CMD.makeCredential, mcRequest({ exclude: [att.credentialId!], rpId: 'other.example' }).req)).status, 0);
  await key.close();
});

test('discoverable credentials: getAssertion without allowList walks users newest first with getNextAssertion', async () => {
  const { key, host } = await setup();
  const keys = new Map<string, ReturnType<typeof checkAttestation>>();
  for (const name of ['u1', 'u2', 'u3']) {
    const mc = mcRequest({ rk: true, userId: utf8Encode(name), name });
    keys.set(name, checkAttestation((await host.cbor(CTAP2_CMD.makeCredential, mc.req)).value, RP, mc.cdh));
  }
  // Re-registering u2 replaces its credential (same rpId + user id) and makes it the newest.
  const mc = mcRequest({ rk: true, userId: utf8Encode('u2'), name: 'u2b' });
  keys.set('u2', checkAttestation((await host.cbor(CTAP2_CMD.makeCredential, mc.req)).value, RP, mc.cdh));
  const ga = gaRequest();
  const first = await host.cbor(CTAP2_CMD.getAssertion, ga.req);
  assert.equal(first.status, 0);
  const seen: string[] = [];
  const a = checkAssertion(first.value, keys.get('u2')!.publicKey!, RP, ga.cdh);
  assert.equal(a.numberOfCredentials, 3);
  seen.push(new TextDecoder().decode(a.user!.bytes('id')));
  // Without UV, only the user id comes back.
  assert.equal(a.user!.has('name'), false);
  for (const expected of ['u3', 'u1']) {
    const n = await host.cbor(CTAP2_CMD.getNextAssertion);
    assert.equal(n.status, 0);
    const s = checkAssertion(n.value, keys.get(expected)!.publicKey!, RP, ga.cdh);
    seen.push(new TextDecoder().decode(s.user!.bytes('id')));
    assert.equal(s.numberOfCredentials, undefined);
  }
  assert.deepEqual(seen, ['u2', 'u3', 'u1']);
  assert.equal((await host.cbor(CTAP2_CMD.getNextAssertion)).status, 0x30);
  // Another RP has none.
  assert.equal((await host.cbor(CTAP2_CMD.getAssertion, gaRequest(undefined, 'none.example').req)).status, 0x2e);
  await key.close();
});

test('resident store capacity: KEY_STORE_FULL when full; non-resident credentials are unlimited', async () => {
  const { key, host } = await setup({ capacity: 2 });
  for (const u of ['a', 'b']) assert.equal((await host.cbor(CTAP2_CMD.makeCredential, mcRequest({ rk: true, userId: utf8Encode(u) }).req)).status, 0);
  assert.equal((await host.cbor(CTAP2_CMD.makeCredential, mcRequest({ rk: true, userId: utf8Encode('c') }).req)).status, 0x28);
  for (let i = 0; i < 5; i++) assert.equal((await host.cbor(CTAP2_CMD.makeCredential, mcRequest({ userId: utf8Encode(`n${i}`) }).req)).status, 0);
  await key.close();
});

test('up=false makes a silent assertion without the UP flag; rk in getAssertion options is rejected', async () => {
  const { key, host } = await setup({ presence: 'deny' });
  // With presence denied, makeCredential fails OPERATION_DENIED.
  assert.equal((await host.cbor(CTAP2_CMD.makeCredential, mcRequest().req)).status, 0x27);
  await key.close();
  const s = await setup();
  const mc = mcRequest();
  const att = checkAttestation((await s.host.cbor(CTAP2_CMD.makeCredential, mc.req)).value, RP, mc.cdh);
  const ga = gaRequest([att.credentialId!], RP, { up: false });
  const a = checkAssertion((await s.host.cbor(CTAP2_CMD.getAssertion, ga.req)).value, att.publicKey!, RP, ga.cdh);
  assert.equal(a.flags & 0x01, 0);
  assert.equal((await s.host.cbor(CTAP2_CMD.getAssertion, gaRequest([att.credentialId!], RP, { rk: true }).req)).status, 0x2b);
  await s.key.close();
});

test('malformed requests: missing members, wrong types, bad CBOR, unsupported algorithms', async () => {
  const { key, host } = await setup();
  const { req } = mcRequest();
  req.delete(1);
  assert.equal((await host.cbor(CTAP2_CMD.makeCredential, req)).status, 0x14);
  const bad = mcRequest().req;
  bad.set(1, 'not bytes');
  assert.equal((await host.cbor(CTAP2_CMD.makeCredential, bad)).status, 0x11);
  assert.equal((await host.cbor(CTAP2_CMD.makeCredential, mcRequest({ alg: [-257] }).req)).status, 0x26);
  const raw = await host.cborRaw(Uint8Array.of(CTAP2_CMD.makeCredential, 0xa1, 0x01));
  assert.equal(raw[0], 0x12);
  assert.equal((await host.cborRaw(Uint8Array.of(0x55)))[0], 0x01);
  await key.close();
});

test('lists longer than maxCredentialCountInList are LIMIT_EXCEEDED', async () => {
  const { key, host } = await setup({ maxCredentialCountInList: 4 });
  const ids = Array.from({ length: 5 }, () => randomBytes(64));
  assert.equal((await host.cbor(CTAP2_CMD.getAssertion, gaRequest(ids).req)).status, 0x15);
  assert.equal((await host.cbor(CTAP2_CMD.makeCredential, mcRequest({ exclude: ids }).req)).status, 0x15);
  assert.equal((await host.cbor(CTAP2_CMD.getAssertion, gaRequest(ids.slice(0, 4)).req)).status, 0x2e);
  await key.close();
});
