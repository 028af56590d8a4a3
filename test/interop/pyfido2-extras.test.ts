/**
 * python-fido2 (Debian python3-fido2, 0.9.x) drives our virtual key beyond the basic
 * ceremonies: scripts/interop/pyfido2_extras.py says what it checks. Mode "ctap2": PIN
 * protocol 1 by hand, CredentialManagement, LargeBlobs, Config, hmac-secret through
 * Fido2Client, change_pin. Mode "u2f": a `--u2f-only` key through Ctap1 and through
 * Fido2Client's CTAP1 fallback, verified by Fido2Server (fido-u2f attestation).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { REPO_ROOT, startVirtualServe, type ServedKey } from '../helpers/virtual-serve.js';

const PYTHON = '/usr/bin/python3';
const SCRIPT = join(REPO_ROOT, 'scripts/interop/pyfido2_extras.py');

function pyfido2Missing(): string | undefined {
  const r = spawnSync(PYTHON, ['-c', 'import fido2, sys; sys.stdout.write(fido2.__version__)'], { encoding: 'utf8' });
  if (r.error || r.status !== 0) return 'python3-fido2 is not installed (apt-get install python3-fido2)';
  return undefined;
}

async function drive(key: ServedKey, mode: 'ctap2' | 'u2f'): Promise<string> {
  const child = spawn(PYTHON, [SCRIPT, '127.0.0.1', String(key.port), mode], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
  assert.equal(code, 0, `pyfido2_extras.py ${mode} failed:\n${stdout}\n${stderr}\nserver:\n${key.output()}`);
  return stdout;
}

function assertSteps(stdout: string, steps: string[]): void {
  for (const step of steps) {
    assert.ok(stdout.split('\n').some((l) => l.startsWith(`ok ${step}`)), `step "${step}" did not pass:\n${stdout}`);
  }
}

test('python-fido2 extras on `ctap virtual serve`: PIN protocol 1, credman, largeBlobs, config, hmac-secret, change_pin', { timeout: 120_000 }, async (t) => {
  const missing = pyfido2Missing();
  if (missing) {
    t.skip(missing);
    return;
  }
  const key = await startVirtualServe();
  try {
    const stdout = await drive(key, 'ctap2');
    t.diagnostic(stdout.trim());
    assertSteps(stdout, [
      'hmac-secret hmacCreateSecret=true through Fido2Client',
      'hmac-secret hmacGetSecret same salt -> same output, other credential -> other output',
      'setPIN',
      'hmac-secret with PIN (UV) -> another output',
      'PIN protocol 1 makeCredential+getAssertion with pin_uv_param',
      'credman metadata existing=3 remaining=97', // --capacity default 100
      'credman enumerate_rps alpha.extras.example.com,beta.extras.example.com',
      'credman enumerate_creds alpha.extras.example.com users=ann,ben',
      'credman update_user_info displayName=Benjamin',
      'credman delete_cred count 3 -> 2',
      'credProtect userVerificationRequired through Fido2Client (hidden without UV, credman credProtect=3)',
      'largeBlobs put_blob/get_blob',
      'largeBlobs delete_blob',
      'config enterprise attestation (getInfo ep=true)',
      'config toggle_always_uv on/off',
      'config set_min_pin_length 8',
      'config force_change_pin',
      'change_pin old PIN refused',
    ]);
  } finally {
    await key.stop();
  }
});

test('python-fido2 drives a `--u2f-only` virtual key: Ctap1 and Fido2Client CTAP1 fallback', { timeout: 120_000 }, async (t) => {
  const missing = pyfido2Missing();
  if (missing) {
    t.skip(missing);
    return;
  }
  const key = await startVirtualServe(['--u2f-only']);
  try {
    const stdout = await drive(key, 'u2f');
    t.diagnostic(stdout.trim());
    assertSteps(stdout, [
      'Ctap1 get_version U2F_V2',
      'Ctap1 register RegistrationData.verify',
      'Ctap1 authenticate SignatureData.verify',
      'Ctap1 check-only known handle -> USE_NOT_SATISFIED, other app id -> WRONG_DATA',
      'Fido2Client over CTAP1 make_credential fmt=fido-u2f verified by Fido2Server',
      'Fido2Client over CTAP1 get_assertion verified by Fido2Server',
    ]);
  } finally {
    await key.stop();
  }
});
