import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { availableTargets, check, generate } from '../../../scripts/windows/check-struct-offsets.js';

const targets = availableTargets();
const skip = targets.length === 0 ? 'mingw-w64 is not installed (apt-get install gcc-mingw-w64-x86-64 mingw-w64-x86-64-dev)' : undefined;

test('struct offsets agree with mingw-w64’s own webauthn.h (compile-time asserts)', { skip }, () => {
  for (const t of targets) {
    const r = check(t);
    // Debian's header (API 3) declares well over a hundred of the fields we use.
    assert.ok(r.checked > 100, `${t.compiler}: only ${r.checked} checked`);
    // The core structs every API version uses are all in it.
    for (const name of ['WEBAUTHN_CLIENT_DATA', 'WEBAUTHN_CREDENTIAL_EX', 'WEBAUTHN_EXTENSION']) {
      assert.ok(!r.notCovered.some((n) => n.startsWith(`${name}.`) || n.startsWith(`${name} `)), `${name} checked`);
    }
    assert.match(r.source, /offsetof\(WEBAUTHN_AUTHENTICATOR_MAKE_CREDENTIAL_OPTIONS, pExcludeCredentialList\)/);
  }
});

test('the mingw check fails when an offset is wrong', { skip }, () => {
  const t = targets[0]!;
  const { source } = generate(t);
  const broken = source.replace(/offsetof\(WEBAUTHN_CLIENT_DATA, pbClientDataJSON\) == 8/, 'offsetof(WEBAUTHN_CLIENT_DATA, pbClientDataJSON) == 12');
  assert.notEqual(broken, source);
  const dir = mkdtempSync(join(tmpdir(), 'webauthn-mingw-test-'));
  try {
    const file = join(dir, 'broken.c');
    writeFileSync(file, broken);
    assert.throws(() => execFileSync(t.compiler, ['-fsyntax-only', '-std=c11', file], { stdio: 'pipe' }));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
