/**
 * webauthn-authentications.json: the authenticatorData decoder and the COSE
 * signature check (over authData || SHA-256(clientDataJSON)) against every
 * recorded assertion; the WebAuthn layer tests the rest of these vectors.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sha256 } from '../../src/crypto/hashes.js';
import { parseAuthenticatorData } from '../../src/ctap2/authenticator-data.js';
import { COSE_ALG, parseCoseKey, verifyCoseSignature, verifySpkiSignature } from '../../src/ctap2/cose-key.js';
import { describeAuthenticatorData } from '../../src/ctap2/describe.js';
import { CtapFormatError } from '../../src/ctap2/format-error.js';
import { concatBytes, fromHex, toHex } from '../../src/util/bytes.js';
import { loadVectors } from '../helpers/vectors.js';
import { assertMatches } from './match.js';

const RSA_OID = '2a864886f70d010101';

for (const v of loadVectors('webauthn-authentications')) {
  test(`webauthn-authentication ${v.id}: authData decoded, signature ${v.expected['signature_valid'] === null ? 'not checkable here' : 'checked'}`, () => {
    const authData = fromHex(v.input);
    const e = v.expected;
    assertMatches(describeAuthenticatorData(authData), e['authData_decoded']);
    const a = parseAuthenticatorData(authData);
    const signed = concatBytes(a.bytes, sha256(fromHex(v['input_client_data_json'] as string)));
    assert.equal(toHex(signed), e['signed_data']);
    const sig = fromHex(v['input_signature'] as string);
    const expected = e['signature_valid'] as boolean | null;
    let ok: boolean;
    if (typeof v['input_credential_public_key_cose'] === 'string') {
      const { key } = parseCoseKey(fromHex(v['input_credential_public_key_cose']));
      if (expected === null) {
        // ML-DSA: python-fido2 0.9.1 could not check it either; we say so with a typed error
        assert.throws(() => verifyCoseSignature(key, signed, sig), (err: unknown) => err instanceof CtapFormatError && err.code === 'COSE_KEY_UNSUPPORTED');
        return;
      }
      ok = verifyCoseSignature(key, signed, sig);
    } else {
      const pem = v['input_credential_public_key_pem'] as string;
      const spki = new Uint8Array(Buffer.from(pem.replace(/-----[A-Z ]+-----|\s+/g, ''), 'base64'));
      ok = verifySpkiSignature(spki, toHex(spki).includes(RSA_OID) ? COSE_ALG.RS256 : COSE_ALG.ES256, signed, sig);
    }
    assert.equal(ok, expected);
    const tampered = signed.slice();
    tampered[tampered.length - 1]! ^= 1;
    if (expected) {
      if (typeof v['input_credential_public_key_cose'] === 'string') {
        assert.equal(verifyCoseSignature(parseCoseKey(fromHex(v['input_credential_public_key_cose'])).key, tampered, sig), false);
      }
    }
  });
}
