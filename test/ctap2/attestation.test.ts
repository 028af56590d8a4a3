import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CborError } from '../../src/cbor/index.js';
import { sha256 } from '../../src/crypto/hashes.js';
import {
  certificateAaguid,
  decodeAttestationObject,
  encodeAttestationObject,
  verifyAttestation,
} from '../../src/ctap2/attestation.js';
import { describeAttestationObject } from '../../src/ctap2/describe.js';
import { CtapFormatError } from '../../src/ctap2/format-error.js';
import { fromHex, toHex, utf8Encode } from '../../src/util/bytes.js';
import { loadVectors } from '../helpers/vectors.js';
import { assertMatches } from './match.js';

const registrations = loadVectors('webauthn-registrations');
const TYPE: Record<string, string> = { BASIC: 'basic', SELF: 'self', NONE: 'none' };
const VERIFIED_HERE = new Set(['packed', 'fido-u2f', 'none']);

for (const v of registrations) {
  test(`webauthn-registration ${v.id}: attestation object decoded${VERIFIED_HERE.has(String(v.expected['attestationObject'] && (v.expected['attestationObject'] as Record<string, unknown>)['fmt'])) ? ' and verified' : ''}`, () => {
    const bytes = fromHex(v.input);
    const e = v.expected;
    const d = describeAttestationObject(bytes);
    const { authData_decoded: _ad, ...top } = d;
    assertMatches(top, e['attestationObject']);
    assertMatches(d['authData_decoded'], e['authData_decoded']);
    const att = decodeAttestationObject(bytes);
    const acd = att.authData.attestedCredentialData!;
    assert.equal(toHex(acd.credentialId), e['credentialId']);
    assert.equal(toHex(acd.credentialPublicKeyBytes), e['credentialPublicKeyCbor']);
    if (v['input_raw_id']) assert.equal(v['input_raw_id'], e['credentialId']);
    if (typeof e['rpId'] === 'string') {
      assert.equal(toHex(att.authData.rpIdHash) === toHex(sha256(utf8Encode(e['rpId']))), e['rpIdHash_matches_sha256_rpId']);
    }
    const clientData = fromHex(v['input_client_data_json'] as string);
    const cdh = sha256(clientData);
    assert.equal(toHex(cdh), (e['clientData'] as Record<string, string>)['sha256']);
    const verdict = e['attestation_verification'] as { result: string; attestation_type?: string };
    const r = verifyAttestation(att, cdh);
    if (VERIFIED_HERE.has(att.fmt)) {
      // python-fido2 says valid for every packed / fido-u2f / none vector; we must agree
      assert.equal(verdict.result, 'valid');
      assert.deepEqual(r.problems, []);
      assert.equal(r.valid, true);
      assert.equal(r.type, TYPE[verdict.attestation_type!]);
      if (att.fmt !== 'none') {
        // the same statement over another clientDataHash must fail
        const other = sha256(cdh);
        assert.equal(verifyAttestation(att, other).valid, false);
      }
    } else {
      // tpm / apple / android-safetynet: decoded, never claimed valid
      assert.equal(r.valid, undefined);
      assert.equal(r.type, 'unverified');
    }
  });
}

for (const v of loadVectors('attestation-objects')) {
  test(`attestation-object ${v.id}: every field reproduced`, () => {
    const d = describeAttestationObject(fromHex(v.input));
    assertMatches(d, v.expected);
    const att = decodeAttestationObject(fromHex(v.input));
    assert.equal(att.fmt, v.expected['fmt']);
    // re-encoding canonically gives the input back exactly when the input was canonical
    const again = encodeAttestationObject(att.fmt, att.attStmt, att.authData.bytes);
    assert.equal(toHex(again) === v.input, (v.expected['cbor_canonical'] as { ctap2_canonical: boolean }).ctap2_canonical);
  });
}

test('fido2lib none attestation with only extensions: decodes, but verification refuses it (no credential)', () => {
  const v = loadVectors('attestation-objects').find((x) => x.id === 'fido2lib-attobj-none-just-extensions')!;
  const att = decodeAttestationObject(fromHex(v.input));
  const r = verifyAttestation(att, new Uint8Array(32));
  assert.equal(r.valid, false);
});

test('tampered statements do not verify', () => {
  const v = registrations.find((x) => x.id === 'w3c-l3-reg-packed-es256')!;
  const att = decodeAttestationObject(fromHex(v.input));
  const cdh = sha256(fromHex(v['input_client_data_json'] as string));
  const sig = att.attStmt.get('sig') as Uint8Array;
  const badSig = sig.slice();
  badSig[badSig.length - 1]! ^= 1;
  assert.equal(verifyAttestation({ ...att, attStmt: new Map([...att.attStmt, ['sig', badSig]]) }, cdh).valid, false);
  // self attestation whose alg does not match the credential key
  const self = registrations.find((x) => x.id === 'w3c-l3-reg-packed-self-es256')!;
  const sa = decodeAttestationObject(fromHex(self.input));
  const scdh = sha256(fromHex(self['input_client_data_json'] as string));
  const r = verifyAttestation({ ...sa, attStmt: new Map([...sa.attStmt, ['alg', -8]]) }, scdh);
  assert.equal(r.valid, false);
  assert.match(r.problems[0]!, /does not match/);
  // fmt none with a non-empty statement
  const none = decodeAttestationObject(fromHex(registrations.find((x) => x.id === 'w3c-l3-reg-none-es256')!.input));
  assert.equal(verifyAttestation({ ...none, attStmt: new Map([['x', 1]]) }, new Uint8Array(32)).valid, false);
  // garbage certificate is a typed error
  assert.throws(() => verifyAttestation({ ...att, attStmt: new Map([...att.attStmt, ['x5c', [Uint8Array.of(1, 2, 3)]]]) }, cdh), CtapFormatError);
});

test('the packed certificate aaguid extension is read and checked against authData', () => {
  const v = loadVectors('ctap2-responses').find((x) => x.id === 'pyfido2-makecredential-packed-yubikey-preview')!;
  const x5c = (((v.expected['decoded'] as Record<string, unknown>)['attStmt'] as Record<string, unknown>)['raw'] as Record<string, string[]>)['x5c']!;
  assert.equal(toHex(certificateAaguid(fromHex(x5c[0]!))!), 'f8a011f38c0a4d15800617111f9edc7d');
});

test('malformed attestation objects are typed errors', () => {
  assert.throws(() => decodeAttestationObject(fromHex('a0')), CborError);
  assert.throws(() => decodeAttestationObject(fromHex('a263666d74667061636b656468617574684461746141')), CborError);
});

test('packed x5c: the certificate requirements of WebAuthn §8.2.1 are checked', () => {
  const packed = decodeAttestationObject(fromHex(registrations.find((x) => x.id === 'w3c-l3-reg-packed-es256')!.input));
  const u2f = decodeAttestationObject(fromHex(registrations.find((x) => x.id === 'fido2helpers-reg-fido-u2f-hypersecu')!.input));
  // a U2F certificate (CN only, no OU "Authenticator Attestation") in a packed statement
  const r = verifyAttestation({ ...packed, attStmt: new Map([...packed.attStmt, ['x5c', u2f.attStmt.get('x5c')]]) }, new Uint8Array(32));
  assert.equal(r.valid, false);
  assert.ok(r.problems.some((p) => /OU/.test(p)));
  assert.ok(r.problems.some((p) => /does not verify/.test(p)));
  // unknown formats are reported, never claimed valid
  const odd = verifyAttestation({ ...packed, fmt: 'vendor-x' }, new Uint8Array(32));
  assert.equal(odd.valid, undefined);
  assert.match(odd.problems[0]!, /vendor-x/);
  assert.equal(verifyAttestation({ ...packed, attStmt: new Map<unknown, unknown>([['alg', -7], ['sig', new Uint8Array(8)], ['ecdaaKeyId', new Uint8Array(8)]]) }, new Uint8Array(32)).valid, undefined);
  assert.throws(() => verifyAttestation(packed, new Uint8Array(31)), RangeError);
});
