/** `ctap virtual serve` options seen from a client: faults, presence deny, usage errors. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { networkInterfaces } from 'node:os';
import { ctap, freeUdpPort, spawnCtap, stopChild, waitForOutput } from './helpers.js';

async function serve(extra: string[]): Promise<{ device: string; stop: () => Promise<void> }> {
  const port = await freeUdpPort();
  const child = spawnCtap(['virtual', 'serve', '--udp', `127.0.0.1:${port}`, '--json', ...extra]);
  await waitForOutput(child, /"port"/);
  return { device: `udp:127.0.0.1:${port}?local=0`, stop: () => stopChild(child) };
}

test('--fault garbage-cbor: the next CBOR reply is malformed (exit 7), the one after is fine', async () => {
  const s = await serve(['--fault', 'garbage-cbor:cmd=cbor']);
  try {
    const bad = await ctap(['info', '--json', '--device', s.device]);
    assert.equal(bad.code, 7, bad.stderr);
    const err = JSON.parse(bad.stderr) as { error: { name: string } };
    assert.equal(err.error.name, 'UnknownError');
    const good = await ctap(['info', '--json', '--device', s.device]);
    assert.equal(good.code, 0, good.stderr);
  } finally {
    await s.stop();
  }
});

test('--fault drop:tx=2: the 2nd CTAP transaction loses its answer and times out with a clear error; the 3rd works', async () => {
  // drop applies to app transactions (CBOR and MSG) by default; each `ctap info` makes one (getInfo).
  const s = await serve(['--fault', 'drop:tx=2']);
  try {
    const first = await ctap(['info', '--json', '--device', s.device, '--timeout', '5000']);
    assert.equal(first.code, 0, first.stderr);
    const dropped = await ctap(['info', '--json', '--device', s.device, '--timeout', '1000']);
    assert.equal(dropped.code, 6, dropped.stderr);
    const err = JSON.parse(dropped.stderr) as { error: { name: string; message: string } };
    assert.equal(err.error.name, 'NotAllowedError');
    assert.match(err.error.message, /did not complete CTAPHID_CBOR in time/);
    assert.match(err.error.message, /--timeout/);
    const third = await ctap(['info', '--json', '--device', s.device, '--timeout', '5000']);
    assert.equal(third.code, 0, third.stderr);
    assert.ok((JSON.parse(third.stdout) as { getInfo: { versions: string[] } }).getInfo.versions.includes('FIDO_2_1'));
  } finally {
    await s.stop();
  }
});

test('--fault is repeatable: both rules fire (drop:tx=1 then garbage-cbor:tx=2), then the key answers', async () => {
  const s = await serve(['--fault', 'drop:tx=1', '--fault', 'garbage-cbor:tx=2']);
  try {
    const dropped = await ctap(['info', '--json', '--device', s.device, '--timeout', '1000']);
    assert.equal(dropped.code, 6, dropped.stderr);
    const garbled = await ctap(['info', '--json', '--device', s.device]);
    assert.equal(garbled.code, 7, garbled.stderr);
    const good = await ctap(['info', '--json', '--device', s.device]);
    assert.equal(good.code, 0, good.stderr);
  } finally {
    await s.stop();
  }
});

test('--reset-window-ms: 0 refuses a reset (as a key past its 10 s window); a long window accepts it', async () => {
  const closed = await serve(['--reset-window-ms', '0']);
  try {
    const r = await ctap(['reset', '--yes', '--json', '--device', closed.device]);
    assert.notEqual(r.code, 0, r.stdout);
    assert.match(r.stderr, /NOT_ALLOWED|unplug/i);
  } finally {
    await closed.stop();
  }
  const open = await serve(['--reset-window-ms', '86400000']);
  try {
    const r = await ctap(['reset', '--yes', '--json', '--device', open.device]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), { ok: true });
  } finally {
    await open.stop();
  }
});

test('--presence deny: a registration is refused as a browser would refuse it', async () => {
  const s = await serve(['--presence', 'deny']);
  try {
    const r = await ctap(['register', '--rp', 'example.com', '--uv', 'discouraged', '--json', '--device', s.device, '--timeout', '20000']);
    assert.notEqual(r.code, 0);
    const err = JSON.parse(r.stderr) as { error: { name: string; ctap?: string } };
    assert.equal(err.error.name, 'NotAllowedError');
    assert.equal(r.stdout, '');
  } finally {
    await s.stop();
  }
});

test('--u2f-only: info reports a U2F-only key; register still works through CTAP1', async () => {
  const s = await serve(['--u2f-only']);
  try {
    const i = await ctap(['info', '--json', '--device', s.device]);
    assert.equal(i.code, 0, i.stderr);
    const j = JSON.parse(i.stdout) as { getInfo: unknown; ctaphid: { capabilityFlags: { CBOR: boolean } } };
    assert.equal(j.getInfo, null);
    assert.equal(j.ctaphid.capabilityFlags.CBOR, false);
    const r = await ctap(['register', '--rp', 'example.com', '--attestation', 'direct', '--json', '--device', s.device]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal((JSON.parse(r.stdout) as { type: string }).type, 'public-key');
  } finally {
    await s.stop();
  }
});

test('--allow-remote: --device udp: on a non-loopback address is refused (exit 2) without it and works with it', async (t) => {
  const host = Object.values(networkInterfaces()).flatMap((l) => l ?? []).find((a) => a.family === 'IPv4' && !a.internal)?.address;
  if (!host) return t.skip('this machine has no non-loopback IPv4 address');
  const port = await freeUdpPort();
  const child = spawnCtap(['virtual', 'serve', '--udp', `${host}:${port}`, '--allow-remote', '--json']);
  try {
    await waitForOutput(child, /"port"/);
    const device = `udp:${host}:${port}?local=0`;
    const refused = await ctap(['info', '--json', '--device', device]);
    assert.equal(refused.code, 2, refused.stderr);
    assert.match(refused.stderr, /not a loopback address/);
    assert.match(refused.stderr, /--allow-remote/);
    const allowed = await ctap(['info', '--json', '--allow-remote', '--device', device]);
    assert.equal(allowed.code, 0, allowed.stderr);
    assert.ok((JSON.parse(allowed.stdout) as { getInfo: { versions: string[] } }).getInfo.versions.includes('FIDO_2_1'));
  } finally {
    await stopChild(child);
  }
});

test('serve usage errors: bad --fault, non-loopback without --allow-remote, bad --presence', async () => {
  for (const args of [
    ['--fault', 'bogus'],
    ['--udp', '192.0.2.1:8111'],
    ['--presence', 'sometimes'],
    ['--capacity', '0'],
    ['--reset-window-ms', '-5'],
  ]) {
    const r = await ctap(['virtual', 'serve', ...args]);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
  }
});

/** Start `ctap virtual serve ARGS` and collect its stderr (where each fault firing is printed). */
async function serveWithStderr(extra: string[]): Promise<{ device: string; stderr: () => string; waitStderr: (re: RegExp) => Promise<void>; stop: () => Promise<void> }> {
  const port = await freeUdpPort();
  const child = spawnCtap(['virtual', 'serve', '--udp', `127.0.0.1:${port}`, ...extra]);
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  await waitForOutput(child, /listening on|"port"/);
  const waitStderr = async (re: RegExp): Promise<void> => {
    for (let i = 0; i < 200 && !re.test(stderr); i++) await new Promise((r) => setTimeout(r, 25));
    assert.match(stderr, re);
  };
  return { device: `udp:127.0.0.1:${port}?local=0`, stderr: () => stderr, waitStderr, stop: () => stopChild(child) };
}

test('--fault: serve prints one stderr line per firing, applied or not, with the transaction and command', async () => {
  // reorder on a one-packet PING answer is due but changes nothing; garbage-cbor hits getInfo
  const s = await serveWithStderr(['--fault', 'reorder:cmd=ping', '--fault', 'garbage-cbor:cmd=cbor']);
  try {
    assert.doesNotMatch(s.stderr(), /fault:/, 'nothing fired before a client came');
    const ping = await ctap(['ping', '--size', '8', '--device', s.device]);
    assert.equal(ping.code, 0, ping.stderr);
    await s.waitStderr(/^fault: reorder due on transaction \d+ \(PING\) but not applied: a one-packet answer has nothing to reorder$/m);
    const bad = await ctap(['info', '--json', '--device', s.device]);
    assert.equal(bad.code, 7, bad.stderr);
    await s.waitStderr(/^fault: garbage-cbor on transaction \d+ \(CBOR\): status 0x00 followed by bytes that are not CBOR$/m);
    const good = await ctap(['info', '--json', '--device', s.device]);
    assert.equal(good.code, 0, good.stderr);
    const lines = s.stderr().split('\n').filter((l) => l.startsWith('fault:'));
    assert.equal(lines.length, 2, `each rule fires once: ${lines.join(' | ')}`);
    const txOf = (l: string): number => Number(/transaction (\d+)/.exec(l)![1]);
    assert.ok(txOf(lines[0]!) < txOf(lines[1]!), 'the device counts transactions across clients');
  } finally {
    await s.stop();
  }
});

test('--fault with --json: each firing is a {"fault":{...}} line on stderr holding the record', async () => {
  // getInfo's answer spans several packets: its first is sent twice
  const s = await serveWithStderr(['--json', '--fault', 'duplicate:cmd=cbor']);
  try {
    const r = await ctap(['info', '--json', '--device', s.device, '--timeout', '3000']);
    assert.notEqual(r.code, 0, 'a duplicated packet of a multi-packet answer is a protocol error');
    await s.waitStderr(/^\{"fault":/m);
    const lines = s.stderr().split('\n').filter((l) => l.startsWith('{"fault":'));
    assert.equal(lines.length, 1);
    const f = (JSON.parse(lines[0]!) as { fault: { kind: string; tx: number; cmd: string; applied: boolean; note: string } }).fault;
    assert.equal(f.kind, 'duplicate');
    assert.equal(f.cmd, 'CBOR');
    assert.equal(f.applied, true);
    assert.ok(Number.isInteger(f.tx) && f.tx >= 1, 'INIT came first');
    assert.match(f.note, /^packet 0 of [2-9]\d* sent twice$/);
  } finally {
    await s.stop();
  }
});
