/** The `ctap` bin as a user meets it: help, list, info, errors and exit codes. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { listDevices } from '../../src/device/list.js';
import { ctap } from './helpers.js';

test('ctap list --json prints [] and exits 0 when no key is plugged in', async (t) => {
  if ((await listDevices()).length > 0) return t.skip('a FIDO key is plugged in');
  const r = await ctap(['list', '--json']);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout), []);
  assert.equal(r.stderr, '');
  const human = await ctap(['list']);
  assert.equal(human.code, 0);
  assert.match(human.stdout, /No security key found/);
});

test('ctap --help lists the commands and documents the exit codes', async () => {
  const r = await ctap(['--help']);
  assert.equal(r.code, 0);
  for (const c of ['list', 'info', 'ping', 'wink', 'decode', 'pin', 'creds', 'reset', 'virtual', 'doctor', 'bench', 'watch']) {
    assert.match(r.stdout, new RegExp(`^  ${c}\\s`, 'm'), c);
  }
  assert.match(r.stdout, /Exit codes:/);
  assert.match(r.stdout, /5 {2}PIN problem/);
  const sub = await ctap(['help', 'decode']);
  assert.equal(sub.code, 0);
  assert.match(sub.stdout, /Usage: ctap decode ctaphid HEX/);
  const none = await ctap([]);
  assert.equal(none.code, 2, 'no command is a usage error');
});

test('unknown commands and flags are usage errors (exit 2)', async () => {
  const a = await ctap(['frobnicate']);
  assert.equal(a.code, 2);
  assert.match(a.stderr, /unknown command "frobnicate"/);
  const b = await ctap(['list', '--bogus']);
  assert.equal(b.code, 2);
  const c = await ctap(['info', '--timeout', 'soon']);
  assert.equal(c.code, 2);
  const d = await ctap(['list', '--bogus', '--json']);
  assert.equal(d.code, 2);
  const err = JSON.parse(d.stderr) as { error: { name: string; message: string } };
  assert.equal(err.error.name, 'TypeError');
});

test('a PIN on the command line is refused and never echoed', async () => {
  const secret = '80417263';
  for (const args of [['pin', 'change', '--pin', secret], ['creds', 'list', `--pin=${secret}`], ['info', '--new-pin', secret]]) {
    const r = await ctap(args);
    assert.equal(r.code, 2, args.join(' '));
    assert.match(r.stderr, /never taken from the command line/);
    assert.ok(!r.stderr.includes(secret) && !r.stdout.includes(secret));
  }
});

test('ctap info --device virtual --json: getInfo with spec names and CTAPHID INIT data', async () => {
  const r = await ctap(['info', '--device', 'virtual', '--json']);
  assert.equal(r.code, 0, r.stderr);
  const j = JSON.parse(r.stdout) as {
    device: { path: string; transport: string };
    ctaphid: { protocolVersion: number; capabilityFlags: Record<string, boolean> };
    getInfo: { versions: string[]; aaguid: string; options: Record<string, boolean>; pinUvAuthProtocols: number[] };
  };
  assert.equal(j.device.path, 'virtual');
  assert.equal(j.device.transport, 'virtual');
  assert.equal(j.ctaphid.protocolVersion, 2);
  assert.equal(j.ctaphid.capabilityFlags['CBOR'], true);
  assert.deepEqual(j.getInfo.versions, ['U2F_V2', 'FIDO_2_0', 'FIDO_2_1']);
  assert.match(j.getInfo.aaguid, /^[0-9a-f]{32}$/);
  assert.equal(j.getInfo.options['clientPin'], false);
  assert.ok(j.getInfo.pinUvAuthProtocols.includes(2));
  const human = await ctap(['info', '--device', 'virtual']);
  assert.equal(human.code, 0);
  assert.match(human.stdout, /^ {2}versions:\s+U2F_V2, FIDO_2_0, FIDO_2_1$/m);
  assert.match(human.stdout, /^ {2}PIN:\s+supported, not set$/m);
});

test('ctap info with no key: one line that says what to check, exit 3', async (t) => {
  if ((await listDevices()).length > 0) return t.skip('a FIDO key is plugged in');
  const r = await ctap(['info']);
  assert.equal(r.code, 3);
  assert.equal(r.stdout, '');
  const lines = r.stderr.trim().split('\n');
  assert.equal(lines.length, 1, r.stderr);
  assert.match(lines[0]!, /No security key found.*ctap doctor/);
  const j = await ctap(['info', '--json']);
  assert.equal(j.code, 3);
  const err = JSON.parse(j.stderr) as { error: { name: string; message: string } };
  assert.equal(err.error.name, 'NotAllowedError');
  assert.match(err.error.message, /No security key found/);
});

test('ping and wink against the virtual key; --verbose traces frames on stderr only', async () => {
  const p = await ctap(['ping', '--device', 'virtual', '--size', '200', '--json']);
  assert.equal(p.code, 0, p.stderr);
  assert.equal((JSON.parse(p.stdout) as { bytes: number }).bytes, 200);
  const w = await ctap(['wink', '--device', 'virtual']);
  assert.equal(w.code, 0, w.stderr);
  const v = await ctap(['ping', '--device', 'virtual', '--verbose', '--json']);
  assert.equal(v.code, 0);
  JSON.parse(v.stdout); // stdout stays machine-readable
  assert.match(v.stderr, /^> ffffffff INIT bcnt=8 /m);
  assert.match(v.stderr, /^< [0-9a-f]{8} PING bcnt=32 /m);
});

test('doctor runs its checks; decode works without node-hid being needed', async () => {
  const r = await ctap(['doctor', '--device', 'virtual', '--json']);
  const j = JSON.parse(r.stdout) as { ok: boolean; checks: { id: string; status: string }[] };
  assert.ok(j.checks.some((c) => c.id === 'hid.backend'));
  assert.ok(j.checks.some((c) => c.id === 'getInfo.versions' && c.status === 'ok'));
  assert.ok(j.checks.some((c) => c.id === 'getInfo.fido21.pinUvAuthToken' && c.status === 'ok'));
  assert.equal(r.code, j.ok ? 0 : 1);
});
