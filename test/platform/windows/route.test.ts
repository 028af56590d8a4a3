import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  chooseTransport,
  describeRoute,
  unsupportedOnWebAuthnDll,
  webAuthnDllPath,
  windowsBuild,
  withoutWebAuthnDllOverride,
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

test('webauthn.dll is loaded by absolute path from System32; the override must be an absolute path to an existing regular file', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'ctap-dll-path-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'stub.so');
  writeFileSync(file, 'not really a library');
  const warnings: string[] = [];
  const warn = (m: string): void => void warnings.push(m);
  assert.equal(webAuthnDllPath({ SystemRoot: 'C:\\Windows' }, { warn }), 'C:\\Windows\\System32\\webauthn.dll');
  assert.equal(webAuthnDllPath({ SystemRoot: 'D:\\WinNT\\' }, { warn }), 'D:\\WinNT\\System32\\webauthn.dll');
  assert.equal(webAuthnDllPath({}, { warn }), 'C:\\Windows\\System32\\webauthn.dll');
  assert.equal(warnings.length, 0, 'no warning without the override');
  assert.equal(webAuthnDllPath({ CTAP_BRIDGE_WEBAUTHN_DLL: file, SystemRoot: 'C:\\Windows' }, { warn }), file);
  assert.equal(warnings.length, 1, 'using the override is announced');
  assert.ok(warnings[0]!.includes(file), 'naming the library');
  assert.throws(() => webAuthnDllPath({ CTAP_BRIDGE_WEBAUTHN_DLL: 'webauthn.dll' }, { warn }), /absolute path/);
  assert.throws(() => webAuthnDllPath({ CTAP_BRIDGE_WEBAUTHN_DLL: join(dir, 'missing.so') }, { warn }), /existing regular file/);
  assert.throws(() => webAuthnDllPath({ CTAP_BRIDGE_WEBAUTHN_DLL: dir }, { warn }), /existing regular file/, 'a directory is not a library');
  assert.equal(warnings.length, 1, 'a refused override is not announced as loaded');
});

test('an embedding app that does not allow the override gets System32 whatever CTAP_BRIDGE_WEBAUTHN_DLL says (review M7)', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'ctap-dll-path-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'evil.dll');
  writeFileSync(file, 'x');
  const warnings: string[] = [];
  const env = { CTAP_BRIDGE_WEBAUTHN_DLL: file, SystemRoot: 'C:\\Windows' };
  assert.equal(webAuthnDllPath(env, { allowOverride: false, warn: (m) => void warnings.push(m) }), 'C:\\Windows\\System32\\webauthn.dll');
  assert.equal(warnings.length, 1);
  assert.match(warnings[0]!, /set but ignored/);
  const stripped = withoutWebAuthnDllOverride(env);
  assert.equal('CTAP_BRIDGE_WEBAUTHN_DLL' in stripped, false);
  assert.equal(stripped['SystemRoot'], 'C:\\Windows');
  assert.equal(webAuthnDllPath(stripped), 'C:\\Windows\\System32\\webauthn.dll');
  assert.equal(env.CTAP_BRIDGE_WEBAUTHN_DLL, file, 'the caller\'s environment is not modified');
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
