/** `npm start` (scripts/start.ts): the first run must pass its own checks. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { REPO_ROOT } from './helpers.js';

test('npm start: registration + discoverable login against a fresh virtual key, signature verified', () => {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'scripts/start.ts'], { cwd: REPO_ROOT, encoding: 'utf8', timeout: 60_000 });
  assert.equal(r.status, 0, `${r.stdout}\n${r.stderr}`);
  assert.match(r.stdout, /userHandle is the user\.id given at registration/);
  assert.match(r.stdout, /signature over authenticatorData \|\| SHA-256\(clientDataJSON\) verifies with the registered key/);
  assert.match(r.stdout, /All checks passed/);
});
