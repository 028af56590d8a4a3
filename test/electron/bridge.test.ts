/**
 * The bridge through the client seam: main handlers + preload + the fake
 * Electron (structured-clone IPC, contextBridge between two realms). What
 * the key does is stubbed here; e2e.test.ts drives the real client and the
 * virtual key.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { registerMainHandlers, type BridgeClient, type ClientInit, type Interaction, type MainHandlersOptions } from '../../src/electron/main.js';
import { createRendererApi, exposeInRenderer } from '../../src/electron/preload.js';
import { webAuthnError } from '../../src/webauthn/errors.js';
import type { JsonObject } from '../../src/electron/protocol.js';
import { FakeElectron, type FakeInvokeEvent, type FakeWindow } from './fake-electron.js';

interface Call {
  kind: 'create' | 'get';
  init: ClientInit<unknown>;
  options: JsonObject;
  signal: AbortSignal;
  /** Settle a call made with the 'manual' behaviour. */
  finish(value: unknown): void;
  fail(e: unknown): void;
}

/** A stand-in client: records each call; 'echo' answers at once, 'manual' waits for finish()/fail() or the abort signal. */
function stubClients(behaviour: 'echo' | 'manual' | ((call: Call) => Promise<unknown>) = 'echo') {
  const calls: Call[] = [];
  const waiters: Array<(c: Call) => void> = [];
  const factory = (init: ClientInit<unknown>): BridgeClient => {
    const run = (kind: 'create' | 'get') => (options: JsonObject, opts: { signal: AbortSignal }) =>
      new Promise<{ toJSON(): unknown }>((resolve, reject) => {
        const call: Call = {
          kind,
          init,
          options,
          signal: opts.signal,
          finish: (v) => resolve({ toJSON: () => v }),
          fail: reject,
        };
        calls.push(call);
        waiters.splice(0).forEach((w) => w(call));
        opts.signal.addEventListener('abort', () => reject(webAuthnError('AbortError', 'aborted by signal')), { once: true });
        if (behaviour === 'echo') call.finish({ kind, origin: init.origin, challenge: options.challenge });
        else if (typeof behaviour === 'function') behaviour(call).then(call.finish, call.fail);
      });
    return { create: run('create'), get: run('get') };
  };
  const nextCall = (): Promise<Call> => new Promise((r) => waiters.push(r));
  return { factory, calls, nextCall };
}

function setup(opts: Partial<MainHandlersOptions<FakeInvokeEvent>> = {}, behaviour?: Parameters<typeof stubClients>[0]) {
  const electron = new FakeElectron();
  const stub = stubClients(behaviour);
  const dispose = registerMainHandlers({ ipcMain: electron.ipcMain, createClient: stub.factory, ...opts });
  const open = (url: string, o?: { executeInMainWorld?: boolean }): FakeWindow => {
    const win = electron.openWindow(url, o);
    exposeInRenderer({ contextBridge: win.contextBridge, ipcRenderer: win.ipcRenderer });
    return win;
  };
  return { electron, stub, dispose, open };
}

/** Run `expr` (a promise) in the page's realm and report how it settled, as page code would see it. */
async function inPage(win: FakeWindow, expr: string): Promise<{ ok: true; value: any } | { ok: false; name: string; message: string; ctap?: string; isDomException: boolean }> {
  const p = win.world.run<Promise<unknown>>(`(async () => ${expr})()`);
  try {
    const v = await p;
    // Page-realm objects have the page's Object.prototype: compare them as JSON data.
    return { ok: true, value: v === undefined ? v : JSON.parse(JSON.stringify(v)) };
  } catch (e) {
    const err = e as { name: string; message: string; ctap?: string };
    return { ok: false, name: err.name, message: err.message, ctap: err.ctap, isDomException: e instanceof DOMException };
  }
}

const CREATE = { rp: { id: 'example.com', name: 'Example' }, user: { id: 'AQID', name: 'a', displayName: 'A' }, challenge: 'Y2hhbGxlbmdl', pubKeyCredParams: [{ type: 'public-key', alg: -7 }] };

test('create and get resolve in the page with the JSON the client produced; the origin is the sender frame\'s', async () => {
  const { stub, open } = setup();
  const win = open('https://example.com/login?x=1');
  const created = await inPage(win, `ctap.create(${JSON.stringify({ ...CREATE, origin: 'https://evil.test' })})`);
  assert.deepEqual(created, { ok: true, value: { kind: 'create', origin: 'https://example.com', challenge: 'Y2hhbGxlbmdl' } });
  const got = await inPage(win, `ctap.get({ challenge: 'AAAA', rpId: 'example.com' })`);
  assert.equal(got.ok, true);
  assert.equal(stub.calls.length, 2);
  assert.equal(stub.calls[1]!.kind, 'get');
  // The payload's "origin" member reached the client only as an unknown option, never as the origin.
  assert.equal(stub.calls[0]!.init.origin, 'https://example.com');
  assert.equal(stub.calls[0]!.options.origin, 'https://evil.test');
});

test('errors reach the page as DOMExceptions with their WebAuthn name and CTAP status', async () => {
  const { open } = setup({}, async () => {
    throw webAuthnError('InvalidStateError', 'already registered', { ctap: 'CTAP2_ERR_CREDENTIAL_EXCLUDED' });
  });
  const win = open('https://example.com/');
  const r = await inPage(win, `ctap.create(${JSON.stringify(CREATE)})`);
  assert.deepEqual(r, { ok: false, name: 'InvalidStateError', message: 'already registered', ctap: 'CTAP2_ERR_CREDENTIAL_EXCLUDED', isDomException: true });
});

test('a non-WebAuthn error from below is mapped once (toWebAuthnError) before it crosses', async () => {
  const { open } = setup({}, async () => {
    throw new Error('something broke');
  });
  const r = await inPage(open('https://example.com/'), `ctap.get({ challenge: 'AAAA' })`);
  assert.equal(r.ok, false);
  assert.equal(!r.ok && r.name, 'UnknownError');
});

test('binary or non-JSON options are a TypeError in the page, and never reach the client', async () => {
  const { stub, open } = setup();
  const win = open('https://example.com/');
  const r = await inPage(win, `ctap.create({ ...${JSON.stringify(CREATE)}, challenge: new Uint8Array([1,2,3]) })`);
  assert.equal(r.ok, false);
  assert.equal(!r.ok && r.name, 'TypeError');
  assert.match(!r.ok ? r.message : '', /options\.challenge is binary data/);
  const r2 = await inPage(win, `ctap.get('not an object')`);
  assert.equal(!r2.ok && r2.name, 'TypeError');
  assert.equal(stub.calls.length, 0);
});

test('the main process checks payloads itself: a renderer skipping the preload gets TypeError for oversized or odd payloads', async () => {
  const { electron, stub } = setup({ maxPayloadBytes: 1024 });
  const win = electron.openWindow('https://example.com/');
  const big = await win.ipcRenderer.invoke('ctap-bridge:get', { challenge: 'A'.repeat(4096) });
  assert.deepEqual(big, { ok: false, error: { name: 'TypeError', message: 'options are larger than 1024 bytes' } });
  const binary = (await win.ipcRenderer.invoke('ctap-bridge:get', { challenge: new Uint8Array(8) })) as { ok: boolean; error: { name: string } };
  assert.equal(binary.error.name, 'TypeError');
  const proto = (await win.ipcRenderer.invoke('ctap-bridge:get', JSON.parse('{"__proto__":{"x":1},"challenge":"AAAA"}'))) as { error: { name: string } };
  assert.equal(proto.error.name, 'TypeError');
  const deep = (await win.ipcRenderer.invoke('ctap-bridge:get', JSON.parse('{"a":'.repeat(40) + '1' + '}'.repeat(40)))) as { error: { message: string } };
  assert.match(deep.error.message, /deeper/);
  assert.equal(stub.calls.length, 0);
});

test('a frame whose origin is not allowed, opaque or insecure gets SecurityError; the client is never created', async () => {
  const { stub, open } = setup({ allowOrigins: ['https://app.example.com'] });
  for (const url of ['https://example.com/', 'file:///C:/app/index.html', 'http://example.com/', 'data:text/html,hi', 'app://bundle/index.html']) {
    const r = await inPage(open(url), `ctap.get({ challenge: 'AAAA' })`);
    assert.equal(!r.ok && r.name, 'SecurityError', url);
  }
  assert.equal(stub.calls.length, 0);
  const ok = await inPage(open('https://app.example.com/x'), `ctap.get({ challenge: 'AAAA' })`);
  assert.equal(ok.ok, true);
});

test('http://localhost is a secure origin (development); an allowOrigins predicate decides', async () => {
  const seen: string[] = [];
  const { open } = setup({ allowOrigins: (o) => (seen.push(o), o.startsWith('http://localhost')) });
  assert.equal((await inPage(open('http://localhost:5173/'), `ctap.get({ challenge: 'AAAA' })`)).ok, true);
  const r = await inPage(open('https://other.test/'), `ctap.get({ challenge: 'AAAA' })`);
  assert.equal(!r.ok && r.name, 'SecurityError');
  assert.deepEqual(seen, ['http://localhost:5173', 'https://other.test']);
});

test('cross-origin and sandboxed subframes are refused; a same-origin subframe is served with its own origin', async () => {
  const { electron, stub } = setup();
  const win = electron.openWindow('https://example.com/');
  const call = async (ipc: { invoke(c: string, ...a: unknown[]): Promise<unknown> }) =>
    (await createRendererApi(ipc).get({ challenge: 'AAAA' }).then(() => 'ok', (e: Error) => e.name)) as string;
  assert.equal(await call(win.subframe('https://ads.test/frame').ipcRenderer), 'NotAllowedError');
  assert.equal(await call(win.subframe('https://example.com/sandboxed', { sandboxed: true }).ipcRenderer), 'SecurityError');
  assert.equal(await call(win.subframe('https://example.com/inner').ipcRenderer), 'ok');
  assert.equal(stub.calls.length, 1);
  assert.equal(stub.calls[0]!.init.origin, 'https://example.com');
});

test('one request per window: a second one is InvalidStateError at once; the first still completes', async () => {
  const { stub, open } = setup({}, 'manual');
  const win = open('https://example.com/');
  const first = inPage(win, `ctap.get({ challenge: 'AAAA' })`);
  const call = await stub.nextCall();
  const second = await inPage(win, `ctap.get({ challenge: 'BBBB' })`);
  assert.equal(!second.ok && second.name, 'InvalidStateError');
  call.finish({ done: 1 });
  assert.deepEqual(await first, { ok: true, value: { done: 1 } });
  // And the window may ask again afterwards.
  const third = inPage(win, `ctap.get({ challenge: 'CCCC' })`);
  (await stub.nextCall()).finish({ done: 3 });
  assert.deepEqual(await third, { ok: true, value: { done: 3 } });
});

test('cancel aborts only the calling window\'s request (AbortError); another window\'s request is untouched', async () => {
  const { stub, open } = setup({}, 'manual');
  const a = open('https://example.com/');
  const b = open('https://example.com/');
  const ra = inPage(a, `ctap.get({ challenge: 'AAAA' })`);
  const callA = await stub.nextCall();
  // b's request waits for the key behind a's (one ceremony at a time across windows).
  const rb = inPage(b, `ctap.get({ challenge: 'BBBB' })`);
  assert.deepEqual(await inPage(b, `ctap.cancel()`), { ok: true, value: true });
  const rbSettled = await rb;
  assert.equal(!rbSettled.ok && rbSettled.name, 'AbortError', 'b cancelled its own queued request');
  assert.equal(callA.signal.aborted, false, "b's cancel did not touch a's request");
  // a cancel from a window with nothing pending is a no-op.
  const c = open('https://example.com/');
  assert.deepEqual(await inPage(c, `ctap.cancel()`), { ok: true, value: false });
  assert.equal(callA.signal.aborted, false);
  assert.deepEqual(await inPage(a, `ctap.cancel()`), { ok: true, value: true });
  assert.equal(callA.signal.aborted, true);
  const r = await ra;
  assert.equal(!r.ok && r.name, 'AbortError');
  assert.equal(stub.calls.length, 1);
});

test('windows take turns on the key: the second window\'s ceremony starts when the first ends', async () => {
  const { stub, open } = setup({}, 'manual');
  const a = open('https://example.com/');
  const b = open('https://example.com/');
  const ra = inPage(a, `ctap.get({ challenge: 'AAAA' })`);
  const callA = await stub.nextCall();
  const rb = inPage(b, `ctap.get({ challenge: 'BBBB' })`);
  await new Promise((r) => setImmediate(r));
  await new Promise((r) => setImmediate(r));
  assert.equal(stub.calls.length, 1, 'b waits while a holds the key');
  const nextB = stub.nextCall();
  callA.finish('a');
  (await nextB).finish('b');
  assert.deepEqual([await ra, await rb], [
    { ok: true, value: 'a' },
    { ok: true, value: 'b' },
  ]);
});

/** A page asks, then `end` takes it away: its request is aborted and the key serves the next page. */
async function assertGonePageAbortsAndFreesKey(end: (win: FakeWindow) => void): Promise<void> {
  const { stub, open } = setup({}, 'manual');
  const a = open('https://example.com/');
  void inPage(a, `ctap.get({ challenge: 'AAAA' })`); // never settles: the page is gone
  const callA = await stub.nextCall();
  end(a);
  assert.equal(callA.signal.aborted, true);
  const b = open('https://example.com/');
  const rb = inPage(b, `ctap.get({ challenge: 'BBBB' })`);
  (await stub.nextCall()).finish('b');
  assert.deepEqual(await rb, { ok: true, value: 'b' });
}

test('a window closing aborts its request; its reply is dropped and the key is freed for others', async () => {
  await assertGonePageAbortsAndFreesKey((win) => win.close());
});

test('a main-frame navigation aborts the request of the page that is leaving', async () => {
  const { stub, open } = setup({}, 'manual');
  const a = open('https://example.com/');
  void inPage(a, `ctap.get({ challenge: 'AAAA' })`);
  const call = await stub.nextCall();
  a.webContents.emit('did-start-navigation', { url: 'https://example.com/#x', isMainFrame: true, isSameDocument: true });
  assert.equal(call.signal.aborted, false, 'a same-document (fragment) navigation keeps it');
  a.navigate('https://example.com/next');
  assert.equal(call.signal.aborted, true);
});

test('interaction callbacks are built per request with the window that asked and a signal', async () => {
  const built: Array<{ kind: string; origin: string; wcId: number; signal: AbortSignal; made: Interaction }> = [];
  const { stub, open } = setup({
    interaction: (req) => {
      const made: Interaction = { 'touch-required': () => undefined };
      built.push({ kind: req.kind, origin: req.origin, wcId: req.webContents.id, signal: req.signal, made });
      return made;
    },
    device: (req) => `virtual:${req.webContents.id}`,
  });
  const win = open('https://example.com/');
  await inPage(win, `ctap.get({ challenge: 'AAAA' })`);
  assert.equal(built.length, 1);
  assert.equal(built[0]!.wcId, win.webContents.id);
  assert.deepEqual({ kind: built[0]!.kind, origin: built[0]!.origin }, { kind: 'get', origin: 'https://example.com' });
  assert.equal(stub.calls[0]!.init.interaction, built[0]!.made);
  assert.equal(stub.calls[0]!.init.device, `virtual:${win.webContents.id}`);
  assert.equal(built[0]!.signal, stub.calls[0]!.signal);
});

test('the disposer removes the handlers and aborts what is pending; the page then gets a clear error', async () => {
  const { electron, stub, dispose, open } = setup({}, 'manual');
  const win = open('https://example.com/');
  const r = inPage(win, `ctap.get({ challenge: 'AAAA' })`);
  const call = await stub.nextCall();
  dispose();
  assert.equal(call.signal.aborted, true);
  assert.equal(!(await r).ok && ((await r) as { name: string }).name, 'AbortError');
  assert.equal(electron.ipcMain.handlers.size, 0);
  const after = await inPage(win, `ctap.get({ challenge: 'AAAA' })`);
  assert.equal(after.ok, false);
  assert.match(!after.ok ? after.message : '', /not available/);
  // Registering again on the same ipcMain works (no handler left behind).
  registerMainHandlers({ ipcMain: electron.ipcMain, createClient: stub.factory });
});

test('Electron < 35 (no executeInMainWorld): the name survives at the front of the message', async () => {
  const { open } = setup({}, async () => {
    throw webAuthnError('NotAllowedError', 'timed out');
  });
  const win = open('https://example.com/', { executeInMainWorld: false });
  const r = await inPage(win, `ctap.get({ challenge: 'AAAA' })`);
  assert.equal(r.ok, false);
  assert.equal(!r.ok && r.message, 'NotAllowedError: timed out');
});

test('exposeInRenderer refuses a taken name and bad arguments', () => {
  const electron = new FakeElectron();
  const win = electron.openWindow('https://example.com/');
  exposeInRenderer({ contextBridge: win.contextBridge, ipcRenderer: win.ipcRenderer }, 'keys');
  assert.throws(() => exposeInRenderer({ contextBridge: win.contextBridge, ipcRenderer: win.ipcRenderer }, 'keys'), /already defined/);
  assert.throws(() => exposeInRenderer({ contextBridge: win.contextBridge, ipcRenderer: win.ipcRenderer }, 'not a name'), TypeError);
  assert.throws(() => exposeInRenderer({} as never), TypeError);
  assert.throws(() => registerMainHandlers({} as never), TypeError);
  assert.throws(() => registerMainHandlers({ ipcMain: electron.ipcMain, allowOrigins: ['https://x.test/path'] }), /must be an origin/);
});

test('a custom channel prefix keeps two bridges apart', async () => {
  const electron = new FakeElectron();
  const stub = stubClients();
  registerMainHandlers({ ipcMain: electron.ipcMain, createClient: stub.factory, channelPrefix: 'app-keys' });
  const win = electron.openWindow('https://example.com/');
  exposeInRenderer({ contextBridge: win.contextBridge, ipcRenderer: win.ipcRenderer }, 'ctap', { channelPrefix: 'app-keys' });
  assert.equal((await inPage(win, `ctap.get({ challenge: 'AAAA' })`)).ok, true);
  assert.deepEqual([...electron.ipcMain.handlers.keys()].sort(), ['app-keys:cancel', 'app-keys:create', 'app-keys:get']);
});

test("the size limit is the main process's: a larger maxPayloadBytes lets larger options through the preload", async () => {
  const { stub, open } = setup({ maxPayloadBytes: 200_000 });
  const win = open('https://example.com/');
  const r = await inPage(win, `ctap.get({ challenge: 'AAAA', extensions: { note: 'x'.repeat(100000) } })`);
  assert.equal(r.ok, true);
  assert.equal(stub.calls.length, 1);
  const { stub: stub2, open: open2 } = setup();
  const r2 = await inPage(open2('https://example.com/'), `ctap.get({ challenge: 'AAAA', extensions: { note: 'x'.repeat(100000) } })`);
  assert.equal(!r2.ok && r2.name, 'TypeError');
  assert.equal(stub2.calls.length, 0);
});

// ---- frames (review M4, M5) ----

type Ipc = { invoke(c: string, ...a: unknown[]): Promise<unknown> };
const settle = (p: Promise<unknown>): Promise<string> => p.then(() => 'ok', (e: Error) => e.name);

test('requests are per frame: a same-origin iframe waits its turn instead of blocking the main frame, and cannot cancel its request (M4)', async () => {
  const { stub, open } = setup({}, 'manual');
  const win = open('https://example.com/');
  const main = inPage(win, `ctap.get({ challenge: 'AAAA' })`);
  const mainCall = await stub.nextCall();
  const inner = createRendererApi(win.subframe('https://example.com/inner').ipcRenderer);
  const innerResult = settle(inner.get({ challenge: 'BBBB' }));
  // The main frame's own second request is still refused at once.
  const again = await inPage(win, `ctap.get({ challenge: 'CCCC' })`);
  assert.equal(!again.ok && again.name, 'InvalidStateError');
  // The iframe's cancel reaches only the iframe's (queued) request.
  assert.equal(await inner.cancel(), true);
  assert.equal(await innerResult, 'AbortError');
  assert.equal(mainCall.signal.aborted, false, "the iframe's cancel did not touch the main frame's request");
  assert.equal(await inner.cancel(), false, 'nothing of its own is pending any more');
  // An iframe request queued behind the main frame's runs once it is done.
  const inner2 = settle(inner.get({ challenge: 'DDDD' }));
  const next = stub.nextCall();
  mainCall.finish('main');
  assert.deepEqual(await main, { ok: true, value: 'main' });
  const innerCall = await next;
  assert.equal(innerCall.options.challenge, 'DDDD');
  // The main frame's cancel does not reach the iframe's request either.
  assert.deepEqual(await inPage(win, `ctap.cancel()`), { ok: true, value: false });
  assert.equal(innerCall.signal.aborted, false);
  innerCall.finish('inner');
  assert.equal(await inner2, 'ok');
});

test("cancel from a frame that may not use the key is refused like create/get and touches nothing (M4)", async () => {
  const { stub, open } = setup({}, 'manual');
  const win = open('https://example.com/');
  void inPage(win, `ctap.get({ challenge: 'AAAA' })`);
  const call = await stub.nextCall();
  const foreign = createRendererApi(win.subframe('https://ads.test/').ipcRenderer);
  assert.equal(await settle(foreign.cancel()), 'NotAllowedError');
  const sandboxed = createRendererApi(win.subframe('https://example.com/s', { sandboxed: true }).ipcRenderer);
  assert.equal(await settle(sandboxed.cancel()), 'SecurityError');
  assert.equal(call.signal.aborted, false);
  call.finish('done');
});

test('a frame nested A → B → A is refused by the bridge (every ancestor counts, M6); allowCrossOriginFrames lets it through', async () => {
  const call = async (ipc: Ipc) => settle(createRendererApi(ipc).get({ challenge: 'AAAA' }));
  {
    const { electron, stub } = setup();
    const win = electron.openWindow('https://example.com/');
    const b = win.subframe('https://ads.test/');
    assert.equal(await call(win.subframe('https://example.com/inner', { parent: b.frame }).ipcRenderer), 'NotAllowedError');
    assert.equal(stub.calls.length, 0);
  }
  {
    const { electron, stub } = setup({ allowCrossOriginFrames: true });
    const win = electron.openWindow('https://example.com/');
    const b = win.subframe('https://ads.test/');
    assert.equal(await call(win.subframe('https://example.com/inner', { parent: b.frame }).ipcRenderer), 'ok');
    assert.equal(await call(b.ipcRenderer), 'ok');
    assert.deepEqual(stub.calls.map((c) => c.init.origin), ['https://example.com', 'https://ads.test']);
  }
});

test('a renderer crash (render-process-gone) aborts the request and frees the key (M5)', async () => {
  await assertGonePageAbortsAndFreesKey((win) => win.crash());
});

test("the requesting subframe navigating away aborts its request; a sibling's navigation or an in-page one does not (M5)", async () => {
  const { stub, electron } = setup({}, 'manual');
  const win = electron.openWindow('https://example.com/');
  const sibling = win.subframe('https://example.com/sibling');
  const asking = win.subframe('https://example.com/inner');
  void settle(createRendererApi(asking.ipcRenderer).get({ challenge: 'AAAA' }));
  const call = await stub.nextCall();
  win.navigateSubframe(sibling.frame, 'https://example.com/elsewhere');
  win.webContents.emit('did-start-navigation', { url: 'https://example.com/inner#x', isMainFrame: false, isSameDocument: true, frame: asking.frame });
  assert.equal(call.signal.aborted, false);
  win.navigateSubframe(asking.frame, 'https://example.com/next');
  assert.equal(call.signal.aborted, true);
});

test('a navigation of an ancestor of the requesting frame, or a committed navigation of the frame itself, aborts (M5)', async () => {
  const { stub, electron } = setup({}, 'manual');
  const win = electron.openWindow('https://example.com/');
  const outer = win.subframe('https://example.com/outer');
  const nested = win.subframe('https://example.com/nested', { parent: outer.frame });
  void settle(createRendererApi(nested.ipcRenderer).get({ challenge: 'AAAA' }));
  const call = await stub.nextCall();
  win.navigateSubframe(outer.frame, 'https://example.com/other');
  assert.equal(call.signal.aborted, true);
  // did-frame-navigate alone (the same RenderFrameHost reused for the new document).
  const { stub: stub2, electron: electron2 } = setup({}, 'manual');
  const win2 = electron2.openWindow('https://example.com/');
  const f = win2.subframe('https://example.com/inner');
  void settle(createRendererApi(f.ipcRenderer).get({ challenge: 'AAAA' }));
  const call2 = await stub2.nextCall();
  win2.webContents.emit('did-frame-navigate', {}, 'https://example.com/x', 200, 'OK', false, f.frame.processId + 1000, f.frame.routingId);
  assert.equal(call2.signal.aborted, false, 'another frame (other process id)');
  win2.webContents.emit('did-frame-navigate', {}, 'https://example.com/x', 200, 'OK', false, f.frame.processId, f.frame.routingId);
  assert.equal(call2.signal.aborted, true);
});

test('an iframe removed from the page (no event: found detached by the periodic check) aborts its request (M5)', async (t) => {
  const { FRAME_CHECK_INTERVAL_MS } = await import('../../src/electron/main.js');
  t.mock.timers.enable({ apis: ['setInterval'] });
  const { stub, electron } = setup({}, 'manual');
  const win = electron.openWindow('https://example.com/');
  const f = win.subframe('https://example.com/inner');
  void settle(createRendererApi(f.ipcRenderer).get({ challenge: 'AAAA' }));
  const call = await stub.nextCall();
  t.mock.timers.tick(FRAME_CHECK_INTERVAL_MS);
  assert.equal(call.signal.aborted, false, 'still attached');
  f.frame.detach();
  t.mock.timers.tick(FRAME_CHECK_INTERVAL_MS);
  assert.equal(call.signal.aborted, true);
});

test("a custom client factory is given the app's relatedOrigins (a frozen copy) with every request; the payload cannot set it", async () => {
  const fetch = async () => ({ status: 404, headers: { get: () => null }, text: async () => '' });
  const appOption = { fetch, timeoutMs: 5000 };
  const { stub, open } = setup({ relatedOrigins: appOption });
  const win = open('https://app.example.net/');
  const a = await inPage(win, `ctap.create(${JSON.stringify({ ...CREATE, relatedOrigins: false })})`);
  assert.equal(a.ok, true);
  const b = await inPage(win, `ctap.get({ challenge: 'AAAA', rpId: 'example.com', relatedOrigins: { maxBytes: 1 } })`);
  assert.equal(b.ok, true);
  assert.equal(stub.calls.length, 2);
  for (const call of stub.calls) {
    const ro = call.init.relatedOrigins as { fetch: unknown; maxBytes: unknown; timeoutMs: unknown };
    assert.equal(call.init.origin, 'https://app.example.net');
    assert.equal(ro.fetch, fetch);
    assert.equal(ro.timeoutMs, 5000);
    assert.equal(ro.maxBytes, undefined);
    assert.ok(Object.isFrozen(ro));
  }
  // Without the option the factory is told nothing.
  const off = setup();
  await inPage(off.open('https://app.example.net/'), `ctap.create(${JSON.stringify(CREATE)})`);
  assert.equal(off.stub.calls[0]!.init.relatedOrigins, undefined);
});
