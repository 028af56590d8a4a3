/**
 * create/get through the real koffi binding against the stand-in library
 * (test/helpers/webauthn-dll-stub/stub.c), for API versions 1–9: what the
 * library receives, what comes back, errors, cancellation and frees. The
 * stub places each result struct against a PROT_NONE page, so reading past
 * a result's dwVersion would crash this test process.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createPublicKey, createHash, verify } from 'node:crypto';
import { loadVectors } from '../../helpers/vectors.js';
import {
  buildStub,
  clearRecord,
  koffiSkipReason,
  readRecord,
  stubEnv,
  stubSkipReason,
  writeCanned,
  type BuiltStub,
  type StubCall,
} from '../../helpers/webauthn-dll-stub/build.js';
import { createViaWebAuthnDll, getViaWebAuthnDll, webAuthnDllApiVersion, isUserVerifyingPlatformAuthenticatorAvailable } from '../../../src/platform/windows/client.js';
import { structVersionsFor } from '../../../src/platform/windows/api-versions.js';
import { WebAuthnDllError } from '../../../src/platform/windows/errors.js';
import { openWebAuthnDll } from '../../../src/platform/windows/koffi.js';
import { WebAuthnError } from '../../../src/webauthn/errors.js';
import type { DllCreationOptions, DllRequestOptions } from '../../../src/platform/windows/types.js';

const skip = stubSkipReason() ?? koffiSkipReason();
const hex = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'hex'));
const toHex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

// W3C WebAuthn L3 §16 test vectors "ES256 Credential with No Attestation": a registration and the
// login made with the same credential, so the returned assertion verifies with the registered key.
const reg = loadVectors('webauthn-registrations').find((v) => v.id === 'w3c-l3-reg-none-es256')!;
const auth = loadVectors('webauthn-authentications').find((v) => v.id === 'w3c-l3-auth-none-es256')!;
const regClientData = hex(reg['input_client_data_json'] as string);
const authClientData = hex(auth['input_client_data_json'] as string);
const credentialId = hex(auth['input_credential_id'] as string);
const userHandle = new Uint8Array([0x75, 0x73, 0x65, 0x72, 0x2d, 0x31]);
const regAuthData = (reg.expected['attestationObject'] as { authData: string }).authData;

/** The COSE EC2 key of the vector (x = -2, y = -3 at fixed offsets of a canonical 77-byte map). */
function publicKeyOf(coseHex: string) {
  const cose = hex(coseHex);
  const x = cose.slice(10, 42);
  const y = cose.slice(45, 77);
  return createPublicKey({ key: { kty: 'EC', crv: 'P-256', x: Buffer.from(x).toString('base64url'), y: Buffer.from(y).toString('base64url') }, format: 'jwk' });
}

const creation = (): DllCreationOptions => ({
  clientDataJSON: regClientData,
  rp: { id: 'example.org', name: 'Example Ünicode 🔑' },
  user: { id: userHandle, name: 'alice@example.org', displayName: 'Alice Äpfel' },
  pubKeyCredParams: [
    { type: 'public-key', alg: -7 },
    { type: 'public-key', alg: -8 },
    { type: 'public-key', alg: -257 },
  ],
  timeout: 60_000,
  excludeCredentials: [
    { type: 'public-key', id: new Uint8Array([1, 2, 3]), transports: ['usb', 'nfc'] },
    { type: 'public-key', id: new Uint8Array([4, 5]).buffer },
  ],
  authenticatorSelection: { residentKey: 'preferred' },
  attestation: 'enterprise',
  hints: ['security-key'],
  extensions: {
    credProps: true,
    credentialProtectionPolicy: 'userVerificationOptionalWithCredentialIDList',
    enforceCredentialProtectionPolicy: true,
    credBlob: new Uint8Array([0xcb, 0x01]),
    minPinLength: true,
    largeBlob: { support: 'preferred' },
    prf: { eval: { first: new Uint8Array(32).fill(7) } },
  },
});

const request = (): DllRequestOptions => ({
  clientDataJSON: authClientData,
  rpId: 'example.org',
  timeout: 60_000,
  allowCredentials: [{ type: 'public-key', id: credentialId, transports: ['usb', 'hybrid'] }],
  userVerification: 'required',
  hints: ['security-key'],
  extensions: {
    appid: 'https://example.org/appid.json',
    getCredBlob: true,
    largeBlob: { read: true },
    prf: { eval: { first: new Uint8Array(32).fill(1), second: new Uint8Array(32).fill(2) } },
  },
});

function only(calls: StubCall[], name: string): StubCall {
  const found = calls.filter((c) => c.call === name);
  assert.equal(found.length, 1, `exactly one ${name} call, got ${found.length}`);
  return found[0]!;
}

describe('webauthn.dll binding against the stand-in library', { skip }, () => {
  let stub: BuiltStub;
  before(() => {
    stub = buildStub();
    writeCanned(stub, {
      attestationObject: hex(reg.input),
      authenticatorData: hex(regAuthData),
      credentialId,
      attStmt: new Uint8Array([0xa0]),
      fmt: 'none',
      assertionAuthenticatorData: hex(auth.input),
      signature: hex(auth['input_signature'] as string),
      userHandle,
      credBlob: new Uint8Array([0xcb, 0x01]),
      largeBlob: new Uint8Array([0x1b, 0x1b, 0x1b]),
      hmacFirst: new Uint8Array(32).fill(0x11),
      hmacSecond: new Uint8Array(32).fill(0x22),
    });
  });
  after(() => stub?.cleanup());

  for (const api of [1, 2, 3, 4, 5, 6, 7, 8, 9]) {
    test(`API ${api}: create() sends the struct versions and extensions of API ${api} and returns the stub's attestation`, async () => {
      stubEnv(stub, { WEBAUTHN_STUB_API_VERSION: String(api) });
      clearRecord(stub);
      assert.equal(await webAuthnDllApiVersion(), api);
      const res = await createViaWebAuthnDll(creation());
      const calls = readRecord(stub);
      const mc = only(calls, 'MakeCredential');
      assert.equal(mc['rejected'], undefined, String(mc['rejected']));
      const sv = structVersionsFor(api);
      const o = mc['options'] as Record<string, unknown>;
      assert.equal(o['version'], sv.makeCredentialOptions);
      assert.notEqual(mc['hwnd'], '(nil)');
      assert.deepEqual(mc['rp'], { version: 1, id: 'example.org', name: 'Example Ünicode 🔑', icon: null });
      assert.deepEqual(mc['user'], { version: 1, id: toHex(userHandle), name: 'alice@example.org', displayName: 'Alice Äpfel' });
      assert.deepEqual(mc['params'], [
        { type: 'public-key', alg: -7, version: 1 },
        { type: 'public-key', alg: -8, version: 1 },
        { type: 'public-key', alg: -257, version: 1 },
      ]);
      // The full clientDataJSON, byte for byte: Windows hashes it itself.
      assert.deepEqual(mc['clientData'], { version: 1, json: toHex(regClientData), hashAlg: 'SHA-256' });
      assert.equal(o['attachment'], 2, 'always WEBAUTHN_AUTHENTICATOR_ATTACHMENT_CROSS_PLATFORM');
      assert.equal(o['uv'], 2, 'default userVerification = preferred');
      assert.equal(o['attestation'], 3, 'enterprise asks for DIRECT conveyance');
      assert.equal(o['timeout'], 60_000);
      assert.equal(o['requireResidentKey'], 0);
      assert.deepEqual(o['excludeList'], [
        { version: 1, id: '010203', type: 'public-key', transports: 0x01 | 0x02 },
        { version: 1, id: '0405', type: 'public-key', transports: 0 },
      ]);
      const gid = only(calls, 'GetCancellationId');
      assert.equal(o['cancellationId'], gid['id']);

      const extIds = (o['extensions'] as Array<{ id: string }>).map((e) => e.id).sort();
      const expectExt = [...(api >= 2 ? ['credProtect'] : []), ...(api >= 3 ? ['credBlob', 'minPinLength'] : [])].sort();
      assert.deepEqual(extIds, expectExt);
      if (api >= 2) {
        const cp = (o['extensions'] as Array<Record<string, unknown>>).find((e) => e.id === 'credProtect')!;
        assert.equal(cp['credProtect'], 2);
        assert.equal(cp['requireCredProtect'], true);
      }
      if (api >= 3) {
        assert.equal((o['extensions'] as Array<Record<string, unknown>>).find((e) => e.id === 'credBlob')!['credBlob'], 'cb01');
        assert.equal(o['enterpriseAttestation'], 1);
        assert.equal(o['preferResidentKey'], 1);
        assert.equal(o['largeBlobSupport'], api >= 5 ? 2 : 0);
      } else {
        assert.equal(o['enterpriseAttestation'], undefined, 'MAKE_CREDENTIAL_OPTIONS v3 has no enterprise field');
      }
      if (api >= 6) assert.equal(o['enablePrf'], 1);
      if (api >= 8) {
        assert.deepEqual(o['hints'], ['security-key']);
        assert.deepEqual(o['prfGlobalEval'], { first: '07'.repeat(32), second: null });
      }

      // Results: the vector's bytes, intact.
      assert.equal(toHex(res.attestationObject), reg.input);
      assert.equal(toHex(res.authenticatorData), regAuthData);
      assert.deepEqual(res.credentialId, credentialId);
      assert.deepEqual(res.clientDataJSON, regClientData);
      assert.equal(res.fmt, 'none');
      assert.equal(res.structVersion, sv.credentialAttestation);
      assert.equal(res.apiVersion, api);
      assert.equal(res.authenticatorAttachment, 'cross-platform');
      assert.deepEqual(res.transports, api >= 9 ? ['usb', 'nfc'] : ['usb']);
      const x = res.clientExtensionResults;
      assert.equal(x.credProtect, api >= 2 ? 2 : undefined);
      assert.equal(x.credBlob, api >= 3 ? true : undefined);
      assert.equal(x.minPinLength, api >= 3 ? 6 : undefined);
      assert.deepEqual(x.credProps, api >= 3 ? { rk: true } : undefined);
      assert.equal(res.epAtt, api >= 3 ? true : undefined);
      assert.deepEqual(x.largeBlob, api >= 5 ? { supported: true } : undefined, 'no output for an extension this API cannot carry');
      if (api >= 8) assert.deepEqual(x.prf, { enabled: true, results: { first: new Uint8Array(32).fill(0x11) } });
      else if (api >= 6) assert.deepEqual(x.prf, { enabled: true });
      else assert.equal(x.prf, undefined);
      const ignored = [
        ...(api < 2 ? ['credProtect'] : []),
        ...(api < 3 ? ['attestation:enterprise', 'credBlob', 'minPinLength'] : []),
        ...(api < 5 ? ['largeBlob'] : []),
        ...(api < 6 ? ['prf'] : []),
        ...(api >= 6 && api < 8 ? ['prf.eval'] : []),
        ...(api < 8 ? ['hints'] : []),
      ].sort();
      assert.deepEqual([...res.ignoredExtensions].sort(), ignored);

      const free = only(calls, 'FreeCredentialAttestation');
      assert.equal(free['known'], true, 'the pointer freed is the one the library returned');
    });

    test(`API ${api}: get() sends the struct versions and extensions of API ${api}; the assertion verifies`, async () => {
      stubEnv(stub, { WEBAUTHN_STUB_API_VERSION: String(api) });
      clearRecord(stub);
      const res = await getViaWebAuthnDll(request());
      const calls = readRecord(stub);
      const ga = only(calls, 'GetAssertion');
      assert.equal(ga['rejected'], undefined, String(ga['rejected']));
      const sv = structVersionsFor(api);
      const o = ga['options'] as Record<string, unknown>;
      assert.equal(o['version'], sv.getAssertionOptions);
      assert.equal(ga['rpId'], 'example.org');
      assert.deepEqual(ga['clientData'], { version: 1, json: toHex(authClientData), hashAlg: 'SHA-256' });
      assert.equal(o['attachment'], 2);
      assert.equal(o['uv'], 1);
      assert.deepEqual(o['allowList'], [{ version: 1, id: toHex(credentialId), type: 'public-key', transports: 0x01 | 0x20 }]);
      assert.equal(o['u2fAppId'], 'https://example.org/appid.json');
      assert.equal(o['hasU2fAppIdOut'], true);
      assert.equal(o['cancellationId'], only(calls, 'GetCancellationId')['id']);
      assert.deepEqual((o['extensions'] as Array<{ id: string }>).map((e) => e.id), api >= 3 ? ['credBlob'] : []);
      if (api >= 5) assert.equal(o['largeBlobOperation'], 1);
      if (api >= 6) {
        assert.equal(o['flags'], 0, 'PRF inputs: no HMAC_SECRET_VALUES_FLAG');
        assert.deepEqual(o['hmacSecretSaltValues'], { global: { first: '01'.repeat(32), second: '02'.repeat(32) }, byCredential: [] });
      } else if (api >= 4) {
        assert.equal(o['hmacSecretSaltValues'], null);
      }
      if (api >= 8) assert.deepEqual(o['hints'], ['security-key']);

      assert.equal(res.structVersion, sv.assertion);
      assert.deepEqual(res.credentialId, credentialId);
      assert.deepEqual(res.userHandle, userHandle);
      assert.deepEqual(res.clientDataJSON, authClientData);
      const signed = Buffer.concat([res.authenticatorData, createHash('sha256').update(res.clientDataJSON).digest()]);
      assert.equal(signed.toString('hex'), auth.expected['signed_data']);
      assert.ok(verify('sha256', signed, publicKeyOf(auth['input_credential_public_key_cose'] as string), res.signature), 'ES256 signature verifies with the registered key');
      const x = res.clientExtensionResults;
      assert.equal(x.appid, false);
      assert.deepEqual(x.getCredBlob, api >= 3 ? new Uint8Array([0xcb, 0x01]) : undefined);
      assert.deepEqual(x.largeBlob, api >= 5 ? { blob: new Uint8Array([0x1b, 0x1b, 0x1b]) } : undefined);
      assert.deepEqual(x.prf, api >= 6 ? { results: { first: new Uint8Array(32).fill(0x11), second: new Uint8Array(32).fill(0x22) } } : undefined);
      assert.equal(res.usedTransport, api >= 6 ? 'usb' : undefined);
      assert.equal(only(calls, 'FreeAssertion')['known'], true);
    });
  }

  test('appid: pbU2fAppId set by Windows comes back as the appid extension output', async () => {
    stubEnv(stub, { WEBAUTHN_STUB_APPID_USED: '1' });
    const res = await getViaWebAuthnDll(request());
    assert.equal(res.clientExtensionResults.appid, true);
  });

  test('raw hmac-secret salts are sent with WEBAUTHN_AUTHENTICATOR_HMAC_SECRET_VALUES_FLAG', async () => {
    stubEnv(stub);
    clearRecord(stub);
    const res = await getViaWebAuthnDll({ ...request(), extensions: { hmacGetSecret: { salt1: new Uint8Array(32).fill(9) } } });
    const o = only(readRecord(stub), 'GetAssertion')['options'] as Record<string, unknown>;
    assert.equal(o['flags'], 0x0010_0000);
    assert.deepEqual(o['hmacSecretSaltValues'], { global: { first: '09'.repeat(32), second: null }, byCredential: [] });
    assert.deepEqual(res.clientExtensionResults.hmacGetSecret, { output1: new Uint8Array(32).fill(0x11) });
  });

  test('largeBlob write and PRF evalByCredential reach the library', async () => {
    stubEnv(stub);
    clearRecord(stub);
    const res = await getViaWebAuthnDll({
      ...request(),
      extensions: {
        largeBlob: { write: new Uint8Array([5, 6]) },
        prf: { evalByCredentialRaw: [{ id: credentialId, values: { first: new Uint8Array(32).fill(3) } }] },
      },
    });
    const o = only(readRecord(stub), 'GetAssertion')['options'] as Record<string, unknown>;
    assert.equal(o['largeBlobOperation'], 2);
    assert.equal(o['largeBlob'], '0506');
    assert.deepEqual(o['hmacSecretSaltValues'], {
      global: null,
      byCredential: [{ id: toHex(credentialId), salt: { first: '03'.repeat(32), second: null } }],
    });
    assert.deepEqual(res.clientExtensionResults.largeBlob, { written: true });
  });

  test('the caller’s window handle (Electron getNativeWindowHandle() buffer) is passed through; without one a non-NULL stand-in is used', async () => {
    stubEnv(stub);
    clearRecord(stub);
    const handle = Buffer.alloc(8);
    handle.writeBigUInt64LE(0x1234_5678n);
    await createViaWebAuthnDll(creation(), { windowHandle: handle });
    await getViaWebAuthnDll(request());
    await createViaWebAuthnDll(creation(), { windowHandle: 0n });
    const calls = readRecord(stub);
    const mcs = calls.filter((c) => c.call === 'MakeCredential');
    assert.equal(mcs[0]!['hwnd'], '0x12345678');
    assert.equal(mcs[1]!['hwnd'], '0xc7a9', 'a NULL handle from the caller is never passed on');
    assert.equal(only(calls, 'GetAssertion')['hwnd'], '0xc7a9');
  });

  test('when no cancellation id can be had, pCancellationId is NULL and the call still works', async () => {
    stubEnv(stub);
    clearRecord(stub);
    const real = await openWebAuthnDll(stub.library);
    const noId = { ...real, getCancellationId: () => 0x80004005 };
    const res = await getViaWebAuthnDll(request(), { library: noId });
    assert.deepEqual(res.credentialId, credentialId);
    assert.equal((only(readRecord(stub), 'GetAssertion')['options'] as Record<string, unknown>)['cancellationId'], null);
  });

  test('the stand-in enforces what Windows enforces: a dwVersion newer than its API is refused', async () => {
    // A library object that claims API 9 while the stub plays API 3: the options go out as v9 and are refused.
    stubEnv(stub, { WEBAUTHN_STUB_API_VERSION: '3' });
    clearRecord(stub);
    const real = await openWebAuthnDll(stub.library);
    const lying = { ...real, getApiVersionNumber: () => 9 };
    await assert.rejects(createViaWebAuthnDll(creation(), { library: lying }), (e: unknown) => e instanceof WebAuthnDllError && e.hresult === 0x80070057);
    assert.match(String(only(readRecord(stub), 'MakeCredential')['rejected']), /dwVersion/);
  });

  test('UV, resident key and attestation mapping', async () => {
    stubEnv(stub);
    const cases: Array<[DllCreationOptions['authenticatorSelection'], DllCreationOptions['attestation'], Record<string, number>]> = [
      [{ userVerification: 'discouraged', residentKey: 'required' }, 'none', { uv: 3, requireResidentKey: 1, preferResidentKey: 0, attestation: 1, enterpriseAttestation: 0 }],
      [{ userVerification: 'required', requireResidentKey: true }, 'direct', { uv: 1, requireResidentKey: 1, preferResidentKey: 0, attestation: 3, enterpriseAttestation: 0 }],
      [{ residentKey: 'discouraged', requireResidentKey: true }, 'indirect', { uv: 2, requireResidentKey: 0, preferResidentKey: 0, attestation: 2, enterpriseAttestation: 0 }],
      [{ authenticatorAttachment: 'platform' }, undefined, { uv: 2, requireResidentKey: 0, attachment: 2, attestation: 1 }],
      [{}, 'enterprise', { attestation: 3, enterpriseAttestation: 1 }],
      [{}, 'enterprise-approved' as 'enterprise', { attestation: 3, enterpriseAttestation: 2 }],
    ];
    for (const [sel, att, want] of cases) {
      clearRecord(stub);
      const approved = (att as string) === 'enterprise-approved';
      await createViaWebAuthnDll({ ...creation(), authenticatorSelection: sel, attestation: approved ? 'enterprise' : att, enterpriseAttestationApproved: approved, extensions: {} });
      const o = only(readRecord(stub), 'MakeCredential')['options'] as Record<string, unknown>;
      for (const [k, v] of Object.entries(want)) assert.equal(o[k], v, `${JSON.stringify(sel)} ${att}: ${k}`);
    }
  });

  const errorCases: Array<[number, string]> = [
    [0x8009000f, 'InvalidStateError'],
    [0x800704c7, 'NotAllowedError'],
    [0x80090036, 'NotAllowedError'],
    [0x800705b4, 'NotAllowedError'],
    [0x80090035, 'NotAllowedError'],
    [0x80090027, 'NotSupportedError'],
    [0x80090029, 'ConstraintError'],
    [0x80004005, 'UnknownError'],
  ];
  for (const [hr, name] of errorCases) {
    test(`HRESULT 0x${hr.toString(16)} → ${name} through WebAuthNGetErrorName, HRESULT kept, nothing to free`, async () => {
      stubEnv(stub, { WEBAUTHN_STUB_HRESULT: hr.toString(16) });
      clearRecord(stub);
      for (const op of [() => createViaWebAuthnDll(creation()), () => getViaWebAuthnDll(request())]) {
        const e = await op().then(
          () => assert.fail('should reject'),
          (err: unknown) => err,
        );
        assert.ok(e instanceof WebAuthnDllError && e instanceof WebAuthnError);
        assert.equal(e.name, name);
        assert.equal(e.hresult, hr);
        assert.equal(e.windowsName, name);
        assert.match(e.message, new RegExp(`0x${hr.toString(16).toUpperCase().padStart(8, '0')}`));
        assert.equal((e.toJSON() as { hresult?: string }).hresult, `0x${hr.toString(16).toUpperCase().padStart(8, '0')}`);
      }
      const calls = readRecord(stub);
      assert.equal(calls.filter((c) => c.call.startsWith('Free')).length, 0);
    });
  }

  test('AbortSignal cancels a blocked call through its cancellation id; the event loop stays free meanwhile', async () => {
    stubEnv(stub, { WEBAUTHN_STUB_BLOCK: '1' });
    clearRecord(stub);
    const ac = new AbortController();
    const pending = createViaWebAuthnDll(creation(), { signal: ac.signal });
    // Wait (on the event loop, which a blocking call would freeze) until the stub is blocked.
    for (let i = 0; i < 2000 && !readRecord(stub).some((c) => c.call === 'Blocking'); i++) await new Promise((r) => setTimeout(r, 5));
    assert.ok(readRecord(stub).some((c) => c.call === 'Blocking'), 'the stub blocked');
    ac.abort();
    await assert.rejects(pending, (e: unknown) => e instanceof WebAuthnError && e.name === 'AbortError');
    const calls = readRecord(stub);
    const mc = only(calls, 'MakeCredential');
    // One cancel, repeated (every 250 ms) only if the call had not returned yet: always the call's own id.
    const cancels = calls.filter((c) => c.call === 'CancelCurrentOperation');
    assert.ok(cancels.length >= 1);
    for (const c of cancels) assert.equal(c['id'], (mc['options'] as Record<string, unknown>)['cancellationId']);
  });

  test('get() is cancelled the same way', async () => {
    stubEnv(stub, { WEBAUTHN_STUB_BLOCK: '1' });
    clearRecord(stub);
    const ac = new AbortController();
    const pending = getViaWebAuthnDll(request(), { signal: ac.signal });
    for (let i = 0; i < 2000 && !readRecord(stub).some((c) => c.call === 'Blocking'); i++) await new Promise((r) => setTimeout(r, 5));
    ac.abort(new Error('user closed the dialog'));
    await assert.rejects(pending, (e: unknown) => e instanceof WebAuthnError && e.name === 'AbortError');
    const calls = readRecord(stub);
    const cancels = calls.filter((c) => c.call === 'CancelCurrentOperation');
    assert.ok(cancels.length >= 1);
    for (const c of cancels) assert.equal(c['id'], (only(calls, 'GetAssertion')['options'] as Record<string, unknown>)['cancellationId']);
  });

  test('an already-aborted signal rejects without calling the library', async () => {
    stubEnv(stub);
    clearRecord(stub);
    await assert.rejects(createViaWebAuthnDll(creation(), { signal: AbortSignal.abort() }), { name: 'AbortError' });
    assert.equal(readRecord(stub).filter((c) => c.call === 'MakeCredential').length, 0);
  });

  test('our own deadline cancels a call Windows keeps open: NotAllowedError', async () => {
    stubEnv(stub, { WEBAUTHN_STUB_BLOCK: '1' });
    clearRecord(stub);
    await assert.rejects(getViaWebAuthnDll(request(), { timeoutMs: 10 }), (e: unknown) => e instanceof WebAuthnError && e.name === 'NotAllowedError' && /timed out/.test(e.message));
    assert.ok(readRecord(stub).filter((c) => c.call === 'CancelCurrentOperation').length >= 1);
  });

  test('calls are serialised: two concurrent create() each get their own cancellation id and result', async () => {
    stubEnv(stub);
    clearRecord(stub);
    const [a, b] = await Promise.all([createViaWebAuthnDll(creation()), getViaWebAuthnDll(request())]);
    assert.equal(toHex(a.attestationObject), reg.input);
    assert.deepEqual(b.userHandle, userHandle);
    const calls = readRecord(stub);
    assert.deepEqual(calls.map((c) => c.call), ['GetCancellationId', 'MakeCredential', 'FreeCredentialAttestation', 'GetCancellationId', 'GetAssertion', 'FreeAssertion']);
  });

  test('isUserVerifyingPlatformAuthenticatorAvailable reads the BOOL the library writes', async () => {
    stubEnv(stub);
    assert.equal(await isUserVerifyingPlatformAuthenticatorAvailable(), false);
  });
});
