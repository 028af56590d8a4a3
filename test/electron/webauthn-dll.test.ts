/**
 * Windows without Administrator: the bridge's default client takes the
 * webauthn.dll route for `auto`, with Windows' dialog parented on the window
 * that asked. Driven from the page through the fake Electron IPC to the
 * webauthn.dll stand-in (test/helpers/webauthn-dll-stub, built with gcc;
 * CTAP_BRIDGE_TRANSPORT=webauthn-dll selects the route on any OS). The
 * stand-in answers with the W3C L3 §16 vector (RP example.org), so the login
 * uses that vector's challenge and its signature verifies over our
 * clientDataJSON.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { verifyAuthenticationResponse, verifyRegistrationResponse } from '@simplewebauthn/server';
import { buildStubWithW3cVector, clearRecord, koffiSkipReason, readRecord, saveEnv, stubEnv, stubSkipReason, w3cNoneEs256, type BuiltStub } from '../helpers/webauthn-dll-stub/build.js';
import { registerMainHandlers } from '../../src/electron/main.js';
import { exposeInRenderer } from '../../src/electron/preload.js';
import { base64urlEncode } from '../../src/webauthn/base64url.js';
import { FakeElectron, type FakeWindow } from './fake-electron.js';

const skip = stubSkipReason() ?? koffiSkipReason();
const { credentialId, cose, userHandle, loginChallenge } = w3cNoneEs256();
const ORIGIN = 'https://example.org';
const RP = 'example.org';

/** A window handle as Electron's getNativeWindowHandle() gives it: the HWND in a little-endian Buffer. */
function nativeHandle(id: number): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(0x7e570000n + BigInt(id));
  return b;
}

async function inPage(win: FakeWindow, expr: string): Promise<{ ok: true; value: any } | { ok: false; name: string; message: string }> {
  try {
    const v = await win.world.run<Promise<unknown>>(`(async () => ${expr})()`);
    return { ok: true, value: JSON.parse(JSON.stringify(v)) };
  } catch (e) {
    return { ok: false, name: (e as Error).name, message: (e as Error).message };
  }
}

describe('Electron bridge on the webauthn.dll route (stand-in library)', { skip }, () => {
  let stub: BuiltStub;
  const restoreEnv = saveEnv();
  before(() => {
    stub = buildStubWithW3cVector();
  });
  after(() => {
    restoreEnv();
    stub?.cleanup();
  });

  function open(allowWebAuthnDllOverride = true) {
    const electron = new FakeElectron();
    const dispose = registerMainHandlers({
      ipcMain: electron.ipcMain,
      // The stand-in is named by CTAP_BRIDGE_WEBAUTHN_DLL, which the bridge ignores unless the app allows it.
      allowWebAuthnDllOverride,
      allowOrigins: [ORIGIN],
      windowHandle: (req) => nativeHandle(req.webContents.id),
    });
    const win = electron.openWindow(`${ORIGIN}/login`);
    exposeInRenderer({ contextBridge: win.contextBridge, ipcRenderer: win.ipcRenderer });
    return { win, dispose };
  }

  test("register and sign in through Windows' API; the dialog belongs to the requesting window; the RP verifies both", async () => {
    stubEnv(stub);
    clearRecord(stub);
    const { win, dispose } = open();
    try {
      const challenge = new Uint8Array(32).fill(7);
      const options = {
        rp: { id: RP, name: 'Example' },
        user: { id: base64urlEncode(userHandle), name: 'alice@example.org', displayName: 'Alice' },
        challenge: base64urlEncode(challenge),
        pubKeyCredParams: [{ type: 'public-key', alg: -7 }],
        origin: 'https://evil.test', // ignored: the origin is the frame's
      };
      const created = await inPage(win, `ctap.create(${JSON.stringify(options)})`);
      assert.equal(created.ok, true, JSON.stringify(created));
      const registration = (created as { value: any }).value;
      const mc = readRecord(stub).find((c) => c.call === 'MakeCredential')!;
      assert.equal(mc['hwnd'], `0x${(0x7e570000 + win.webContents.id).toString(16)}`);
      const v1 = await verifyRegistrationResponse({ response: registration, expectedChallenge: base64urlEncode(challenge), expectedOrigin: ORIGIN, expectedRPID: RP, requireUserVerification: false });
      assert.equal(v1.verified, true);
      assert.deepEqual(v1.registrationInfo?.credential.publicKey, cose);

      const got = await inPage(win, `ctap.get(${JSON.stringify({ challenge: base64urlEncode(loginChallenge), rpId: RP, allowCredentials: [{ type: 'public-key', id: base64urlEncode(credentialId) }] })})`);
      assert.equal(got.ok, true, JSON.stringify(got));
      const assertion = (got as { value: any }).value;
      const v2 = await verifyAuthenticationResponse({
        response: assertion,
        expectedChallenge: base64urlEncode(loginChallenge),
        expectedOrigin: ORIGIN,
        expectedRPID: RP,
        credential: { id: base64urlEncode(credentialId), publicKey: cose, counter: 0 },
        requireUserVerification: false,
      });
      assert.equal(v2.verified, true);
    } finally {
      dispose();
    }
  });

  test("cancel from the page closes Windows' dialog (AbortError); the window can ask again", async () => {
    stubEnv(stub, { WEBAUTHN_STUB_BLOCK: '1' });
    clearRecord(stub);
    const { win, dispose } = open();
    try {
      const pending = inPage(win, `ctap.get({ challenge: '${base64urlEncode(loginChallenge)}', rpId: '${RP}' })`);
      for (let i = 0; i < 2000 && !readRecord(stub).some((c) => c.call === 'Blocking'); i++) await new Promise((r) => setTimeout(r, 5));
      assert.ok(readRecord(stub).some((c) => c.call === 'Blocking'), 'the stand-in is blocked in the dialog');
      assert.deepEqual(await inPage(win, 'ctap.cancel()'), { ok: true, value: true });
      const r = await pending;
      assert.equal(!r.ok && r.name, 'AbortError');
      assert.ok(readRecord(stub).some((c) => c.call === 'CancelCurrentOperation'));
      stubEnv(stub);
      const again = await inPage(win, `ctap.get({ challenge: '${base64urlEncode(loginChallenge)}', rpId: '${RP}' })`);
      assert.equal(again.ok, true, JSON.stringify(again));
    } finally {
      dispose();
    }
  });

  test('without allowWebAuthnDllOverride the bridge ignores CTAP_BRIDGE_WEBAUTHN_DLL: the stand-in is never loaded (review M7)', { skip: process.platform === 'win32' ? 'would load the real webauthn.dll' : false }, async () => {
    stubEnv(stub);
    clearRecord(stub);
    const { win, dispose } = open(false);
    try {
      const r = await inPage(win, `ctap.get({ challenge: '${base64urlEncode(loginChallenge)}', rpId: '${RP}' })`);
      assert.equal(!r.ok && r.name, 'NotSupportedError', JSON.stringify(r));
      assert.match(!r.ok ? r.message : '', /webauthn\.dll exists only on Windows/);
      assert.deepEqual(readRecord(stub), [], 'the library the environment named was not called');
    } finally {
      dispose();
    }
  });

  test('a frame whose origin the RP ID does not cover is refused before Windows is asked', async () => {
    stubEnv(stub);
    clearRecord(stub);
    const electron = new FakeElectron();
    const dispose = registerMainHandlers({ ipcMain: electron.ipcMain, allowWebAuthnDllOverride: true });
    try {
      const win = electron.openWindow('https://evil.test/');
      exposeInRenderer({ contextBridge: win.contextBridge, ipcRenderer: win.ipcRenderer });
      const r = await inPage(win, `ctap.get({ challenge: '${base64urlEncode(loginChallenge)}', rpId: '${RP}' })`);
      assert.equal(!r.ok && r.name, 'SecurityError');
      assert.equal(readRecord(stub).filter((c) => c.call === 'GetAssertion').length, 0);
    } finally {
      dispose();
    }
  });
});
