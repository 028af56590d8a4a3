/** One owner per virtual-key state file: FILE.lock, taken at create, released at close / exit, stale locks taken over. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { VirtualAuthenticator, VirtualStateError } from '../../src/virtual/index.js';
import { ctap, freeUdpPort, spawnCtap, stopChild, waitForOutput } from '../cli/helpers.js';

const CHILD = fileURLToPath(new URL('./state-lock-child.ts', import.meta.url));

async function tempDir(t: { after(fn: () => Promise<void>): void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'ctap-lock-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

async function lockOwner(path: string): Promise<{ pid: number; hostname: string; token: string }> {
  return JSON.parse(await readFile(`${path}.lock`, 'utf8')) as { pid: number; hostname: string; token: string };
}

function isLocked(pid: number) {
  return (e: unknown): boolean => {
    assert.ok(e instanceof VirtualStateError, String(e));
    assert.equal(e.code, 'STATE_LOCKED');
    assert.equal(e.lockOwner?.pid, pid);
    assert.match(e.message, new RegExp(`process ${pid}\\b`));
    assert.match(e.message, /key\.json\.lock/);
    assert.match(e.message, /stop that process/);
    return true;
  };
}

function child(path: string, mode: 'hold' | 'kill' | 'exit'): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', CHILD, path, mode], { stdio: ['pipe', 'pipe', 'inherit'] });
}

function exited(p: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  if (p.exitCode !== null || p.signalCode !== null) return Promise.resolve({ code: p.exitCode, signal: p.signalCode });
  return new Promise((resolve) => p.once('exit', (code, signal) => resolve({ code, signal })));
}

test('two keys on one state file in one process: the second is refused (STATE_LOCKED) until the first closes', async (t) => {
  const path = join(await tempDir(t), 'key.json');
  const a = await VirtualAuthenticator.create({ statePath: path });
  const owner = await lockOwner(path);
  assert.equal(owner.pid, process.pid);
  assert.equal(owner.hostname, hostname());
  await assert.rejects(VirtualAuthenticator.create({ statePath: path }), isLocked(process.pid));
  // the refused attempt did not disturb the holder's lock
  assert.deepEqual(await lockOwner(path), owner);
  await a.close();
  assert.equal(existsSync(`${path}.lock`), false, 'close() removes the lock');
  const b = await VirtualAuthenticator.create({ statePath: path });
  assert.deepEqual(b.aaguid, a.aaguid, 'the second key reads the state the first wrote');
  await b.close();
  await b.close(); // idempotent
  assert.equal(existsSync(`${path}.lock`), false);
});

test('a key that fails to open leaves no lock behind (corrupt file, bad PIN option)', async (t) => {
  const dir = await tempDir(t);
  const corrupt = join(dir, 'corrupt.json');
  await writeFile(corrupt, '{"version": 1');
  await assert.rejects(VirtualAuthenticator.create({ statePath: corrupt }), (e: unknown) => e instanceof VirtualStateError && e.code === 'STATE_CORRUPT');
  assert.equal(existsSync(`${corrupt}.lock`), false);
  const fresh = join(dir, 'fresh.json');
  await assert.rejects(VirtualAuthenticator.create({ statePath: fresh, pin: '1' }), RangeError);
  assert.equal(existsSync(`${fresh}.lock`), false);
  await (await VirtualAuthenticator.create({ statePath: fresh })).close();
});

test('a lock left by a process that died (SIGKILL) is stale: taken over, with a warning naming the dead pid', async (t) => {
  const path = join(await tempDir(t), 'key.json');
  const p = child(path, 'kill');
  const { signal } = await exited(p);
  assert.equal(signal, 'SIGKILL');
  assert.equal((await lockOwner(path)).pid, p.pid, 'the dead child left its lock');
  const warnings: Error[] = [];
  const onWarning = (w: Error): void => void warnings.push(w);
  process.on('warning', onWarning);
  t.after(() => process.off('warning', onWarning));
  const key = await VirtualAuthenticator.create({ statePath: path });
  assert.equal((await lockOwner(path)).pid, process.pid, 'the lock is ours now');
  await new Promise((r) => setImmediate(r)); // warnings are emitted on the next tick
  const w = warnings.find((x) => (x as { code?: string }).code === 'CTAP_BRIDGE_STALE_STATE_LOCK');
  assert.ok(w, 'a stale-lock warning');
  assert.match(w.message, new RegExp(`process ${p.pid}\\b`));
  await key.close();
  assert.equal(existsSync(`${path}.lock`), false);
});

test('a process that exits without close() releases its lock (exit handler)', async (t) => {
  const path = join(await tempDir(t), 'key.json');
  const { code } = await exited(child(path, 'exit'));
  assert.equal(code, 0);
  assert.ok(existsSync(path), 'the state file was written');
  assert.equal(existsSync(`${path}.lock`), false);
});

test('a live child holding the state file blocks this process with an error naming its pid; free again once it closes', async (t) => {
  const path = join(await tempDir(t), 'key.json');
  const p = child(path, 'hold');
  t.after(() => {
    if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
  });
  await waitForOutput(p, /ready \d+/);
  await assert.rejects(VirtualAuthenticator.create({ statePath: path }), isLocked(p.pid!));
  p.stdin!.end(); // the child closes its key and exits
  assert.equal((await exited(p)).code, 0);
  assert.equal(existsSync(`${path}.lock`), false);
  const key = await VirtualAuthenticator.create({ statePath: path });
  await key.close();
});

test('a lock from another host is never taken over; the error says how to clear it', async (t) => {
  const path = join(await tempDir(t), 'key.json');
  const foreign = { pid: 1, hostname: `not-${hostname()}.invalid`, token: 'x', acquired: '2026-01-01T00:00:00.000Z' };
  await writeFile(`${path}.lock`, JSON.stringify(foreign));
  await assert.rejects(VirtualAuthenticator.create({ statePath: path }), (e: unknown) => {
    assert.ok(e instanceof VirtualStateError && e.code === 'STATE_LOCKED');
    assert.deepEqual(e.lockOwner, { pid: 1, hostname: foreign.hostname });
    assert.match(e.message, new RegExp(`process 1 on host ${foreign.hostname.replace(/\./g, '\\.')}`));
    assert.match(e.message, /if that process is gone, remove .*key\.json\.lock/);
    return true;
  });
  assert.deepEqual(JSON.parse(await readFile(`${path}.lock`, 'utf8')), foreign, 'left untouched');
});

test('a lock naming this pid that this process does not hold (pid reused after a restart) is stale', async (t) => {
  const path = join(await tempDir(t), 'key.json');
  await writeFile(`${path}.lock`, JSON.stringify({ pid: process.pid, hostname: hostname(), token: 'left-by-an-earlier-run', acquired: '' }));
  const key = await VirtualAuthenticator.create({ statePath: path });
  assert.notEqual((await lockOwner(path)).token, 'left-by-an-earlier-run');
  await key.close();
  assert.equal(existsSync(`${path}.lock`), false);
});

test('an unreadable lock file is refused (not silently removed), naming the file to remove', async (t) => {
  const path = join(await tempDir(t), 'key.json');
  await writeFile(`${path}.lock`, 'not a lock');
  await assert.rejects(VirtualAuthenticator.create({ statePath: path }), (e: unknown) => {
    assert.ok(e instanceof VirtualStateError && e.code === 'STATE_LOCKED');
    assert.equal(e.lockOwner, undefined);
    assert.match(e.message, /remove .*key\.json\.lock/);
    return true;
  });
  assert.equal(await readFile(`${path}.lock`, 'utf8'), 'not a lock');
});

test('CLI: `ctap info --device virtual:F` while `ctap virtual serve --state F` runs fails naming the lock; works after', async (t) => {
  const path = join(await tempDir(t), 'key.json');
  // sequential per-command opens (lock at open, release at close) keep working
  for (let i = 0; i < 2; i++) {
    const r = await ctap(['info', '--json', '--device', `virtual:${path}`]);
    assert.equal(r.code, 0, r.stderr);
  }
  assert.equal(existsSync(`${path}.lock`), false);
  const port = await freeUdpPort();
  const server = spawnCtap(['virtual', 'serve', '--udp', `127.0.0.1:${port}`, '--json', '--state', path]);
  t.after(() => stopChild(server));
  await waitForOutput(server, /"port"/);
  const r = await ctap(['info', '--json', '--device', `virtual:${path}`]);
  assert.equal(r.code, 3, `exit 3: the key could not be opened (${r.stderr})`);
  const err = JSON.parse(r.stderr) as { error: { message: string } };
  assert.match(err.error.message, new RegExp(`in use by process ${server.pid}\\b`));
  assert.match(err.error.message, /key\.json\.lock/);
  // a second server on the same file is refused too
  const second = await ctap(['virtual', 'serve', '--udp', `127.0.0.1:${await freeUdpPort()}`, '--state', path]);
  assert.notEqual(second.code, 0);
  assert.match(second.stderr, new RegExp(`in use by process ${server.pid}\\b`));
  // the running server still answers
  const viaServer = await ctap(['info', '--json', '--device', `udp:127.0.0.1:${port}?local=0`]);
  assert.equal(viaServer.code, 0, viaServer.stderr);
  await stopChild(server);
  assert.equal(existsSync(`${path}.lock`), false, 'the server released the lock on SIGTERM');
  const after = await ctap(['info', '--json', '--device', `virtual:${path}`]);
  assert.equal(after.code, 0, after.stderr);
});
