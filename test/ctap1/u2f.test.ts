import { test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import fc from 'fast-check';
import { p256Verify } from '../../src/crypto/primitives.js';
import {
  Ctap1Error,
  decodeAuthenticateResponse,
  decodeRegisterResponse,
  decodeVersionResponse,
  pointFromU2fPublicKey,
  registrationToCtap2,
  authenticationToCtap2,
  splitResponse,
  statusWordName,
  u2fAuthenticateSignedData,
  u2fRegisterSignedData,
  U2fFormatError,
} from '../../src/ctap1/index.js';
import { decodeAttestationObject, verifyAttestation } from '../../src/ctap2/attestation.js';
import { concatBytes, fromHex, toHex } from '../../src/util/bytes.js';
import { loadVectors, type Vector } from '../helpers/vectors.js';

const vectors = loadVectors('u2f-responses');

interface U2fExpected {
  type: string;
  status_word: string | null;
  [k: string]: unknown;
}

/** The response data: the status word is split off when the vector says the input carries one. */
function dataOf(v: Vector): Uint8Array {
  const exp = v.expected as U2fExpected;
  const input = fromHex(v.input);
  if (exp.status_word === null) return input;
  const { data, sw } = splitResponse(input);
  assert.equal(sw.toString(16).padStart(4, '0'), exp.status_word, `${v.id} status word`);
  return data;
}

test('every u2f-response vector is covered by a test below', () => {
  const types = new Set(vectors.map((v) => (v.expected as U2fExpected).type));
  assert.deepEqual([...types].sort(), ['U2F_AUTHENTICATE response', 'U2F_REGISTER response', 'U2F_VERSION response', 'status word only']);
  assert.equal(vectors.length, 7);
});

for (const v of vectors.filter((x) => (x.expected as U2fExpected).type === 'U2F_REGISTER response')) {
  test(`${v.id}: REGISTER fields, certificate, and the fido-u2f attestation object it converts to`, () => {
    const exp = v.expected as U2fExpected & { public_key: string; key_handle_length: number; key_handle: string; certificate: string; signature: string; certificate_subject: string; verification?: { app_param: string; client_param: string; signature_valid: boolean } };
    const data = dataOf(v);
    assert.equal(data[0], exp['reserved']);
    const reg = decodeRegisterResponse(data);
    assert.equal(toHex(reg.publicKey), exp.public_key);
    assert.equal(reg.keyHandle.length, exp.key_handle_length);
    assert.equal(toHex(reg.keyHandle), exp.key_handle);
    assert.equal(toHex(reg.certificate), exp.certificate);
    assert.equal(toHex(reg.signature), exp.signature);
    assert.equal(new X509Certificate(reg.certificate).subject, exp.certificate_subject);
    // CTAP2 shape: authData with rpIdHash = appParam, flags UP|AT, counter 0, zero AAGUID, key handle as credential id
    const appParam = exp.verification ? fromHex(exp.verification.app_param) : new Uint8Array(32).fill(0xa5);
    const mc = registrationToCtap2(reg, appParam);
    assert.equal(mc.fmt, 'fido-u2f');
    assert.equal(toHex(mc.authData.rpIdHash), toHex(appParam));
    assert.equal(mc.authData.flags, 0x41);
    assert.equal(mc.authData.signCount, 0);
    const acd = mc.authData.attestedCredentialData!;
    assert.equal(toHex(acd.aaguid), '00'.repeat(16));
    assert.equal(toHex(acd.credentialId), exp.key_handle);
    assert.equal(acd.credentialPublicKey.kty, 2);
    assert.equal(acd.credentialPublicKey.alg, -7);
    assert.equal(acd.credentialPublicKey.crv, 1);
    assert.equal('04' + toHex(acd.credentialPublicKey.x!) + toHex(acd.credentialPublicKey.y!), exp.public_key);
    const att = decodeAttestationObject(mc.attestationObject);
    assert.deepEqual(att.attStmt.get('x5c'), [reg.certificate]);
    assert.deepEqual(att.attStmt.get('sig'), reg.signature);
    if (exp.verification) {
      // The source verified this registration (python-fido2 RegistrationData.verify); the converted object must verify too.
      const clientParam = fromHex(exp.verification.client_param);
      const res = verifyAttestation(att, clientParam);
      assert.equal(res.valid, exp.verification.signature_valid, res.problems.join('; '));
      const key = new X509Certificate(reg.certificate).publicKey;
      assert.ok(key.asymmetricKeyType === 'ec');
      // and the raw U2F signed data is exactly 0x00 || app || client || kh || pk
      assert.equal(toHex(u2fRegisterSignedData(appParam, clientParam, reg)), '00' + toHex(appParam) + toHex(clientParam) + exp.key_handle + exp.public_key);
    }
  });
}

for (const v of vectors.filter((x) => (x.expected as U2fExpected).type === 'U2F_AUTHENTICATE response')) {
  test(`${v.id}: AUTHENTICATE fields and the assertion it converts to`, () => {
    const exp = v.expected as U2fExpected & { user_presence: number; counter: number; signature: string; verification?: { app_param: string; client_param: string; public_key: string; signed_data: string; signature_valid: boolean } };
    const auth = decodeAuthenticateResponse(dataOf(v));
    assert.equal(auth.userPresence, exp.user_presence);
    assert.equal(auth.counter, exp.counter);
    assert.equal(toHex(auth.signature), exp.signature);
    const appParam = exp.verification ? fromHex(exp.verification.app_param) : new Uint8Array(32).fill(0x5a);
    const kh = Uint8Array.of(1, 2, 3);
    const ga = authenticationToCtap2(auth, appParam, kh);
    assert.equal(ga.authData.bytes.length, 37);
    assert.equal(ga.authData.up, exp.user_presence === 1);
    assert.equal(ga.authData.signCount, exp.counter);
    assert.deepEqual(ga.credential, { type: 'public-key', id: kh });
    assert.deepEqual(ga.signature, auth.signature);
    if (exp.verification) {
      const clientParam = fromHex(exp.verification.client_param);
      const signed = u2fAuthenticateSignedData(appParam, clientParam, auth);
      assert.equal(toHex(signed), exp.verification.signed_data);
      // the CTAP2 view signs authData || clientDataHash: the same bytes
      assert.deepEqual(concatBytes(ga.authData.bytes, clientParam), signed);
      assert.equal(p256Verify(pointFromU2fPublicKey(fromHex(exp.verification.public_key)), signed, auth.signature), exp.verification.signature_valid);
    }
  });
}

test('pyfido2-ctap1-version-response: "U2F_V2"', () => {
  const v = vectors.find((x) => x.id === 'pyfido2-ctap1-version-response')!;
  assert.equal(decodeVersionResponse(dataOf(v)), (v.expected as { version: string }).version);
});

test('libfido2-u2f-sw-6985: bare status word, named as the vector names it', () => {
  const v = vectors.find((x) => x.id === 'libfido2-u2f-sw-6985-conditions-not-satisfied')!;
  const { data, sw } = splitResponse(fromHex(v.input));
  assert.equal(data.length, 0);
  assert.equal(statusWordName(sw), (v.expected as { status_name: string }).status_name);
  const e = new Ctap1Error(sw);
  assert.equal(e.code, 'SW_CONDITIONS_NOT_SATISFIED');
  assert.equal(e.statusWord, 0x6985);
  assert.match(e.message, /touch/);
  assert.equal(statusWordName(0x6f00), 'SW_0x6f00');
});

test('malformed REGISTER/AUTHENTICATE responses are typed errors', () => {
  const good = dataOf(vectors.find((x) => x.id === 'libfido2-u2f-register-payload')!);
  assert.throws(() => decodeRegisterResponse(good.subarray(0, 60)), U2fFormatError);
  const wrongReserved = good.slice();
  wrongReserved[0] = 0x04;
  assert.throws(() => decodeRegisterResponse(wrongReserved), /starts with 0x05/);
  assert.throws(() => decodeRegisterResponse(good.subarray(0, 67 + 64 + 100)), /runs past|truncated/);
  const noSig = good.subarray(0, 67 + 64 + ((good[67 + 64 + 2]! << 8) | good[67 + 64 + 3]!) + 4);
  assert.throws(() => decodeRegisterResponse(noSig), /signature is 0 bytes/);
  const bigKh = good.slice();
  bigKh[66] = 255;
  assert.throws(() => decodeRegisterResponse(bigKh), U2fFormatError);
  assert.throws(() => decodeAuthenticateResponse(new Uint8Array(12)), /at least 13/);
  assert.throws(() => splitResponse(Uint8Array.of(0x90)), U2fFormatError);
});

test('property: any bytes decode or fail with U2fFormatError, never anything else', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 600 }), (b) => {
      for (const f of [decodeRegisterResponse, decodeAuthenticateResponse, decodeVersionResponse]) {
        try {
          f(b);
        } catch (e) {
          if (!(e instanceof U2fFormatError)) throw e;
        }
      }
      // and with a plausible prefix
      try {
        decodeRegisterResponse(concatBytes(Uint8Array.of(0x05, 0x04), new Uint8Array(64), Uint8Array.of(4, 1, 2, 3, 4), b));
      } catch (e) {
        if (!(e instanceof U2fFormatError)) throw e;
      }
    }),
    { numRuns: 500 },
  );
});

test('libfido2 recorded U2F AUTHENTICATE (ctaphid-packets vector): the fields its interpretation lists', () => {
  const v = loadVectors('ctaphid-packets').find((x) => x.id === 'libfido2-wiredata-u2f-auth')!;
  const m = (v.expected as { messages: { payload: string; interpretation: { status_word: string; user_presence: number; counter: number; signature: string } }[] }).messages[0]!;
  const { data, sw } = splitResponse(fromHex(m.payload));
  assert.equal(sw.toString(16), m.interpretation.status_word);
  const a = decodeAuthenticateResponse(data);
  assert.equal(a.userPresence, m.interpretation.user_presence);
  assert.equal(a.counter, m.interpretation.counter);
  assert.equal(toHex(a.signature), m.interpretation.signature);
});
