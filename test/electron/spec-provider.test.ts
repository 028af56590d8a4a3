/**
 * Device specs behind the bridge's default client: `virtual` is kept between
 * ceremonies, `virtual:FILE` is opened per ceremony (its state file carries
 * the credentials), a malformed spec fails at registration, and Windows
 * without Administrator gets a plain explanation instead of "no key found".
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { verifyAuthenticationResponse, verifyRegistrationResponse } from '@simplewebauthn/server';
import { registerMainHandlers } from '../../src/electron/main.js';
import { exposeInRenderer } from '../../src/electron/preload.js';
import { specProvider } from '../../src/electron/spec-provider.js';
import { chooseTransport } from '../../src/platform/windows/route.js';
import { base64urlEncode } from '../../src/webauthn/base64url.js';
import { randomBytes } from '../../src/crypto/primitives.js';
import { FakeElectron } from './fake-electron.js';

const ORIGIN = 'https://login.example.com';

async function registerThenLogin(device: string): Promise<void> {
  const electron = new FakeElectron();
  const dispose = registerMainHandlers({ ipcMain: electron.ipcMain, device });
  try {
    const win = electron.openWindow(`${ORIGIN}/`);
    exposeInRenderer({ contextBridge: win.contextBridge, ipcRenderer: win.ipcRenderer });
    const c1 = randomBytes(32);
    const options = { rp: { id: 'example.com', name: 'Example' }, user: { id: base64urlEncode(randomBytes(8)), name: 'a', displayName: 'A' }, challenge: base64urlEncode(c1), pubKeyCredParams: [{ type: 'public-key', alg: -7 }] };
    const reg = JSON.parse(JSON.stringify(await win.world.run<Promise<unknown>>(`ctap.create(${JSON.stringify(options)})`)));
    const v1 = await verifyRegistrationResponse({ response: reg, expectedChallenge: base64urlEncode(c1), expectedOrigin: ORIGIN, expectedRPID: 'example.com', requireUserVerification: false });
    assert.equal(v1.verified, true);
    // A second ceremony: the key must still know the credential.
    const c2 = randomBytes(32);
    const auth = JSON.parse(JSON.stringify(await win.world.run<Promise<unknown>>(`ctap.get(${JSON.stringify({ challenge: base64urlEncode(c2), rpId: 'example.com', allowCredentials: [{ type: 'public-key', id: reg.id }] })})`)));
    const v2 = await verifyAuthenticationResponse({ response: auth, expectedChallenge: base64urlEncode(c2), expectedOrigin: ORIGIN, expectedRPID: 'example.com', credential: v1.registrationInfo!.credential, requireUserVerification: false });
    assert.equal(v2.verified, true);
  } finally {
    dispose();
  }
}

test("device: 'virtual' is one key kept across ceremonies", async () => {
  await registerThenLogin('virtual');
});

test("device: 'virtual:FILE' is opened per ceremony; its state file carries the credential", async () => {
  const dir = await mkdtemp(join(tmpdir(), 'ctap-electron-'));
  try {
    await registerThenLogin(`virtual:${join(dir, 'key.json')}`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('a malformed device spec fails at registration, not at the first login', () => {
  const electron = new FakeElectron();
  assert.throws(() => registerMainHandlers({ ipcMain: electron.ipcMain, device: '' }), /device spec is empty/);
  assert.equal(electron.ipcMain.handlers.size, 0);
});

test('Windows without Administrator: a plain NotAllowedError saying so, before any HID access', async () => {
  const route = async () => chooseTransport({ platform: 'win32', osRelease: '10.0.22631', isElevated: false, env: {} });
  const provider = specProvider('auto', { route });
  const ctx = { signal: new AbortController().signal, timeoutMs: 1000, interaction: undefined };
  await assert.rejects(provider.acquire(ctx), (e: Error) => e.name === 'NotAllowedError' && /only Administrator processes/.test(e.message));
  // Elevated, or told to use HID: no such refusal (here: no key plugged in → the HID layer's own error).
  const elevated = specProvider('auto', { route: async () => chooseTransport({ platform: 'win32', osRelease: '10.0.22631', isElevated: true, env: {} }) });
  await assert.rejects(elevated.acquire(ctx), (e: Error) => !/only Administrator processes/.test(e.message));
  // The virtual key never needs raw HID.
  const virtual = specProvider('virtual', { route });
  const handle = await virtual.acquire(ctx);
  assert.ok(handle.session);
  await virtual.close();
});
