import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CborMapReader, type CborValue } from '../../src/cbor/index.js';
import { randomBytes } from '../../src/crypto/primitives.js';
import { CTAP2_CMD } from '../../src/ctap2/commands.js';
import { decodeGetInfo } from '../../src/ctap2/get-info.js';
import { utf8Encode } from '../../src/util/bytes.js';
import { VirtualAuthenticator } from '../../src/virtual/index.js';
import { TestCtapHidHost } from '../helpers/virtual-driver.js';
import { changePin, pinRetries, pinToken, setPin } from './pin-client.js';
import { checkAttestation, parseAuthData } from './verify.js';

const RP = 'example.com';

async function setup(opts: Record<string, unknown> = {}): Promise<{ key: VirtualAuthenticator; host: TestCtapHidHost }> {
  const key = await VirtualAuthenticator.create(opts);
  return { key, host: await TestCtapHidHost.open(key.port()) };
}

function mc(token: Uint8Array | undefined, proto: { authenticate(k: Uint8Array, m: Uint8Array): Uint8Array; version: number } | undefined, opts: { rk?: boolean; rpId?: string; ext?: Map<string, CborValue> } = {}) {
  const cdh = randomBytes(32);
  const req = new Map<number, CborValue>([
    [1, cdh],
    [2, { id: opts.rpId ?? RP }],
    [3, { id: utf8Encode('user'), name: 'alice', displayName: 'Alice' }],
    [4, [{ alg: -7, type: 'public-key' }]],
  ]);
  if (opts.ext) req.set(6, opts.ext);
  if (opts.rk) req.set(7, { rk: true });
  if (token && proto) {
    req.set(8, proto.authenticate(token, cdh));
    req.set(9, proto.version);
  }
  return { req, cdh };
}

for (const version of [1, 2] as const) {
  test(`PIN protocol ${version}: setPIN, getInfo clientPin, token for makeCredential sets UV; changePIN`, async () => {
    const { key, host } = await setup();
    assert.equal(await setPin(host, version, '1234'), 0);
    assert.equal(await setPin(host, version, '5678'), 0x30, 'setPIN again is NOT_ALLOWED');
    const info = decodeGetInfo((await host.cbor(CTAP2_CMD.getInfo)).value);
    assert.equal(info.options.clientPin, true);
    // With a PIN set, a resident credential needs a token.
    assert.equal((await host.cbor(CTAP2_CMD.makeCredential, mc(undefined, undefined, { rk: true }).req)).status, 0x36);
    const t = await pinToken(host, version, '1234', version === 2 ? 0x01 : undefined, version === 2 ? RP : undefined);
    assert.equal(t.status, 0);
    const r = mc(t.token, t.proto, { rk: true });
    const res = await host.cbor(CTAP2_CMD.makeCredential, r.req);
    assert.equal(res.status, 0);
    const ad = checkAttestation(res.value, RP, r.cdh);
    assert.ok(ad.flags & 0x04, 'UV flag from the PIN token');
    // A tampered pinUvAuthParam is rejected.
    const bad = mc(t.token, t.proto);
    (bad.req.get(8) as Uint8Array)[0]! ^= 1;
    assert.equal((await host.cbor(CTAP2_CMD.makeCredential, bad.req)).status, 0x33);
    assert.equal(await changePin(host, version, '1234', '98765'), 0);
    assert.equal((await pinToken(host, version, '1234')).status, 0x31);
    assert.equal((await pinToken(host, version, '98765')).status, 0);
    await key.close();
  });
}

test('PIN policy: too short, and minimum length from the key', async () => {
  const { key, host } = await setup();
  assert.equal(await setPin(host, 2, '123'), 0x37);
  assert.equal(await setPin(host, 2, '1234'), 0);
  await key.close();
});

test('wrong PINs: retries drop, PIN_AUTH_BLOCKED after 3 until power cycle, PIN_BLOCKED after 8', async () => {
  const { key, host } = await setup({ pin: '1234' });
  assert.deepEqual(await pinRetries(host), { retries: 8, powerCycle: false });
  assert.equal((await pinToken(host, 2, '0000')).status, 0x31);
  assert.equal((await pinRetries(host)).retries, 7);
  assert.equal((await pinToken(host, 1, '0000')).status, 0x31);
  assert.equal((await pinToken(host, 2, '0000')).status, 0x34, 'third wrong PIN in a row');
  assert.deepEqual(await pinRetries(host), { retries: 5, powerCycle: true });
  // Even the right PIN is refused until the key is re-plugged; no retry is spent.
  assert.equal((await pinToken(host, 2, '1234')).status, 0x34);
  assert.equal((await pinRetries(host)).retries, 5);
  key.powerCycle();
  assert.equal((await pinToken(host, 2, '1234')).status, 0, 'right PIN after a power cycle');
  assert.equal((await pinRetries(host)).retries, 8, 'a right PIN restores the retries');
  let status = 0;
  for (let i = 0; i < 8; i++) {
    if (i % 3 === 0) key.powerCycle();
    status = (await pinToken(host, 2, '9999')).status;
  }
  assert.equal(status, 0x32);
  assert.equal((await pinRetries(host)).retries, 0);
  key.powerCycle();
  assert.equal((await pinToken(host, 2, '1234')).status, 0x32, 'blocked for good: only reset helps');
  await key.close();
});

test('permissions and RP binding of tokens', async () => {
  const { key, host } = await setup({ pin: '1234' });
  // A token for ga only cannot make credentials.
  const ga = await pinToken(host, 2, '1234', 0x02, RP);
  assert.equal((await host.cbor(CTAP2_CMD.makeCredential, mc(ga.token, ga.proto).req)).status, 0x40);
  // A token bound to example.com cannot be used for another RP.
  const t = await pinToken(host, 2, '1234', 0x01, RP);
  assert.equal((await host.cbor(CTAP2_CMD.makeCredential, mc(t.token, t.proto, { rpId: 'other.example' }).req)).status, 0x40);
  assert.equal((await host.cbor(CTAP2_CMD.makeCredential, mc(t.token, t.proto).req)).status, 0);
  // mc permission is used up by one makeCredential.
  assert.equal((await host.cbor(CTAP2_CMD.makeCredential, mc(t.token, t.proto).req)).status, 0x40);
  // mc/ga permissions need an rpId; unknown bits are invalid; be is not supported.
  const s = await pinToken(host, 2, '1234', 0x01);
  assert.equal(s.status, 0x14);
  assert.equal((await pinToken(host, 2, '1234', 0x80)).status, 0x02);
  assert.equal((await pinToken(host, 2, '1234', 0x08)).status, 0x40);
  // A new token invalidates the old one.
  const a = await pinToken(host, 2, '1234', 0x01, RP);
  await pinToken(host, 2, '1234', 0x04);
  assert.equal((await host.cbor(CTAP2_CMD.makeCredential, mc(a.token, a.proto).req)).status, 0x33);
  await key.close();
});

test('forcePINChange after setMinPINLength: tokens refused until the PIN changes to a long enough one', async () => {
  const { key, host } = await setup({ pin: '1234' });
  const t = await pinToken(host, 2, '1234', 0x20);
  const sub = new Map<number, CborValue>([[1, 6]]);
  const { encodeCbor } = await import('../../src/cbor/index.js');
  const { concatBytes } = await import('../../src/util/bytes.js');
  const msg = concatBytes(new Uint8Array(32).fill(0xff), Uint8Array.of(0x0d, 0x03), encodeCbor(sub));
  const r = await host.cbor(CTAP2_CMD.config, new Map<number, CborValue>([[1, 3], [2, sub], [3, 2], [4, t.proto.authenticate(t.token!, msg)]]));
  assert.equal(r.status, 0);
  const info = decodeGetInfo((await host.cbor(CTAP2_CMD.getInfo)).value);
  assert.equal(info.minPINLength, 6);
  assert.equal(info.forcePINChange, true);
  assert.equal((await pinToken(host, 2, '1234')).status, 0x37);
  assert.equal(await changePin(host, 2, '1234', '12345'), 0x37, 'shorter than the new minimum');
  assert.equal(await changePin(host, 2, '1234', '123456'), 0);
  assert.equal((await pinToken(host, 2, '123456')).status, 0);
  assert.equal(decodeGetInfo((await host.cbor(CTAP2_CMD.getInfo)).value).forcePINChange, false);
  await key.close();
});

/** authenticatorConfig setMinPINLength with a token carrying acfg; returns the status. */
async function setMinPinLength(host: TestCtapHidHost, pin: string, newMin: number): Promise<number> {
  const t = await pinToken(host, 2, pin, 0x20);
  assert.equal(t.status, 0);
  const sub = new Map<number, CborValue>([[1, newMin]]);
  const { encodeCbor } = await import('../../src/cbor/index.js');
  const { concatBytes } = await import('../../src/util/bytes.js');
  const msg = concatBytes(new Uint8Array(32).fill(0xff), Uint8Array.of(0x0d, 0x03), encodeCbor(sub));
  return (await host.cbor(CTAP2_CMD.config, new Map<number, CborValue>([[1, 3], [2, sub], [3, 2], [4, t.proto.authenticate(t.token!, msg)]]))).status;
}

test('setMinPINLength forces a PIN change only when the current PIN is shorter than the new minimum (CTAP 2.1 §6.11.4)', async () => {
  // PIN of 8 code points (two of them 2-byte UTF-8): a minimum of 6, then 8, leaves it valid; 9 does not.
  const pin = 'ab\u00e9\u00e8cdef';
  const { key, host } = await setup({ pin });
  assert.equal(await setMinPinLength(host, pin, 6), 0);
  let info = decodeGetInfo((await host.cbor(CTAP2_CMD.getInfo)).value);
  assert.equal(info.minPINLength, 6);
  assert.equal(info.forcePINChange, false, 'an 8-character PIN meets a minimum of 6');
  assert.equal((await pinToken(host, 2, pin)).status, 0);
  assert.equal(await setMinPinLength(host, pin, 8), 0);
  assert.equal(decodeGetInfo((await host.cbor(CTAP2_CMD.getInfo)).value).forcePINChange, false, 'length counted in code points, not bytes (10)');
  assert.equal(await setMinPinLength(host, pin, 9), 0);
  info = decodeGetInfo((await host.cbor(CTAP2_CMD.getInfo)).value);
  assert.equal(info.forcePINChange, true, 'an 8-character PIN is shorter than 9');
  assert.equal((await pinToken(host, 2, pin)).status, 0x37);
  await key.close();
});

test('setMinPINLength after setPIN / changePIN uses the length of the PIN set over the wire', async () => {
  const { key, host } = await setup();
  assert.equal(await setPin(host, 2, '12345'), 0);
  assert.equal(await setMinPinLength(host, '12345', 5), 0);
  assert.equal(decodeGetInfo((await host.cbor(CTAP2_CMD.getInfo)).value).forcePINChange, false);
  assert.equal(await changePin(host, 2, '12345', '1234567'), 0);
  assert.equal(await setMinPinLength(host, '1234567', 7), 0);
  assert.equal(decodeGetInfo((await host.cbor(CTAP2_CMD.getInfo)).value).forcePINChange, false);
  assert.equal(await setMinPinLength(host, '1234567', 8), 0);
  assert.equal(decodeGetInfo((await host.cbor(CTAP2_CMD.getInfo)).value).forcePINChange, true);
  await key.close();
});

test('built-in UV: token via UV, uv option, UV denied lowers uvRetries', async () => {
  const { key, host } = await setup({ uv: 'auto' });
  const info = decodeGetInfo((await host.cbor(CTAP2_CMD.getInfo)).value);
  assert.equal(info.options.uv, true);
  const { keyAgreement } = await import('./pin-client.js');
  const s = await keyAgreement(host, 2);
  const r = await host.cbor(CTAP2_CMD.clientPin, new Map<number, CborValue>([[1, 2], [2, 6], [3, s.keyAgreement], [9, 0x01], [10, RP]]));
  assert.equal(r.status, 0);
  const token = s.proto.decrypt(s.shared, CborMapReader.from(r.value, 't').bytes(2));
  const m = mc(token, s.proto);
  const res = await host.cbor(CTAP2_CMD.makeCredential, m.req);
  assert.ok(parseAuthData(CborMapReader.from(res.value, 'mc').bytes(2)).flags & 0x04);
  const opt = mc(undefined, undefined);
  opt.req.set(7, { uv: true });
  const res2 = await host.cbor(CTAP2_CMD.makeCredential, opt.req);
  assert.ok(parseAuthData(CborMapReader.from(res2.value, 'mc').bytes(2)).flags & 0x04);
  await key.close();

  const d = await setup({ uv: 'deny' });
  const o = mc(undefined, undefined);
  o.req.set(7, { uv: true });
  assert.equal((await d.host.cbor(CTAP2_CMD.makeCredential, o.req)).status, 0x3f);
  const uvr = await d.host.cbor(CTAP2_CMD.clientPin, new Map<number, CborValue>([[1, 2], [2, 7]]));
  assert.equal(CborMapReader.from(uvr.value, 'uv').uint(5), 7);
  await d.key.close();
  // No built-in UV: uv option is invalid.
  const n = await setup();
  const o2 = mc(undefined, undefined);
  o2.req.set(7, { uv: true });
  assert.equal((await n.host.cbor(CTAP2_CMD.makeCredential, o2.req)).status, 0x2c);
  await n.key.close();
});

test('zero-length pinUvAuthParam probe answers PIN_NOT_SET / PIN_INVALID after a touch', async () => {
  const { key, host } = await setup();
  const r = mc(undefined, undefined);
  r.req.set(8, new Uint8Array(0));
  r.req.set(9, 1);
  assert.equal((await host.cbor(CTAP2_CMD.makeCredential, r.req)).status, 0x35);
  assert.equal(await setPin(host, 1, '1234'), 0);
  assert.equal((await host.cbor(CTAP2_CMD.makeCredential, r.req)).status, 0x31);
  await key.close();
});

test('token usage timer: unused for 30 s, or older than 10 minutes, the token expires', async () => {
  let now = 5_000_000;
  const { key, host } = await setup({ pin: '1234', now: () => now });
  const t = await pinToken(host, 2, '1234', 0x02, RP);
  now += 31_000;
  const cdh = randomBytes(32);
  const ga = new Map<number, CborValue>([[1, RP], [2, cdh], [6, t.proto.authenticate(t.token!, cdh)], [7, 2]]);
  // (No credential is needed to see the token refused: the token check comes first.)
  assert.equal((await host.cbor(CTAP2_CMD.getAssertion, ga)).status, 0x33);
  const t2 = await pinToken(host, 2, '1234', 0x02, RP);
  const ga2 = new Map<number, CborValue>([[1, RP], [2, cdh], [6, t2.proto.authenticate(t2.token!, cdh)], [7, 2]]);
  assert.equal((await host.cbor(CTAP2_CMD.getAssertion, ga2)).status, 0x2e, 'token accepted (no credentials)');
  now += 200_000;
  assert.equal((await host.cbor(CTAP2_CMD.getAssertion, ga2)).status, 0x2e, 'a used token outlives the initial limit');
  now += 500_000;
  assert.equal((await host.cbor(CTAP2_CMD.getAssertion, ga2)).status, 0x33, 'past 10 minutes');
  await key.close();
});
