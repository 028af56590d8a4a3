/**
 * `ctap` on the webauthn.dll route, as a user runs it (a child process), with
 * CTAP_BRIDGE_TRANSPORT=webauthn-dll and CTAP_BRIDGE_WEBAUTHN_DLL naming the
 * stand-in library built with gcc (test/helpers/webauthn-dll-stub/). register
 * and login go through it and their --json verifies with @simplewebauthn/server;
 * every command that needs raw CTAP fails with NotSupportedError (exit 8) saying
 * why and where Windows offers it; doctor shows the route; Ctrl-C cancels the
 * Windows dialog through its cancellation id.
 *
 * The stand-in answers with the W3C L3 §16 "ES256 Credential with No
 * Attestation" vector (RP example.org); login passes that vector's challenge so
 * the vector's signature covers our clientDataJSON.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { verifyAuthenticationResponse, verifyRegistrationResponse } from '@simplewebauthn/server';
import { loadVectors } from '../helpers/vectors.js';
import { buildStub, clearRecord, koffiSkipReason, readRecord, stubSkipReason, writeCanned, type BuiltStub, type StubCall } from '../helpers/webauthn-dll-stub/build.js';
import { base64urlEncode } from '../../src/webauthn/base64url.js';
import { ctap, spawnCtap, type CtapResult } from './helpers.js';

const skip = stubSkipReason() ?? koffiSkipReason();
const hex = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'hex'));
const reg = loadVectors('webauthn-registrations').find((v) => v.id === 'w3c-l3-reg-none-es256')!;
const auth = loadVectors('webauthn-authentications').find((v) => v.id === 'w3c-l3-auth-none-es256')!;
const credentialId = hex(auth['input_credential_id'] as string);
const cose = new Uint8Array(Buffer.from(auth['input_credential_public_key_cose'] as string, 'hex'));
const loginChallenge = base64urlEncode(hex((auth.expected['clientData'] as { challenge_bytes: string }).challenge_bytes));
const userHandle = new Uint8Array([0x75, 0x73, 0x65, 0x72, 0x2d, 0x31]);
const SETTINGS = 'Settings › Accounts › Sign-in options › Security Key';

function only(calls: StubCall[], name: string): StubCall {
  const found = calls.filter((c) => c.call === name);
  assert.equal(found.length, 1, `exactly one ${name} call, got ${found.length}`);
  return found[0]!;
}

function errorOf(r: CtapResult): { name: string; message: string } {
  const line = r.stderr.trim().split('\n').pop()!;
  return (JSON.parse(line) as { error: { name: string; message: string } }).error;
}

describe('ctap on the webauthn.dll route (stand-in library)', { skip }, () => {
  let stub: BuiltStub;
  let env: Record<string, string | undefined>;
  before(() => {
    stub = buildStub();
    writeCanned(stub, {
      attestationObject: hex(reg.input),
      authenticatorData: hex((reg.expected['attestationObject'] as { authData: string }).authData),
      credentialId,
      attStmt: new Uint8Array([0xa0]),
      fmt: 'none',
      assertionAuthenticatorData: hex(auth.input),
      signature: hex(auth['input_signature'] as string),
      userHandle,
    });
    env = {
      CTAP_BRIDGE_TRANSPORT: 'webauthn-dll',
      CTAP_BRIDGE_WEBAUTHN_DLL: stub.library,
      WEBAUTHN_STUB_RECORD: stub.record,
      WEBAUTHN_STUB_CANNED: stub.canned,
      WEBAUTHN_STUB_API_VERSION: '4',
      WEBAUTHN_STUB_HRESULT: undefined,
      WEBAUTHN_STUB_BLOCK: undefined,
      WEBAUTHN_STUB_APPID_USED: undefined,
    };
  });
  after(() => stub?.cleanup());

  test('register --json goes through the library with the flags mapped; RegistrationResponseJSON verifies', async () => {
    clearRecord(stub);
    const challenge = base64urlEncode(new Uint8Array(32).fill(0x42));
    const excluded = base64urlEncode(new Uint8Array([1, 2, 3]));
    const r = await ctap(['register', '--rp', 'example.org', '--challenge', challenge, '--resident', '--uv', 'required', '--exclude', excluded, '--ext', '{"credProps":true,"credentialProtectionPolicy":"userVerificationRequired"}', '--json'], { env });
    assert.equal(r.code, 0, r.stderr);
    const json = JSON.parse(r.stdout) as { id: string; response: { clientDataJSON: string }; clientExtensionResults: Record<string, unknown> };
    const calls = readRecord(stub);
    const mc = only(calls, 'MakeCredential');
    assert.equal(mc['rejected'], undefined);
    assert.notEqual(mc['hwnd'], '(nil)');
    const o = mc['options'] as Record<string, unknown>;
    assert.equal(o['version'], 5, 'API 4 takes WEBAUTHN_AUTHENTICATOR_MAKE_CREDENTIAL_OPTIONS version 5');
    assert.equal(o['uv'], 1, '--uv required');
    assert.equal(o['requireResidentKey'], 1, '--resident');
    assert.equal(o['attachment'], 2);
    assert.deepEqual((o['excludeList'] as Array<{ id: string }>).map((c) => c.id), ['010203']);
    const cp = (o['extensions'] as Array<Record<string, unknown>>).find((e) => e['id'] === 'credProtect');
    assert.equal(cp?.['credProtect'], 3);
    assert.equal((mc['clientData'] as { json: string }).json, Buffer.from(json.response.clientDataJSON, 'base64url').toString('hex'), 'the full clientDataJSON, byte for byte');
    assert.equal(json.id, base64urlEncode(credentialId));
    assert.deepEqual(json.clientExtensionResults, { credProps: { rk: true } });
    const v = await verifyRegistrationResponse({
      response: json as unknown as Parameters<typeof verifyRegistrationResponse>[0]['response'],
      expectedChallenge: challenge,
      expectedOrigin: 'https://example.org',
      expectedRPID: 'example.org',
      requireUserVerification: false,
    });
    assert.equal(v.verified, true);
    assert.deepEqual(v.registrationInfo?.credential.publicKey, cose);
  });

  test('login --json goes through the library; AuthenticationResponseJSON verifies', async () => {
    clearRecord(stub);
    const id = base64urlEncode(credentialId);
    const r = await ctap(['login', '--rp', 'example.org', '--challenge', loginChallenge, `--allow=${id}`, '--uv', 'discouraged', '--json'], { env });
    assert.equal(r.code, 0, r.stderr);
    const json = JSON.parse(r.stdout) as { response: { userHandle?: string } };
    const ga = only(readRecord(stub), 'GetAssertion');
    const o = ga['options'] as Record<string, unknown>;
    assert.equal(ga['rpId'], 'example.org');
    assert.equal(o['uv'], 3);
    assert.deepEqual((o['allowList'] as Array<{ id: string }>).map((c) => c.id), [Buffer.from(credentialId).toString('hex')]);
    assert.equal((ga['clientData'] as { json: string }).json, auth['input_client_data_json']);
    assert.equal(json.response.userHandle, base64urlEncode(userHandle));
    const v = await verifyAuthenticationResponse({
      response: json as unknown as Parameters<typeof verifyAuthenticationResponse>[0]['response'],
      expectedChallenge: loginChallenge,
      expectedOrigin: 'https://example.org',
      expectedRPID: 'example.org',
      credential: { id, publicKey: cose, counter: 0 },
      requireUserVerification: false,
    });
    assert.equal(v.verified, true);
  });

  for (const [hr, name, code] of [
    ['8009000f', 'InvalidStateError', 4],
    ['800704c7', 'NotAllowedError', 6],
    ['80090027', 'NotSupportedError', 8],
  ] as const) {
    test(`a Windows error (HRESULT 0x${hr}) keeps its WebAuthn name ${name} in --json; exit ${code}`, async () => {
      const r = await ctap(['register', '--rp', 'example.org', '--json'], { env: { ...env, WEBAUTHN_STUB_HRESULT: hr } });
      assert.equal(r.code, code, r.stderr);
      const e = errorOf(r) as { name: string; message: string; hresult?: string };
      assert.equal(e.name, name);
      assert.equal(e.hresult, `0x${hr.toUpperCase()}`);
      assert.match(e.message, new RegExp(`0x${hr.toUpperCase()}`));
    });
  }

  const refused: Array<[string[], RegExp]> = [
    [['info'], /getInfo/],
    [['pin', 'status'], /getInfo/],
    [['pin', 'change'], new RegExp(`changing the PIN.*${SETTINGS}`)],
    [['pin', 'set'], new RegExp(`setting a PIN.*${SETTINGS}`)],
    [['creds', 'list'], new RegExp(`credentials.*${SETTINGS}`)],
    [['reset', '--yes'], new RegExp(`resetting the key.*${SETTINGS}`)],
    [['bio', 'list'], new RegExp(`fingerprint.*${SETTINGS}`)],
    [['ping'], /raw CTAP/],
  ];
  for (const [args, why] of refused) {
    test(`ctap ${args.join(' ')}: NotSupportedError saying why and where, exit 8, no PIN asked`, async () => {
      const r = await ctap([...args, '--json'], { env: { ...env, CTAP_PIN: '123456', CTAP_NEW_PIN: '654321' } });
      assert.equal(r.code, 8, r.stderr);
      assert.equal(r.stdout, '');
      const e = errorOf(r);
      assert.equal(e.name, 'NotSupportedError');
      assert.match(e.message, /webauthn\.dll/);
      assert.match(e.message, why);
      assert.match(e.message, /CTAP_BRIDGE_TRANSPORT=webauthn-dll/, 'says why the route is active');
      assert.doesNotMatch(r.stderr, /123456|654321/);
    });
  }

  test('--device with a forced webauthn.dll route: Windows picks the key (NotSupportedError); --transport hid wins over the environment', async () => {
    const r = await ctap(['register', '--rp', 'example.org', '--device', 'virtual', '--json'], { env });
    assert.equal(r.code, 8);
    assert.match(errorOf(r).message, /choosing a specific key/);
    const hid = await ctap(['register', '--rp', 'example.org', '--device', 'virtual', '--transport', 'hid', '--json'], { env });
    assert.equal(hid.code, 0, hid.stderr);
    assert.equal((JSON.parse(hid.stdout) as { type: string }).type, 'public-key');
    const bad = await ctap(['info', '--transport', 'usb'], { env });
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--transport takes hid or webauthn-dll/);
    const badEnv = await ctap(['register', '--rp', 'example.org', '--json'], { env: { ...env, CTAP_BRIDGE_TRANSPORT: 'bluetooth' } });
    assert.equal(badEnv.code, 2);
    assert.match(errorOf(badEnv).message, /CTAP_BRIDGE_TRANSPORT must be "hid" or "webauthn-dll"/);
  });

  test('doctor shows the route, why, the library and its API version, and what the route cannot do', async () => {
    const r = await ctap(['doctor', '--json'], { env });
    const j = JSON.parse(r.stdout) as { ok: boolean; checks: { id: string; status: string; message: string }[] };
    const route = j.checks.find((c) => c.id === 'route')!;
    assert.match(route.message, /^route: webauthn-dll; CTAP_BRIDGE_TRANSPORT=webauthn-dll/);
    const lib = j.checks.find((c) => c.id === 'route.webauthnDll')!;
    assert.equal(lib.status, 'ok');
    assert.ok(lib.message.startsWith(`${stub.library}: API version 4`), lib.message);
    assert.ok(j.checks.some((c) => c.id === 'route.limitation' && c.message.includes(SETTINGS)));
    assert.ok(!j.checks.some((c) => c.id.startsWith('getInfo.')), 'no getInfo on this route');
    const human = await ctap(['doctor'], { env: { ...env, CTAP_BRIDGE_WEBAUTHN_DLL: '/nonexistent/webauthn.dll' } });
    assert.equal(human.code, 1, 'the forced route cannot load its library: a failed check');
    assert.match(human.stdout, /\[FAIL\] \/nonexistent\/webauthn\.dll cannot be used/);
  });

  test('doctor without a forced route still names the route it would take', async () => {
    const r = await ctap(['doctor', '--device', 'virtual', '--json'], { env: { ...env, CTAP_BRIDGE_TRANSPORT: undefined } });
    const j = JSON.parse(r.stdout) as { checks: { id: string; message: string }[] };
    const route = j.checks.find((c) => c.id === 'route')!;
    assert.match(route.message, process.platform === 'win32' ? /^route: / : /^route: hid; raw HID/);
  });

  test('Ctrl-C during the Windows dialog cancels it through the cancellation id; the command exits', async () => {
    clearRecord(stub);
    const child = spawnCtap(['login', '--rp', 'example.org', '--json'], { env: { ...env, WEBAUTHN_STUB_BLOCK: '1' } });
    let stderr = '';
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.stdout!.resume();
    child.stdin!.end();
    const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    for (let i = 0; i < 4000 && !readRecord(stub).some((c) => c.call === 'Blocking'); i++) await new Promise((r) => setTimeout(r, 5));
    assert.ok(readRecord(stub).some((c) => c.call === 'Blocking'), 'the stand-in is blocked in GetAssertion');
    child.kill('SIGINT');
    const code = await exited;
    assert.equal(code, 6, stderr);
    assert.equal(JSON.parse(stderr.trim().split('\n').pop()!).error.name, 'AbortError');
    const calls = readRecord(stub);
    const cancels = calls.filter((c) => c.call === 'CancelCurrentOperation');
    assert.ok(cancels.length >= 1);
    for (const c of cancels) assert.equal(c['id'], (only(calls, 'GetAssertion')['options'] as Record<string, unknown>)['cancellationId']);
  });
});
