/**
 * One --timeout budget per CLI command (src/cli/context.ts): every call on
 * the key gets what is left of it; time at the CLI's own prompts does not
 * count. In-process with a mocked clock for the arithmetic, then end to end
 * against `ctap virtual serve` answering every CBOR request late.
 */
import { test, mock } from 'node:test';
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { parseCommandLine } from '../../src/cli/args.js';
import { CommandContext } from '../../src/cli/context.js';
import { Output } from '../../src/cli/output.js';
import { SecretSource } from '../../src/cli/secrets.js';
import { ctap, freeUdpPort, spawnCtap, stopChild, waitForOutput } from './helpers.js';
import { Writable } from 'node:stream';

const sink = (): Writable => new Writable({ write: (_c, _e, cb) => cb() });

function context(argv: string[]): CommandContext {
  const args = parseCommandLine(argv);
  return new CommandContext({
    args,
    operands: args.positionals.slice(1),
    out: new Output({ json: false, verbose: false }, { stdout: sink(), stderr: sink() }),
    secrets: new SecretSource({ pinStdin: false, env: {} }),
    signal: new AbortController().signal,
    openDevice: () => Promise.reject(new Error('no device in this test')),
  });
}

test('callOptions() hands out what is left of one budget; an opts object taken early stays current', (t) => {
  mock.timers.enable({ apis: ['Date'], now: 1_000_000 });
  t.after(() => mock.timers.reset());
  const ctx = context(['info', '--timeout', '5000']);
  const early = ctx.callOptions();
  assert.equal(early.timeoutMs, 5000);
  mock.timers.tick(1200);
  assert.equal(early.timeoutMs, 3800, 'the getter reads the budget when the library starts a call');
  assert.equal(ctx.callOptions().timeoutMs, 3800);
  const copied = { ...ctx.callOptions() };
  mock.timers.tick(800);
  assert.equal(copied.timeoutMs, 3800, 'a spread copies the value left at that moment');
  assert.equal(early.timeoutMs, 3000);
  mock.timers.tick(10_000);
  assert.equal(early.timeoutMs, 0, 'spent: the next call times out at once');
  assert.equal(early.signal, ctx.signal);
});

test('without --timeout the budget is the library default (30 s) for the whole command', (t) => {
  mock.timers.enable({ apis: ['Date'], now: 5_000 });
  t.after(() => mock.timers.reset());
  const ctx = context(['info']);
  assert.equal(ctx.callOptions().timeoutMs, 30_000);
  mock.timers.tick(29_000);
  assert.equal(ctx.callOptions().timeoutMs, 1_000);
});

test('the clock stops while the person is at a prompt (userWait), and restarts with what was left', async (t) => {
  mock.timers.enable({ apis: ['Date'], now: 0 });
  t.after(() => mock.timers.reset());
  const ctx = context(['info', '--timeout', '2000']);
  mock.timers.tick(500);
  const seen = await ctx.userWait(async () => {
    mock.timers.tick(60_000); // a slow typist
    return ctx.callOptions().timeoutMs;
  });
  assert.equal(seen, 1500, 'frozen during the prompt');
  assert.equal(ctx.callOptions().timeoutMs, 1500);
  mock.timers.tick(1000);
  assert.equal(ctx.callOptions().timeoutMs, 500);
  // a prompt that fails (Ctrl-C) restarts the clock too
  await assert.rejects(
    ctx.userWait(async () => {
      mock.timers.tick(9_000);
      throw new Error('cancelled');
    }),
    /cancelled/,
  );
  assert.equal(ctx.callOptions().timeoutMs, 500);
});

/**
 * End to end: the simulator holds back every CBOR answer 500 ms
 * (`--fault stall:ms=500,p=1`). `creds list` makes several such calls
 * (getInfo, getKeyAgreement, getPinUvAuthToken, getCredsMetadata,
 * enumerateRPs…), each well inside --timeout 1500, together well past it.
 * With a fresh timeout per call (the old behaviour) it succeeded; with one
 * budget it must end with exit 6 and the timeout message. The same command
 * with a generous budget succeeds, so the fault alone is not the cause.
 */
test('ctap creds list --timeout: the budget bounds the whole command against a key that answers every call late', async (t) => {
  const PIN = '864213';
  const port = await freeUdpPort();
  const server: ChildProcess = spawnCtap(['virtual', 'serve', '--udp', `127.0.0.1:${port}`, '--pin-stdin', '--fault', 'stall:ms=500,p=1', '--json']);
  server.stdin!.end(`${PIN}\n`);
  t.after(() => stopChild(server));
  await waitForOutput(server, /"port"/);
  const device = `udp:127.0.0.1:${port}?local=0`;

  const slow = await ctap(['creds', 'list', '--device', device, '--timeout', '1500', '--json'], { env: { CTAP_PIN: PIN } });
  assert.equal(slow.code, 6, `exit 6 (timed out) expected; stdout: ${slow.stdout} stderr: ${slow.stderr}`);
  assert.equal(slow.stdout, '');
  const err = JSON.parse(slow.stderr.trim().split('\n').pop()!) as { error: { name: string; message: string } };
  // the CLI's JSON names a timeout as WebAuthn does (NotAllowedError); the message says what happened
  assert.equal(err.error.name, 'NotAllowedError', slow.stderr);
  assert.match(err.error.message, /did not complete .* in time/);
  assert.ok(!slow.stderr.includes(PIN));

  const roomy = await ctap(['creds', 'list', '--device', device, '--timeout', '60000', '--json'], { env: { CTAP_PIN: PIN } });
  assert.equal(roomy.code, 0, roomy.stderr);
  const list = JSON.parse(roomy.stdout) as { existingResidentCredentialsCount: number };
  assert.equal(list.existingResidentCredentialsCount, 0);
});
