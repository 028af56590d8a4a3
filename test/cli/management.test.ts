/** config, creds update, bench and watch through the bin, on a virtual key with its state in a file. */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { listDevices } from '../../src/device/list.js';
import { ctap } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'ctap-cli-mgmt-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const PIN = '40291357';

test('config min-pin-length and always-uv change what getInfo reports', async () => {
  const device = `virtual:${join(dir, 'config.json')}`;
  const NEW = `${PIN}99`;
  assert.equal((await ctap(['pin', 'set', '--pin-stdin', '--device', device], { input: `${PIN}\n` })).code, 0);
  let r = await ctap(['config', 'min-pin-length', '9', '--pin-stdin', '--json', '--device', device], { input: `${PIN}\n` });
  assert.equal(r.code, 0, r.stderr);
  assert.equal((JSON.parse(r.stdout) as { minPINLength: number }).minPINLength, 9);
  r = await ctap(['pin', 'status', '--json', '--device', device]);
  const st = JSON.parse(r.stdout) as { minPINLength: number; forcePINChange: boolean };
  assert.equal(st.minPINLength, 9);
  // the 8-character PIN is now too short: the key forces a change before the PIN is usable
  assert.equal(st.forcePINChange, true);
  r = await ctap(['creds', 'list', '--pin-stdin', '--device', device], { input: `${PIN}\n` });
  assert.equal(r.code, 5, r.stderr);
  assert.match(r.stderr, /ctap pin change/);
  r = await ctap(['pin', 'change', '--pin-stdin', '--device', device], { input: `${PIN}\n${NEW}\n` });
  assert.equal(r.code, 0, r.stderr);
  r = await ctap(['pin', 'status', '--json', '--device', device]);
  assert.equal((JSON.parse(r.stdout) as { forcePINChange: boolean }).forcePINChange, false);
  // keys never lower the minimum: the library refuses before sending (a usage error)
  r = await ctap(['config', 'min-pin-length', '5', '--pin-stdin', '--device', device], { input: `${NEW}\n` });
  assert.equal(r.code, 2, r.stderr);
  r = await ctap(['config', 'always-uv', '--pin-stdin', '--json', '--device', device], { input: `${NEW}\n` });
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout), { alwaysUv: true });
  r = await ctap(['info', '--json', '--device', device]);
  assert.equal((JSON.parse(r.stdout) as { getInfo: { options: Record<string, boolean> } }).getInfo.options['alwaysUv'], true);
  r = await ctap(['config', 'nonsense', '--device', device]);
  assert.equal(r.code, 2);
});

test('creds update changes the stored user name', async () => {
  const device = `virtual:${join(dir, 'update.json')}`;
  assert.equal((await ctap(['pin', 'set', '--pin-stdin', '--device', device], { input: `${PIN}\n` })).code, 0);
  const reg = await ctap(['register', '--rp', 'example.com', '--user', 'frank', '--resident', '--json', '--device', device], { env: { CTAP_PIN: PIN } });
  assert.equal(reg.code, 0, reg.stderr);
  const id = (JSON.parse(reg.stdout) as { id: string }).id;
  const up = await ctap(['creds', 'update', `--name=frank@example.com`, '--display-name', 'Frank F.', '--pin-stdin', '--device', device, '--', id], { input: `${PIN}\n` });
  assert.equal(up.code, 0, up.stderr);
  const list = await ctap(['creds', 'list', '--pin-stdin', '--json', '--device', device], { input: `${PIN}\n` });
  const users = (JSON.parse(list.stdout) as { rps: { credentials: { user: { name?: string; displayName?: string } }[] }[] }).rps.flatMap((x) => x.credentials.map((c) => c.user));
  assert.deepEqual(users.map((u) => [u.name, u.displayName]), [['frank@example.com', 'Frank F.']]);
  const missing = await ctap(['creds', 'delete', 'AAAA', '--yes', '--pin-stdin', '--device', device], { input: `${PIN}\n` });
  assert.equal(missing.code, 4, 'an unknown credential ID: the key holds no such credential');
});

test('creds delete ID: a credential ID that starts with "-" is taken as the ID (no "--" needed)', async () => {
  const file = join(dir, 'dash.json');
  const device = `virtual:${file}`;
  assert.equal((await ctap(['pin', 'set', '--pin-stdin', '--device', device], { input: `${PIN}\n` })).code, 0);
  for (const user of ['gina', 'hank']) {
    const reg = await ctap(['register', '--rp', 'example.com', '--user', user, '--resident', '--json', '--device', device], { env: { CTAP_PIN: PIN } });
    assert.equal(reg.code, 0, reg.stderr);
  }
  // The virtual key's IDs start with its handle version byte, never "-": force gina's to start
  // with 0xf8 (base64url "-") in the state file. Credential management finds credentials by ID alone.
  const state = JSON.parse(readFileSync(file, 'utf8')) as { credentials: { id: { $b64: string }; userName?: string }[] };
  const gina = state.credentials.find((c) => c.userName === 'gina')!;
  const bytes = Buffer.from(gina.id.$b64, 'base64');
  bytes[0] = 0xf8;
  bytes[1] = 0xab; // "-K...": -K is no flag of ctap
  gina.id.$b64 = bytes.toString('base64');
  writeFileSync(file, JSON.stringify(state));
  const id = bytes.toString('base64url');
  assert.equal(id.slice(0, 2), '-K');
  const del = await ctap(['creds', 'delete', id, '--yes', '--pin-stdin', '--json', '--device', device], { input: `${PIN}\n` });
  assert.equal(del.code, 0, del.stderr);
  assert.deepEqual(JSON.parse(del.stdout), { deleted: id, rpId: 'example.com' });
  const list = await ctap(['creds', 'list', '--pin-stdin', '--json', '--device', device], { input: `${PIN}\n` });
  const users = (JSON.parse(list.stdout) as { rps: { credentials: { user: { name?: string } }[] }[] }).rps.flatMap((x) => x.credentials.map((c) => c.user.name));
  assert.deepEqual(users, ['hank']);
  // a real unknown option is still a usage error
  const bad = await ctap(['creds', 'delete', '--frobnicate', '--yes', '--pin-stdin', '--device', device], { input: `${PIN}\n` });
  assert.equal(bad.code, 2, bad.stderr);
  assert.match(bad.stderr, /Unknown option '--frobnicate'/);
});

test('bench --json: per-command statistics and a histogram that adds up', async () => {
  const r = await ctap(['bench', '-n', '5', '--json', '--device', 'virtual']);
  assert.equal(r.code, 0, r.stderr);
  const j = JSON.parse(r.stdout) as { iterations: number; commands: { command: string; n: number; minMs: number; p50Ms: number; maxMs: number; histogram: { count: number }[] }[] };
  assert.equal(j.iterations, 5);
  assert.ok(j.commands.some((c) => c.command === 'getInfo'));
  for (const c of j.commands) {
    assert.equal(c.n, 5);
    assert.ok(c.minMs <= c.p50Ms && c.p50Ms <= c.maxMs);
    assert.equal(c.histogram.reduce((a, b) => a + b.count, 0), 5);
  }
});

test('watch --for: no key, no events, exit 0', async (t) => {
  if ((await listDevices()).length > 0) return t.skip('a FIDO key is plugged in');
  const r = await ctap(['watch', '--for', '300', '--json']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, '');
});
