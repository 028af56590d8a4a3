/**
 * libfido2 (Debian libfido2-dev), an independent client in C, drives our virtual key through
 * fido_dev_set_io_functions() over CTAPHID-over-UDP: scripts/interop/libfido2_interop.c.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT, startVirtualServe } from '../helpers/virtual-serve.js';

function buildClient(dir: string): { binary?: string; skip?: string } {
  const pc = spawnSync('pkg-config', ['--cflags', '--libs', 'libfido2'], { encoding: 'utf8' });
  if (pc.error || pc.status !== 0) return { skip: 'libfido2-dev (and pkg-config) is not installed (apt-get install libfido2-dev pkg-config)' };
  const cc = spawnSync('cc', ['--version']);
  if (cc.error) return { skip: 'no C compiler (apt-get install gcc)' };
  const binary = join(dir, 'libfido2_interop');
  const r = spawnSync('cc', ['-Wall', '-Wextra', '-Werror', '-o', binary, join(REPO_ROOT, 'scripts/interop/libfido2_interop.c'), ...pc.stdout.trim().split(/\s+/)], {
    encoding: 'utf8',
  });
  assert.equal(r.status, 0, `building the libfido2 interop client failed:\n${r.stderr}`);
  return { binary };
}

test('libfido2 drives `ctap virtual serve`: getInfo, register, login, PIN', { timeout: 120_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'ctap-libfido2-'));
  try {
    const built = buildClient(dir);
    if (built.skip) {
      t.skip(built.skip);
      return;
    }
    const key = await startVirtualServe();
    try {
      const child = spawn(built.binary!, ['127.0.0.1', String(key.port)], { stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
      t.diagnostic(stdout.trim());
      assert.equal(code, 0, `libfido2 interop failed:\n${stdout}\n${stderr}\nserver:\n${key.output()}`);
      for (const step of ['getInfo', 'makeCredential non-resident es256', 'getAssertion allowList es256', 'makeCredential+getAssertion eddsa',
        'makeCredential resident', 'getAssertion discoverable user.id=libfido2-resident-9', 'setPIN', 'makeCredential with PIN token',
        'getAssertion with PIN token', 'wrong PIN retries 8 -> 7']) {
        assert.ok(stdout.split('\n').some((l) => l.startsWith(`ok ${step}`)), `step "${step}" did not pass`);
      }
    } finally {
      await key.stop();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
