import { test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { createAttestation } from '../../src/virtual/state.js';
import { derLength, derOid, derUnsignedInteger } from '../../src/virtual/x509.js';
import { toHex } from '../../src/util/bytes.js';

test('DER primitives: lengths, OIDs, integers', () => {
  assert.equal(toHex(derLength(0x7f)), '7f');
  assert.equal(toHex(derLength(0x80)), '8180');
  assert.equal(toHex(derLength(0x1234)), '821234');
  // RFC 5480 id-ecPublicKey and the FIDO AAGUID extension, as encoded in real attestation certificates.
  assert.equal(toHex(derOid('1.2.840.10045.2.1')), '06072a8648ce3d0201');
  assert.equal(toHex(derOid('1.3.6.1.4.1.45724.1.1.4')), '060b2b0601040182e51c010104');
  assert.equal(toHex(derUnsignedInteger(Uint8Array.of(0x80))), '02020080');
  assert.equal(toHex(derUnsignedInteger(Uint8Array.of(0, 0, 5))), '020105');
});

test('the batch certificate meets the packed attestation requirements and chains to the CA', () => {
  const aaguid = Uint8Array.from({ length: 16 }, (_, i) => i + 1);
  const a = createAttestation(aaguid, new Date('2026-01-02T03:04:05Z'));
  const leaf = new X509Certificate(a.certificate);
  const ca = new X509Certificate(a.caCertificate);
  assert.ok(leaf.verify(ca.publicKey));
  assert.equal(leaf.ca, false);
  assert.equal(ca.ca, true);
  assert.equal(leaf.issuer, ca.subject);
  // WebAuthn §8.2.1: C, O, OU = "Authenticator Attestation", CN.
  assert.match(leaf.subject, /^C=US$/m);
  assert.match(leaf.subject, /^O=ctap-bridge$/m);
  assert.match(leaf.subject, /^OU=Authenticator Attestation$/m);
  assert.match(leaf.subject, /^CN=/m);
  assert.equal(new Date(leaf.validFrom).toISOString(), '2026-01-01T03:04:05.000Z');
  assert.ok(new Date(leaf.validTo).getUTCFullYear() >= 2099, 'GeneralizedTime after 2049');
  // The id-fido-gen-ce-aaguid extension carries OCTET STRING(aaguid) inside the extension value.
  const der = Buffer.from(a.certificate);
  const oid = Buffer.from('060b2b0601040182e51c010104', 'hex');
  const at = der.indexOf(oid);
  assert.ok(at > 0);
  assert.equal(der.subarray(at + oid.length, at + oid.length + 4).toString('hex'), '04120410');
  assert.deepEqual(new Uint8Array(der.subarray(at + oid.length + 4, at + oid.length + 20)), aaguid);
  assert.equal(leaf.publicKey.asymmetricKeyDetails?.namedCurve, 'prime256v1');
});
