/**
 * The stand-in behaves like Electron where the bridge depends on it: if one
 * of these failed, the bridge tests would prove less than they claim.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeElectron } from './fake-electron.js';

test('IPC: structured clone both ways; functions do not cross; class instances arrive as plain data', async () => {
  const electron = new FakeElectron();
  const seen: unknown[] = [];
  electron.ipcMain.handle('echo', (_e, arg) => {
    seen.push(arg);
    return arg;
  });
  const win = electron.openWindow('https://example.com/');
  await assert.rejects(win.ipcRenderer.invoke('echo', { f: () => 1 }), /could not be cloned/);
  class Thing {
    x = 1;
    get y() {
      return 2;
    }
  }
  const back = (await win.ipcRenderer.invoke('echo', new Thing())) as Record<string, unknown>;
  assert.equal(Object.getPrototypeOf(seen[0]), Object.prototype);
  assert.deepEqual(back, { x: 1 });
  electron.ipcMain.handle('fn', () => ({ f: () => 1 }));
  await assert.rejects(win.ipcRenderer.invoke('fn'), /could not be cloned/);
});

test('IPC: a thrown error loses its name and properties, as Electron reports it', async () => {
  const electron = new FakeElectron();
  electron.ipcMain.handle('boom', () => {
    const e = Object.assign(new Error('nope'), { ctap: 'X' });
    e.name = 'NotAllowedError';
    throw e;
  });
  const win = electron.openWindow('https://example.com/');
  const err = (await win.ipcRenderer.invoke('boom').catch((e: unknown) => e)) as Error & { ctap?: string };
  assert.equal(err.name, 'Error');
  assert.equal(err.message, "Error invoking remote method 'boom': NotAllowedError: nope");
  assert.equal(err.ctap, undefined);
  await assert.rejects(win.ipcRenderer.invoke('missing'), /No handler registered for 'missing'/);
});

test('events: sender and senderFrame; the frame reads null after navigation or close', async () => {
  const electron = new FakeElectron();
  const events: Array<{ id: number; url: string | undefined; frame: unknown }> = [];
  let lastEvent: { senderFrame: unknown } | undefined;
  electron.ipcMain.handle('who', (e) => {
    events.push({ id: e.sender.id, url: e.senderFrame?.url, frame: e.senderFrame });
    lastEvent = e;
  });
  const a = electron.openWindow('https://a.test/x');
  const b = electron.openWindow('https://b.test/y');
  await a.ipcRenderer.invoke('who');
  await b.ipcRenderer.invoke('who');
  assert.notEqual(events[0]!.id, events[1]!.id);
  assert.deepEqual(events.map((e) => e.url), ['https://a.test/x', 'https://b.test/y']);
  b.navigate('https://b.test/next');
  assert.equal(lastEvent!.senderFrame, null);
  let destroyed = 0;
  a.webContents.once('destroyed', () => destroyed++);
  a.close();
  assert.equal(destroyed, 1);
  assert.equal(a.webContents.isDestroyed(), true);
});

test('contextBridge: Errors cross as plain Error(message); promises and functions are proxied; the page is another realm', async () => {
  const electron = new FakeElectron();
  const win = electron.openWindow('https://example.com/');
  win.contextBridge.exposeInMainWorld('api', {
    fail: () => {
      const e = new Error('m');
      e.name = 'NotAllowedError';
      return Promise.reject(e);
    },
    add: (a: number, b: number) => a + b,
  });
  const r = await win.world.run<Promise<string>>(`api.fail().catch((e) => e.name + ':' + e.message + ':' + (e instanceof Error))`);
  assert.equal(r, 'Error:m:true');
  assert.equal(win.world.run('api.add(2, 3)'), 5);
  assert.equal(win.world.run('Object.getPrototypeOf(api) === Object.prototype'), true, 'copied into the page realm');
  assert.notEqual(win.world.run('Object'), Object);
  // executeInMainWorld compiles the function's source in the page realm: closures do not come along.
  const outside = 42;
  assert.throws(() => win.contextBridge.executeInMainWorld({ func: () => outside }), /outside is not defined/);
  assert.equal(win.contextBridge.executeInMainWorld({ func: (x: number) => x * 2, args: [21] }), 42);
});
