import { test } from 'node:test';
import assert from 'node:assert/strict';
import { format, inspect } from 'node:util';
import { p256Generate } from '../../src/crypto/primitives.js';
import { decodeCbor, encodeCbor } from '../../src/cbor/index.js';
import { CTAP2_CMD } from '../../src/ctap2/commands.js';
import {
  ClientPin,
  CLIENT_PIN_SUBCOMMAND,
  decodeClientPinResponse,
  encodeClientPinRequest,
  PinUvAuthToken,
  SharedSecret,
  pinHash,
} from '../../src/ctap2/client-pin.js';
import { PIN_PROTOCOL_1, PIN_PROTOCOL_2 } from '../../src/ctap2/pin-protocol.js';
import { checkedPin, normalizePin } from '../../src/ctap2/pin-input.js';
import { choosePinProtocol, PERMISSION, UnsupportedFeatureError } from '../../src/ctap2/permissions.js';
import { CtapError } from '../../src/ctap2/status.js';
import { fromHex, toHex, utf8Encode } from '../../src/util/bytes.js';
import { loadVectors } from '../helpers/vectors.js';
import { FakeKey, FakeStatus } from './fake-ctap2-key.js';

const requests = loadVectors('ctap2-requests');
const responses = loadVectors('ctap2-responses');

test('kanidm getPINRetries request: our encoder produces the same bytes (protocol 1)', async () => {
  const v = requests.find((x) => x.id === 'kanidm-clientpin-getpinretries-request')!;
  const body = encodeCbor(encodeClientPinRequest({ pinUvAuthProtocol: 1, subCommand: CLIENT_PIN_SUBCOMMAND.getPINRetries }));
  assert.equal('06' + toHex(body), v.input);
  // and through the session, with a key that only offers protocol 1
  const key = new FakeKey({ pinUvAuthProtocols: [1], pin: '1234' });
  const r = await new ClientPin(key.session()).getPinRetries();
  assert.equal(toHex(key.last(CTAP2_CMD.clientPin).bytes), v.input);
  assert.deepEqual(r, { pinRetries: 8, powerCycleState: false });
});

test('clientPin keyAgreement vectors (libfido2 recorded, kanidm): typed decoder agrees with the expected COSE fields', () => {
  for (const id of ['libfido2-clientpin-keyagreement', 'kanidm-clientpin-getkeyagreement-response']) {
    const v = responses.find((x) => x.id === id)!;
    const exp = v.expected as { framing: string; decoded: { keyAgreement_cose: { x: string; y: string } } };
    let bytes = fromHex(v.input);
    if (exp.framing === 'status+cbor') {
      assert.equal(bytes[0], 0);
      bytes = bytes.subarray(1);
    }
    const r = decodeClientPinResponse(decodeCbor(bytes).value);
    assert.equal(toHex(r.keyAgreement!.x), exp.decoded.keyAgreement_cose.x, id);
    assert.equal(toHex(r.keyAgreement!.y), exp.decoded.keyAgreement_cose.y, id);
    assert.equal(r.pinUvAuthToken, undefined);
  }
});

test('keyAgreement that is not EC2 P-256 is rejected', () => {
  const bad = new Map<number, unknown>([[1, new Map<number, unknown>([[1, 1], [3, -25], [-1, 6], [-2, new Uint8Array(32)]])]]);
  assert.throws(() => decodeClientPinResponse(bad), /kty 1 is not EC2/);
});

test('PINs are NFC-normalised UTF-8, copied, and length-checked without echoing the PIN', () => {
  const composed = 'caf\u00e9';
  const decomposed = 'cafe\u0301';
  assert.deepEqual(normalizePin(decomposed), normalizePin(composed));
  assert.deepEqual(normalizePin(utf8Encode(decomposed)), utf8Encode(composed));
  const input = utf8Encode('123456');
  const out = normalizePin(input);
  out.fill(0);
  assert.deepEqual(input, utf8Encode('123456'), 'the caller\'s buffer is not modified');
  assert.throws(() => checkedPin('abc'), /at least 4 characters/);
  assert.throws(() => checkedPin('abcde', 6), (e: Error) => /at least 6/.test(e.message) && !e.message.includes('abcde'));
  assert.throws(() => checkedPin('x'.repeat(64)), /at most 63 bytes/);
  assert.equal(checkedPin('x'.repeat(63)).length, 63);
  // 4 code points of 3 bytes each is long enough even though it is 12 bytes; 3 are not
  assert.equal(checkedPin('\u4e00\u4e01\u4e02\u4e03').length, 12);
  assert.throws(() => checkedPin('\u4e00\u4e01\u4e02'), /at least 4/);
  assert.throws(() => normalizePin(Uint8Array.of(0xff, 0x31, 0x32, 0x33)), /not valid UTF-8/);
});

test('protocol choice: 2 when offered, else 1; an explicit preference must be offered', () => {
  assert.equal(choosePinProtocol({ pinUvAuthProtocols: [1, 2] }), 2);
  assert.equal(choosePinProtocol({ pinUvAuthProtocols: [1] }), 1);
  assert.equal(choosePinProtocol({}), 1, 'CTAP 2.0 keys list none and speak 1');
  assert.equal(choosePinProtocol({ pinUvAuthProtocols: [2, 1] }, 1), 1);
  assert.throws(() => choosePinProtocol({ pinUvAuthProtocols: [1] }, 2), UnsupportedFeatureError);
});

for (const protocol of [1, 2] as const) {
  test(`protocol ${protocol}: setPIN, then a token with permissions and rpId that the key accepts`, async () => {
    const key = new FakeKey();
    const session = key.session();
    const cp = new ClientPin(session, { protocol });
    await cp.setPin('1234');
    assert.deepEqual(key.pin, utf8Encode('1234'));
    const setReq = key.last(CTAP2_CMD.clientPin).params!;
    assert.equal(setReq.get(0x01), protocol);
    assert.equal(setReq.get(0x02), CLIENT_PIN_SUBCOMMAND.setPIN);
    assert.equal((setReq.get(0x05) as Uint8Array).length, protocol === 1 ? 64 : 80);

    const token = await cp.getPinUvAuthTokenUsingPin('1234', { permissions: ['cm', 'lbw'], rpId: 'example.com' });
    const req = key.last(CTAP2_CMD.clientPin).params!;
    assert.equal(req.get(0x02), CLIENT_PIN_SUBCOMMAND.getPinUvAuthTokenUsingPinWithPermissions);
    assert.equal(req.get(0x09), PERMISSION.cm | PERMISSION.lbw);
    assert.equal(req.get(0x0a), 'example.com');
    assert.equal(token.protocolVersion, protocol);
    assert.equal(token.permissions, 0x14);
    assert.equal(token.rpId, 'example.com');
    assert.ok(token.has('cm') && token.has('lbw') && !token.has('mc'));
    assert.deepEqual(token.unsafeBytes(), key.token, 'decrypted token equals the key\'s');
    const msg = utf8Encode('hello');
    key.verifyToken(protocol, msg, token.authenticate(msg), PERMISSION.cm);
    assert.equal(token.authenticate(msg).length, protocol === 1 ? 16 : 32);
    assert.throws(() => key.verifyToken(protocol, msg, token.authenticate(msg), PERMISSION.acfg), (e: FakeStatus) => e.status === 0x40);
    token.destroy();
    assert.ok(token.unsafeBytes().every((b) => b === 0));
    assert.throws(() => token.authenticate(msg), /destroyed/);
  });

  test(`protocol ${protocol}: wrong PIN carries retries left; three in a row need a power cycle; eight block the PIN`, async () => {
    const key = new FakeKey({ pin: '1234' });
    const cp = new ClientPin(key.session(), { protocol });
    const wrong = 'wrong-pin-0000';
    let err = await cp.getPinUvAuthTokenUsingPin(wrong, { permissions: ['cm'] }).catch((e: unknown) => e);
    assert.ok(err instanceof CtapError);
    assert.equal(err.specName, 'CTAP2_ERR_PIN_INVALID');
    assert.equal(err.retriesLeft, 7);
    assert.equal(err.powerCycleRequired, false);
    assert.match(err.message, /7 tries left/);
    assert.ok(!err.message.includes(wrong));
    // exactly one getPINRetries after the failure
    const subs = key.requests.filter((r) => r.command === CTAP2_CMD.clientPin).map((r) => r.params!.get(0x02));
    assert.deepEqual(subs.slice(-3), [CLIENT_PIN_SUBCOMMAND.getKeyAgreement, CLIENT_PIN_SUBCOMMAND.getPinUvAuthTokenUsingPinWithPermissions, CLIENT_PIN_SUBCOMMAND.getPINRetries]);

    await cp.getPinToken(wrong).catch(() => undefined);
    err = await cp.getPinToken(wrong).catch((e: unknown) => e);
    assert.ok(err instanceof CtapError);
    assert.equal(err.specName, 'CTAP2_ERR_PIN_AUTH_BLOCKED');
    assert.equal(err.powerCycleRequired, true);
    assert.match(err.message, /re-insert/);
    // blocked until power cycle, even with the right PIN
    err = await cp.getPinToken('1234').catch((e: unknown) => e);
    assert.equal((err as CtapError).specName, 'CTAP2_ERR_PIN_AUTH_BLOCKED');
    assert.deepEqual(await cp.getPinRetries(), { pinRetries: 5, powerCycleState: true });

    key.powerCycle();
    for (let i = 0; i < 4; i++) {
      err = await cp.getPinToken(wrong).catch((e: unknown) => e);
      if (i === 2) key.powerCycle();
    }
    assert.equal((err as CtapError).specName, 'CTAP2_ERR_PIN_INVALID');
    assert.equal((err as CtapError).retriesLeft, 1);
    assert.match((err as CtapError).message, /1 try left/);
    err = await cp.getPinToken(wrong).catch((e: unknown) => e);
    assert.equal((err as CtapError).specName, 'CTAP2_ERR_PIN_BLOCKED');
    assert.equal((err as CtapError).retriesLeft, 0);
    assert.match((err as CtapError).message, /reset/);
  });

  test(`protocol ${protocol}: changePIN replaces the PIN; the old one is then wrong`, async () => {
    const key = new FakeKey({ pin: '1234' });
    const cp = new ClientPin(key.session(), { protocol });
    await cp.changePin('1234', 'new-pin-5678');
    assert.deepEqual(key.pin, utf8Encode('new-pin-5678'));
    const req = key.last(CTAP2_CMD.clientPin).params!;
    assert.equal(req.get(0x02), CLIENT_PIN_SUBCOMMAND.changePIN);
    await assert.rejects(cp.getPinToken('1234'), (e: CtapError) => e.specName === 'CTAP2_ERR_PIN_INVALID');
    const t = await cp.getPinToken('new-pin-5678');
    assert.equal(t.permissions, 0);
    assert.ok(t.legacy && t.has('mc') && t.has('cm'), 'a legacy token is not restricted client-side');
    // wrong current PIN on change: the count comes back too
    const err = await cp.changePin('0000', '99999999').catch((e: unknown) => e);
    assert.equal((err as CtapError).specName, 'CTAP2_ERR_PIN_INVALID');
    assert.equal((err as CtapError).retriesLeft, 7);
  });
}

test('setPIN when a PIN is set, changePIN when none is: refused locally with what to do', async () => {
  const key = new FakeKey({ pin: '1234' });
  await assert.rejects(new ClientPin(key.session()).setPin('5678'), /already set on this key: change it/);
  const fresh = new FakeKey();
  await assert.rejects(new ClientPin(fresh.session()).changePin('1234', '5678'), /no PIN is set/);
  assert.equal(fresh.requests.filter((r) => r.command === CTAP2_CMD.clientPin).length, 0);
});

test('a new PIN shorter than the key\'s minPINLength is refused before anything is sent', async () => {
  const key = new FakeKey({ minPINLength: 6 });
  await assert.rejects(new ClientPin(key.session()).setPin('12345'), /at least 6 characters/);
  assert.equal(key.requests.filter((r) => r.command === CTAP2_CMD.clientPin).length, 0);
});

test('a key without clientPin: typed error that says so, nothing but getInfo sent', async () => {
  const key = new FakeKey({ options: { rk: true } });
  const cp = new ClientPin(key.session());
  const err = await cp.getPinRetries().catch((e: unknown) => e);
  assert.ok(err instanceof UnsupportedFeatureError);
  assert.ok(err instanceof CtapError);
  assert.equal(err.feature, 'clientPin');
  assert.match(err.message, /does not support a PIN/);
  assert.deepEqual(key.requests.map((r) => r.command), [CTAP2_CMD.getInfo]);
});

test('CTAP 2.0 / 2.1-PRE key (no pinUvAuthToken): getPinToken fallback; the strict call is refused plainly', async () => {
  const key = new FakeKey({ pin: '1234', options: { clientPin: true }, pinUvAuthProtocols: [1], versions: ['FIDO_2_0'] });
  const cp = new ClientPin(key.session());
  const t = await cp.getPinUvAuthTokenUsingPin('1234', { permissions: ['mc', 'ga'] });
  assert.equal(key.last(CTAP2_CMD.clientPin).params!.get(0x02), CLIENT_PIN_SUBCOMMAND.getPinToken);
  assert.equal(key.last(CTAP2_CMD.clientPin).params!.has(0x09), false);
  assert.equal(t.protocolVersion, 1);
  const cmToken = await cp.getPinUvAuthTokenUsingPin('1234', { permissions: ['cm'] });
  assert.equal(cmToken.permissions, 0, 'preview credential management uses the legacy token');
  await assert.rejects(cp.getPinUvAuthTokenUsingPinWithPermissions('1234', { permissions: ['mc'] }), UnsupportedFeatureError);
});

test('getPinUvAuthTokenUsingUvWithPermissions and getUVRetries need built-in UV', async () => {
  const uvKey = new FakeKey({ pin: '1234', options: { clientPin: true, pinUvAuthToken: true, uv: true } });
  const cp = new ClientPin(uvKey.session());
  const t = await cp.getPinUvAuthTokenUsingUvWithPermissions({ permissions: ['be'] });
  assert.equal(uvKey.last(CTAP2_CMD.clientPin).params!.get(0x02), CLIENT_PIN_SUBCOMMAND.getPinUvAuthTokenUsingUvWithPermissions);
  assert.deepEqual(t.unsafeBytes(), uvKey.token);
  assert.equal(await cp.getUvRetries(), 3);
  const noUv = new ClientPin(new FakeKey({ pin: '1234' }).session());
  await assert.rejects(noUv.getPinUvAuthTokenUsingUvWithPermissions({ permissions: ['be'] }), UnsupportedFeatureError);
  await assert.rejects(noUv.getUvRetries(), UnsupportedFeatureError);
});

test('a hostile reply: a token of impossible length is a typed error, not a crash', async () => {
  const key = new FakeKey({ pin: '1234' });
  key.handlers.set(CTAP2_CMD.clientPin, (p) => {
    const sub = p!.uint(0x02);
    if (sub === 0x09) return new Map([[0x02, new Uint8Array(7)]]);
    return key.clientPin(p!);
  });
  await assert.rejects(new ClientPin(key.session()).getPinUvAuthTokenUsingPin('1234', { permissions: ['cm'] }), CtapError);
});

test('util.inspect / console.log / %o / an error cause never show the token or shared-secret bytes (they did: public fields)', () => {
  const bytes = () => Uint8Array.from({ length: 32 }, (_, i) => 0xa0 + i); // inspect prints 160, 161, ...
  const t = new PinUvAuthToken(PIN_PROTOCOL_2, bytes(), PERMISSION.cm | PERMISSION.lbw, 'example.com');
  const ss = new SharedSecret(PIN_PROTOCOL_1, p256Generate().publicKey, bytes());
  const err = new Error('outer', { cause: { token: t, ss } });
  const texts = [
    inspect(t),
    inspect(t, { showHidden: true, depth: 10 }),
    format('%o %O %j', t, t, t),
    inspect(ss, { showHidden: true }),
    format('%o %j', ss, ss),
    inspect(err, { depth: 10 }),
    inspect({ nested: [t, ss] }, { depth: 10 }),
  ];
  for (const text of texts) {
    assert.doesNotMatch(text, /160, 161|a0a1a2|oKGi|Uint8Array/, text);
  }
  assert.match(inspect(t), /^PinUvAuthToken \{ protocol: 2, permissions: \[cm, lbw\], rpId: "example\.com", token: \(redacted\) \}$/);
  assert.match(inspect(ss), /SharedSecret \{ protocol: 1, secret: \(redacted\) \}/);
  // the API still works on the private bytes
  assert.equal(t.authenticate(new Uint8Array(8)).length, 32);
  assert.equal(ss.secret[0], 0xa0);
  ss.destroy();
  t.destroy();
  assert.ok(ss.secret.every((b) => b === 0) && t.unsafeBytes().every((b) => b === 0));
  assert.match(inspect(t), /destroyed/);
});

test('PinUvAuthToken never prints its token; pinHash is LEFT(SHA-256, 16)', () => {
  const t = new PinUvAuthToken(PIN_PROTOCOL_2, Uint8Array.from({ length: 32 }, (_, i) => i + 1), PERMISSION.cm, undefined);
  const json = JSON.stringify(t);
  assert.match(json, /redacted/);
  assert.ok(!json.includes('"1"') && !json.includes('0102'));
  assert.deepEqual(t.toJSON().permissions, ['cm']);
  // SHA-256("1234") = 03ac6742 16f3e15c 761ee1a5 e255f067 ...
  assert.equal(toHex(pinHash(utf8Encode('1234'))), '03ac674216f3e15c761ee1a5e255f067');
  assert.equal(PIN_PROTOCOL_1.version, 1);
});

test('changePin zeroes the current PIN bytes also when the new PIN is refused (too short / too long)', async (t) => {
  const key = new FakeKey({ pin: '4817', minPINLength: 6 });
  const current = '4817';
  const made: Uint8Array[] = [];
  const encode = TextEncoder.prototype.encode;
  t.mock.method(TextEncoder.prototype, 'encode', function (this: InstanceType<typeof TextEncoder>, s?: string) {
    const out = encode.call(this, s);
    made.push(out);
    return out;
  });
  for (const bad of ['12', 'x'.repeat(64)]) {
    made.length = 0;
    await assert.rejects(new ClientPin(key.session()).changePin(current, bad), RangeError);
    assert.ok(made.length > 0, 'the PIN text was encoded');
    const leaked = made.filter((b) => toHex(b) === toHex(utf8Encode(current)));
    assert.deepEqual(leaked, [], 'no buffer still holds the current PIN');
  }
  assert.equal(key.pinRetries, 8, 'nothing was sent');
});
