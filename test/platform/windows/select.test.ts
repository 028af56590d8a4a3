import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { diagnoseRoute, probeWebAuthnDll, routeChecks, withRoute } from '../../../src/platform/windows/select.js';
import { chooseTransport } from '../../../src/platform/windows/route.js';
import { HidError } from '../../../src/hid/errors.js';
import { buildStub, koffiSkipReason, stubSkipReason, type BuiltStub } from '../../helpers/webauthn-dll-stub/build.js';

const elevated = chooseTransport({ env: {}, platform: 'win32', osRelease: '10.0.22631', isElevated: true });
const normal = chooseTransport({ env: {}, platform: 'win32', osRelease: '10.0.22631', isElevated: false });
const linux = chooseTransport({ env: {}, platform: 'linux', osRelease: '6.1.0' });

test('elevated Windows: HID first, webauthn.dll when opening over HID fails', async () => {
  const calls: string[] = [];
  const r = await withRoute(elevated, {
    hid: async () => {
      calls.push('hid');
      throw new HidError('OPEN_FAILED', 'could not open the key');
    },
    webauthnDll: async () => {
      calls.push('dll');
      return 'dll';
    },
  });
  assert.equal(r, 'dll');
  assert.deepEqual(calls, ['hid', 'dll']);
});

test('elevated Windows: a non-HID failure (the user said no) is not retried through webauthn.dll', async () => {
  const denied = new Error('NotAllowedError');
  await assert.rejects(withRoute(elevated, { hid: async () => Promise.reject(denied), webauthnDll: async () => 'dll' }), denied);
});

test('elevated Windows: a key pulled out mid-ceremony is not retried through webauthn.dll', async () => {
  await assert.rejects(withRoute(elevated, { hid: async () => Promise.reject(new HidError('DEVICE_REMOVED', 'gone')), webauthnDll: async () => 'dll' }), HidError);
});

test('no fallback off Windows or when the route is webauthn.dll already', async () => {
  await assert.rejects(withRoute(linux, { hid: async () => Promise.reject(new HidError('OPEN_FAILED', 'x')), webauthnDll: async () => 'dll' }), HidError);
  assert.equal(await withRoute(normal, { hid: async () => 'hid', webauthnDll: async () => 'dll' }), 'dll');
});

const skip = stubSkipReason() ?? koffiSkipReason();
let stub: BuiltStub | undefined;
before(() => {
  if (!skip) stub = buildStub();
});
after(() => stub?.cleanup());

test('probeWebAuthnDll reports the API version, struct versions and features of the library', { skip }, async () => {
  process.env['WEBAUTHN_STUB_API_VERSION'] = '6';
  const p = await probeWebAuthnDll({ CTAP_BRIDGE_WEBAUTHN_DLL: stub!.library });
  assert.equal(p.loaded, true);
  assert.equal(p.apiVersion, 6);
  assert.deepEqual(p.structVersions, { makeCredentialOptions: 6, getAssertionOptions: 6, credentialAttestation: 5, assertion: 4 });
  assert.ok(p.features!.includes('prf') && p.features!.includes('largeBlob') && !p.features!.includes('hints'));
  assert.equal(p.platformAuthenticator, false);
  const d = await diagnoseRoute(normal, { CTAP_BRIDGE_WEBAUTHN_DLL: stub!.library });
  assert.equal(d.webauthnDll?.apiVersion, 6);
});

test('probeWebAuthnDll never throws: a missing library or a relative path is reported', { skip: koffiSkipReason() }, async () => {
  const missing = await probeWebAuthnDll({ CTAP_BRIDGE_WEBAUTHN_DLL: '/nonexistent/webauthn.dll' });
  assert.equal(missing.loaded, false);
  assert.match(missing.error!, /existing regular file/);
  assert.equal(missing.library, '/nonexistent/webauthn.dll');
  const relative = await probeWebAuthnDll({ CTAP_BRIDGE_WEBAUTHN_DLL: 'webauthn.dll' });
  assert.equal(relative.loaded, false);
  assert.match(relative.error!, /absolute/);
});

test('routeChecks: the forced webauthn.dll route, its library and its limitations, as ctap doctor lines', { skip }, async () => {
  process.env['WEBAUTHN_STUB_API_VERSION'] = '8';
  const checks = await routeChecks('webauthn-dll', { CTAP_BRIDGE_WEBAUTHN_DLL: stub!.library });
  assert.match(checks[0]!.message, /^route: webauthn-dll; the webauthn-dll route was chosen explicitly/);
  const lib = checks.find((c) => c.id === 'route.webauthnDll')!;
  assert.equal(lib.status, 'ok');
  assert.match(lib.message, /API version 8; extensions: .*hints/);
  assert.ok(checks.some((c) => c.id === 'route.limitation' && /Sign-in options/.test(c.message)));
  const broken = await routeChecks('webauthn-dll', { CTAP_BRIDGE_WEBAUTHN_DLL: '/nonexistent/webauthn.dll' });
  assert.equal(broken.find((c) => c.id === 'route.webauthnDll')!.status, 'fail');
});

test('off Windows without CTAP_BRIDGE_WEBAUTHN_DLL: webauthn.dll exists only on Windows, and the override is named (not "must be loaded by absolute path")', { skip: process.platform === 'win32' ? 'this is Windows' : false }, async () => {
  const p = await probeWebAuthnDll({});
  assert.equal(p.loaded, false);
  assert.equal(p.library, 'C:\\Windows\\System32\\webauthn.dll');
  assert.match(p.error!, /webauthn\.dll exists only on Windows/);
  assert.match(p.error!, /CTAP_BRIDGE_WEBAUTHN_DLL/);
  assert.doesNotMatch(p.error!, /absolute path, got/);
});
