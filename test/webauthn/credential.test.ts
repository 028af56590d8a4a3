import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createAuthenticationCredential, createRegistrationCredential, toArrayBuffer } from '../../src/webauthn/credential.js';
import { base64urlDecode as d, base64urlEncode } from '../../src/webauthn/base64url.js';
import { loadChromium } from '../helpers/vectors.js';

interface Ref {
  result: {
    createToJSON: {
      clientExtensionResults: { credProps: { rk: boolean }; largeBlob: { supported: boolean }; prf: { enabled: boolean; results: { first: string } } };
      rawId: string;
      response: Record<string, string> & { publicKeyAlgorithm: number; transports: string[] };
    };
    getDescribed: { toJSON: { clientExtensionResults: { prf: { results: { first: string } } }; rawId: string; response: Record<string, string> } };
  };
}

test('a registration rebuilt from Chromium 156\'s bytes gives its toJSON() exactly (member order included)', () => {
  const ref = (loadChromium('06-parse-from-json') as Ref).result.createToJSON;
  const r = ref.response;
  const cred = createRegistrationCredential({
    rawId: d(ref.rawId),
    clientDataJSON: d(r.clientDataJSON!),
    attestationObject: d(r.attestationObject!),
    authenticatorData: d(r.authenticatorData!),
    publicKeySpki: d(r.publicKey!),
    publicKeyAlgorithm: r.publicKeyAlgorithm,
    transports: ['usb'],
    clientExtensionResults: {
      credProps: { rk: true },
      largeBlob: { supported: true },
      prf: { enabled: true, results: { first: toArrayBuffer(d(ref.clientExtensionResults.prf.results.first)) } },
    },
  });
  assert.equal(JSON.stringify(cred.toJSON()), JSON.stringify(ref));
  assert.equal(JSON.stringify(cred), JSON.stringify(ref), 'JSON.stringify(credential) uses toJSON()');
  assert.equal(cred.id, ref.rawId);
  assert.ok(cred.rawId instanceof ArrayBuffer);
  assert.equal(cred.type, 'public-key');
  assert.equal(cred.authenticatorAttachment, 'cross-platform');
  assert.equal(base64urlEncode(cred.response.getAuthenticatorData()), r.authenticatorData);
  assert.equal(cred.response.getPublicKeyAlgorithm(), -7);
  assert.deepEqual(cred.response.getTransports(), ['usb']);
  const ext = cred.getClientExtensionResults() as { prf: { results: { first: ArrayBuffer } } };
  assert.ok(ext.prf.results.first instanceof ArrayBuffer);
  new Uint8Array(ext.prf.results.first).fill(0);
  assert.equal(JSON.stringify(cred.toJSON()), JSON.stringify(ref), 'results handed out are copies');
});

test('an assertion rebuilt from Chromium 156\'s bytes gives its toJSON(); a null userHandle is left out', () => {
  const ref = (loadChromium('06-parse-from-json') as Ref).result.getDescribed.toJSON;
  const r = ref.response;
  const make = (userHandle: Uint8Array | null) =>
    createAuthenticationCredential({
      rawId: d(ref.rawId),
      clientDataJSON: d(r.clientDataJSON!),
      authenticatorData: d(r.authenticatorData!),
      signature: d(r.signature!),
      userHandle,
      clientExtensionResults: { largeBlob: {}, prf: { results: { first: toArrayBuffer(d(ref.clientExtensionResults.prf.results.first)) } } },
    });
  assert.equal(JSON.stringify(make(d(r.userHandle!)).toJSON()), JSON.stringify(ref));
  const anon = make(null);
  assert.equal(anon.response.userHandle, null);
  assert.equal('userHandle' in anon.toJSON().response, false);
});

test('getTransports() is sorted and de-duplicated; getPublicKey() may be null', () => {
  const cred = createRegistrationCredential({
    rawId: new Uint8Array([1]),
    clientDataJSON: new Uint8Array([0x7b, 0x7d]),
    attestationObject: new Uint8Array([0xa0]),
    authenticatorData: new Uint8Array(37),
    publicKeySpki: null,
    publicKeyAlgorithm: -48,
    transports: ['usb', 'nfc', 'usb'],
    clientExtensionResults: {},
  });
  assert.deepEqual(cred.response.getTransports(), ['nfc', 'usb']);
  assert.equal(cred.response.getPublicKey(), null);
  assert.equal('publicKey' in cred.toJSON().response, false);
});
