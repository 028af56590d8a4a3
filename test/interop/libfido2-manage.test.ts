/**
 * libfido2 (Debian libfido2-dev) drives the management side of our virtual key over
 * CTAPHID-over-UDP: scripts/interop/libfido2_manage.c says what it checks (credential
 * management, large blobs, authenticatorConfig, PIN change, hmac-secret, credProtect,
 * credBlob, reset), and scripts/interop/libfido2_u2f.c drives a `--u2f-only` key through
 * libfido2's CTAP1 fallback.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT, startVirtualServe, type ServedKey } from '../helpers/virtual-serve.js';

/** Compiles scripts/interop/<name>.c against libfido2 into dir; a skip reason when the toolchain is missing. */
function buildClient(dir: string, name: string): { binary?: string; skip?: string } {
  const pc = spawnSync('pkg-config', ['--cflags', '--libs', 'libfido2'], { encoding: 'utf8' });
  if (pc.error || pc.status !== 0) return { skip: 'libfido2-dev (and pkg-config) is not installed (apt-get install libfido2-dev pkg-config)' };
  const cc = spawnSync('cc', ['--version']);
  if (cc.error) return { skip: 'no C compiler (apt-get install gcc)' };
  const binary = join(dir, name);
  const r = spawnSync('cc', ['-Wall', '-Wextra', '-Werror', '-o', binary, join(REPO_ROOT, `scripts/interop/${name}.c`), ...pc.stdout.trim().split(/\s+/)], {
    encoding: 'utf8',
  });
  assert.equal(r.status, 0, `building ${name} failed:\n${r.stderr}`);
  return { binary };
}

async function run(binary: string, args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
  return { code, stdout, stderr };
}

function assertSteps(stdout: string, steps: string[]): void {
  for (const step of steps) {
    assert.ok(stdout.split('\n').some((l) => l.startsWith(`ok ${step}`)), `step "${step}" did not pass:\n${stdout}`);
  }
}

/** Does `ctap virtual serve` know --reset-window-ms (a test-bench option added separately)? */
function serveHasResetWindowOption(): boolean {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'virtual', 'serve', '--help'], { cwd: REPO_ROOT, encoding: 'utf8' });
  return `${r.stdout}${r.stderr}`.includes('--reset-window-ms');
}

const CAPACITY = 10;
const RESET_WINDOW_MS = 10_000; // the virtual key's default, as real keys (CTAP 2.1 §6.6)
const MANAGE_STEPS = [
  'setPIN',
  `credman metadata existing=3 remaining=${CAPACITY - 3}`,
  'credman rps ',
  'credman rks alpha.example.com users=alice,bob',
  'credman delete count 3 -> 2',
  'credman set_dev_rk display name updated',
  'largeBlob set/get',
  'largeBlob remove',
  'hmac-secret deterministic per credential+salt, distinct across credentials, salts and UV; two salts at once',
  'credProtect=3 invisible without UV, found with PIN, listed with prot=3',
  'credBlob 32 bytes round trip',
  'config enableEnterpriseAttestation',
  'config toggleAlwaysUv on/off',
  'config setMinPINLength 10',
  'config forcePINChange (PIN tokens refused until the PIN changes)',
  'changePIN old PIN refused',
];

/**
 * Serves a key, optionally waits, and runs libfido2_manage against it. `reset` says what the
 * program must see from fido_dev_reset at the end.
 */
async function runManage(t: { diagnostic(m: string): void }, binary: string, reset: 'allowed' | 'refused', serveArgs: string[], waitMs = 0): Promise<void> {
  const key = await startVirtualServe(['--capacity', String(CAPACITY), ...serveArgs]);
  try {
    if (waitMs > 0) await new Promise((resolve) => setTimeout(resolve, waitMs));
    const { code, stdout, stderr } = await run(binary, ['127.0.0.1', String(key.port), String(CAPACITY), reset]);
    t.diagnostic(stdout.trim());
    assert.equal(code, 0, `libfido2_manage (reset ${reset}) failed:\n${stdout}\n${stderr}\nserver:\n${key.output()}`);
    assertSteps(stdout, [...MANAGE_STEPS, reset === 'allowed' ? 'reset wipes credentials, PIN and config' : 'reset refused outside the reset window']);
  } finally {
    await key.stop();
  }
}

test('libfido2 manages `ctap virtual serve`: credman, largeBlobs, config, changePIN, hmac-secret, credProtect, credBlob, reset', { timeout: 150_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'ctap-libfido2-manage-'));
  try {
    const built = buildClient(dir, 'libfido2_manage');
    if (built.skip) {
      t.skip(built.skip);
      return;
    }
    if (serveHasResetWindowOption()) {
      // A window longer than the run: reset must succeed and wipe the key. A zero window: the
      // key is past it at once and must refuse with CTAP2_ERR_NOT_ALLOWED.
      await runManage(t, built.binary!, 'allowed', ['--reset-window-ms', '600000']);
      await runManage(t, built.binary!, 'refused', ['--reset-window-ms', '0']);
    } else {
      t.diagnostic('--reset-window-ms is not available: checking only that reset is refused after the default 10 s window');
      await runManage(t, built.binary!, 'refused', [], RESET_WINDOW_MS + 500);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('libfido2 drives a `--u2f-only` virtual key through its CTAP1 fallback', { timeout: 120_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'ctap-libfido2-u2f-'));
  let key: ServedKey | undefined;
  try {
    const built = buildClient(dir, 'libfido2_u2f');
    if (built.skip) {
      t.skip(built.skip);
      return;
    }
    key = await startVirtualServe(['--u2f-only']);
    const { code, stdout, stderr } = await run(built.binary!, ['127.0.0.1', String(key.port)]);
    t.diagnostic(stdout.trim());
    assert.equal(code, 0, `libfido2_u2f failed:\n${stdout}\n${stderr}\nserver:\n${key.output()}`);
    assertSteps(stdout, [
      'open U2F-only (fido_dev_is_fido2=false)',
      'makeCredential over U2F fmt=fido-u2f',
      'getAssertion over U2F verified',
      'tampered signature rejected',
      'key handle bound to its app id',
      'resident key refused on U2F',
    ]);
  } finally {
    await key?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
