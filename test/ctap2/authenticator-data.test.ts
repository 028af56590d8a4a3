import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { CborError, encodeCbor } from '../../src/cbor/index.js';
import {
  AUTH_DATA_FLAGS,
  encodeAuthenticatorData,
  parseAuthenticatorData,
} from '../../src/ctap2/authenticator-data.js';
import { COSE_ALG, coseFromP256Point, parseCoseKey, verifyCoseSignature } from '../../src/ctap2/cose-key.js';
import { describeAuthenticatorData } from '../../src/ctap2/describe.js';
import { CtapFormatError } from '../../src/ctap2/format-error.js';
import { p256Generate } from '../../src/crypto/primitives.js';
import { concatBytes, fromHex, toHex } from '../../src/util/bytes.js';
import { loadVectors } from '../helpers/vectors.js';
import { assertMatches } from './match.js';

const vectors = loadVectors('authenticator-data');

for (const v of vectors) {
  const invalid = v.id.endsWith('-INVALID');
  test(`authenticator-data ${v.id}: ${invalid ? 'rejected by the strict parser, described' : 'every field reproduced'}`, () => {
    const bytes = fromHex(v.input);
    const e = v.expected;
    if (invalid) {
      // libfido2 rejects a credential key whose map keys are out of canonical order; so do we.
      assert.throws(() => parseAuthenticatorData(bytes), (err: unknown) => err instanceof CtapFormatError && err.code === 'AUTHDATA_INVALID');
    } else {
      const a = parseAuthenticatorData(bytes);
      assert.equal(toHex(a.rpIdHash), e['rpIdHash']);
      assert.equal(a.flags, e['flags']);
      assert.equal(a.signCount, e['signCount']);
      const fd = e['flags_decoded'] as Record<string, boolean>;
      assert.deepEqual([a.up, a.uv, a.be, a.bs, a.at, a.ed], [fd['UP'], fd['UV'], fd['BE'], fd['BS'], fd['AT'], fd['ED']]);
      const acd = e['attestedCredentialData'] as Record<string, unknown> | undefined;
      assert.equal(a.attestedCredentialData !== undefined, acd !== undefined);
      if (acd) {
        assert.equal(toHex(a.attestedCredentialData!.credentialId), acd['credentialId']);
        assert.equal(toHex(a.attestedCredentialData!.credentialPublicKeyBytes), acd['credentialPublicKeyCbor']);
      }
      if (e['extensionsCbor']) assert.equal(toHex(a.extensionsBytes!), e['extensionsCbor']);
      // building it again from the parts gives the same bytes (the encoder the virtual key uses)
      const rebuilt = encodeAuthenticatorData({
        rpIdHash: a.rpIdHash,
        flags: a.flags,
        signCount: a.signCount,
        attestedCredentialData: a.attestedCredentialData && {
          aaguid: a.attestedCredentialData.aaguid,
          credentialId: a.attestedCredentialData.credentialId,
          credentialPublicKey: a.attestedCredentialData.credentialPublicKeyBytes,
        },
        extensions: a.extensionsBytes,
      });
      assert.equal(toHex(rebuilt), v.input);
    }
    // the description reproduces every expected field (the INVALID one with its canonical verdict false)
    const d = describeAuthenticatorData(bytes);
    const { signature_check: _sc, must_reject: _mr, reject_reason: _rr, ...rest } = e;
    assertMatches(d, rest);
    const check = e['signature_check'] as Record<string, string | boolean> | undefined;
    if (check) {
      const xy = fromHex(check['es256_pk_xy'] as string);
      const key = parseCoseKey(coseFromP256Point({ x: xy.slice(0, 32), y: xy.slice(32) })).key;
      const signed = concatBytes(bytes, fromHex(check['client_data_hash'] as string));
      assert.equal(verifyCoseSignature(key, signed, fromHex(check['signature'] as string)), check['signature_valid']);
    }
  });
}

test('truncated, trailing and inconsistent authData are typed errors', () => {
  const good = fromHex(vectors.find((v) => v.id === 'pyfido2-authdata-makecredential')!.input);
  for (let n = 0; n < good.length; n++) {
    assert.throws(() => parseAuthenticatorData(good.subarray(0, n)), (e: unknown) => e instanceof CtapFormatError || e instanceof CborError, `cut at ${n}`);
  }
  assert.throws(() => parseAuthenticatorData(concatBytes(good, Uint8Array.of(0))), (e: unknown) => e instanceof CtapFormatError && e.code === 'AUTHDATA_TRAILING_BYTES');
  const noAt = good.slice();
  noAt[32] = noAt[32]! & ~AUTH_DATA_FLAGS.AT;
  assert.throws(() => parseAuthenticatorData(noAt), /neither AT nor ED/);
  const hugeId = good.slice();
  hugeId[53] = 0xff;
  hugeId[54] = 0xff;
  assert.throws(() => parseAuthenticatorData(hugeId), (e: unknown) => e instanceof CtapFormatError && /credentialIdLength 65535/.test(e.message));
  const edNoExt = good.slice(0, 37);
  edNoExt[32] = AUTH_DATA_FLAGS.UP | AUTH_DATA_FLAGS.ED;
  assert.throws(() => parseAuthenticatorData(edNoExt), (e: unknown) => e instanceof CtapFormatError && e.code === 'AUTHDATA_TRUNCATED');
});

test('encodeAuthenticatorData sets AT/ED from the content and round-trips', () => {
  const kp = p256Generate();
  const key = coseFromP256Point(kp.publicKey);
  const bytes = encodeAuthenticatorData({
    rpIdHash: new Uint8Array(32).fill(7),
    flags: AUTH_DATA_FLAGS.UP | AUTH_DATA_FLAGS.UV | AUTH_DATA_FLAGS.ED, // ED is recomputed
    signCount: 0xfffffffe,
    attestedCredentialData: { aaguid: new Uint8Array(16).fill(1), credentialId: new Uint8Array(70).fill(2), credentialPublicKey: key },
  });
  const a = parseAuthenticatorData(bytes);
  assert.equal(a.flags, AUTH_DATA_FLAGS.UP | AUTH_DATA_FLAGS.UV | AUTH_DATA_FLAGS.AT);
  assert.equal(a.signCount, 0xfffffffe);
  assert.equal(a.attestedCredentialData!.credentialPublicKey.alg, COSE_ALG.ES256);
  const withExt = encodeAuthenticatorData({ rpIdHash: new Uint8Array(32), flags: 0, signCount: 1, extensions: new Map([['credProtect', 2]]) });
  const b = parseAuthenticatorData(withExt);
  assert.equal(b.ed, true);
  assert.equal(b.extensions!.get('credProtect'), 2);
  assert.throws(() => encodeAuthenticatorData({ rpIdHash: new Uint8Array(31), flags: 0, signCount: 0 }), RangeError);
  assert.throws(() => encodeAuthenticatorData({ rpIdHash: new Uint8Array(32), flags: 0, signCount: -1 }), RangeError);
  assert.throws(() => encodeAuthenticatorData({ rpIdHash: new Uint8Array(32), flags: 0, signCount: 0, extensions: encodeCbor([1]) }), CborError);
});

test('property: random and mutated authData only ever throw CtapFormatError or CborError', () => {
  const seeds = vectors.map((v) => fromHex(v.input));
  fc.assert(
    fc.property(
      fc.oneof(
        fc.uint8Array({ maxLength: 400 }),
        fc.tuple(fc.constantFrom(...seeds), fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 6 }), fc.nat({ max: 8 })).map(([s, muts, cut]) => {
          const b = s.slice(0, Math.max(0, s.length - cut));
          for (const [i, x] of muts) if (b.length) b[i % b.length] = x;
          return b;
        }),
      ),
      (bytes) => {
        try {
          parseAuthenticatorData(bytes);
        } catch (e) {
          if (!(e instanceof CtapFormatError || e instanceof CborError)) throw e;
        }
        try {
          describeAuthenticatorData(bytes);
        } catch (e) {
          if (!(e instanceof CtapFormatError || e instanceof CborError)) throw e;
        }
      },
    ),
    { numRuns: 3000 },
  );
});
