/**
 * The hook-up: WebAuthnClient.create()/get() on the webauthn.dll route, with
 * CTAP_BRIDGE_TRANSPORT=webauthn-dll and CTAP_BRIDGE_WEBAUTHN_DLL naming the
 * stand-in library (test/helpers/webauthn-dll-stub/stub.c, built with gcc).
 * What the library receives must match the options the RP gave the client;
 * what comes back must be the same objects and JSON as on the HID route (and
 * verify with @simplewebauthn/server); errors keep their WebAuthn names; an
 * AbortSignal cancels; elevated Windows falls back from HID to webauthn.dll.
 *
 * The stand-in returns the W3C L3 §16 vector's attestation and assertion
 * ("ES256 Credential with No Attestation", RP example.org) whatever it is
 * asked, so the login uses that vector's challenge: our clientDataJSON is then
 * byte-identical to the vector's and the vector's signature covers it.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { verifyAuthenticationResponse, verifyRegistrationResponse } from '@simplewebauthn/server';
import { buildStubWithW3cVector, clearRecord, koffiSkipReason, readRecord, saveEnv, stubEnv, stubSkipReason, w3cNoneEs256, type BuiltStub, type StubCall } from '../../helpers/webauthn-dll-stub/build.js';
import { createWebAuthnClient } from '../../../src/index.js';
import { ceremonyRouteFor } from '../../../src/platform/windows/client-route.js';
import { structVersionsFor } from '../../../src/platform/windows/api-versions.js';
import { WebAuthnDllError } from '../../../src/platform/windows/errors.js';
import { selectRoute } from '../../../src/platform/windows/select.js';
import { WebAuthnClient } from '../../../src/webauthn/client.js';
import { AuthenticationCredential, RegistrationCredential } from '../../../src/webauthn/credential.js';
import { base64urlEncode } from '../../../src/webauthn/base64url.js';
import { WebAuthnError } from '../../../src/webauthn/errors.js';
import type { DeviceProvider } from '../../../src/webauthn/device-handle.js';
import { HidError } from '../../../src/hid/errors.js';
import { bench } from '../../webauthn/harness.js';

const skip = stubSkipReason() ?? koffiSkipReason();
const toHex = (b: Uint8Array | ArrayBuffer): string => Buffer.from(b instanceof ArrayBuffer ? new Uint8Array(b) : b).toString('hex');

const { auth, credentialId, cose, userHandle, loginChallenge } = w3cNoneEs256();
const ORIGIN = 'https://example.org';
const RP = 'example.org';

function only(calls: StubCall[], name: string): StubCall {
  const found = calls.filter((c) => c.call === name);
  assert.equal(found.length, 1, `exactly one ${name} call, got ${found.length}: ${calls.map((c) => c.call).join(', ')}`);
  return found[0]!;
}

const ext = (o: Record<string, unknown>, id: string): Record<string, unknown> | undefined =>
  (o['extensions'] as Array<Record<string, unknown>>).find((e) => e['id'] === id);

function creationOptions(challenge: Uint8Array) {
  return {
    rp: { id: RP, name: 'Example Ünicode' },
    user: { id: userHandle, name: 'alice@example.org', displayName: 'Alice Äpfel' },
    challenge,
    pubKeyCredParams: [
      { type: 'public-key' as const, alg: -7 },
      { type: 'public-key' as const, alg: -8 },
    ],
    excludeCredentials: [{ type: 'public-key' as const, id: new Uint8Array([9, 8, 7]), transports: ['usb' as const] }],
    authenticatorSelection: { authenticatorAttachment: 'cross-platform' as const, residentKey: 'required' as const, userVerification: 'required' as const },
    attestation: 'none' as const,
    timeout: 90_000,
    extensions: { credProps: true, credentialProtectionPolicy: 'userVerificationRequired', enforceCredentialProtectionPolicy: true, credBlob: new Uint8Array([0xcb, 0x01]) },
  };
}

describe('WebAuthnClient on the webauthn.dll route (stand-in library)', { skip }, () => {
  let stub: BuiltStub;
  const restoreEnv = saveEnv();
  before(() => {
    stub = buildStubWithW3cVector({ extra: { credBlob: new Uint8Array([0xcb, 0x01]) } });
  });
  after(() => {
    restoreEnv();
    stub?.cleanup();
  });

  test('CTAP_BRIDGE_TRANSPORT=webauthn-dll: createWebAuthnClient() takes the route, on any OS', async () => {
    stubEnv(stub);
    assert.equal((await selectRoute()).transport, 'webauthn-dll');
    const c = await createWebAuthnClient({ origin: ORIGIN });
    assert.equal(c.transport, 'webauthn-dll');
    // … and an explicit transport wins over the environment.
    const hid = await createWebAuthnClient({ origin: ORIGIN, transport: 'hid', device: { acquire: () => Promise.reject(new Error('unused')) } });
    assert.equal(hid.transport, 'device');
  });

  for (const api of [1, 3, 4, 9]) {
    test(`API ${api}: create() — struct versions, UV, attachment, exclude list, extensions, the full clientDataJSON, a window; the credential verifies`, async () => {
      stubEnv(stub, { WEBAUTHN_STUB_API_VERSION: String(api) });
      clearRecord(stub);
      const client = await createWebAuthnClient({ origin: ORIGIN });
      const challenge = new Uint8Array(32).fill(api);
      const cred = await client.create(creationOptions(challenge));
      const calls = readRecord(stub);
      const mc = only(calls, 'MakeCredential');
      assert.equal(mc['rejected'], undefined, String(mc['rejected']));
      const o = mc['options'] as Record<string, unknown>;
      const sv = structVersionsFor(api);
      assert.equal(o['version'], sv.makeCredentialOptions);
      assert.notEqual(mc['hwnd'], '(nil)', 'never a NULL window');
      assert.ok(typeof mc['hwnd'] === 'string' && /^0x[0-9a-f]+$/.test(mc['hwnd'] as string));
      // The clientDataJSON the client built, byte for byte (Windows hashes it itself), and the same bytes in the result.
      const cd = mc['clientData'] as { json: string; hashAlg: string };
      assert.equal(cd.json, toHex(cred.response.clientDataJSON));
      assert.equal(cd.hashAlg, 'SHA-256');
      const clientData = JSON.parse(Buffer.from(cd.json, 'hex').toString('utf8')) as Record<string, unknown>;
      assert.deepEqual(clientData, { type: 'webauthn.create', challenge: base64urlEncode(challenge), origin: ORIGIN, crossOrigin: false });
      assert.deepEqual(mc['rp'], { version: 1, id: RP, name: 'Example Ünicode', icon: null });
      assert.deepEqual(mc['user'], { version: 1, id: toHex(userHandle), name: 'alice@example.org', displayName: 'Alice Äpfel' });
      assert.deepEqual((mc['params'] as Array<{ alg: number }>).map((p) => p.alg), [-7, -8]);
      assert.equal(o['attachment'], 2, 'cross-platform');
      assert.equal(o['uv'], 1, 'userVerification required');
      assert.equal(o['requireResidentKey'], 1);
      assert.equal(o['attestation'], 1, 'none');
      assert.equal(o['timeout'], 90_000);
      assert.deepEqual(o['excludeList'] ?? o['credentialList'], [{ version: 1, id: '090807', type: 'public-key', transports: 0x01 }]);
      if (api >= 2) assert.deepEqual([ext(o, 'credProtect')?.['credProtect'], ext(o, 'credProtect')?.['requireCredProtect']], [3, true]);
      else assert.equal(ext(o, 'credProtect'), undefined, 'API 1 has no credProtect');
      if (api >= 3) assert.equal(ext(o, 'credBlob')?.['credBlob'], 'cb01');
      else assert.equal(ext(o, 'credBlob'), undefined);
      assert.equal(only(calls, 'FreeCredentialAttestation')['known'], true);

      assert.ok(cred instanceof RegistrationCredential);
      const json = cred.toJSON();
      assert.equal(json.id, base64urlEncode(credentialId));
      assert.equal(json.authenticatorAttachment, 'cross-platform');
      assert.deepEqual(json.clientExtensionResults.credProps, { rk: true }, 'resident key was required');
      if (api >= 3) assert.equal(json.clientExtensionResults.credBlob, true);
      const v = await verifyRegistrationResponse({
        response: json as Parameters<typeof verifyRegistrationResponse>[0]['response'],
        expectedChallenge: base64urlEncode(challenge),
        expectedOrigin: ORIGIN,
        expectedRPID: RP,
        requireUserVerification: false,
      });
      assert.equal(v.verified, true);
      assert.deepEqual(v.registrationInfo?.credential.publicKey, cose);
    });

    test(`API ${api}: get() — struct versions, UV, allow list, extensions, the full clientDataJSON; the assertion verifies`, async () => {
      stubEnv(stub, { WEBAUTHN_STUB_API_VERSION: String(api) });
      clearRecord(stub);
      const client = await createWebAuthnClient({ origin: ORIGIN });
      const cred = await client.get({
        challenge: base64urlEncode(loginChallenge), // the L3 JSON form goes through the same parser as on the HID route
        rpId: RP,
        allowCredentials: [{ type: 'public-key', id: base64urlEncode(credentialId), transports: ['usb', 'nfc'] }],
        userVerification: 'discouraged',
        extensions: { getCredBlob: true },
      });
      const calls = readRecord(stub);
      const ga = only(calls, 'GetAssertion');
      assert.equal(ga['rejected'], undefined, String(ga['rejected']));
      const o = ga['options'] as Record<string, unknown>;
      assert.equal(o['version'], structVersionsFor(api).getAssertionOptions);
      assert.equal(ga['rpId'], RP);
      assert.notEqual(ga['hwnd'], '(nil)');
      assert.equal((ga['clientData'] as { json: string }).json, auth['input_client_data_json'], 'byte-identical to the vector the signature covers');
      assert.equal(o['attachment'], 2);
      assert.equal(o['uv'], 3, 'discouraged');
      assert.deepEqual(o['allowList'] ?? o['credentialList'], [{ version: 1, id: toHex(credentialId), type: 'public-key', transports: 0x01 | 0x02 }]);
      assert.deepEqual((o['extensions'] as Array<{ id: string }>).map((e) => e.id), api >= 3 ? ['credBlob'] : []);
      assert.equal(only(calls, 'FreeAssertion')['known'], true);

      assert.ok(cred instanceof AuthenticationCredential);
      const json = cred.toJSON();
      assert.equal(json.response.userHandle, base64urlEncode(userHandle));
      if (api >= 3) assert.equal(json.clientExtensionResults.getCredBlob, base64urlEncode(new Uint8Array([0xcb, 0x01])));
      const v = await verifyAuthenticationResponse({
        response: json as Parameters<typeof verifyAuthenticationResponse>[0]['response'],
        expectedChallenge: base64urlEncode(loginChallenge),
        expectedOrigin: ORIGIN,
        expectedRPID: RP,
        credential: { id: base64urlEncode(credentialId), publicKey: cose, counter: 0 },
        requireUserVerification: false,
      });
      assert.equal(v.verified, true);
    });
  }

  test('the same objects and JSON members as the HID route (a virtual key through our CTAP stack)', async () => {
    stubEnv(stub);
    const b = await bench({}, {}, { origin: ORIGIN });
    try {
      // (UV preferred: the virtual key has no PIN)
      const opts = { ...creationOptions(new Uint8Array(32).fill(1)), authenticatorSelection: { residentKey: 'required' as const, userVerification: 'preferred' as const } };
      const viaHid = await b.client.create(opts);
      const viaDll = await (await createWebAuthnClient({ origin: ORIGIN })).create(opts);
      assert.equal(Object.getPrototypeOf(viaDll), Object.getPrototypeOf(viaHid));
      assert.equal(Object.getPrototypeOf(viaDll.response), Object.getPrototypeOf(viaHid.response));
      const [h, d] = [viaHid.toJSON(), viaDll.toJSON()];
      assert.deepEqual(Object.keys(d).sort(), Object.keys(h).sort());
      assert.deepEqual(Object.keys(d.response).sort(), Object.keys(h.response).sort());
      assert.deepEqual(Object.keys(d.clientExtensionResults).sort(), Object.keys(h.clientExtensionResults).sort());
      assert.deepEqual(d.clientExtensionResults.credProps, h.clientExtensionResults.credProps);
    } finally {
      await b.close();
    }
  });

  test('an enterprise-approved RP reaches the library as platform-managed enterprise attestation', async () => {
    stubEnv(stub, { WEBAUTHN_STUB_API_VERSION: '9' });
    clearRecord(stub);
    const client = await createWebAuthnClient({ origin: ORIGIN, enterpriseAttestationRpIds: [RP] });
    await client.create({ ...creationOptions(new Uint8Array(32)), attestation: 'enterprise' });
    const o = only(readRecord(stub), 'MakeCredential')['options'] as Record<string, unknown>;
    assert.equal(o['enterpriseAttestation'], 2);
    assert.equal(o['attestation'], 3);
  });

  test('origin, RP ID and attachment are checked before the library is called', async () => {
    stubEnv(stub);
    clearRecord(stub);
    const client = await createWebAuthnClient({ origin: 'https://evil.example.net' });
    await assert.rejects(client.create(creationOptions(new Uint8Array(32))), { name: 'SecurityError' });
    await assert.rejects(client.get({ challenge: new Uint8Array(32), rpId: RP }), { name: 'SecurityError' });
    const good = await createWebAuthnClient({ origin: ORIGIN });
    const platform = creationOptions(new Uint8Array(32));
    platform.authenticatorSelection = { ...platform.authenticatorSelection, authenticatorAttachment: 'platform' as 'cross-platform' };
    await assert.rejects(good.create(platform), { name: 'NotAllowedError' });
    assert.deepEqual(readRecord(stub).filter((c) => c.call === 'MakeCredential' || c.call === 'GetAssertion'), []);
  });

  test('the Electron window handle reaches the library', async () => {
    stubEnv(stub);
    clearRecord(stub);
    const handle = Buffer.alloc(8);
    handle.writeBigUInt64LE(0x7e57_0001n);
    const client = await createWebAuthnClient({ origin: ORIGIN, windowHandle: handle });
    await client.get({ challenge: loginChallenge, rpId: RP });
    assert.equal(only(readRecord(stub), 'GetAssertion')['hwnd'], '0x7e570001');
  });

  for (const [hr, name] of [
    [0x8009000f, 'InvalidStateError'],
    [0x800704c7, 'NotAllowedError'],
    [0x80090027, 'NotSupportedError'],
    [0x80090029, 'ConstraintError'],
  ] as const) {
    test(`HRESULT 0x${hr.toString(16)} reaches the caller of create()/get() as ${name}, HRESULT kept`, async () => {
      stubEnv(stub, { WEBAUTHN_STUB_HRESULT: hr.toString(16) });
      const client = await createWebAuthnClient({ origin: ORIGIN });
      for (const op of [() => client.create(creationOptions(new Uint8Array(32))), () => client.get({ challenge: loginChallenge, rpId: RP })]) {
        const e = await op().then(() => assert.fail('should reject'), (err: unknown) => err);
        assert.ok(e instanceof WebAuthnError, String(e));
        assert.equal(e.name, name);
        assert.ok(e instanceof WebAuthnDllError);
        assert.equal(e.hresult, hr);
      }
    });
  }

  for (const which of ['create', 'get'] as const) {
    test(`AbortSignal cancels a ${which}() waiting in the Windows dialog (through its cancellation id): AbortError`, async () => {
      stubEnv(stub, { WEBAUTHN_STUB_BLOCK: '1' });
      clearRecord(stub);
      const client = await createWebAuthnClient({ origin: ORIGIN });
      const ac = new AbortController();
      const pending = which === 'create' ? client.create(creationOptions(new Uint8Array(32)), { signal: ac.signal }) : client.get({ challenge: loginChallenge, rpId: RP }, { signal: ac.signal });
      for (let i = 0; i < 2000 && !readRecord(stub).some((c) => c.call === 'Blocking'); i++) await new Promise((r) => setTimeout(r, 5));
      assert.ok(readRecord(stub).some((c) => c.call === 'Blocking'), 'the stand-in is blocked in the call');
      // One ceremony at a time per client, as on the HID route.
      await assert.rejects(client.get({ challenge: loginChallenge, rpId: RP }), (e: unknown) => e instanceof WebAuthnError && e.name === 'NotAllowedError' && /pending/.test(e.message));
      ac.abort();
      await assert.rejects(pending, (e: unknown) => e instanceof WebAuthnError && e.name === 'AbortError');
      const calls = readRecord(stub);
      const call = only(calls, which === 'create' ? 'MakeCredential' : 'GetAssertion');
      const cancels = calls.filter((c) => c.call === 'CancelCurrentOperation');
      assert.ok(cancels.length >= 1);
      for (const c of cancels) assert.equal(c['id'], (call['options'] as Record<string, unknown>)['cancellationId']);
      // … and the client is free again.
      stubEnv(stub);
      assert.ok((await client.get({ challenge: loginChallenge, rpId: RP })) instanceof AuthenticationCredential);
    });
  }

  test('the call timeout reaches the library and ends a dialog nobody answers: NotAllowedError', async () => {
    stubEnv(stub, { WEBAUTHN_STUB_BLOCK: '1' });
    clearRecord(stub);
    const client = await createWebAuthnClient({ origin: ORIGIN });
    await assert.rejects(client.get({ challenge: loginChallenge, rpId: RP }, { timeoutMs: 20 }), { name: 'NotAllowedError' });
    assert.equal((only(readRecord(stub), 'GetAssertion')['options'] as Record<string, unknown>)['timeout'], 20);
  });

  describe('elevated Windows: HID first, webauthn.dll when the key cannot be opened', () => {
    const fallbackRoute = () => ceremonyRouteFor({ transport: 'hid', fallback: 'webauthn-dll', source: 'elevation', reason: 'test' });
    const failing = (e: Error): DeviceProvider & { acquired: number } => {
      const p = { acquired: 0, acquire: async () => { p.acquired++; throw e; } };
      return p;
    };

    test('an open failure (HidError PERMISSION_DENIED) goes through the library', async () => {
      stubEnv(stub);
      clearRecord(stub);
      const device = failing(new HidError('PERMISSION_DENIED', 'access denied'));
      const client = new WebAuthnClient({ origin: ORIGIN, device, route: fallbackRoute() });
      const cred = await client.get({ challenge: loginChallenge, rpId: RP });
      assert.equal(device.acquired, 1);
      assert.equal(cred.id, base64urlEncode(credentialId));
      only(readRecord(stub), 'GetAssertion');
    });

    test('other failures do not switch routes', async () => {
      stubEnv(stub);
      clearRecord(stub);
      const device = failing(new HidError('DEVICE_REMOVED', 'gone'));
      const client = new WebAuthnClient({ origin: ORIGIN, device, route: fallbackRoute() });
      await assert.rejects(client.get({ challenge: loginChallenge, rpId: RP }), { name: 'NotAllowedError' });
      assert.deepEqual(readRecord(stub), []);
    });

    test('plain HID (not Windows) has no route at all', () => {
      assert.equal(ceremonyRouteFor({ transport: 'hid', source: 'platform', reason: 'linux' }), undefined);
    });
  });
});
