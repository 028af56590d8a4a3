/**
 * `ctap bio enroll|list|rename|remove` through the bin against the virtual
 * key's simulated fingerprint sensor: in-process (`--device virtual:FILE`,
 * the sensor carried by the state file) and over UDP (`ctap virtual serve
 * --bio --preview`). The PIN never appears in any output.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { VirtualAuthenticator } from '../../src/virtual/index.js';
import { ctap, freeUdpPort, spawnCtap, stopChild, waitForOutput, type CtapResult } from './helpers.js';

const PIN = '73915046';
const dir = mkdtempSync(join(tmpdir(), 'ctap-cli-bio-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** A key with a PIN (and a sensor when bio), its state in a file the CLI opens as virtual:FILE. */
async function keyFile(name: string, bio: boolean): Promise<string> {
  const file = join(dir, name);
  const key = await VirtualAuthenticator.create({ statePath: file, pin: PIN, ...(bio ? { bio: { samplesRequired: 3 } } : {}) });
  await key.close();
  return `virtual:${file}`;
}

const outputs: string[] = [];
async function run(args: string[], device: string): Promise<CtapResult> {
  // flags go before a `--`: a template ID is random base64url and may start with '-'
  const end = args.indexOf('--');
  const argv = end < 0 ? [...args, '--device', device] : [...args.slice(0, end), '--device', device, ...args.slice(end)];
  const r = await ctap(argv, { input: `${PIN}\n` });
  outputs.push(r.stdout, r.stderr);
  return r;
}

async function scenario(device: string): Promise<void> {
  let r = await run(['bio', 'list', '--pin-stdin', '--json'], device);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout), []);
  r = await run(['bio', 'list', '--pin-stdin'], device);
  assert.match(r.stdout, /No fingerprints enrolled/);

  r = await run(['bio', 'enroll', '--name', 'thumb', '--pin-stdin', '--json'], device);
  assert.equal(r.code, 0, r.stderr);
  const enrolled = JSON.parse(r.stdout) as { templateId: string; name: string };
  assert.equal(enrolled.name, 'thumb');
  assert.match(enrolled.templateId, /^[A-Za-z0-9_-]+$/);
  // (the per-sample progress lines are TTY-only status output; the countdown itself is tested in test/ctap2/virtual-bio.test.ts)

  r = await run(['bio', 'enroll', '--pin-stdin', '--json'], device);
  assert.equal(r.code, 0, r.stderr);
  const second = (JSON.parse(r.stdout) as { templateId: string }).templateId;

  r = await run(['bio', 'list', '--pin-stdin', '--json'], device);
  assert.deepEqual(JSON.parse(r.stdout), [{ templateId: enrolled.templateId, name: 'thumb' }, { templateId: second }]);

  r = await run(['bio', 'rename', '--pin-stdin', '--', second, 'index'], device);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /Renamed to "index"/);
  r = await run(['bio', 'list', '--pin-stdin'], device);
  assert.match(r.stdout, /thumb/);
  assert.match(r.stdout, /index/);

  // destructive: without a TTY it needs --yes
  r = await run(['bio', 'remove', '--pin-stdin', '--', enrolled.templateId], device);
  assert.notEqual(r.code, 0);
  r = await run(['bio', 'remove', '--pin-stdin', '--yes', '--json', '--', enrolled.templateId], device);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout), { removed: enrolled.templateId });
  r = await run(['bio', 'list', '--pin-stdin', '--json'], device);
  assert.deepEqual(JSON.parse(r.stdout), [{ templateId: second, name: 'index' }]);

  // a template that is not there: the key's answer, not a crash
  r = await run(['bio', 'rename', '--pin-stdin', '--', enrolled.templateId, 'ghost'], device);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /CTAP2_ERR_INVALID_OPTION/);

  // a wrong PIN: the key's retry count, reported
  const wrong = await ctap(['bio', 'list', '--pin-stdin', '--device', device], { input: '00000000\n' });
  outputs.push(wrong.stdout, wrong.stderr);
  assert.equal(wrong.code, 5, wrong.stderr);
  assert.match(wrong.stderr, /7/);
}

test('ctap bio enroll --name thumb, list, rename, remove against --device virtual:FILE (sensor kept in the state file)', async () => {
  const device = await keyFile('bio.json', true);
  await scenario(device);
  const info = await ctap(['info', '--json', '--device', device]);
  const options = (JSON.parse(info.stdout) as { getInfo: { options: Record<string, boolean> } }).getInfo.options;
  assert.equal(options['bioEnroll'], true);
  assert.equal(options['uv'], true);
});

test('ctap bio on a key without a sensor says so before asking for the PIN', async () => {
  const device = await keyFile('plain.json', false);
  const r = await ctap(['bio', 'list', '--device', device]);
  outputs.push(r.stdout, r.stderr);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /does not support biometric enrollment/);
  assert.doesNotMatch(r.stderr, /PIN/i);
});

test('ctap bio against `ctap virtual serve --bio --preview` over UDP (FIDO_2_1_PRE, command 0x40)', async () => {
  const port = await freeUdpPort();
  const child = spawnCtap(['virtual', 'serve', '--udp', `127.0.0.1:${port}`, '--bio', '--preview', '--pin-stdin', '--json']);
  try {
    child.stdin!.end(`${PIN}\n`);
    await waitForOutput(child, /"port"/);
    const device = `udp:127.0.0.1:${port}?local=0`;
    const info = await ctap(['info', '--json', '--device', device]);
    const gi = (JSON.parse(info.stdout) as { getInfo: { versions: string[]; options: Record<string, boolean> } }).getInfo;
    assert.ok(gi.versions.includes('FIDO_2_1_PRE'));
    assert.equal(gi.options['userVerificationMgmtPreview'], false);
    const r = await run(['bio', 'enroll', '--name', 'thumb', '--pin-stdin', '--json'], device);
    assert.equal(r.code, 0, r.stderr);
    const list = await run(['bio', 'list', '--pin-stdin', '--json'], device);
    assert.deepEqual((JSON.parse(list.stdout) as { name?: string }[]).map((t) => t.name), ['thumb']);
  } finally {
    await stopChild(child);
  }
});

test('the PIN never appears in any output', () => {
  assert.ok(outputs.length > 0);
  for (const o of outputs) assert.ok(!o.includes(PIN));
});
