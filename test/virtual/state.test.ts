import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { spawn } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomBytes } from '../../src/crypto/primitives.js';
import { CTAP2_CMD } from '../../src/ctap2/commands.js';
import { utf8Encode } from '../../src/util/bytes.js';
import type { CborValue } from '../../src/cbor/index.js';
import { VirtualAuthenticator, VirtualStateError } from '../../src/virtual/index.js';
import { TestCtapHidHost } from '../helpers/virtual-driver.js';
import { pinRetries, pinToken } from './pin-client.js';
import { checkAssertion, checkAttestation } from './verify.js';

const RP = 'example.com';

function mc(userId: string): { req: Map<number, CborValue>; cdh: Uint8Array } {
  const cdh = randomBytes(32);
  return {
    cdh,
    req: new Map<number, CborValue>([
      [1, cdh],
      [2, { id: RP }],
      [3, { id: utf8Encode(userId), name: userId }],
      [4, [{ alg: -7, type: 'public-key' }]],
      [7, { rk: true }],
    ]),
  };
}

async function tempDir(t: { after(fn: () => Promise<void>): void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'ctap-virtual-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

test('a state file survives a restart: credentials, PIN, retries, counters, attestation identity', async (t) => {
  const path = join(await tempDir(t), 'key.json');
  const key1 = await VirtualAuthenticator.create({ statePath: path, pin: '1234' });
  const h1 = await TestCtapHidHost.open(key1.port());
  // A wrong PIN (retries 7) and a right one (back to 8) — then one more wrong: 7 must persist.
  const tok = await pinToken(h1, 2, '1234', 0x01, RP);
  const r = mc('alice');
  r.req.set(8, tok.proto.authenticate(tok.token!, r.cdh));
  r.req.set(9, 2);
  const res = await h1.cbor(CTAP2_CMD.makeCredential, r.req);
  assert.equal(res.status, 0);
  const att = checkAttestation(res.value, RP, r.cdh);
  assert.equal((await pinToken(h1, 2, '0000')).status, 0x31);
  const gaTok = await pinToken(h1, 2, '1234', 0x02, RP);
  const cdh = randomBytes(32);
  const ga = await h1.cbor(CTAP2_CMD.getAssertion, new Map<number, CborValue>([[1, RP], [2, cdh], [6, gaTok.proto.authenticate(gaTok.token!, cdh)], [7, 2]]));
  const before = checkAssertion(ga.value, att.publicKey!, RP, cdh);
  assert.equal((await pinToken(h1, 2, '0000')).status, 0x31);
  const aaguid = key1.aaguid;
  await key1.close();
  assert.equal((await stat(path)).mode & 0o777, 0o600);

  const key2 = await VirtualAuthenticator.create({ statePath: path, pin: 'ignored-when-state-exists' });
  const h2 = await TestCtapHidHost.open(key2.port());
  assert.deepEqual(key2.aaguid, aaguid);
  assert.equal((await pinRetries(h2)).retries, 7);
  const t2 = await pinToken(h2, 2, '1234', 0x02, RP);
  assert.equal(t2.status, 0, 'the PIN survived');
  const cdh2 = randomBytes(32);
  const ga2 = await h2.cbor(CTAP2_CMD.getAssertion, new Map<number, CborValue>([[1, RP], [2, cdh2], [6, t2.proto.authenticate(t2.token!, cdh2)], [7, 2]]));
  const after = checkAssertion(ga2.value, att.publicKey!, RP, cdh2);
  assert.deepEqual(after.id, att.credentialId);
  assert.ok(after.signCount > before.signCount, 'the counter continued');
  assert.equal(after.user!.text('name'), 'alice', 'full user with UV');
  // x5c identity kept: a new attestation uses the same batch certificate.
  const m2 = mc('bob');
  const t3 = await pinToken(h2, 2, '1234', 0x01, RP);
  m2.req.set(8, t3.proto.authenticate(t3.token!, m2.cdh));
  m2.req.set(9, 2);
  const att2 = checkAttestation((await h2.cbor(CTAP2_CMD.makeCredential, m2.req)).value, RP, m2.cdh);
  assert.deepEqual(att2.x5c, att.x5c);
  await key2.close();
});

test('a corrupt state file gives a clear typed error and is left untouched', async (t) => {
  const dir = await tempDir(t);
  const path = join(dir, 'key.json');
  await writeFile(path, '{"version": 1, "aaguid": ');
  await assert.rejects(VirtualAuthenticator.create({ statePath: path }), (e: unknown) => {
    assert.ok(e instanceof VirtualStateError);
    assert.equal(e.code, 'STATE_CORRUPT');
    assert.match(e.message, /not valid JSON/);
    assert.match(e.message, /key\.json/);
    return true;
  });
  assert.equal(await readFile(path, 'utf8'), '{"version": 1, "aaguid": ');
  await writeFile(path, JSON.stringify({ version: 1, aaguid: 'nope' }));
  await assert.rejects(VirtualAuthenticator.create({ statePath: path }), (e: unknown) => e instanceof VirtualStateError && e.code === 'STATE_CORRUPT' && /aaguid/.test(e.message));
  await writeFile(path, JSON.stringify({ version: 7 }));
  await assert.rejects(VirtualAuthenticator.create({ statePath: path }), (e: unknown) => e instanceof VirtualStateError && e.code === 'STATE_VERSION');
  assert.equal(await readFile(path, 'utf8'), JSON.stringify({ version: 7 }));
});

test('a failure between write and rename: the command fails, nothing acknowledged is lost, no temp file remains', async (t) => {
  const dir = await tempDir(t);
  const path = join(dir, 'key.json');
  let failNext = false;
  const key = await VirtualAuthenticator.create({
    statePath: path,
    stateFileHooks: {
      beforeRename: () => {
        if (failNext) throw new Error('simulated crash before rename');
      },
    },
  });
  const host = await TestCtapHidHost.open(key.port());
  const a = mc('acked');
  assert.equal((await host.cbor(CTAP2_CMD.makeCredential, a.req)).status, 0);
  failNext = true;
  const b = mc('never-acked');
  assert.equal((await host.cbor(CTAP2_CMD.makeCredential, b.req)).status, 0x7f, 'not acknowledged');
  failNext = false;
  // In memory the failed credential was rolled back too.
  const cdh = randomBytes(32);
  const ga = await host.cbor(CTAP2_CMD.getAssertion, new Map<number, CborValue>([[1, RP], [2, cdh]]));
  assert.equal(ga.status, 0);
  assert.equal((await import('../../src/cbor/index.js')).CborMapReader.from(ga.value, 'ga').uint(5), 1);
  await key.close();
  assert.deepEqual((await readdir(dir)).filter((f) => f.endsWith('.tmp')), []);
  const again = await VirtualAuthenticator.create({ statePath: path });
  const h2 = await TestCtapHidHost.open(again.port());
  const ga2 = await h2.cbor(CTAP2_CMD.getAssertion, new Map<number, CborValue>([[1, RP], [2, cdh]]));
  assert.equal(ga2.status, 0);
  await again.close();
});

test('a process killed between write and rename loses nothing acknowledged', async (t) => {
  const dir = await tempDir(t);
  const path = join(dir, 'key.json');
  const child = fileURLToPath(new URL('./state-crash-child.ts', import.meta.url));
  const out = await new Promise<{ code: number | null; signal: string | null; stdout: string }>((resolve) => {
    const p = spawn(process.execPath, ['--import', 'tsx', child, path], { stdio: ['ignore', 'pipe', 'inherit'] });
    let stdout = '';
    p.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    p.on('exit', (code, signal) => resolve({ code, signal, stdout }));
  });
  assert.equal(out.signal, 'SIGKILL', 'the child died mid-write');
  const acked = out.stdout.trim().split('\n').filter((l) => l.startsWith('acked ')).map((l) => l.slice(6));
  assert.ok(acked.length >= 2, `the child acknowledged credentials first (${out.stdout})`);
  // The crash left its temp file behind; the state file itself is intact, and a restart removes the leftover.
  assert.equal((await readdir(dir)).filter((f) => f.endsWith('.tmp')).length, 1);
  const key = await VirtualAuthenticator.create({ statePath: path });
  assert.deepEqual((await readdir(dir)).filter((f) => f.endsWith('.tmp')), []);
  const host = await TestCtapHidHost.open(key.port());
  const { CborMapReader } = await import('../../src/cbor/index.js');
  const found: string[] = [];
  const cdh = randomBytes(32);
  const first = await host.cbor(CTAP2_CMD.getAssertion, new Map<number, CborValue>([[1, RP], [2, cdh]]));
  assert.equal(first.status, 0);
  const total = CborMapReader.from(first.value, 'ga').uint(5);
  found.push(new TextDecoder().decode(CborMapReader.from(first.value, 'ga').reader(4).bytes('id')));
  for (let i = 1; i < total; i++) {
    const n = await host.cbor(CTAP2_CMD.getNextAssertion);
    found.push(new TextDecoder().decode(CborMapReader.from(n.value, 'ga').reader(4).bytes('id')));
  }
  for (const id of acked) assert.ok(found.includes(id), `acknowledged credential ${id} survived`);
  assert.ok(!found.includes('killed-mid-write'), 'the unacknowledged one is not there');
  await key.close();
});
