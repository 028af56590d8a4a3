/**
 * The navigator.credentials-shaped helper (window.ctap.credentials): pages
 * that pass BufferSources and expect PublicKeyCredential-shaped objects.
 * Through the client seam with a canned response; e2e.test.ts uses the real key.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { registerMainHandlers, type BridgeClient, type ClientInit } from '../../src/electron/main.js';
import { exposeInRenderer } from '../../src/electron/preload.js';
import { base64urlEncode } from '../../src/webauthn/base64url.js';
import { webAuthnError } from '../../src/webauthn/errors.js';
import type { JsonObject } from '../../src/electron/protocol.js';
import { FakeElectron } from './fake-electron.js';

const b64 = (...bytes: number[]) => base64urlEncode(new Uint8Array(bytes));

const REGISTRATION = {
  authenticatorAttachment: 'cross-platform',
  clientExtensionResults: { credProps: { rk: true }, prf: { enabled: true, results: { first: b64(9, 9) } } },
  id: b64(1, 2, 3),
  rawId: b64(1, 2, 3),
  response: { attestationObject: b64(0xa0), authenticatorData: b64(4, 5), clientDataJSON: b64(0x7b, 0x7d), publicKey: b64(6), publicKeyAlgorithm: -7, transports: ['usb'] },
  type: 'public-key',
};
const ASSERTION = {
  clientExtensionResults: {},
  id: b64(1, 2, 3),
  rawId: b64(1, 2, 3),
  response: { authenticatorData: b64(4, 5), clientDataJSON: b64(0x7b, 0x7d), signature: b64(7, 7), userHandle: b64(8) },
  type: 'public-key',
};

function setup(mode: 'answer' | 'wait' = 'answer') {
  const electron = new FakeElectron();
  const seen: Array<{ kind: string; options: JsonObject; signal: AbortSignal }> = [];
  const createClient = (_init: ClientInit<object>): BridgeClient => {
    const run = (kind: 'create' | 'get') => (options: JsonObject, { signal }: { signal: AbortSignal }) => {
      seen.push({ kind, options, signal });
      if (mode === 'answer') return Promise.resolve({ toJSON: () => (kind === 'create' ? REGISTRATION : ASSERTION) });
      return new Promise<never>((_, reject) => signal.addEventListener('abort', () => reject(webAuthnError('AbortError', 'aborted'))));
    };
    return { create: run('create'), get: run('get') };
  };
  registerMainHandlers({ ipcMain: electron.ipcMain, createClient });
  const win = electron.openWindow('https://example.com/');
  exposeInRenderer({ contextBridge: win.contextBridge, ipcRenderer: win.ipcRenderer });
  return { win, seen };
}

test('credentials.create: BufferSource options go out as L3 JSON; a PublicKeyCredential-shaped object comes back', async () => {
  const { win, seen } = setup();
  const out = await win.world.run<Promise<Record<string, unknown>>>(`(async () => {
    const cred = await ctap.credentials.create({ publicKey: {
      rp: { id: 'example.com', name: 'Example' },
      user: { id: new Uint8Array([1, 2, 3]), name: 'a', displayName: 'A' },
      challenge: new Uint8Array([0xfb, 0xff]).buffer,
      pubKeyCredParams: [{ type: 'public-key', alg: -7 }],
      excludeCredentials: [{ type: 'public-key', id: new Uint8Array([5, 6]), transports: ['usb'] }],
      authenticatorSelection: { residentKey: 'required', userVerification: 'required' },
      extensions: { credProps: true, prf: { eval: { first: new Uint8Array(32) } } },
    } });
    const bytes = (b) => Array.from(new Uint8Array(b));
    return {
      id: cred.id, type: cred.type, attachment: cred.authenticatorAttachment,
      rawIdIsBuffer: Object.prototype.toString.call(cred.rawId), rawId: bytes(cred.rawId),
      clientDataJSON: bytes(cred.response.clientDataJSON), attestationObject: bytes(cred.response.attestationObject),
      transports: cred.response.getTransports(), authData: bytes(cred.response.getAuthenticatorData()),
      publicKey: bytes(cred.response.getPublicKey()), alg: cred.response.getPublicKeyAlgorithm(),
      prfFirst: bytes(cred.getClientExtensionResults().prf.results.first), rk: cred.getClientExtensionResults().credProps.rk,
      json: JSON.stringify(cred),
    };
  })()`);
  assert.deepEqual(seen[0]!.options, {
    rp: { id: 'example.com', name: 'Example' },
    pubKeyCredParams: [{ type: 'public-key', alg: -7 }],
    authenticatorSelection: { residentKey: 'required', userVerification: 'required' },
    user: { name: 'a', displayName: 'A', id: 'AQID' },
    challenge: '-_8',
    excludeCredentials: [{ type: 'public-key', id: 'BQY', transports: ['usb'] }],
    extensions: { credProps: true, prf: { eval: { first: base64urlEncode(new Uint8Array(32)) } } },
  });
  assert.deepEqual(JSON.parse(JSON.stringify(out)), {
    id: 'AQID', type: 'public-key', attachment: 'cross-platform',
    rawIdIsBuffer: '[object ArrayBuffer]', rawId: [1, 2, 3],
    clientDataJSON: [0x7b, 0x7d], attestationObject: [0xa0],
    transports: ['usb'], authData: [4, 5], publicKey: [6], alg: -7,
    prfFirst: [9, 9], rk: true,
    json: JSON.stringify(REGISTRATION),
  });
});

test('credentials.get: userHandle and signature as ArrayBuffers; toJSON gives the AuthenticationResponseJSON', async () => {
  const { win, seen } = setup();
  const out = await win.world.run<Promise<unknown>>(`(async () => {
    const cred = await ctap.credentials.get({ publicKey: { challenge: new Uint8Array([1]), allowCredentials: [{ type: 'public-key', id: new Uint8Array([1, 2, 3]) }] } });
    const bytes = (b) => Array.from(new Uint8Array(b));
    return { sig: bytes(cred.response.signature), uh: bytes(cred.response.userHandle), att: cred.authenticatorAttachment, json: cred.toJSON() };
  })()`);
  assert.deepEqual(seen[0]!.options, { challenge: 'AQ', allowCredentials: [{ type: 'public-key', id: 'AQID' }] });
  assert.deepEqual(JSON.parse(JSON.stringify(out)), { sig: [7, 7], uh: [8], att: null, json: ASSERTION });
});

test('credentials.*: a non-BufferSource binary member is a TypeError; conditional mediation is NotSupportedError', async () => {
  const { win, seen } = setup();
  const err = (expr: string) => win.world.run<Promise<string>>(`(async () => { try { await ${expr}; return 'resolved'; } catch (e) { return e.name + ': ' + e.message; } })()`);
  assert.match(await err(`ctap.credentials.get({ publicKey: { challenge: 'AAAA' } })`), /^TypeError: publicKey\.challenge must be a BufferSource/);
  assert.match(await err(`ctap.credentials.get({ mediation: 'conditional', publicKey: { challenge: new Uint8Array(1) } })`), /^NotSupportedError/);
  assert.match(await err(`ctap.credentials.get({})`), /^TypeError/);
  assert.equal(seen.length, 0);
});

test('credentials.*: an AbortSignal cancels the request (AbortError), already-aborted ones never start', async () => {
  const { win, seen } = setup('wait');
  const result = win.world.run<Promise<string>>(`(async () => {
    const ac = new AbortController();
    const p = ctap.credentials.get({ publicKey: { challenge: new Uint8Array(1) }, signal: ac.signal });
    globalThis.abortIt = () => ac.abort();
    try { await p; return 'resolved'; } catch (e) { return e.name; }
  })()`);
  while (seen.length === 0) await new Promise((r) => setImmediate(r));
  assert.equal(seen[0]!.signal.aborted, false);
  win.world.run('abortIt()');
  assert.equal(await result, 'AbortError');
  assert.equal(seen[0]!.signal.aborted, true);
  const pre = await win.world.run<Promise<string>>(`(async () => {
    const ac = new AbortController(); ac.abort();
    try { await ctap.credentials.get({ publicKey: { challenge: new Uint8Array(1) }, signal: ac.signal }); return 'resolved'; } catch (e) { return e.name; }
  })()`);
  assert.equal(pre, 'AbortError');
  assert.equal(seen.length, 1);
});
