import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CborError, decodeCbor, encodeCbor } from '../../src/cbor/index.js';
import { CTAP2_CMD } from '../../src/ctap2/commands.js';
import { encodeAuthenticatorData } from '../../src/ctap2/authenticator-data.js';
import { CtapFormatError } from '../../src/ctap2/format-error.js';
import {
  GET_ASSERTION,
  GET_ASSERTION_RESPONSE,
  decodeGetAssertionResponse,
  encodeGetAssertionRequest,
  getAllAssertions,
  getAssertion,
  getNextAssertion,
  type GetAssertionRequest,
} from '../../src/ctap2/get-assertion.js';
import { Ctap2Session } from '../../src/ctap2/session.js';
import { CtapError } from '../../src/ctap2/status.js';
import { concatBytes, fromHex, toHex } from '../../src/util/bytes.js';
import { loadVectors } from '../helpers/vectors.js';
import { FakeTransport } from './fake-transport.js';

const vectors = loadVectors('ctap2-responses').filter((v) => v.expected['command'] === 'getAssertion');
type J = Record<string, unknown>;

test('libfido2 uv-only getAssertion: typed decoder reproduces the vector', () => {
  const v = vectors.find((x) => x.id === 'libfido2-getassertion-uv-only-no-user')!;
  const r = decodeGetAssertionResponse(decodeCbor(fromHex(v.input).subarray(1)).value);
  const e = v.expected['decoded'] as J;
  assert.equal(toHex(r.credential!.id), (e['credential'] as J)['id']);
  assert.equal(r.credential!.type, 'public-key');
  assert.equal(toHex(r.authData.bytes), e['authData']);
  assert.equal(r.authData.up, false);
  assert.equal(r.authData.uv, true);
  assert.equal(r.authData.signCount, 9);
  assert.equal(toHex(r.signature), e['signature']);
  assert.equal(r.user, undefined);
  assert.equal(r.numberOfCredentials, undefined);
});

test('opensk numberOfCredentials=2 (DERIVED, placeholder authData): map level decodes, the strict decoder rejects the 1-byte authData', () => {
  const v = vectors.find((x) => x.id === 'opensk-getassertion-numberofcredentials-2')!;
  const value = decodeCbor(fromHex(v.input).subarray(1)).value;
  // the vector's own note: authData 0xAD is a placeholder, authData_decoded is expected to fail
  assert.throws(() => decodeGetAssertionResponse(value), (e: unknown) => e instanceof CtapFormatError && e.code === 'AUTHDATA_TRUNCATED');
  // with a real authData in its place, every other member decodes as the vector says
  const m = new Map(value as Map<unknown, unknown>);
  m.set(GET_ASSERTION_RESPONSE.authData, encodeAuthenticatorData({ rpIdHash: new Uint8Array(32), flags: 1, signCount: 1 }));
  const r = decodeGetAssertionResponse(m);
  const e = v.expected['decoded'] as J;
  assert.equal(r.numberOfCredentials, 2);
  assert.equal(toHex(r.user!.id), (e['user'] as J)['id']);
  assert.equal(r.user!.icon, 'example.com/foo/icon.png');
  assert.equal(r.user!.displayName, 'bar');
  assert.deepEqual(r.credential!.transports, ['usb']);
  assert.equal(toHex(r.largeBlobKey!), e['largeBlobKey']);
});

const INFO = concatBytes(Uint8Array.of(0), fromHex(loadVectors('ctap2-responses').find((x) => x.id === 'kanidm-getinfo-token2-nfc')!.input));
const req: GetAssertionRequest = { rpId: 'example.com', clientDataHash: new Uint8Array(32).fill(5) };

test('request encoding: every parameter under its key, canonical bytes', () => {
  const full = encodeGetAssertionRequest({
    ...req,
    allowList: [{ type: 'public-key', id: Uint8Array.of(1) }],
    extensions: { 'hmac-secret': new Map([[1, 2]]) as never },
    options: { up: false, uv: true },
    pinUvAuthParam: new Uint8Array(16),
    pinUvAuthProtocol: 1,
    enterpriseAttestation: 2,
    attestationFormatsPreference: ['packed'],
  });
  assert.deepEqual([...full.keys()].sort((a, b) => Number(a) - Number(b)), Object.values(GET_ASSERTION));
  // {1: "example.com", 2: h'05..05'}
  assert.equal(toHex(encodeCbor(encodeGetAssertionRequest(req))), `a2016b6578616d706c652e636f6d025820${'05'.repeat(32)}`);
  assert.throws(() => encodeGetAssertionRequest({ ...req, options: { rk: true } as never }), TypeError);
  assert.throws(() => encodeGetAssertionRequest({ ...req, clientDataHash: new Uint8Array(1) }), RangeError);
  assert.throws(() => encodeGetAssertionRequest({ ...req, rpId: '' }), TypeError);
});

function reply(cred: Uint8Array | undefined, count?: number, user?: Uint8Array): Uint8Array {
  const m = new Map<number, unknown>();
  if (cred) m.set(1, new Map<string, unknown>([['id', cred], ['type', 'public-key']]));
  m.set(2, encodeAuthenticatorData({ rpIdHash: new Uint8Array(32), flags: 5, signCount: 7 }));
  m.set(3, Uint8Array.of(0x30, 0));
  if (user) m.set(4, new Map([['id', user]]));
  if (count !== undefined) m.set(5, count);
  return concatBytes(Uint8Array.of(0), encodeCbor(m as never));
}

test('getAssertion fills in the credential from a one-entry allowList; getNextAssertion walks the rest', async () => {
  const t = new FakeTransport([INFO, reply(undefined), reply(Uint8Array.of(1), 3, Uint8Array.of(0xaa)), reply(Uint8Array.of(2)), reply(Uint8Array.of(3))]);
  const s = new Ctap2Session(t);
  const one = await getAssertion(s, { ...req, allowList: [{ type: 'public-key', id: Uint8Array.of(0x42) }] });
  assert.deepEqual(one.credential!.id, Uint8Array.of(0x42));
  const all = await getAllAssertions(s, req);
  assert.deepEqual(all.map((a) => a.credential!.id[0]), [1, 2, 3]);
  assert.deepEqual(all[0]!.user!.id, Uint8Array.of(0xaa));
  assert.deepEqual(t.requests.map((r) => r[0]), [CTAP2_CMD.getInfo, CTAP2_CMD.getAssertion, CTAP2_CMD.getAssertion, CTAP2_CMD.getNextAssertion, CTAP2_CMD.getNextAssertion]);
  assert.equal(t.requests[3]!.length, 1, 'getNextAssertion has no parameters');
});

test('a reply without credential and no single allowList entry, error statuses and bad CBOR are typed errors', async () => {
  const s = new Ctap2Session(new FakeTransport([INFO, reply(undefined), Uint8Array.of(0x2e), fromHex('00ff'), reply(undefined)]));
  await assert.rejects(getAssertion(s, req), (e: unknown) => e instanceof CtapError && /which credential/.test(e.message));
  await assert.rejects(getAssertion(s, req), (e: unknown) => e instanceof CtapError && e.specName === 'CTAP2_ERR_NO_CREDENTIALS');
  await assert.rejects(getAssertion(s, req), CborError);
  await assert.rejects(getNextAssertion(s), CtapError);
});

test('allowList longer than maxCredentialCountInList is refused locally', async () => {
  const info = fromHex(loadVectors('ctap2-responses').find((x) => x.id === 'kanidm-getinfo-yubikey-5-nfc')!.input);
  const t = new FakeTransport([concatBytes(Uint8Array.of(0), info)]);
  const s = new Ctap2Session(t);
  await s.getInfo();
  const allowList = Array.from({ length: 9 }, (_, i) => ({ type: 'public-key', id: Uint8Array.of(i) }));
  await assert.rejects(getAssertion(s, { ...req, allowList }), (e: unknown) => e instanceof CtapError && e.specName === 'CTAP2_ERR_LIMIT_EXCEEDED');
  assert.equal(t.requests.length, 1);
});
