import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { ed25519Generate, ed25519Sign, ed25519Verify, p256Generate, p256PublicFromPrivate, p256Sign, p256Verify } from '../../src/crypto/primitives.js';

test('p256Generate / ed25519Generate: well-formed key pairs that sign and verify', () => {
  for (let i = 0; i < 50; i++) {
    const k = p256Generate();
    assert.equal(k.privateKey.length, 32);
    assert.deepEqual(p256PublicFromPrivate(k.privateKey), k.publicKey);
    const msg = new Uint8Array([i]);
    assert.ok(p256Verify(k.publicKey, msg, p256Sign(k.privateKey, msg)));
    const e = ed25519Generate();
    assert.equal(e.privateKey.length, 32);
    assert.ok(ed25519Verify(e.publicKey, msg, ed25519Sign(e.privateKey, msg)));
  }
});

// Node 20: generateKeyPairSync + KeyObject.export({ format: 'jwk' }) self-deadlocks when a GC during
// the export finalizes the key's KeyGenJob (its destructor takes the mutex the export holds). A tiny
// young generation makes that GC happen within a few thousand key pairs; the old p256Generate hung
// here every time (the child is killed and the test fails), the createECDH one does not.
test('many key pairs under constant GC pressure never deadlock the main thread', () => {
  const mod = fileURLToPath(new URL('../../src/crypto/primitives.ts', import.meta.url));
  const script = `const m = await import(${JSON.stringify(mod)}); for (let i = 0; i < 20000; i++) { m.p256Generate(); m.ed25519Generate(); } console.log('ok');`;
  const r = spawnSync(process.execPath, ['--max-semi-space-size=1', '--import', 'tsx', '--input-type=module', '-e', script], {
    encoding: 'utf8',
    timeout: 120_000,
    killSignal: 'SIGKILL',
  });
  assert.equal(r.signal, null, 'the key generation loop hung (killed after 120 s)');
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout.trim(), 'ok');
});
