/**
 * python-fido2 (Debian python3-fido2, 0.9.x), an independent client, drives our virtual key
 * over CTAPHID-over-UDP: scripts/interop/pyfido2_interop.py says what it checks.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync, spawn } from 'node:child_process';
import { join } from 'node:path';
import { REPO_ROOT, startVirtualServe } from '../helpers/virtual-serve.js';

const PYTHON = '/usr/bin/python3';

function pyfido2Missing(): string | undefined {
  const r = spawnSync(PYTHON, ['-c', 'import fido2, sys; sys.stdout.write(fido2.__version__)'], { encoding: 'utf8' });
  if (r.error || r.status !== 0) return 'python3-fido2 is not installed (apt-get install python3-fido2)';
  return undefined;
}

test('python-fido2 drives `ctap virtual serve`: getInfo, register, login, PIN', { timeout: 120_000 }, async (t) => {
  const missing = pyfido2Missing();
  if (missing) {
    t.skip(missing);
    return;
  }
  const key = await startVirtualServe();
  try {
    const child = spawn(PYTHON, [join(REPO_ROOT, 'scripts/interop/pyfido2_interop.py'), '127.0.0.1', String(key.port)], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
    t.diagnostic(stdout.trim());
    assert.equal(code, 0, `python-fido2 interop failed:\n${stdout}\n${stderr}\nserver:\n${key.output()}`);
    for (const step of ['getInfo', 'makeCredential non-resident', 'getAssertion allowList', 'makeCredential resident',
      'getAssertion discoverable user.id=user-resident-0042', 'setPIN', 'getPinToken', 'wrong PIN retries 8 -> 7', 'getPinToken protocol=1',
      'makeCredential with PIN', 'getAssertion with PIN']) {
      assert.match(stdout, new RegExp(`^ok ${step.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`, 'm'), `step "${step}" did not pass`);
    }
  } finally {
    await key.stop();
  }
});
