/**
 * What `creds list` and `blob get --credential` leave in memory: every
 * largeBlobKey the credential enumeration read is zeroed when the command
 * ends (the match's too, once blob has used its copy), the pinUvAuthToken is
 * destroyed, also when the command fails; and getCredsMetadata is asked
 * before the walk, so CredentialManagement can bound it by the key's capacity.
 * In-process (runCli) against a `virtual:FILE` key, with spies on the library.
 */
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CredentialManagement, type CredentialInfo } from '../../../src/ctap2/credential-management.js';
import { ClientPin, type PinUvAuthToken } from '../../../src/ctap2/client-pin.js';
import { ctap, ctapInProcess } from '../helpers.js';

const PIN = '482916';
const dir = mkdtempSync(join(tmpdir(), 'ctap-cli-creds-'));
const device = `virtual:${join(dir, 'key.json')}`;
let credentialId = '';

before(async () => {
  const set = await ctap(['pin', 'set', '--device', device], { env: { CTAP_NEW_PIN: PIN } });
  assert.equal(set.code, 0, set.stderr);
  for (const user of ['alice', 'bob']) {
    const r = await ctap(['register', '--rp', 'example.com', '--user', user, '--resident', '--ext', '{"largeBlob":{"support":"required"}}', '--json', '--device', device], {
      env: { CTAP_PIN: PIN },
    });
    assert.equal(r.code, 0, r.stderr);
    credentialId = (JSON.parse(r.stdout) as { id: string }).id;
  }
  const other = await ctap(['register', '--rp', 'example.org', '--user', 'carol', '--resident', '--ext', '{"largeBlob":{"support":"required"}}', '--json', '--device', device], {
    env: { CTAP_PIN: PIN },
  });
  assert.equal(other.code, 0, other.stderr);
});
after(() => rmSync(dir, { recursive: true, force: true }));

/** Spy on the library: the calls in order, every CredentialInfo handed out, every token issued. */
function spy(t: import('node:test').TestContext): { calls: string[]; creds: CredentialInfo[]; tokens: PinUvAuthToken[] } {
  const calls: string[] = [];
  const creds: CredentialInfo[] = [];
  const tokens: PinUvAuthToken[] = [];
  const proto = CredentialManagement.prototype;
  const meta = proto.getCredsMetadata;
  const rps = proto.enumerateRps;
  const list = proto.enumerateCredentials;
  t.mock.method(proto, 'getCredsMetadata', function (this: CredentialManagement, ...a: Parameters<typeof meta>) {
    calls.push('getCredsMetadata');
    return meta.apply(this, a);
  });
  t.mock.method(proto, 'enumerateRps', function (this: CredentialManagement, ...a: Parameters<typeof rps>) {
    calls.push('enumerateRps');
    return rps.apply(this, a);
  });
  t.mock.method(proto, 'enumerateCredentials', async function (this: CredentialManagement, ...a: Parameters<typeof list>) {
    calls.push('enumerateCredentials');
    const r = await list.apply(this, a);
    creds.push(...r);
    return r;
  });
  const getToken = ClientPin.prototype.getPinUvAuthTokenUsingPin;
  t.mock.method(ClientPin.prototype, 'getPinUvAuthTokenUsingPin', async function (this: ClientPin, ...a: Parameters<typeof getToken>) {
    const tok = await getToken.apply(this, a);
    tokens.push(tok);
    return tok;
  });
  return { calls, creds, tokens };
}

function withPin(t: import('node:test').TestContext): void {
  process.env.CTAP_PIN = PIN;
  t.after(() => delete process.env.CTAP_PIN);
}

const allZero = (b: Uint8Array): boolean => b.every((x) => x === 0);

test('creds list: getCredsMetadata before the walk; every largeBlobKey zeroed and the token destroyed at the end', async (t) => {
  const s = spy(t);
  withPin(t);
  const r = await ctapInProcess(['creds', 'list', '--json', '--device', device]);
  assert.equal(r.code, 0, r.stderr);
  const listed = JSON.parse(r.stdout) as { rps: { credentials: { largeBlobKey: boolean }[] }[] };
  assert.equal(listed.rps.flatMap((rp) => rp.credentials).filter((c) => c.largeBlobKey).length, 3, 'the output still says which credentials have one');
  assert.equal(s.calls[0], 'getCredsMetadata');
  assert.ok(s.calls.indexOf('getCredsMetadata') < s.calls.indexOf('enumerateRps'));
  const keys = s.creds.map((c) => c.largeBlobKey).filter((k): k is Uint8Array => k !== undefined);
  assert.equal(keys.length, 3, 'the key handed out a largeBlobKey per credential');
  for (const k of keys) {
    assert.equal(k.length, 32);
    assert.ok(allZero(k), 'a largeBlobKey survived the command');
  }
  assert.equal(s.tokens.length, 1);
  assert.ok(s.tokens[0]!.destroyed);
});

test('blob get --credential: every enumerated largeBlobKey zeroed (other credentials\' and the match\'s), token destroyed', async (t) => {
  const s = spy(t);
  withPin(t);
  const r = await ctapInProcess(['blob', 'get', `--credential=${credentialId}`, '--json', '--device', device]);
  // no blob was stored for it: the command fails after using the key, which is what matters here
  assert.equal(r.code, 4, r.stderr);
  assert.match(r.stderr, /No large blob is stored/);
  assert.ok(s.calls.indexOf('getCredsMetadata') >= 0 && s.calls.indexOf('getCredsMetadata') < s.calls.indexOf('enumerateRps'));
  const keys = s.creds.map((c) => c.largeBlobKey).filter((k): k is Uint8Array => k !== undefined);
  assert.equal(keys.length, 3);
  for (const k of keys) assert.ok(allZero(k), 'a largeBlobKey survived blob get');
  assert.equal(s.tokens.length, 1);
  assert.ok(s.tokens[0]!.destroyed);
});

test('blob set then get --credential round-trips, and still leaves no key behind', async (t) => {
  const s = spy(t);
  const file = join(dir, 'blob.bin');
  const { writeFileSync, readFileSync } = await import('node:fs');
  writeFileSync(file, 'certificate bytes');
  withPin(t);
  const set = await ctapInProcess(['blob', 'set', `--credential=${credentialId}`, '--in', file, '--device', device]);
  assert.equal(set.code, 0, set.stderr);
  process.env.CTAP_PIN = PIN;
  const out = join(dir, 'out.bin');
  const get = await ctapInProcess(['blob', 'get', `--credential=${credentialId}`, '--out', out, '--device', device]);
  assert.equal(get.code, 0, get.stderr);
  assert.equal(readFileSync(out, 'utf8'), 'certificate bytes');
  for (const c of s.creds) if (c.largeBlobKey) assert.ok(allZero(c.largeBlobKey));
  assert.equal(s.tokens.length, 2);
  assert.ok(s.tokens.every((tok) => tok.destroyed));
});

test('a credential that is not on the key: the command fails, and the keys read and the token are still wiped', async (t) => {
  const s = spy(t);
  withPin(t);
  const r = await ctapInProcess(['blob', 'get', '--credential', 'AAAAAAAAAAAAAAAAAAAAAA', '--device', device]);
  assert.equal(r.code, 4, r.stderr);
  assert.match(r.stderr, /No discoverable credential with that ID/);
  assert.ok(s.creds.length > 0);
  for (const c of s.creds) if (c.largeBlobKey) assert.ok(allZero(c.largeBlobKey));
  assert.ok(s.tokens.length === 1 && s.tokens[0]!.destroyed);
});

