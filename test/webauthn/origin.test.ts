import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkAppId, isRegistrableDomainSuffixOrEqual, parseCallerOrigin, parseRpIdHost, resolveRpId } from '../../src/webauthn/origin.js';
import { WebAuthnError } from '../../src/webauthn/errors.js';

// [origin, rpId (undefined = default), expected rpId or 'SecurityError' / 'TypeError', why]
const TABLE: [string, string | undefined, string, string][] = [
  ['https://example.com', 'example.com', 'example.com', 'equal'],
  ['https://example.com', undefined, 'example.com', 'default is the effective domain'],
  ['https://login.example.com', 'example.com', 'example.com', 'parent domain'],
  ['https://a.b.example.com', 'b.example.com', 'b.example.com', 'intermediate parent'],
  ['https://login.example.com', 'other.example.com', 'SecurityError', 'sibling'],
  ['https://example.com', 'login.example.com', 'SecurityError', 'child of the origin'],
  ['https://example.com', 'com', 'SecurityError', 'a public suffix'],
  ['https://notexample.com', 'example.com', 'SecurityError', 'suffix match without a dot'],
  ['https://example.co.uk', 'co.uk', 'SecurityError', 'ICANN public suffix co.uk'],
  ['https://www.example.co.uk', 'example.co.uk', 'example.co.uk', 'registrable domain under co.uk'],
  ['https://alice.github.io', 'github.io', 'SecurityError', 'private public suffix github.io'],
  ['https://alice.github.io', 'alice.github.io', 'alice.github.io', 'own github.io site'],
  ['https://bob.github.io', 'alice.github.io', 'SecurityError', 'another github.io site'],
  ['https://x.s3.amazonaws.com', 's3.amazonaws.com', 'SecurityError', 'private multi-label suffix'],
  ['http://localhost', 'localhost', 'localhost', 'http localhost'],
  ['http://localhost:8787', 'localhost', 'localhost', 'localhost with a port (Chromium reference origin)'],
  ['http://localhost:8787', undefined, 'localhost', 'default rpId drops the port'],
  ['http://app.localhost:3000', 'app.localhost', 'app.localhost', '*.localhost over http'],
  ['http://app.localhost', 'localhost', 'SecurityError', 'localhost is a public suffix under the * rule'],
  ['http://example.com', 'example.com', 'SecurityError', 'plain http is not secure'],
  ['https://example.com:8443', 'example.com', 'example.com', 'ports do not matter'],
  ['https://example.com', 'example.com:8443', 'SecurityError', 'an rpId is a domain, not host:port'],
  ['https://127.0.0.1', '127.0.0.1', 'SecurityError', 'IPv4 origin'],
  ['https://[::1]', '[::1]', 'SecurityError', 'IPv6 origin'],
  ['http://127.0.0.1:8080', undefined, 'SecurityError', 'http IP'],
  ['https://example.com', '93.184.216.34', 'SecurityError', 'IP rpId'],
  ['https://BÜCHER.example', 'bücher.example', 'xn--bcher-kva.example', 'IDN: compared and sent as punycode'],
  ['https://www.xn--bcher-kva.example', 'bücher.example', 'xn--bcher-kva.example', 'punycode origin, unicode rpId'],
  ['https://www.bücher.example', 'xn--bcher-kva.example', 'xn--bcher-kva.example', 'unicode origin, punycode rpId'],
  ['https://EXAMPLE.com', 'Example.COM', 'example.com', 'case-insensitive'],
  ['https://example.com', '', 'SecurityError', 'empty rpId'],
  ['https://example.com', 'example.com/path', 'SecurityError', 'rpId with a path'],
  ['https://example.com', 'https://example.com', 'SecurityError', 'rpId given as an origin'],
  ['file:///tmp/x', 'localhost', 'TypeError', 'file URL is not an origin'],
  ['https://example.com/login', 'example.com', 'TypeError', 'origin with a path'],
  ['ftp://example.com', 'example.com', 'SecurityError', 'other scheme'],
  // trailing dots (review L5): the origin's dot is ignored for the RP ID; an RP ID with a dot is refused
  ['https://example.com.', undefined, 'example.com', 'origin with a trailing dot: default RP ID without it'],
  ['https://example.com.', 'example.com', 'example.com', 'origin with a trailing dot claims its dotless name'],
  ['https://login.example.com.', 'example.com', 'example.com', 'dotted origin, parent RP ID'],
  ['https://example.com', 'example.com.', 'SecurityError', 'RP ID with a trailing dot'],
  ['https://example.com.', 'example.com.', 'SecurityError', 'RP ID with a trailing dot, even from a dotted origin'],
  ['https://example.com..', undefined, 'SecurityError', 'two trailing dots: no valid domain'],
  ['http://localhost.', undefined, 'localhost', 'localhost with a trailing dot'],
  // a public suffix is never an RP ID, even when it is the origin's own host (review L5)
  ['https://com', 'com', 'SecurityError', 'the origin is a public suffix (ICANN)'],
  ['https://com', undefined, 'SecurityError', 'default RP ID of a public-suffix origin'],
  ['https://github.io', 'github.io', 'SecurityError', 'the origin is a private public suffix'],
  ['https://co.uk', undefined, 'SecurityError', 'multi-label public-suffix origin'],
  ['https://intranet', undefined, 'SecurityError', 'an unlisted single label is a public suffix under the * rule'],
  ['https://com.', undefined, 'SecurityError', 'public suffix with a trailing dot'],
];

for (const [origin, rpId, expected, why] of TABLE) {
  test(`resolveRpId ${origin} ${rpId ?? '(default)'} → ${expected} (${why})`, async () => {
    if (expected === 'SecurityError') {
      await assert.rejects(resolveRpId(origin, rpId), (e: unknown) => e instanceof WebAuthnError && e.name === 'SecurityError');
    } else if (expected === 'TypeError') {
      await assert.rejects(resolveRpId(origin, rpId), TypeError);
    } else {
      const r = await resolveRpId(origin, rpId);
      assert.equal(r.rpId, expected);
    }
  });
}

test('the serialized origin drops the default port and lower-cases', () => {
  assert.equal(parseCallerOrigin('https://Example.COM:443').serialized, 'https://example.com');
  assert.equal(parseCallerOrigin('http://localhost:8787/').serialized, 'http://localhost:8787');
  assert.equal(parseCallerOrigin('https://bücher.example').serialized, 'https://xn--bcher-kva.example');
});

test('isRegistrableDomainSuffixOrEqual follows HTML on ASCII hosts', () => {
  assert.equal(isRegistrableDomainSuffixOrEqual('example.com', 'example.com'), true);
  assert.equal(isRegistrableDomainSuffixOrEqual('example.com', 'a.example.com'), true);
  assert.equal(isRegistrableDomainSuffixOrEqual('', 'example.com'), false);
  assert.equal(isRegistrableDomainSuffixOrEqual('github.io', 'a.github.io'), false);
  assert.equal(isRegistrableDomainSuffixOrEqual('io', 'a.github.io'), false);
  assert.equal(isRegistrableDomainSuffixOrEqual('127.0.0.1', '127.0.0.1'), true, 'equal hosts are equal, even IPs (the IP refusal is the origin check)');
  assert.equal(parseRpIdHost('a b.com'), null);
});

test('verifyRpId replaces the built-in decision, and its refusal is a SecurityError', async () => {
  const seen: [string, string][] = [];
  const ok = await resolveRpId('app://desktop', 'example.com', (rpId, origin) => {
    seen.push([rpId, origin]);
    return true;
  });
  assert.equal(ok.rpId, 'example.com');
  assert.deepEqual(seen, [['example.com', 'app://desktop']]);
  await assert.rejects(resolveRpId('https://example.com', 'example.com', async () => false), (e: unknown) => e instanceof WebAuthnError && e.name === 'SecurityError');
});

// [appid, origin, accepted?, why]
const APPID_TABLE: [string, string, boolean, string][] = [
  ['https://example.com/appid.json', 'https://login.example.com', true, 'same site'],
  ['https://u2f.example.com/appid.json', 'https://example.com', true, 'same site, other host'],
  ['https://user@example.com/appid.json', 'https://example.com', false, 'user name in the appid (review L5)'],
  ['https://user:secret@example.com/appid.json', 'https://example.com', false, 'user name and password in the appid'],
  ['https://:secret@example.com/appid.json', 'https://example.com', false, 'password only'],
  ['http://example.com/appid.json', 'https://example.com', false, 'not https'],
  ['https://evil.example.net/appid.json', 'https://example.com', false, 'another site'],
];

for (const [appid, origin, ok, why] of APPID_TABLE) {
  test(`checkAppId ${appid} from ${origin} → ${ok ? 'accepted' : 'SecurityError'} (${why})`, () => {
    const caller = parseCallerOrigin(origin);
    if (ok) assert.equal(checkAppId(appid, caller), appid);
    else {
      assert.throws(() => checkAppId(appid, caller), (e: unknown) => {
        assert.ok(e instanceof WebAuthnError && e.name === 'SecurityError');
        assert.ok(!e.message.includes('secret'), 'a password in the appid is never echoed');
        return true;
      });
    }
  });
}

test('verifyRpId: the app decides, but a trailing dot or a listed public suffix is still refused; a custom scheme host is the app\'s call', async () => {
  const yes = (): boolean => true;
  await assert.rejects(resolveRpId('app://desktop', 'example.com.', yes), (e: unknown) => e instanceof WebAuthnError && e.name === 'SecurityError');
  await assert.rejects(resolveRpId('app://desktop', 'com', yes), (e: unknown) => e instanceof WebAuthnError && e.name === 'SecurityError');
  await assert.rejects(resolveRpId('app://desktop', 'github.io', yes), (e: unknown) => e instanceof WebAuthnError && e.name === 'SecurityError');
  assert.equal((await resolveRpId('app://desktop', undefined, yes)).rpId, 'desktop', 'an unlisted label under a custom scheme stays the app\'s decision');
  assert.equal((await resolveRpId('https://example.com.', undefined, yes)).rpId, 'example.com');
});
