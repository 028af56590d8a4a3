/**
 * The CLI's answers to the library's PIN questions, from a script: a wrong
 * PIN (--pin-stdin or CTAP_PIN) is not retried, and is reported as the wrong
 * PIN it is — exit 5, the tries left — never as "cancelled"; the PIN never
 * appears in any output.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ctap } from './helpers.js';
import { EXIT } from '../../src/cli/errors.js';

const dir = mkdtempSync(join(tmpdir(), 'ctap-cli-interaction-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('login/register with a wrong PIN from a script: exit 5, "Wrong PIN: N tries left", no PIN in the output', async () => {
  const device = `virtual:${join(dir, 'key.json')}`;
  const pin = '482915';
  const wrong = '739106';
  assert.equal((await ctap(['pin', 'set', '--pin-stdin', '--device', device], { input: `${pin}\n` })).code, 0);
  const reg = await ctap(['register', '--rp', 'example.com', '--user', 'fay', '--resident', '--json', '--device', device], { env: { CTAP_PIN: pin } });
  assert.equal(reg.code, 0, reg.stderr);

  const seen: string[] = [];
  const login = await ctap(['login', '--rp', 'example.com', '--uv', 'required', '--device', device], { env: { CTAP_PIN: wrong } });
  seen.push(login.stdout, login.stderr);
  assert.equal(login.code, EXIT.PIN, login.stderr);
  assert.match(login.stderr, /Wrong PIN: 7 tries left before the key locks\. \(CTAP2_ERR_PIN_INVALID\)/);
  assert.doesNotMatch(login.stderr, /cancel/i);

  const stdin = await ctap(['login', '--rp', 'example.com', '--uv', 'required', '--pin-stdin', '--json', '--device', device], { input: `${wrong}\n` });
  seen.push(stdin.stdout, stdin.stderr);
  assert.equal(stdin.code, EXIT.PIN, stdin.stderr);
  const err = (JSON.parse(stdin.stderr) as { error: { name: string; ctap: string; message: string } }).error;
  assert.equal(err.name, 'NotAllowedError');
  assert.equal(err.ctap, 'CTAP2_ERR_PIN_INVALID');
  assert.match(err.message, /6 tries left/);

  const register = await ctap(['register', '--rp', 'example.com', '--user', 'gus', '--device', device], { env: { CTAP_PIN: wrong } });
  seen.push(register.stdout, register.stderr);
  assert.equal(register.code, EXIT.PIN, register.stderr);
  assert.match(register.stderr, /Wrong PIN: 5 tries left/);

  // a PIN too short for the key: refused before it is sent, still a PIN problem (exit 5), with the reason
  const short = await ctap(['login', '--rp', 'example.com', '--uv', 'required', '--device', device], { env: { CTAP_PIN: '12' } });
  seen.push(short.stdout, short.stderr);
  assert.equal(short.code, EXIT.PIN, short.stderr);
  assert.match(short.stderr, /too short/);

  // the right PIN still works: the tries were counted by the key, not by the CLI
  const ok = await ctap(['login', '--rp', 'example.com', '--uv', 'required', '--json', '--device', device], { env: { CTAP_PIN: pin } });
  assert.equal(ok.code, 0, ok.stderr);

  for (const out of seen) {
    assert.ok(!out.includes(wrong) && !out.includes(pin), 'no PIN in any output');
  }
});
