/** Where PINs come from, and that they do not linger; the argument parser's edge cases. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { SecretSource } from '../../src/cli/secrets.js';
import { findCommandWords, parseCommandLine } from '../../src/cli/args.js';
import { CliError, UsageError } from '../../src/cli/errors.js';

const stdinOf = (text: string): Readable & { isTTY?: boolean } => Readable.from([Buffer.from(text)]);
const notTty = { isTTY: false, write: () => true } as unknown as NodeJS.WritableStream & { isTTY?: boolean };

test('--pin-stdin: one PIN per line (CRLF too), current first, then new', async () => {
  const s = new SecretSource({ pinStdin: true, stdin: stdinOf('1234\r\nnew-pin-5678\n'), stderr: notTty, env: {} });
  assert.equal(Buffer.from(await s.pin('current', '')).toString(), '1234');
  assert.equal(Buffer.from(await s.pin('new', '')).toString(), 'new-pin-5678');
  await assert.rejects(s.pin('new', ''), (e: unknown) => e instanceof CliError && e.exitCode === 5);
});

test('CTAP_PIN / CTAP_NEW_PIN are read once and removed from the environment', async () => {
  const env: NodeJS.ProcessEnv = { CTAP_PIN: 'old-0000', CTAP_NEW_PIN: 'new-1111', OTHER: 'x' };
  const s = new SecretSource({ pinStdin: false, stdin: stdinOf(''), stderr: notTty, env });
  assert.equal(Buffer.from(await s.pin('current', '')).toString(), 'old-0000');
  assert.equal(Buffer.from(await s.pin('new', '')).toString(), 'new-1111');
  assert.deepEqual(env, { OTHER: 'x' });
  // no terminal, no source left: a clear error, not a hang
  await assert.rejects(s.pin('current', ''), /--pin-stdin/);
});

test('pin set may take CTAP_PIN as the new PIN', async () => {
  const env: NodeJS.ProcessEnv = { CTAP_PIN: 'only-one-9' };
  const s = new SecretSource({ pinStdin: false, stdin: stdinOf(''), stderr: notTty, env });
  assert.equal(Buffer.from(await s.pin('new', '', { envNames: ['CTAP_NEW_PIN', 'CTAP_PIN'] })).toString(), 'only-one-9');
});

test('dispose zeroes unread stdin lines', async () => {
  const s = new SecretSource({ pinStdin: true, stdin: stdinOf('aaaa\nbbbb\n'), stderr: notTty, env: {} });
  const first = await s.pin('current', '');
  first.fill(0);
  s.dispose();
  // the source hands out the buffers it holds, so the one it still held shows what dispose did to it
  const second = await s.pin('new', '');
  assert.deepEqual([...second], [0, 0, 0, 0], 'the unread line was zeroed in place');
});

test('argument parser: the command is found past global flags and their values', () => {
  assert.deepEqual(findCommandWords(['--device', 'virtual', '--json', 'creds', 'list']), ['creds', 'list']);
  assert.deepEqual(findCommandWords(['-d', 'udp:127.0.0.1:8111', 'info']), ['info']);
  assert.deepEqual(findCommandWords(['--timeout=500', 'ping']), ['ping']);
  const p = parseCommandLine(['info', '--device', 'virtual', '--timeout', '1500', '--json']);
  assert.equal(p.globals.device, 'virtual');
  assert.equal(p.globals.timeoutMs, 1500);
  assert.equal(p.globals.json, true);
  assert.throws(() => parseCommandLine(['info', '--timeout', '-3']), UsageError);
  assert.throws(() => parseCommandLine(['info', '--nope']), UsageError);
  assert.throws(() => parseCommandLine(['pin', 'set', '--pin=1234']), (e: unknown) => e instanceof UsageError && !e.message.includes('1234'));
  // a command that declares --pin (virtual serve) may take it
  assert.equal(parseCommandLine(['virtual', 'serve', '--pin', '1234'], { pin: { type: 'string' } }).values['pin'], '1234');
});
