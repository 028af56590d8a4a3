/**
 * End to end: page code in the renderer's realm → preload → structured-clone
 * IPC → main handlers → the real WebAuthnClient → CTAPHID framing → the
 * virtual key; and back. @simplewebauthn/server (an independent RP
 * implementation) verifies the registration and the login, with the origin
 * the main process took from the sender frame.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { verifyAuthenticationResponse, verifyRegistrationResponse, type WebAuthnCredential } from '@simplewebauthn/server';
import { registerMainHandlers, type RelatedOriginsFetcher } from '../../src/electron/main.js';
import { exposeInRenderer } from '../../src/electron/preload.js';
import { VirtualAuthenticator } from '../../src/virtual/authenticator.js';
import type { PresenceRequest, VirtualAuthenticatorOptions } from '../../src/virtual/core.js';
import type { Interaction, InteractionEvent } from '../../src/webauthn/interaction.js';
import { base64urlEncode } from '../../src/webauthn/base64url.js';
import { randomBytes } from '../../src/crypto/primitives.js';
import { FakeElectron, type FakeWebContents, type FakeWindow } from './fake-electron.js';

const ORIGIN = 'https://login.example.com';
const RP_ID = 'example.com';

interface Rig {
  electron: FakeElectron;
  key: VirtualAuthenticator;
  /** Touches the key is waiting for (presence held until approve()/the host cancels). */
  touches: Array<{ req: PresenceRequest; approve(): void }>;
  nextTouch(): Promise<{ req: PresenceRequest; approve(): void }>;
  /** Interaction events with the window they were shown for. */
  events: Array<{ event: InteractionEvent; webContentsId: number }>;
  nextEvent(type: InteractionEvent['type']): Promise<{ event: InteractionEvent; webContentsId: number }>;
  open(url: string): FakeWindow;
  dispose(): void;
}

async function rig(
  opts: { hold?: boolean; key?: VirtualAuthenticatorOptions; interaction?: Interaction; relatedOrigins?: Parameters<typeof registerMainHandlers>[0]['relatedOrigins'] } = {},
): Promise<Rig> {
  const touches: Rig['touches'] = [];
  const waiters: Array<(t: Rig['touches'][number]) => void> = [];
  const presence = (req: PresenceRequest): Promise<boolean> =>
    new Promise<boolean>((resolve) => {
      const t = { req, approve: () => resolve(true) };
      touches.push(t);
      waiters.splice(0).forEach((w) => w(t));
      if (!opts.hold) resolve(true);
    });
  const key = await VirtualAuthenticator.create({ resetWindowMs: Infinity, presence, ...opts.key });
  const electron = new FakeElectron();
  const events: Rig['events'] = [];
  const eventWaiters: Array<{ type: string; resolve: (e: Rig['events'][number]) => void }> = [];
  const record = (wc: FakeWebContents): Interaction => {
    const out: Interaction = {};
    for (const type of ['touch-required', 'pin-required', 'pin-invalid', 'select-account'] as const) {
      const handler = opts.interaction?.[type] as ((e: InteractionEvent, ctx: { signal: AbortSignal }) => unknown) | undefined;
      if (type !== 'touch-required' && !handler) continue;
      (out as Record<string, unknown>)[type] = (e: InteractionEvent, ctx: { signal: AbortSignal }) => {
        const rec = { event: e, webContentsId: wc.id };
        events.push(rec);
        for (const w of eventWaiters.splice(0)) {
          if (w.type === e.type) w.resolve(rec);
          else eventWaiters.push(w);
        }
        return handler?.(e, ctx);
      };
    }
    return out;
  };
  const dispose = registerMainHandlers({
    ipcMain: electron.ipcMain,
    device: key.port(),
    interaction: (req) => record(req.webContents),
    ...(opts.relatedOrigins === undefined ? {} : { relatedOrigins: opts.relatedOrigins }),
  });
  return {
    electron,
    key,
    touches,
    nextTouch: () => new Promise((r) => waiters.push(r)),
    events,
    nextEvent: (type) => new Promise((resolve) => eventWaiters.push({ type, resolve })),
    open(url) {
      const win = electron.openWindow(url);
      exposeInRenderer({ contextBridge: win.contextBridge, ipcRenderer: win.ipcRenderer });
      return win;
    },
    dispose() {
      dispose();
    },
  };
}

type Settled = { ok: true; value: any } | { ok: false; name: string; message: string; ctap?: string };

/** Run an async page expression; page-realm results come back as JSON data. */
async function inPage(win: FakeWindow, expr: string): Promise<Settled> {
  try {
    const v = await win.world.run<Promise<unknown>>(`(async () => ${expr})()`);
    return { ok: true, value: v === undefined ? v : JSON.parse(JSON.stringify(v)) };
  } catch (e) {
    const err = e as { name: string; message: string; ctap?: string };
    return err.ctap ? { ok: false, name: err.name, message: err.message, ctap: err.ctap } : { ok: false, name: err.name, message: err.message };
  }
}

function creationJSON(challenge: Uint8Array, over: Record<string, unknown> = {}) {
  return {
    rp: { id: RP_ID, name: 'Example' },
    user: { id: base64urlEncode(randomBytes(16)), name: 'alice@example.com', displayName: 'Alice' },
    challenge: base64urlEncode(challenge),
    pubKeyCredParams: [{ type: 'public-key', alg: -7 }],
    ...over,
  };
}

async function verifyRegistration(json: any, challenge: Uint8Array, requireUserVerification = false): Promise<WebAuthnCredential> {
  const v = await verifyRegistrationResponse({
    response: json,
    expectedChallenge: base64urlEncode(challenge),
    expectedOrigin: ORIGIN,
    expectedRPID: RP_ID,
    requireUserVerification,
  });
  assert.equal(v.verified, true);
  return v.registrationInfo!.credential;
}

async function verifyAuthentication(json: any, challenge: Uint8Array, credential: WebAuthnCredential, requireUserVerification = false) {
  const v = await verifyAuthenticationResponse({
    response: json,
    expectedChallenge: base64urlEncode(challenge),
    expectedOrigin: ORIGIN,
    expectedRPID: RP_ID,
    credential,
    requireUserVerification,
  });
  assert.equal(v.verified, true);
  return v.authenticationInfo;
}

test('register and sign in from the page; @simplewebauthn/server verifies both with the sender frame\'s origin', async () => {
  const r = await rig();
  try {
    const win = r.open(`${ORIGIN}/account/security?tab=keys`);
    const c1 = randomBytes(32);
    // The payload claims another origin: ignored, the origin comes from the frame.
    const reg = await inPage(win, `ctap.create(${JSON.stringify({ ...creationJSON(c1), origin: 'https://evil.test' })})`);
    assert.equal(reg.ok, true, JSON.stringify(reg));
    const registration = (reg as { value: any }).value;
    const clientData = JSON.parse(Buffer.from(registration.response.clientDataJSON, 'base64url').toString('utf8')) as { origin: string; type: string };
    assert.equal(clientData.origin, ORIGIN);
    assert.equal(clientData.type, 'webauthn.create');
    const credential = await verifyRegistration(registration, c1);

    // Sign in through the navigator.credentials-shaped helper (BufferSources in, toJSON() out).
    const c2 = randomBytes(32);
    const auth = await inPage(
      win,
      `ctap.credentials.get({ publicKey: {
        challenge: new Uint8Array(${JSON.stringify([...c2])}),
        rpId: '${RP_ID}',
        allowCredentials: [{ type: 'public-key', id: new Uint8Array(${JSON.stringify([...Buffer.from(registration.rawId, 'base64url')])}) }],
      } }).then((cred) => ({ json: cred.toJSON(), sigIsBuffer: Object.prototype.toString.call(cred.response.signature) }))`,
    );
    assert.equal(auth.ok, true, JSON.stringify(auth));
    const { json, sigIsBuffer } = (auth as { value: { json: any; sigIsBuffer: string } }).value;
    assert.equal(sigIsBuffer, '[object ArrayBuffer]');
    assert.equal(json.id, registration.id);
    const info = await verifyAuthentication(json, c2, credential);
    assert.equal(info.credentialID, registration.id);
  } finally {
    r.dispose();
    await r.key.close();
  }
});

test('a frame whose origin the rpId does not cover gets SecurityError, before the key is touched', async () => {
  const r = await rig();
  try {
    const win = r.open('https://evil.test/phish');
    const res = await inPage(win, `ctap.create(${JSON.stringify(creationJSON(randomBytes(32)))})`);
    assert.equal(res.ok, false);
    assert.equal(!res.ok && res.name, 'SecurityError');
    const res2 = await inPage(win, `ctap.get({ challenge: '${base64urlEncode(randomBytes(32))}', rpId: '${RP_ID}' })`);
    assert.equal(!res2.ok && res2.name, 'SecurityError');
    assert.equal(r.touches.length, 0);
  } finally {
    r.dispose();
    await r.key.close();
  }
});

test('errors cross with their names: an excluded credential is InvalidStateError, a wrong PIN refused is NotAllowedError', async () => {
  const r = await rig({ key: { pin: '123456' }, interaction: { 'pin-required': () => '123456', 'pin-invalid': () => null } });
  try {
    const win = r.open(`${ORIGIN}/`);
    const c1 = randomBytes(32);
    const reg = await inPage(win, `ctap.create(${JSON.stringify(creationJSON(c1, { authenticatorSelection: { userVerification: 'required' } }))})`);
    assert.equal(reg.ok, true, JSON.stringify(reg));
    const registration = (reg as { value: any }).value;
    await verifyRegistration(registration, c1, true);
    assert.ok(r.events.some((e) => e.event.type === 'pin-required' && e.webContentsId === win.webContents.id));

    const again = await inPage(win, `ctap.create(${JSON.stringify(creationJSON(randomBytes(32), { excludeCredentials: [{ type: 'public-key', id: registration.id }] }))})`);
    assert.equal(again.ok, false);
    assert.equal(!again.ok && again.name, 'InvalidStateError');
  } finally {
    r.dispose();
    await r.key.close();
  }
  // The key's PIN is not what the app answers: pin-invalid follows, the app cancels it → NotAllowedError with the CTAP status.
  const r2 = await rig({ key: { pin: '123456' }, interaction: { 'pin-required': () => '000000', 'pin-invalid': () => null } });
  try {
    const win = r2.open(`${ORIGIN}/`);
    const res = await inPage(win, `ctap.create(${JSON.stringify(creationJSON(randomBytes(32), { authenticatorSelection: { userVerification: 'required' } }))})`);
    assert.equal(res.ok, false);
    assert.equal(!res.ok && res.name, 'NotAllowedError');
    assert.ok(r2.events.some((e) => e.event.type === 'pin-invalid'));
  } finally {
    r2.dispose();
    await r2.key.close();
  }
});

test('cancel aborts a request that is waiting for a touch; the key sees the host cancel', { timeout: 30_000 }, async () => {
  const r = await rig({ hold: true });
  try {
    const win = r.open(`${ORIGIN}/`);
    const touch = r.nextTouch();
    const shown = r.nextEvent('touch-required');
    const pending = inPage(win, `ctap.create(${JSON.stringify(creationJSON(randomBytes(32)))})`);
    const t = await touch; // the key is blinking, waiting for the user
    // The app was told to show "touch your key", for the window that asked.
    assert.equal((await shown).webContentsId, win.webContents.id);
    assert.equal(t.req.signal.aborted, false);
    assert.deepEqual(await inPage(win, 'ctap.cancel()'), { ok: true, value: true });
    const res = await pending;
    assert.equal(res.ok, false);
    assert.equal(!res.ok && res.name, 'AbortError');
    assert.equal(t.req.signal.aborted, true, 'CTAPHID_CANCEL reached the key');
    // The window can start again afterwards, and this time the touch comes.
    const touch2 = r.nextTouch();
    const c = randomBytes(32);
    const again = inPage(win, `ctap.create(${JSON.stringify(creationJSON(c))})`);
    (await touch2).approve();
    const ok = await again;
    assert.equal(ok.ok, true, JSON.stringify(ok));
    await verifyRegistration((ok as { value: any }).value, c);
  } finally {
    r.dispose();
    await r.key.close();
  }
});

test("one window's cancel does not touch another window's request", async () => {
  const r = await rig({ hold: true });
  try {
    const a = r.open(`${ORIGIN}/a`);
    const b = r.open(`${ORIGIN}/b`);
    const touch = r.nextTouch();
    const c = randomBytes(32);
    const pendingA = inPage(a, `ctap.create(${JSON.stringify(creationJSON(c))})`);
    const t = await touch;
    assert.deepEqual(await inPage(b, 'ctap.cancel()'), { ok: true, value: false });
    assert.equal(t.req.signal.aborted, false);
    t.approve();
    const res = await pendingA;
    assert.equal(res.ok, true, JSON.stringify(res));
    await verifyRegistration((res as { value: any }).value, c);
  } finally {
    r.dispose();
    await r.key.close();
  }
});

test('closing the window aborts its ceremony on the key', async () => {
  const r = await rig({ hold: true });
  try {
    const win = r.open(`${ORIGIN}/`);
    const touch = r.nextTouch();
    void inPage(win, `ctap.get({ challenge: '${base64urlEncode(randomBytes(32))}', rpId: '${RP_ID}' })`); // never settles: the page is gone
    const t = await touch;
    win.close();
    await new Promise<void>((resolve) => (t.req.signal.aborted ? resolve() : t.req.signal.addEventListener('abort', () => resolve(), { once: true })));
    assert.equal(t.req.signal.aborted, true);
  } finally {
    r.dispose();
    await r.key.close();
  }
});

/** A stand-in for https://example.com/.well-known/webauthn that records every call it gets. */
function wellKnown(origins: string[]) {
  const calls: Array<{ url: string; initKeys: string[]; init: unknown }> = [];
  const fetch: RelatedOriginsFetcher = async (url, init) => {
    calls.push({ url, initKeys: Object.keys(init).sort(), init });
    const body = JSON.stringify({ origins });
    return { status: 200, headers: { get: (n: string) => (n.toLowerCase() === 'content-type' ? 'application/json' : null) }, text: async () => body };
  };
  return { fetch, calls };
}

test('related origins: a page at another domain registers and signs in for example.com when the well-known file lists it; the fetcher sees only the URL', async () => {
  const RELATED = 'https://app.example.net';
  const wk = wellKnown(['https://login.example.com', RELATED]);
  const r = await rig({ relatedOrigins: { fetch: wk.fetch, maxBytes: 4096 } });
  try {
    const win = r.open(`${RELATED}/signin`);
    const c1 = randomBytes(32);
    // Renderer-supplied junk that must not reach the fetcher (or change what it is asked).
    const marker = 'renderer-marker-' + base64urlEncode(randomBytes(8));
    const payload = { ...creationJSON(c1), origin: 'https://evil.test', relatedOrigins: { maxBytes: 1 }, hints: [marker] };
    const reg = await inPage(win, `ctap.create(${JSON.stringify(payload)})`);
    assert.equal(reg.ok, true, JSON.stringify(reg));
    const registration = (reg as { value: any }).value;
    const clientData = JSON.parse(Buffer.from(registration.response.clientDataJSON, 'base64url').toString('utf8')) as { origin: string };
    assert.equal(clientData.origin, RELATED, 'the origin is still the sender frame\'s');
    const v = await verifyRegistrationResponse({
      response: registration,
      expectedChallenge: base64urlEncode(c1),
      expectedOrigin: RELATED,
      expectedRPID: RP_ID,
      requireUserVerification: false,
    });
    assert.equal(v.verified, true);
    const credential = v.registrationInfo!.credential;

    const c2 = randomBytes(32);
    const auth = await inPage(win, `ctap.get(${JSON.stringify({ challenge: base64urlEncode(c2), rpId: RP_ID, allowCredentials: [{ type: 'public-key', id: registration.id }], hints: [marker] })})`);
    assert.equal(auth.ok, true, JSON.stringify(auth));
    const a = await verifyAuthenticationResponse({
      response: (auth as { value: any }).value,
      expectedChallenge: base64urlEncode(c2),
      expectedOrigin: RELATED,
      expectedRPID: RP_ID,
      credential,
      requireUserVerification: false,
    });
    assert.equal(a.verified, true);

    // The fetcher got the RP's well-known URL and the app's limits: nothing from the payload.
    assert.ok(wk.calls.length >= 1);
    for (const call of wk.calls) {
      assert.equal(call.url, `https://${RP_ID}/.well-known/webauthn`);
      assert.deepEqual(call.initKeys, ['maxBytes', 'signal']);
      assert.equal((call.init as { maxBytes: number }).maxBytes, 4096);
      const seen = JSON.stringify(call);
      for (const s of [marker, base64urlEncode(c1), base64urlEncode(c2), 'evil.test', RELATED]) assert.ok(!seen.includes(s), `the fetcher saw ${s}`);
    }
  } finally {
    r.dispose();
    await r.key.close();
  }
});

test('related origins: without the option, or when the file does not list the origin, SecurityError crosses the bridge before the key is touched', async () => {
  const RELATED = 'https://app.example.net';
  const off = await rig();
  try {
    const win = off.open(`${RELATED}/signin`);
    const res = await inPage(win, `ctap.create(${JSON.stringify(creationJSON(randomBytes(32)))})`);
    assert.equal(res.ok, false);
    assert.equal(!res.ok && res.name, 'SecurityError');
    const res2 = await inPage(win, `ctap.get({ challenge: '${base64urlEncode(randomBytes(32))}', rpId: '${RP_ID}' })`);
    assert.equal(!res2.ok && res2.name, 'SecurityError');
    assert.equal(off.touches.length, 0);
  } finally {
    off.dispose();
    await off.key.close();
  }
  const wk = wellKnown(['https://login.example.com', 'https://other.example.org']);
  const unlisted = await rig({ relatedOrigins: { fetch: wk.fetch } });
  try {
    const win = unlisted.open(`${RELATED}/signin`);
    const res = await inPage(win, `ctap.create(${JSON.stringify(creationJSON(randomBytes(32)))})`);
    assert.equal(res.ok, false);
    assert.equal(!res.ok && res.name, 'SecurityError');
    assert.match(!res.ok ? res.message : '', /well-known/);
    assert.equal(wk.calls.length, 1, 'the option is on: the file was asked for');
    assert.equal(unlisted.touches.length, 0);
  } finally {
    unlisted.dispose();
    await unlisted.key.close();
  }
});

test('related origins: a bad option is a TypeError at registration, not per request', () => {
  const electron = new FakeElectron();
  assert.throws(() => registerMainHandlers({ ipcMain: electron.ipcMain, device: 'virtual', relatedOrigins: { maxBytes: -1 } }), TypeError);
  assert.throws(() => registerMainHandlers({ ipcMain: electron.ipcMain, device: 'virtual', relatedOrigins: 'yes' as never }), TypeError);
  assert.throws(() => registerMainHandlers({ ipcMain: electron.ipcMain, device: 'virtual', relatedOrigins: { fetch: 'x' as never } }), TypeError);
});
