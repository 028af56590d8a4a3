import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  chooseTransport,
  describeRoute,
  unsupportedOnWebAuthnDll,
  webAuthnDllPath,
  windowsBuild,
  type RouteFacts,
} from '../../../src/platform/windows/route.js';
import { WebAuthnError } from '../../../src/webauthn/errors.js';

const win = (over: Partial<RouteFacts> = {}): RouteFacts => ({ env: {}, platform: 'win32', osRelease: '10.0.19045', isElevated: false, ...over });

test('not Windows → HID, whatever the elevation', () => {
  for (const platform of ['linux', 'darwin', 'freebsd']) {
    const c = chooseTransport({ env: {}, platform, osRelease: '6.1.0', isElevated: true });
    assert.equal(c.transport, 'hid');
    assert.equal(c.fallback, undefined);
    assert.equal(c.source, 'platform');
  }
});

test('Windows 10 1903+ without Administrator → webauthn.dll', () => {
  for (const osRelease of ['10.0.18362', '10.0.19045', '10.0.22631', '10.0.26100']) {
    const c = chooseTransport(win({ osRelease }));
    assert.equal(c.transport, 'webauthn-dll', osRelease);
    assert.match(c.reason, /Administrator/);
  }
});

test('Windows below build 18362 → HID even without Administrator', () => {
  for (const osRelease of ['10.0.17763', '10.0.18361', '6.3.9600', 'garbage']) {
    const c = chooseTransport(win({ osRelease }));
    assert.equal(c.transport, 'hid', osRelease);
    assert.equal(c.source, 'windows-build');
  }
});

test('elevated Windows → HID with webauthn.dll as fallback', () => {
  const c = chooseTransport(win({ isElevated: true }));
  assert.equal(c.transport, 'hid');
  assert.equal(c.fallback, 'webauthn-dll');
});

test('explicit option wins over CTAP_BRIDGE_TRANSPORT, which wins over the platform', () => {
  assert.equal(chooseTransport(win({ explicit: 'hid', env: { CTAP_BRIDGE_TRANSPORT: 'webauthn-dll' } })).transport, 'hid');
  assert.equal(chooseTransport(win({ env: { CTAP_BRIDGE_TRANSPORT: 'hid' } })).transport, 'hid');
  // Forcing the route works on any OS (that is how the stand-in library is tested on Linux).
  const linux = chooseTransport({ env: { CTAP_BRIDGE_TRANSPORT: 'webauthn-dll' }, platform: 'linux', osRelease: '6.1.0' });
  assert.equal(linux.transport, 'webauthn-dll');
  assert.equal(linux.source, 'env');
  assert.equal(chooseTransport({ explicit: 'webauthn-dll', env: {}, platform: 'darwin', osRelease: '23.0.0' }).transport, 'webauthn-dll');
  assert.equal(chooseTransport(win({ env: { CTAP_BRIDGE_TRANSPORT: ' WEBAUTHN-DLL ' } })).transport, 'webauthn-dll');
  assert.equal(chooseTransport(win({ env: { CTAP_BRIDGE_TRANSPORT: '' } })).transport, 'webauthn-dll');
});

test('an unknown CTAP_BRIDGE_TRANSPORT is an error that names the choices', () => {
  assert.throws(() => chooseTransport(win({ env: { CTAP_BRIDGE_TRANSPORT: 'usb' } })), /"hid" or "webauthn-dll"/);
});

test('windowsBuild parses os.release()', () => {
  assert.equal(windowsBuild('10.0.22631'), 22631);
  assert.equal(windowsBuild('6.1.7601'), 7601);
  assert.equal(windowsBuild('10.0'), undefined);
});

test('webauthn.dll is loaded by absolute path from System32; the override must be absolute', () => {
  assert.equal(webAuthnDllPath({ SystemRoot: 'C:\\Windows' }), 'C:\\Windows\\System32\\webauthn.dll');
  assert.equal(webAuthnDllPath({ SystemRoot: 'D:\\WinNT\\' }), 'D:\\WinNT\\System32\\webauthn.dll');
  assert.equal(webAuthnDllPath({}), 'C:\\Windows\\System32\\webauthn.dll');
  assert.equal(webAuthnDllPath({ CTAP_BRIDGE_WEBAUTHN_DLL: '/tmp/x/stub.so', SystemRoot: 'C:\\Windows' }), '/tmp/x/stub.so');
  assert.throws(() => webAuthnDllPath({ CTAP_BRIDGE_WEBAUTHN_DLL: 'webauthn.dll' }), /absolute path/);
});

test('describeRoute lists what the webauthn.dll route cannot do, and nothing on HID', () => {
  const d = describeRoute(chooseTransport(win()), { SystemRoot: 'C:\\Windows' });
  assert.equal(d.transport, 'webauthn-dll');
  assert.equal(d.library, 'C:\\Windows\\System32\\webauthn.dll');
  assert.ok(d.limitations.some((l) => /PIN/.test(l) && /Sign-in options/.test(l)));
  assert.ok(d.limitations.some((l) => /reset/i.test(l)));
  const h = describeRoute(chooseTransport(win({ isElevated: true })));
  assert.equal(h.transport, 'hid');
  assert.equal(h.fallback, 'webauthn-dll');
  assert.deepEqual(h.limitations, []);
});

test('unsupported operations fail with NotSupportedError that says why and where Windows offers them', () => {
  for (const op of ['getInfo', 'pinChange', 'pinSet', 'reset', 'credentialManagement', 'bioEnrollment', 'config', 'largeBlobs', 'deviceChoice', 'rawCtap'] as const) {
    const e = unsupportedOnWebAuthnDll(op);
    assert.ok(e instanceof WebAuthnError);
    assert.equal(e.name, 'NotSupportedError');
    assert.equal(e.code, 'WEBAUTHN_NOT_SUPPORTED');
    assert.match(e.message, /webauthn\.dll/);
    assert.match(e.message, /Administrator|Settings|Windows/);
  }
  assert.match(unsupportedOnWebAuthnDll('pinChange').message, /Settings › Accounts › Sign-in options › Security Key/);
  assert.match(unsupportedOnWebAuthnDll('reset').message, /Reset Security Key/);
});
