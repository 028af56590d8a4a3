import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CborError, decodeCbor, encodeCbor } from '../../src/cbor/index.js';
import { CTAP2_CMD } from '../../src/ctap2/commands.js';
import {
  MAKE_CREDENTIAL,
  decodeMakeCredentialResponse,
  encodeMakeCredentialRequest,
  makeCredential,
  type MakeCredentialRequest,
} from '../../src/ctap2/make-credential.js';
import { Ctap2Session } from '../../src/ctap2/session.js';
import { CtapError } from '../../src/ctap2/status.js';
import { CtapFormatError } from '../../src/ctap2/format-error.js';
import { concatBytes, fromHex, toHex } from '../../src/util/bytes.js';
import { loadVectors } from '../helpers/vectors.js';
import { FakeTransport } from './fake-transport.js';

type J = Record<string, unknown>;

/** Build our typed request from a vector's decoded parameter map (integer keys, hex byte strings). */
function requestFromVector(d: J): MakeCredentialRequest {
  const user = d['3'] as J;
  return {
    clientDataHash: fromHex(d['1'] as string),
    rp: d['2'] as { id: string; name?: string },
    user: { id: fromHex(user['id'] as string), name: user['name'] as string, displayName: user['displayName'] as string },
    pubKeyCredParams: d['4'] as { type: string; alg: number }[],
    extensions: d['6'] as Record<string, boolean> | undefined,
    options: d['7'] as { rk?: boolean },
    pinUvAuthParam: d['8'] === undefined ? undefined : fromHex(d['8'] as string),
    pinUvAuthProtocol: d['9'] as number | undefined,
  };
}

const requestVectors = loadVectors('ctap2-requests').filter((v) => (v.expected['decoded'] as J)['3'] !== undefined);

test('there are makeCredential request vectors', () => assert.equal(requestVectors.length, 2));

for (const v of requestVectors) {
  test(`ctap2-request ${v.id}: our encoder produces the same bytes`, () => {
    const req = requestFromVector(v.expected['decoded'] as J);
    assert.equal(toHex(encodeCbor(encodeMakeCredentialRequest(req))), v.input);
  });
}

const responses = loadVectors('ctap2-responses').filter((v) => v.expected['command'] === 'makeCredential');

for (const v of responses) {
  test(`makeCredential response ${v.id}: typed decoder`, () => {
    let bytes = fromHex(v.input);
    if (v.expected['framing'] === 'status+cbor') bytes = bytes.subarray(1);
    const d = decodeCbor(bytes);
    const r = decodeMakeCredentialResponse(d.value);
    const e = v.expected['decoded'] as J;
    assert.equal(r.fmt, e['fmt']);
    assert.equal(toHex(r.authData.bytes), e['authData']);
    assert.equal(r.authData.attestedCredentialData!.credentialId.length, ((e['authData_decoded'] as J)['attestedCredentialData'] as J)['credentialIdLength']);
    assert.deepEqual([...r.attStmt.keys()], (e['attStmt'] as J)['key_order']);
    assert.equal(r.unknownKeys.size, 0);
    // SURPRISE vector: the non-shortest authData length is accepted and reported, not rejected
    assert.equal(d.nonCanonical.length === 0, (v.expected['cbor_canonical'] as J)['ctap2_canonical']);
  });
}

/** A CTAP 2.1 getInfo reply (status + CBOR) for sessions that fetch it first. */
const INFO = concatBytes(Uint8Array.of(0), fromHex(loadVectors('ctap2-responses').find((x) => x.id === 'kanidm-getinfo-token2-nfc')!.input));

const base: MakeCredentialRequest = {
  clientDataHash: new Uint8Array(32).fill(1),
  rp: { id: 'example.com' },
  user: { id: Uint8Array.of(1, 2, 3), name: 'alice' },
  pubKeyCredParams: [{ type: 'public-key', alg: -7 }],
};

test('request validation: bad arguments are TypeError/RangeError before anything is sent', () => {
  assert.throws(() => encodeMakeCredentialRequest({ ...base, clientDataHash: new Uint8Array(31) }), RangeError);
  assert.throws(() => encodeMakeCredentialRequest({ ...base, rp: { id: '' } }), TypeError);
  assert.throws(() => encodeMakeCredentialRequest({ ...base, user: { id: new Uint8Array(65) } }), RangeError);
  assert.throws(() => encodeMakeCredentialRequest({ ...base, pubKeyCredParams: [] }), RangeError);
  assert.throws(() => encodeMakeCredentialRequest({ ...base, pinUvAuthParam: new Uint8Array(16) }), TypeError);
});

test('every parameter is encoded under its key; empty lists and options are left out', () => {
  const m = encodeMakeCredentialRequest({
    ...base,
    excludeList: [{ type: 'public-key', id: Uint8Array.of(9), transports: ['usb'] }],
    extensions: new Map([['credProtect', 2]]),
    options: { rk: true, uv: false },
    pinUvAuthParam: new Uint8Array(32),
    pinUvAuthProtocol: 2,
    enterpriseAttestation: 1,
    attestationFormatsPreference: ['packed'],
  });
  assert.deepEqual([...m.keys()].sort((a, b) => Number(a) - Number(b)), Object.values(MAKE_CREDENTIAL));
  const empty = encodeMakeCredentialRequest({ ...base, excludeList: [], options: {}, extensions: {} });
  assert.deepEqual([...empty.keys()], [1, 2, 3, 4]);
});

test('makeCredential() sends command 0x01 with canonical CBOR and decodes the reply', async () => {
  const v = responses.find((x) => x.id === 'authrs-makecredential-packed-ctap-spec-example')!;
  const t = new FakeTransport([INFO, fromHex(v.input)]);
  const session = new Ctap2Session(t);
  const r = await makeCredential(session, base);
  assert.equal(r.fmt, 'packed');
  assert.deepEqual(t.requests.map((x) => x[0]), [CTAP2_CMD.getInfo, CTAP2_CMD.makeCredential], 'getInfo first, once');
  assert.equal(toHex(t.requests[1]!.subarray(1)), toHex(encodeCbor(encodeMakeCredentialRequest(base))));
  await assert.rejects(makeCredential(session, base)); // script exhausted: proves getInfo is not fetched again
  assert.equal(t.requests[2]![0], CTAP2_CMD.makeCredential);
});

test('makeCredential() checks the cached getInfo first and reports what the key lacks', async () => {
  const info = fromHex(loadVectors('ctap2-responses').find((x) => x.id === 'pyfido2-getinfo-security-key-by-yubico')!.input);
  const t = new FakeTransport([concatBytes(Uint8Array.of(0), info)]);
  const session = new Ctap2Session(t);
  await session.getInfo();
  await assert.rejects(makeCredential(session, { ...base, options: { uv: true } }), (e: unknown) => e instanceof CtapError && /user verification/.test(e.message));
  assert.equal(t.requests.length, 1, 'nothing sent after getInfo');
});

test('error statuses and malformed replies are typed', async () => {
  const session = new Ctap2Session(new FakeTransport([INFO, Uint8Array.of(0x19), fromHex('00a0'), fromHex('00a3016466696c6c0241000380')]));
  await assert.rejects(makeCredential(session, base), (e: unknown) => e instanceof CtapError && e.specName === 'CTAP2_ERR_CREDENTIAL_EXCLUDED');
  await assert.rejects(makeCredential(session, base), CborError);
  await assert.rejects(makeCredential(session, base), (e: unknown) => e instanceof CtapFormatError || e instanceof CborError);
});
