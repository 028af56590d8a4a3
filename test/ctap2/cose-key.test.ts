import { test } from 'node:test';
import assert from 'node:assert/strict';
import { constants, createECDH, createPrivateKey, createPublicKey, generateKeyPairSync, sign } from 'node:crypto';
import { CborError, encodeCbor } from '../../src/cbor/index.js';
import {
  COSE_ALG,
  COSE_CRV,
  COSE_KTY,
  coseFromEd25519,
  coseFromP256Point,
  coseKeyToSpki,
  coseMapFromP256Point,
  coseToP256Point,
  decodeCoseKey,
  isOnCurve,
  parseCoseKey,
  verifyCoseSignature,
  verifySpkiSignature,
} from '../../src/ctap2/cose-key.js';
import { describeCoseKey } from '../../src/ctap2/describe.js';
import { CtapFormatError } from '../../src/ctap2/format-error.js';
import { ed25519Generate, ed25519Sign, p256Generate, p256Sign } from '../../src/crypto/primitives.js';
import { concatBytes, fromHex, toHex } from '../../src/util/bytes.js';
import { loadVectors } from '../helpers/vectors.js';
import { assertMatches } from './match.js';

const vectors = loadVectors('cose-keys');

for (const v of vectors) {
  test(`cose-key ${v.id}: summary, SPKI DER and signature check reproduced`, () => {
    const bytes = fromHex(v.input);
    const e = v.expected;
    const { verification, on_curve_check, libfido2_pubkey_tpm_rs256_n_then_e, ...summary } = e as Record<string, unknown>;
    assertMatches(describeCoseKey(bytes), summary);
    const { key, nonCanonical } = parseCoseKey(bytes);
    assert.equal(toHex(coseKeyToSpki(key)!), e['spki_der']);
    assert.deepEqual(nonCanonical, []);
    if (verification) {
      const ver = verification as Record<string, string | boolean>;
      const msg = fromHex(ver['message'] as string);
      const sig = fromHex(ver['signature'] as string);
      assert.equal(verifyCoseSignature(key, msg, sig), ver['signature_valid']);
      // a flipped bit in the message must not verify
      const bad = msg.slice();
      bad[0]! ^= 1;
      assert.equal(verifyCoseSignature(key, bad, sig), false);
    }
    if (on_curve_check !== undefined) {
      assert.equal(isOnCurve(key.crv!, key.x!, key.y!), on_curve_check);
      assert.deepEqual(coseToP256Point(key), { x: key.x, y: key.y });
    }
    if (libfido2_pubkey_tpm_rs256_n_then_e) assert.equal(toHex(concatBytes(key.n!, key.e!)), libfido2_pubkey_tpm_rs256_n_then_e);
  });
}

/**
 * A node-generated EC key as raw coordinates plus KeyObjects. Not generateKeyPairSync('ec') +
 * export({ format: 'jwk' }): on Node 20 that can deadlock in GC (see src/crypto/primitives.ts).
 */
function nodeEcKey(curve: 'P-256' | 'P-384' | 'P-521') {
  const [name, size] = ({ 'P-256': ['prime256v1', 32], 'P-384': ['secp384r1', 48], 'P-521': ['secp521r1', 66] } as const)[curve];
  const ecdh = createECDH(name);
  const pub = new Uint8Array(ecdh.generateKeys());
  const d = new Uint8Array(size);
  const raw = ecdh.getPrivateKey();
  d.set(raw, size - raw.length);
  const x = pub.slice(1, 1 + size);
  const y = pub.slice(1 + size);
  const b64 = (b: Uint8Array) => Buffer.from(b).toString('base64url');
  const privateKey = createPrivateKey({ key: { kty: 'EC', crv: curve, d: b64(d), x: b64(x), y: b64(y) }, format: 'jwk' });
  return { x, y, privateKey, publicKey: createPublicKey(privateKey) };
}

test('curve check constants are right for P-256, P-384 and P-521 (checked against node-generated keys)', () => {
  for (const [curve, crv] of [['P-256', 1], ['P-384', 2], ['P-521', 3]] as const) {
    for (let i = 0; i < 5; i++) {
      const { x, y } = nodeEcKey(curve);
      assert.equal(isOnCurve(crv, x, y), true, curve);
      const y2 = y.slice();
      y2[y2.length - 1]! ^= 1;
      assert.equal(isOnCurve(crv, x, y2), false, `${curve} off-curve`);
    }
  }
});

test('ES384, ES512 and EdDSA keys built from node keys verify node signatures through SPKI', () => {
  for (const [curve, crv, alg, hash, size] of [
    ['P-384', COSE_CRV.P384, COSE_ALG.ES384, 'sha384', 48],
    ['P-521', COSE_CRV.P521, COSE_ALG.ES512, 'sha512', 66],
  ] as const) {
    const { publicKey, privateKey, x, y } = nodeEcKey(curve);
    assert.equal(x.length, size);
    const key = decodeCoseKey(new Map<number, unknown>([[1, 2], [3, alg], [-1, crv], [-2, x], [-3, y]]));
    const spki = coseKeyToSpki(key)!;
    assert.equal(toHex(spki), toHex(new Uint8Array(publicKey.export({ type: 'spki', format: 'der' }))));
    const data = new TextEncoder().encode('hello');
    const sig = new Uint8Array(sign(hash, data, privateKey));
    assert.equal(verifyCoseSignature(key, data, sig), true);
    // ES256 is P-256 only: the same key under alg -7 is refused, not verified with SHA-256
    assert.throws(() => verifyCoseSignature(key, data, sig, COSE_ALG.ES256), (e: unknown) => e instanceof CtapFormatError && /P-256/.test(e.message));
  }
  const ed = ed25519Generate();
  const edKey = parseCoseKey(coseFromEd25519(ed.publicKey)).key;
  assert.equal(edKey.kty, COSE_KTY.OKP);
  const msg = Uint8Array.of(1, 2, 3);
  assert.equal(verifyCoseSignature(edKey, msg, ed25519Sign(ed.privateKey, msg)), true);
  assert.equal(verifyCoseSignature(edKey, msg, new Uint8Array(64)), false);
});

test('coseFromP256Point / coseToP256Point round-trip; ES256 verify; keyAgreement map', () => {
  const kp = p256Generate();
  const bytes = coseFromP256Point(kp.publicKey);
  assert.equal(toHex(bytes.subarray(0, 7)), 'a5010203262001'); // {1: 2, 3: -7, -1: 1, ...} canonical order
  const { key } = parseCoseKey(bytes);
  assert.deepEqual(coseToP256Point(key), kp.publicKey);
  const data = Uint8Array.of(9, 9);
  assert.equal(verifyCoseSignature(key, data, p256Sign(kp.privateKey, data)), true);
  assert.equal(verifyCoseSignature(key, data, Uint8Array.of(0x30, 0x00)), false, 'malformed DER is a failed verification');
  const ka = encodeCbor(coseMapFromP256Point(kp.publicKey, COSE_ALG.ECDH_ES_HKDF_256));
  assert.equal(parseCoseKey(ka).key.alg, -25);
  const off = { x: kp.publicKey.x, y: kp.publicKey.y.slice() };
  off.y[0]! ^= 0x80;
  assert.throws(() => coseToP256Point(parseCoseKey(coseFromP256Point(off)).key), CtapFormatError);
});

test('bad COSE keys are typed errors', () => {
  const cases: [Map<number, unknown>, new (...a: never[]) => Error][] = [
    [new Map<number, unknown>([[1, 2], [3, -7], [-1, 1], [-2, new Uint8Array(31)], [-3, new Uint8Array(32)]]), CtapFormatError],
    [new Map<number, unknown>([[1, 2], [3, -7], [-1, 1], [-2, new Uint8Array(32)]]), CborError],
    [new Map<number, unknown>([[1, 2], [3, -7], [-1, 1], [-2, new Uint8Array(32)], [-3, true]]), CtapFormatError],
    [new Map<number, unknown>([[1, 1], [3, -8], [-1, 6], [-2, new Uint8Array(33)]]), CtapFormatError],
    [new Map<number, unknown>([[1, 3], [3, -257], [-1, new Uint8Array(8)], [-2, Uint8Array.of(1, 0, 1)]]), CtapFormatError],
    [new Map<number, unknown>([[3, -7]]), CborError],
  ];
  for (const [m, cls] of cases) assert.throws(() => decodeCoseKey(m), cls);
  // unknown kty is kept, not rejected; it has no SPKI and cannot verify
  const odd = decodeCoseKey(new Map<number, unknown>([[1, 99], [3, -7]]));
  assert.equal(odd.kty, 99);
  assert.equal(coseKeyToSpki(odd), undefined);
  assert.throws(() => verifyCoseSignature(odd, new Uint8Array(1), new Uint8Array(1)), CtapFormatError);
  // an RSA key verifies PS256 now: a garbage signature is a failed verification, not an error
  const rsa = parseCoseKey(fromHex(vectors.find((v) => v.id === 'pyfido2-cose-rs256')!.input)).key;
  assert.equal(verifyCoseSignature(rsa, new Uint8Array(1), new Uint8Array(256), COSE_ALG.PS256), false);
  // ML-DSA is still not verifiable here: typed error
  assert.throws(() => verifyCoseSignature(rsa, new Uint8Array(1), new Uint8Array(256), COSE_ALG.ML_DSA_44), (e: unknown) => e instanceof CtapFormatError && e.code === 'COSE_KEY_UNSUPPORTED');
});

// No vector in /work/shared/vectors carries a PS256 key or signature (ctap2-requests only lists -37
// in pubKeyCredParams), so the key and signatures are made here by node:crypto.
test('PS256/PS384/PS512 (RSASSA-PSS, salt length = hash length, RFC 8230) verify; tampering, other salt lengths and PKCS#1 v1.5 are rejected', () => {
  const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwk = publicKey.export({ format: 'jwk' });
  const n = new Uint8Array(Buffer.from(jwk.n!, 'base64url'));
  const e = new Uint8Array(Buffer.from(jwk.e!, 'base64url'));
  const coseBytes = encodeCbor(new Map<number, number | Uint8Array>([[1, 3], [3, COSE_ALG.PS256], [-1, n], [-2, e]]));
  const { key } = parseCoseKey(coseBytes);
  assert.equal(key.alg, COSE_ALG.PS256);
  const spki = coseKeyToSpki(key)!;
  assert.equal(toHex(spki), toHex(new Uint8Array(publicKey.export({ format: 'der', type: 'spki' }))));
  const data = new Uint8Array(Buffer.from('authenticatorData || clientDataHash'));
  const pss = (hash: string, saltLength: number, msg: Uint8Array = data) =>
    new Uint8Array(sign(hash, msg, { key: privateKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength }));

  const sig = pss('sha256', 32);
  assert.equal(verifyCoseSignature(key, data, sig), true, 'PS256 from the key alg');
  assert.equal(verifySpkiSignature(spki, COSE_ALG.PS256, data, sig), true, 'PS256 over a raw SPKI');
  const tamperedSig = sig.slice();
  tamperedSig[100]! ^= 1;
  assert.equal(verifyCoseSignature(key, data, tamperedSig), false, 'tampered signature');
  assert.equal(verifySpkiSignature(spki, COSE_ALG.PS256, data, tamperedSig), false);
  const tamperedData = data.slice();
  tamperedData[0]! ^= 1;
  assert.equal(verifyCoseSignature(key, tamperedData, sig), false, 'tampered data');
  assert.equal(verifyCoseSignature(key, data, sig.subarray(1)), false, 'short signature');
  assert.equal(verifyCoseSignature(key, data, pss('sha256', 0)), false, 'salt length 0 is not PS256');
  assert.equal(verifyCoseSignature(key, data, pss('sha256', 64)), false, 'salt length 64 is not PS256');
  const pkcs1 = new Uint8Array(sign('sha256', data, privateKey));
  assert.equal(verifyCoseSignature(key, data, pkcs1), false, 'an RS256 signature is not a PS256 one');
  assert.equal(verifyCoseSignature(key, data, pkcs1, COSE_ALG.RS256), true, 'and the same key still does RS256');
  assert.equal(verifyCoseSignature(key, data, sig, COSE_ALG.RS256), false);

  assert.equal(verifyCoseSignature(key, data, pss('sha384', 48), COSE_ALG.PS384), true, 'PS384');
  assert.equal(verifyCoseSignature(key, data, pss('sha384', 32), COSE_ALG.PS384), false);
  assert.equal(verifyCoseSignature(key, data, pss('sha512', 64), COSE_ALG.PS512), true, 'PS512');
  assert.equal(verifyCoseSignature(key, data, pss('sha256', 32), COSE_ALG.PS512), false, 'wrong hash');

  // an EC2 key cannot verify PS256
  const ec = parseCoseKey(coseFromP256Point(p256Generate().publicKey)).key;
  assert.throws(() => verifyCoseSignature(ec, data, sig, COSE_ALG.PS256), (err: unknown) => err instanceof CtapFormatError && err.code === 'COSE_KEY_INVALID');
});
