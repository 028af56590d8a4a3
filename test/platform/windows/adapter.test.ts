/**
 * The adapter the WebAuthn client plugs in on the webauthn.dll route: options
 * normalised by src/webauthn/, clientDataJSON built by src/webauthn/, through
 * the koffi binding and the stand-in library, back to the same
 * RegistrationCredential/AuthenticationCredential objects — whose toJSON() an
 * independent server library (@simplewebauthn/server) verifies.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { verifyAuthenticationResponse, verifyRegistrationResponse } from '@simplewebauthn/server';
import { buildStubWithW3cVector, clearRecord, koffiSkipReason, readRecord, stubEnv, stubSkipReason, w3cNoneEs256, type BuiltStub } from '../../helpers/webauthn-dll-stub/build.js';
import { runCreateViaWebAuthnDll, runGetViaWebAuthnDll, webAuthnDllRoute } from '../../../src/platform/windows/adapter.js';
import { normalizeCreationOptions, normalizeRequestOptions } from '../../../src/webauthn/options.js';
import { buildClientData } from '../../../src/webauthn/client-data.js';
import { base64urlEncode } from '../../../src/webauthn/base64url.js';
import { WebAuthnError } from '../../../src/webauthn/errors.js';

const skip = stubSkipReason() ?? koffiSkipReason();
const hex = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'hex'));
const { auth, credentialId, cose } = w3cNoneEs256();
const origin = 'https://example.org';

describe('WebAuthn client adapter over the webauthn.dll binding', { skip }, () => {
  let stub: BuiltStub;
  before(() => {
    // No userHandle canned: the assertion comes back without one.
    stub = buildStubWithW3cVector({ userHandle: false });
  });
  after(() => stub?.cleanup());

  test('create(): RegistrationCredential.toJSON() verifies with @simplewebauthn/server', async () => {
    stubEnv(stub, { WEBAUTHN_STUB_API_VERSION: '4' });
    clearRecord(stub);
    const challenge = new Uint8Array(32).fill(0x5a);
    const p = normalizeCreationOptions({
      rp: { id: 'example.org', name: 'Example' },
      user: { id: new Uint8Array([1, 2, 3, 4]), name: 'alice', displayName: 'Alice' },
      challenge,
      pubKeyCredParams: [{ type: 'public-key', alg: -7 }],
      attestation: 'none',
      extensions: { credProps: true },
    });
    const cd = buildClientData('webauthn.create', challenge, origin);
    const cred = await runCreateViaWebAuthnDll(p, { rpId: 'example.org', clientDataJSON: cd.json });
    const mc = readRecord(stub).find((c) => c.call === 'MakeCredential')!;
    assert.equal((mc['clientData'] as { json: string }).json, Buffer.from(cd.json).toString('hex'));
    const json = cred.toJSON();
    assert.equal(json.id, base64urlEncode(credentialId));
    assert.equal(json.type, 'public-key');
    assert.deepEqual(json.clientExtensionResults, { credProps: { rk: false } });
    assert.equal(json.authenticatorAttachment, 'cross-platform');
    const v = await verifyRegistrationResponse({
      response: json as Parameters<typeof verifyRegistrationResponse>[0]['response'],
      expectedChallenge: base64urlEncode(challenge),
      expectedOrigin: origin,
      expectedRPID: 'example.org',
      requireUserVerification: false,
    });
    assert.equal(v.verified, true);
    assert.deepEqual(v.registrationInfo?.credential.publicKey, cose);
  });

  test('get(): AuthenticationCredential.toJSON() verifies with @simplewebauthn/server', async () => {
    stubEnv(stub);
    const challenge = hex((auth.expected['clientData'] as { challenge_bytes: string }).challenge_bytes);
    const p = normalizeRequestOptions({ challenge, rpId: 'example.org', allowCredentials: [{ type: 'public-key', id: credentialId }], userVerification: 'discouraged' });
    const cd = buildClientData('webauthn.get', challenge, origin);
    // Our clientDataJSON is byte-identical to the vector's, so the vector's signature covers it.
    assert.equal(Buffer.from(cd.json).toString('hex'), auth['input_client_data_json']);
    const cred = await runGetViaWebAuthnDll(p, { rpId: 'example.org', clientDataJSON: cd.json });
    const json = cred.toJSON();
    const v = await verifyAuthenticationResponse({
      response: json as Parameters<typeof verifyAuthenticationResponse>[0]['response'],
      expectedChallenge: base64urlEncode(challenge),
      expectedOrigin: origin,
      expectedRPID: 'example.org',
      credential: { id: base64urlEncode(credentialId), publicKey: cose, counter: 0 },
      requireUserVerification: false,
    });
    assert.equal(v.verified, true);
  });

  test('webAuthnDllRoute(): the route object the client holds passes the window handle and settings through', async () => {
    stubEnv(stub, { WEBAUTHN_STUB_API_VERSION: '9' });
    clearRecord(stub);
    const handle = Buffer.alloc(8);
    handle.writeBigUInt64LE(0xabcdn);
    const route = webAuthnDllRoute({ windowHandle: handle });
    const challenge = new Uint8Array(32).fill(1);
    const p = normalizeCreationOptions({
      rp: { id: 'example.org', name: 'Example' },
      user: { id: new Uint8Array([1]), name: 'a', displayName: 'A' },
      challenge,
      pubKeyCredParams: [{ type: 'public-key', alg: -7 }],
      attestation: 'enterprise',
    });
    const cd = buildClientData('webauthn.create', challenge, origin);
    await route.create(p, { rpId: 'example.org', clientDataJSON: cd.json, enterpriseAttestationRpIds: ['example.org'] });
    const mc = readRecord(stub).find((c) => c.call === 'MakeCredential')!;
    assert.equal(mc['hwnd'], '0xabcd');
    assert.equal((mc['options'] as Record<string, unknown>)['enterpriseAttestation'], 2, 'approved RP: platform-managed');
  });

  test('a response for another RP is refused, as on the HID route', async () => {
    stubEnv(stub);
    const challenge = new Uint8Array(32);
    const p = normalizeRequestOptions({ challenge, rpId: 'example.com' });
    const cd = buildClientData('webauthn.get', challenge, 'https://example.com');
    await assert.rejects(runGetViaWebAuthnDll(p, { rpId: 'example.com', clientDataJSON: cd.json }), (e: unknown) => e instanceof WebAuthnError && /rpIdHash/.test(e.message));
    // ... and the result was still freed.
    assert.ok(readRecord(stub).some((c) => c.call === 'FreeAssertion' && c['known'] === true));
  });
});
