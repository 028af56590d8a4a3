import { test } from 'node:test';
import fc from 'fast-check';
import { CtapFormatError } from '../../src/ctap2/format-error.js';
import { CTAP2_DECODE_COMMANDS, describeAttestationObject, describeCoseKey } from '../../src/ctap2/describe.js';
import assert from 'node:assert/strict';
import { CborError } from '../../src/cbor/index.js';
import { encodeCbor } from '../../src/cbor/index.js';
import { encodeClientPinRequest } from '../../src/ctap2/client-pin.js';
import { describeCtap2Request, describeCtap2Response } from '../../src/ctap2/describe.js';
import { fromHex } from '../../src/util/bytes.js';
import { loadVectors } from '../helpers/vectors.js';
import { assertMatches } from './match.js';

const responses = loadVectors('ctap2-responses');

for (const v of responses) {
  test(`ctap2-response ${v.id}: describeCtap2Response reproduces expected.decoded`, () => {
    const bytes = fromHex(v.input);
    const e = v.expected;
    const command = e['command'] as string;
    const withStatus = e['framing'] === 'status+cbor';
    // explicit framing and auto-detection agree
    const explicit = describeCtap2Response(command, bytes, { withStatus });
    const auto = describeCtap2Response(command, bytes);
    assert.deepEqual(auto, explicit);
    assert.equal(explicit.framing, e['framing']);
    assert.equal(explicit.status, e['status']);
    if (e['status_name']) assert.equal(explicit.statusName, e['status_name']);
    assertMatches(explicit.decoded, e['decoded']);
    const canonical = (e['cbor_canonical'] as { ctap2_canonical: boolean }).ctap2_canonical;
    assert.equal(explicit.nonCanonical.length === 0, canonical, `canonical verdict: ${explicit.nonCanonical.join('; ')}`);
  });
}

test('getAssertion: user.id is the userHandle and credential.id the rawId (expected.decoded.webauthn)', () => {
  for (const v of responses.filter((x) => x.expected['command'] === 'getAssertion')) {
    const d = describeCtap2Response('getAssertion', fromHex(v.input)).decoded!;
    const w = (v.expected['decoded'] as Record<string, Record<string, unknown>>)['webauthn']!;
    assert.equal((d['credential'] as Record<string, string>)['id'], w['rawId']);
    const userHandle = (w['response'] as Record<string, unknown>)['userHandle'];
    assert.equal(d['user'] === null ? null : (d['user'] as Record<string, string>)['id'], userHandle);
    assert.equal(d['authData'], (w['response'] as Record<string, unknown>)['authenticatorData']);
  }
});

test('error statuses and empty bodies describe without decoding', () => {
  const r = describeCtap2Response('makeCredential', Uint8Array.of(0x19));
  assert.equal(r.statusName, 'CTAP2_ERR_CREDENTIAL_EXCLUDED');
  assert.equal(r.decoded, null);
  const ok = describeCtap2Response('reset', Uint8Array.of(0x00));
  assert.equal(ok.status, 0);
  assert.equal(ok.decoded, null);
  // Feitian answers enumerateRPs with zero credentials with an empty body (kanidm source note)
  assert.equal(describeCtap2Response('credentialManagement', Uint8Array.of(0x00)).decoded, null);
  assert.throws(() => describeCtap2Response('nope', Uint8Array.of(0)), TypeError);
  assert.throws(() => describeCtap2Response('getInfo', Uint8Array.of(0x00, 0xa1, 0x01)), CborError);
  assert.throws(() => describeCtap2Response('getInfo', new Uint8Array(0), { withStatus: true }), CborError);
});

test('unknown response members are kept under unknownKeys', () => {
  // {3: pinRetries 8, 0x20: 7} as a clientPin response
  const d = describeCtap2Response('clientPin', fromHex('00a2030818201807')).decoded!;
  assert.deepEqual(d, { pinRetries: 8, unknownKeys: { '32': 7 } });
});

for (const v of loadVectors('ctap2-requests')) {
  test(`ctap2-request ${v.id}: describeCtap2Request names every parameter`, () => {
    const bytes = fromHex(v.input);
    const e = v.expected;
    const command = (e['command_name'] as string | null) ?? (e['framing'] === 'command+cbor' ? undefined : 'makeCredential');
    const d = describeCtap2Request(command, bytes);
    assert.equal(d.framing, e['framing']);
    if (e['command'] !== undefined) assert.equal(d.commandByte, e['command']);
    // the vector keys parameters by number; map our names back through the spec table
    const decoded = e['decoded'] as Record<string, unknown>;
    assert.equal(Object.keys(d.decoded!).length, Object.keys(decoded).length);
    assert.equal(d.nonCanonical.length === 0, (e['cbor_canonical'] as { ctap2_canonical: boolean }).ctap2_canonical);
  });
}

test('ctap2-request kanidm-clientpin-getpinretries-request: the clientPIN encoder produces the same bytes', () => {
  const v = loadVectors('ctap2-requests').find((x) => x.id === 'kanidm-clientpin-getpinretries-request')!;
  const bytes = Uint8Array.of(v.expected['command'] as number, ...encodeCbor(encodeClientPinRequest({ pinUvAuthProtocol: 1, subCommand: 1 })));
  assert.equal(Buffer.from(bytes).toString('hex'), v.input);
});

test('describeCtap2Request: names and command-byte checks', () => {
  const d = describeCtap2Request(undefined, fromHex('06a201010201'));
  assert.equal(d.command, 'clientPin');
  assert.deepEqual(d.decoded, { pinUvAuthProtocol: 1, subCommand: 1 });
  assert.throws(() => describeCtap2Request('makeCredential', fromHex('06a201010201')), TypeError);
  assert.throws(() => describeCtap2Request(undefined, fromHex('a201010201')), TypeError);
});

test('property: describing random and mutated replies only ever throws CborError or CtapFormatError', () => {
  const seeds = responses.map((v) => fromHex(v.input));
  fc.assert(
    fc.property(
      fc.constantFrom(...CTAP2_DECODE_COMMANDS),
      fc.oneof(
        fc.uint8Array({ maxLength: 200 }),
        fc.tuple(fc.constantFrom(...seeds), fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 6 })).map(([s, muts]) => {
          const b = s.slice();
          for (const [i, x] of muts) b[i % b.length] = x;
          return b;
        }),
      ),
      (command, bytes) => {
        for (const f of [() => describeCtap2Response(command, bytes), () => describeAttestationObject(bytes), () => describeCoseKey(bytes)]) {
          try {
            f();
          } catch (e) {
            if (!(e instanceof CborError || e instanceof CtapFormatError)) throw e;
          }
        }
      },
    ),
    { numRuns: 2000 },
  );
});
