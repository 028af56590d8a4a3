/**
 * `ctap register --json` / `ctap login --json` print exactly the L3 JSON a
 * WebAuthn server takes: @simplewebauthn/server (an independent RP library)
 * verifies both, and the discoverable login's userHandle is the user id.
 * Also: large blobs through the CLI (blob set/get) on the same key.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { verifyAuthenticationResponse, verifyRegistrationResponse } from '@simplewebauthn/server';
import { ctap } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'ctap-cli-webauthn-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const b64u = (b: Buffer): string => b.toString('base64url');

test('register --json and login --json verify with @simplewebauthn/server; userHandle = user id', async () => {
  const device = `virtual:${join(dir, 'rp.json')}`;
  const userId = b64u(Buffer.from('user-42-handle'));
  const regChallenge = b64u(Buffer.from('registration challenge 0123456789abcdef'));
  const reg = await ctap(['register', '--rp', 'example.com', '--user', 'dana', '--user-id', userId, '--challenge', regChallenge, '--resident', '--uv', 'discouraged', '--alg', 'eddsa,es256', '--json', '--device', device]);
  assert.equal(reg.code, 0, reg.stderr);
  const regJson = JSON.parse(reg.stdout);
  assert.deepEqual(Object.keys(regJson).sort(), ['authenticatorAttachment', 'clientExtensionResults', 'id', 'rawId', 'response', 'type']);
  const v = await verifyRegistrationResponse({
    response: regJson,
    expectedChallenge: regChallenge,
    expectedOrigin: 'https://example.com',
    expectedRPID: 'example.com',
    requireUserVerification: false,
  });
  assert.equal(v.verified, true);
  const credential = v.registrationInfo!.credential;
  assert.equal(regJson.response.publicKeyAlgorithm, -8, 'EdDSA first, as asked');

  const getChallenge = b64u(Buffer.from('login challenge fedcba9876543210'));
  const login = await ctap(['login', '--rp', 'example.com', '--challenge', getChallenge, '--uv', 'discouraged', '--json', '--device', device]);
  assert.equal(login.code, 0, login.stderr);
  const authJson = JSON.parse(login.stdout);
  assert.equal(authJson.id, regJson.id);
  assert.equal(authJson.response.userHandle, userId, 'discoverable login returns the registered user.id');
  const a = await verifyAuthenticationResponse({
    response: authJson,
    expectedChallenge: getChallenge,
    expectedOrigin: 'https://example.com',
    expectedRPID: 'example.com',
    credential,
    requireUserVerification: false,
  });
  assert.equal(a.verified, true);

  // a non-discoverable login with --allow: same credential, verified again
  const allow = await ctap(['login', '--rp', 'example.com', `--allow=${regJson.id}`, '--challenge', getChallenge, '--uv', 'discouraged', '--json', '--device', device]);
  assert.equal(allow.code, 0, allow.stderr);
  const a2 = await verifyAuthenticationResponse({
    response: JSON.parse(allow.stdout),
    expectedChallenge: getChallenge,
    expectedOrigin: 'https://example.com',
    expectedRPID: 'example.com',
    credential: { ...credential, counter: a.authenticationInfo.newCounter },
    requireUserVerification: false,
  });
  assert.equal(a2.verified, true);
});

test('register/login errors: --rp required, origin/RP mismatch is a SecurityError before the key is touched', async () => {
  const r = await ctap(['register', '--device', 'virtual']);
  assert.equal(r.code, 2);
  const s = await ctap(['register', '--rp', 'example.com', '--origin', 'https://evil.test', '--device', 'virtual', '--json']);
  assert.notEqual(s.code, 0);
  assert.equal((JSON.parse(s.stderr) as { error: { name: string } }).error.name, 'SecurityError');
  const n = await ctap(['login', '--rp', 'example.com', '--uv', 'discouraged', '--device', 'virtual', '--json']);
  assert.notEqual(n.code, 0, 'nothing to log in with on a fresh key');
  assert.equal((JSON.parse(n.stderr) as { error: { name: string } }).error.name, 'NotAllowedError');
});

test('blob set / blob get round-trip a credential\'s large blob', async () => {
  const device = `virtual:${join(dir, 'blob.json')}`;
  const pin = '615243';
  assert.equal((await ctap(['pin', 'set', '--pin-stdin', '--device', device], { input: `${pin}\n` })).code, 0);
  const reg = await ctap(['register', '--rp', 'blobs.example', '--user', 'erin', '--resident', '--ext', '{"largeBlob":{"support":"required"}}', '--json', '--device', device], { env: { CTAP_PIN: pin } });
  assert.equal(reg.code, 0, reg.stderr);
  const id = (JSON.parse(reg.stdout) as { id: string }).id;
  const file = join(dir, 'blob.bin');
  const payload = Buffer.from('certificate bytes \u0000\u0001\u0002 and more');
  writeFileSync(file, payload);
  const set = await ctap(['blob', 'set', `--credential=${id}`, '--in', file, '--pin-stdin', '--device', device], { input: `${pin}\n` });
  assert.equal(set.code, 0, set.stderr);
  const get = await ctap(['blob', 'get', `--credential=${id}`, '--pin-stdin', '--json', '--device', device], { input: `${pin}\n` });
  assert.equal(get.code, 0, get.stderr);
  const j = JSON.parse(get.stdout) as { data: string; size: number; rpId: string };
  assert.equal(j.rpId, 'blobs.example');
  assert.deepEqual(Buffer.from(j.data, 'base64url'), payload);
  const arr = await ctap(['blob', 'get', '--json', '--device', device]);
  assert.equal(arr.code, 0, arr.stderr);
  const a = JSON.parse(arr.stdout) as { valid: boolean; entries: { origSize?: number }[] };
  assert.equal(a.valid, true);
  assert.deepEqual(a.entries.map((e) => e.origSize), [payload.length]);
});
