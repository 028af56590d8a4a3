import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AAGUID_OFFSET, conveyAttestation, encodeAttestationObject, isSelfAttestation } from '../../src/webauthn/attestation-conveyance.js';
import { decodeCbor } from '../../src/cbor/index.js';
import { base64urlDecode } from '../../src/webauthn/base64url.js';
import { toHex } from '../../src/util/bytes.js';
import { loadChromium } from '../helpers/vectors.js';

interface Ref { result: { value: { toJSON: { response: { attestationObject: string } } } } }

function decodeAttObj(bytes: Uint8Array): { fmt: string; attStmt: Map<unknown, unknown>; authData: Uint8Array } {
  const m = decodeCbor(bytes).value as Map<string, unknown>;
  return { fmt: m.get('fmt') as string, attStmt: m.get('attStmt') as Map<unknown, unknown>, authData: m.get('authData') as Uint8Array };
}

test('Chromium\'s direct packed attestation re-encodes to the same bytes when passed through', () => {
  const bytes = base64urlDecode((loadChromium('01-create-direct-ext') as Ref).result.value.toJSON.response.attestationObject);
  const raw = decodeAttObj(bytes);
  assert.equal(raw.fmt, 'packed');
  for (const conveyance of ['direct', 'indirect', 'enterprise'] as const) {
    const out = conveyAttestation(conveyance, raw);
    assert.deepEqual(out.attestationObject, bytes, `${conveyance}: unchanged`);
  }
});

test('none: fmt "none", empty attStmt, zero AAGUID, the rest of authData untouched (as Chromium does)', () => {
  const bytes = base64urlDecode((loadChromium('01-create-direct-ext') as Ref).result.value.toJSON.response.attestationObject);
  const raw = decodeAttObj(bytes);
  assert.notEqual(toHex(raw.authData.subarray(AAGUID_OFFSET, AAGUID_OFFSET + 16)), '00'.repeat(16));
  const out = conveyAttestation('none', raw);
  const again = decodeAttObj(out.attestationObject);
  assert.equal(again.fmt, 'none');
  assert.equal(again.attStmt.size, 0);
  assert.equal(toHex(again.authData.subarray(AAGUID_OFFSET, AAGUID_OFFSET + 16)), '00'.repeat(16));
  assert.deepEqual(again.authData.subarray(0, AAGUID_OFFSET), raw.authData.subarray(0, AAGUID_OFFSET));
  assert.deepEqual(again.authData.subarray(AAGUID_OFFSET + 16), raw.authData.subarray(AAGUID_OFFSET + 16));
  assert.notEqual(toHex(raw.authData.subarray(AAGUID_OFFSET, AAGUID_OFFSET + 16)), '00'.repeat(16), 'the input is not modified');
  // The top-level key order Chromium writes: fmt, attStmt, authData (a3 63 'fmt' …).
  assert.equal(toHex(out.attestationObject.subarray(0, 5)), 'a363666d74');
});

test('none keeps packed self attestation (zero AAGUID, no x5c), as §5.1.3 allows', () => {
  const authData = new Uint8Array(AAGUID_OFFSET + 16 + 2 + 1).fill(0x11);
  authData.fill(0, AAGUID_OFFSET, AAGUID_OFFSET + 16);
  const self = { fmt: 'packed', attStmt: new Map<unknown, unknown>([['alg', -7], ['sig', new Uint8Array([1])]]), authData };
  assert.equal(isSelfAttestation(self), true);
  assert.deepEqual(conveyAttestation('none', self).attestationObject, encodeAttestationObject('packed', self.attStmt, authData));
  const withX5c = { ...self, attStmt: new Map<unknown, unknown>([['alg', -7], ['sig', new Uint8Array([1])], ['x5c', [new Uint8Array([2])]]]) };
  assert.equal(conveyAttestation('none', withX5c).fmt, 'none');
});
