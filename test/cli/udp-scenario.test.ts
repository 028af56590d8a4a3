/**
 * The CLI against `ctap virtual serve --udp` in a child process, every byte
 * over CTAPHID-over-UDP: `info --device udp:...`, and issue 4's scenario —
 * set a PIN, register three resident credentials for different RPs, list
 * them, delete one, a wrong PIN lowers the retry count and says how many are
 * left, reset clears everything. The PIN never appears in any output or argv.
 */
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ctap, freeUdpPort, spawnCtap, stopChild, waitForOutput } from './helpers.js';

const PIN = '285714';
const WRONG = '999111';
let server: ChildProcess;
let device: string;
let port: number;
const dir = mkdtempSync(join(tmpdir(), 'ctap-cli-udp-'));
const stateFile = join(dir, 'key.json');

/** Start (or restart: a "replug") the virtual key on `port`, its state in stateFile. */
async function startServer(): Promise<void> {
  server = spawnCtap(['virtual', 'serve', '--udp', `127.0.0.1:${port}`, '--state', stateFile, '--json']);
  const line = await waitForOutput(server, /"port"/);
  const { spec } = JSON.parse(line) as { spec: string };
  assert.equal(spec, `udp:127.0.0.1:${port}`);
  // ?local=0: an ephemeral local port, so parallel test files never fight over 7112
  device = `${spec}?local=0`;
}
const outputs: string[] = [];

async function run(args: string[], input?: string): ReturnType<typeof ctap> {
  const r = await ctap([...args, '--device', device], { input });
  outputs.push(r.stdout, r.stderr);
  return r;
}

before(async () => {
  port = await freeUdpPort();
  // The key starts with no PIN; the PIN is set through the CLI below.
  await startServer();
});

after(async () => {
  if (server) await stopChild(server);
  rmSync(dir, { recursive: true, force: true });
});

test('ctap info --device udp:127.0.0.1:PORT against ctap virtual serve', async () => {
  const r = await run(['info', '--json']);
  assert.equal(r.code, 0, r.stderr);
  const j = JSON.parse(r.stdout) as { device: { transport: string }; getInfo: { versions: string[] } };
  assert.equal(j.device.transport, 'udp');
  assert.ok(j.getInfo.versions.includes('FIDO_2_1'));
  const human = await run(['info']);
  assert.equal(human.code, 0);
  assert.match(human.stdout, /transport:\s+udp/);
});

test('issue 4 scenario through the CLI over UDP', async () => {
  // 1. set a PIN (from stdin, never argv)
  let r = await run(['pin', 'set', '--pin-stdin'], `${PIN}\n`);
  assert.equal(r.code, 0, r.stderr);
  r = await run(['pin', 'status', '--json']);
  assert.equal((JSON.parse(r.stdout) as { pinSet: boolean; pinRetries: number }).pinRetries, 8);

  // 2. three resident credentials for three RPs (the PIN through CTAP_PIN this time)
  const rps = [
    ['example.com', 'alice'],
    ['example.org', 'bob'],
    ['login.example.net', 'carol'],
  ] as const;
  const ids: string[] = [];
  for (const [rp, user] of rps) {
    const c = await ctap(['register', '--rp', rp, '--user', user, '--resident', '--uv', 'required', '--json', '--device', device], { env: { CTAP_PIN: PIN } });
    outputs.push(c.stdout, c.stderr);
    assert.equal(c.code, 0, c.stderr);
    const reg = JSON.parse(c.stdout) as { id: string; type: string; response: { attestationObject: string } };
    assert.equal(reg.type, 'public-key');
    ids.push(reg.id);
  }

  // 3. list them, with RP ids and user names
  r = await run(['creds', 'list', '--pin-stdin', '--json'], `${PIN}\n`);
  assert.equal(r.code, 0, r.stderr);
  type Listing = { existingResidentCredentialsCount: number; rps: { rp: { id: string }; credentials: { credentialId: string; user: { name?: string } }[] }[] };
  let listing = JSON.parse(r.stdout) as Listing;
  assert.equal(listing.existingResidentCredentialsCount, 3);
  const seen = listing.rps.flatMap((x) => x.credentials.map((c) => [x.rp.id, c.user.name, c.credentialId]));
  assert.deepEqual(seen.map((s) => `${s[0]}/${s[1]}`).sort(), ['example.com/alice', 'example.org/bob', 'login.example.net/carol']);
  assert.deepEqual(seen.map((s) => s[2]).sort(), [...ids].sort());
  const human = await run(['creds', 'list', '--pin-stdin'], `${PIN}\n`);
  assert.equal(human.code, 0);
  assert.match(human.stdout, /^example\.org\s+bob\s/m);

  // 4. delete one (not on a TTY: --yes is required)
  const bobId = ids[1]!;
  r = await run(['creds', 'delete', bobId, '--pin-stdin'], `${PIN}\n`);
  assert.equal(r.code, 2, 'destructive without --yes off a terminal is refused');
  r = await run(['creds', 'delete', bobId, '--pin-stdin', '--yes'], `${PIN}\n`);
  assert.equal(r.code, 0, r.stderr);
  r = await run(['creds', 'list', '--pin-stdin', '--json'], `${PIN}\n`);
  listing = JSON.parse(r.stdout) as Listing;
  assert.equal(listing.existingResidentCredentialsCount, 2);
  assert.ok(!listing.rps.some((x) => x.rp.id === 'example.org'));

  // 5. a wrong PIN lowers the retry count and says how many are left
  r = await run(['creds', 'list', '--pin-stdin'], `${WRONG}\n`);
  assert.equal(r.code, 5, r.stderr);
  assert.match(r.stderr, /7 tries left/);
  const j = await run(['creds', 'list', '--pin-stdin', '--json'], `${WRONG}\n`);
  assert.equal(j.code, 5);
  const err = JSON.parse(j.stderr) as { error: { name: string; ctap: string; message: string } };
  assert.equal(err.error.ctap, 'CTAP2_ERR_PIN_INVALID');
  assert.match(err.error.message, /6 tries left/);
  r = await run(['pin', 'status', '--json']);
  assert.equal((JSON.parse(r.stdout) as { pinRetries: number }).pinRetries, 6);
  // the right PIN works again (and restores the count)
  r = await run(['creds', 'list', '--pin-stdin', '--json'], `${PIN}\n`);
  assert.equal(r.code, 0, r.stderr);

  // 6. reset clears everything. The key has been powered for more than its 10-second reset
  // window by now (the virtual key, like real ones, refuses later resets): the CLI explains
  // the replug rule; then a "replug" (restart with the same state file) and reset at once.
  r = await run(['reset']);
  assert.equal(r.code, 2, 'reset off a terminal needs --yes');
  r = await run(['reset', '--yes']);
  if (r.code !== 0) {
    assert.equal(r.code, 4, r.stderr);
    assert.match(r.stderr, /within 10 seconds of being plugged in: unplug it, plug it back in/);
    await stopChild(server);
    await startServer();
    r = await run(['reset', '--yes', '--json']);
  }
  assert.equal(r.code, 0, r.stderr);
  r = await run(['pin', 'status', '--json']);
  const st = JSON.parse(r.stdout) as { pinSet: boolean };
  assert.equal(st.pinSet, false);
  r = await run(['creds', 'list', '--pin-stdin'], `${PIN}\n`);
  assert.equal(r.code, 5, 'no PIN after reset');
  assert.match(r.stderr, /No PIN is set/);

  // the PIN never appeared in anything the CLI printed
  for (const o of outputs) {
    assert.ok(!o.includes(PIN), `the PIN leaked into output: ${o.slice(0, 200)}`);
    assert.ok(!o.includes(WRONG), 'the wrong PIN leaked into output');
  }
});

test('with --verbose the frame trace carries no PIN material', async () => {
  let r = await run(['pin', 'set', '--pin-stdin', '--verbose'], `${PIN}\n`);
  assert.equal(r.code, 0, r.stderr);
  // setPIN is traced with keyAgreement, pinUvAuthParam and newPinEnc redacted (src/device/trace.ts), and no clientPin bytes at all
  assert.match(r.stderr, /clientPin\(0x06\) \{1: \d, 2: 3, 3: <redacted map of \d>, 4: <redacted \d+ bytes>, 5: <redacted \d+ bytes>\}/);
  for (const l of r.stderr.split('\n')) if (/clientPin\(0x06\)/.test(l)) assert.doesNotMatch(l, /h'/, l);
  r = await run(['pin', 'change', '--pin-stdin', '--verbose'], `${PIN}\n${WRONG}\n`);
  assert.equal(r.code, 0, r.stderr);
  for (const o of [r.stdout, r.stderr]) {
    assert.ok(!o.includes(PIN) && !o.includes(WRONG));
    assert.ok(!o.includes(Buffer.from(PIN).toString('hex')) && !o.includes(Buffer.from(WRONG).toString('hex')));
  }
});

test('virtual serve --pin-stdin keeps the PIN out of argv', async (t) => {
  if (process.platform !== 'linux') return t.skip('reads /proc/PID/cmdline');
  const port = await freeUdpPort();
  const child = spawnCtap(['virtual', 'serve', '--udp', `127.0.0.1:${port}`, '--pin-stdin', '--json']);
  try {
    child.stdin!.end(`${PIN}\n`);
    await waitForOutput(child, /"port"/);
    const cmdline = readFileSync(`/proc/${child.pid}/cmdline`, 'utf8');
    assert.ok(!cmdline.includes(PIN));
    const st = await ctap(['pin', 'status', '--json', '--device', `udp:127.0.0.1:${port}?local=0`]);
    assert.equal((JSON.parse(st.stdout) as { pinSet: boolean }).pinSet, true, 'the PIN from stdin was applied');
  } finally {
    await stopChild(child);
  }
});
