/**
 * Related origin requests (WebAuthn L3 §5.11 / §5.11.1): the validation
 * procedure on its own, the well-known document checks through an injected
 * fetcher (no network), the built-in Node fetcher against a local HTTP
 * server, and whole ceremonies on a virtual key that a relying party
 * (@simplewebauthn/server) verifies with the caller's origin and the shared RP ID.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { verifyAuthenticationResponse, verifyRegistrationResponse } from '@simplewebauthn/server';
import type { AuthenticationResponseJSON, RegistrationResponseJSON } from '@simplewebauthn/server';
import { bench, challenge } from './harness.js';
import { base64urlDecode, base64urlEncode } from '../../src/webauthn/base64url.js';
import { WebAuthnError } from '../../src/webauthn/errors.js';
import {
  nodeRelatedOriginsFetcher,
  registrableOriginLabel,
  validateRelatedOrigins,
  type RelatedOriginsFetcher,
  type RelatedOriginsFetchInit,
} from '../../src/webauthn/related-origins.js';
import type { WebAuthnClientOptions } from '../../src/webauthn/client.js';
import { randomBytes } from '../../src/crypto/primitives.js';

const CALLER = 'https://shop.example.co.uk';
const RPID = 'example.com';
const WELL_KNOWN = 'https://example.com/.well-known/webauthn';

interface Served {
  status?: number;
  contentType?: string | null;
  body?: string;
  contentLength?: string;
}

/** A fetcher that serves one canned answer and records every call. */
function served(answer: Served | (() => Served)) {
  const calls: { url: string; init: RelatedOriginsFetchInit }[] = [];
  const fetch: RelatedOriginsFetcher = async (url, init) => {
    calls.push({ url, init });
    const a = typeof answer === 'function' ? answer() : answer;
    const headers = new Map<string, string>();
    if (a.contentType !== null) headers.set('content-type', a.contentType ?? 'application/json');
    if (a.contentLength !== undefined) headers.set('content-length', a.contentLength);
    return { status: a.status ?? 200, headers: { get: (n: string) => headers.get(n.toLowerCase()) ?? null }, text: async () => a.body ?? '' };
  };
  return { fetch, calls };
}

const doc = (origins: unknown) => JSON.stringify({ origins });

function creation() {
  return {
    rp: { id: RPID, name: 'Example' },
    user: { id: randomBytes(16), name: 'alice@example.com', displayName: 'Alice' },
    challenge: challenge(),
    pubKeyCredParams: [{ type: 'public-key', alg: -7 }],
  };
}

async function expectSecurityError(p: Promise<unknown>, includes?: RegExp): Promise<WebAuthnError> {
  const e = await p.then(
    () => assert.fail('expected a SecurityError'),
    (err: unknown) => err,
  );
  assert.ok(e instanceof WebAuthnError, `not a WebAuthnError: ${String(e)}`);
  assert.equal(e.name, 'SecurityError', e.message);
  if (includes) assert.match(e.message, includes);
  return e;
}

async function clientWith(options: Partial<WebAuthnClientOptions>) {
  return bench({}, {}, { origin: CALLER, ...options });
}

// ---- the procedure (§5.11.1 steps 5-7) ----

test('registrableOriginLabel: first label of the registrable domain (PSL with private domains)', () => {
  assert.equal(registrableOriginLabel('login.example.co.uk'), 'example');
  assert.equal(registrableOriginLabel('example.com'), 'example');
  assert.equal(registrableOriginLabel('alice.github.io'), 'alice');
  assert.equal(registrableOriginLabel('co.uk'), null);
  assert.equal(registrableOriginLabel('com'), null);
  assert.equal(registrableOriginLabel('127.0.0.1'), null);
});

test('validateRelatedOrigins: same-origin match, not host or registrable-domain match', () => {
  assert.equal(validateRelatedOrigins(['https://shop.example.co.uk'], CALLER), true);
  // Default port and a path do not change the origin.
  assert.equal(validateRelatedOrigins(['https://shop.example.co.uk:443/x?y'], CALLER), true);
  assert.equal(validateRelatedOrigins(['https://shop.example.co.uk:8443'], CALLER), false);
  assert.equal(validateRelatedOrigins(['http://shop.example.co.uk'], CALLER), false);
  assert.equal(validateRelatedOrigins(['https://example.co.uk'], CALLER), false);
  assert.equal(validateRelatedOrigins(['https://other.example.co.uk'], CALLER), false);
  assert.equal(validateRelatedOrigins([], CALLER), false);
});

test('validateRelatedOrigins: only the first 5 distinct labels count, in document order', () => {
  const five = ['https://a.com', 'https://b.com', 'https://c.com', 'https://d.com', 'https://e.com'];
  // A sixth label is skipped, even as the caller's exact origin.
  assert.equal(validateRelatedOrigins([...five, 'https://f.com'], 'https://f.com'), false);
  assert.equal(validateRelatedOrigins([...five.slice(0, 4), 'https://f.com'], 'https://f.com'), true);
  // An origin under one of the five labels still counts after the limit is reached (another TLD, same label).
  assert.equal(validateRelatedOrigins([...five, 'https://f.com', 'https://www.a.de'], 'https://www.a.de'), true);
  // Repeats of one label use one slot.
  const repeats = ['https://x.a.com', 'https://y.a.com', 'https://a.de', 'https://a.fr', 'https://b.com', 'https://c.com', 'https://d.com', 'https://e.com'];
  assert.equal(validateRelatedOrigins(repeats, 'https://e.com'), true);
  assert.equal(validateRelatedOrigins([...repeats, 'https://f.com'], 'https://f.com'), false);
});

test('validateRelatedOrigins: unparseable items, public suffixes and IPs are skipped without using a label', () => {
  const junk = ['not a url', 'https://co.uk', 'https://127.0.0.1', 'data:text/plain,x', 'https://github.io', ''];
  const five = ['https://a.com', 'https://b.com', 'https://c.com', 'https://d.com'];
  assert.equal(validateRelatedOrigins([...junk, ...five, 'https://shop.example.co.uk'], CALLER), true);
  // The caller itself as an IP origin never matches (no registrable origin label).
  assert.equal(validateRelatedOrigins(['https://127.0.0.1'], 'https://127.0.0.1'), false);
});

// ---- whole ceremonies ----

test('a listed origin may use the RP ID: create and get on the key, verified by the RP; one fetch per RP ID', async () => {
  const { fetch, calls } = served({ body: doc(['https://example.com', CALLER]), contentType: 'application/json; charset=utf-8' });
  const b = await clientWith({ relatedOrigins: { fetch } });
  try {
    const c1 = challenge();
    const reg = await b.client.create({ ...creation(), challenge: c1 });
    const regJson = JSON.parse(JSON.stringify(reg)) as RegistrationResponseJSON;
    const cd = JSON.parse(new TextDecoder().decode(base64urlDecode(regJson.response.clientDataJSON))) as Record<string, unknown>;
    assert.equal(cd.origin, CALLER);
    assert.equal(cd.type, 'webauthn.create');
    const authData = base64urlDecode(regJson.response.authenticatorData!);
    assert.deepEqual(authData.subarray(0, 32), new Uint8Array(createHash('sha256').update(RPID).digest()));
    const v = await verifyRegistrationResponse({ response: regJson, expectedChallenge: base64urlEncode(c1), expectedOrigin: CALLER, expectedRPID: RPID, requireUserVerification: false });
    assert.equal(v.verified, true);
    const info = v.registrationInfo!;

    const c2 = challenge();
    const asn = await b.client.get({ rpId: RPID, challenge: c2, allowCredentials: [{ type: 'public-key', id: reg.rawId }] });
    const asnJson = JSON.parse(JSON.stringify(asn)) as AuthenticationResponseJSON;
    const cd2 = JSON.parse(new TextDecoder().decode(base64urlDecode(asnJson.response.clientDataJSON))) as Record<string, unknown>;
    assert.equal(cd2.origin, CALLER);
    assert.deepEqual(base64urlDecode(asnJson.response.authenticatorData).subarray(0, 32), new Uint8Array(createHash('sha256').update(RPID).digest()));
    const v2 = await verifyAuthenticationResponse({
      response: asnJson,
      expectedChallenge: base64urlEncode(c2),
      expectedOrigin: CALLER,
      expectedRPID: RPID,
      credential: info.credential,
      requireUserVerification: false,
    });
    assert.equal(v2.verified, true);

    assert.equal(calls.length, 1, 'the document is fetched once for the client');
    assert.equal(calls[0]!.url, WELL_KNOWN);
    assert.ok(calls[0]!.init.signal instanceof AbortSignal);
    assert.equal(calls[0]!.init.maxBytes, 64 * 1024);
  } finally {
    await b.close();
  }
});

test('the usual rule still applies first: an RP ID the origin may claim needs no fetch', async () => {
  const { fetch, calls } = served({ body: doc([]) });
  const b = await clientWith({ relatedOrigins: { fetch } });
  try {
    const reg = await b.client.create({ ...creation(), rp: { id: 'example.co.uk', name: 'Example' } });
    assert.equal(reg.type, 'public-key');
    assert.equal(calls.length, 0);
  } finally {
    await b.close();
  }
});

test('an unlisted origin: SecurityError saying what was checked, the key untouched', async () => {
  const { fetch, calls } = served({ body: doc(['https://example.com', 'https://example.de']) });
  const b = await clientWith({ relatedOrigins: { fetch } });
  try {
    const e = await expectSecurityError(b.client.create(creation()), /not listed in https:\/\/example\.com\/\.well-known\/webauthn/);
    assert.match(e.message, /shop\.example\.co\.uk/);
    await expectSecurityError(b.client.get({ rpId: RPID, challenge: challenge() }), /not listed/);
    assert.equal(calls.length, 1, 'a valid document is cached even when it does not list the caller');
    assert.deepEqual(b.events, [], 'no touch was asked for');
  } finally {
    await b.close();
  }
});

test('the caller under a sixth registrable origin label is refused', async () => {
  const origins = ['https://a.com', 'https://b.com', 'https://c.com', 'https://d.com', 'https://e.com', CALLER];
  const { fetch } = served({ body: doc(origins) });
  const b = await clientWith({ relatedOrigins: { fetch } });
  try {
    await expectSecurityError(b.client.get({ rpId: RPID, challenge: challenge() }), /first 5 registrable domain labels/);
  } finally {
    await b.close();
  }
});

const badDocuments: [string, Served, RegExp][] = [
  ['HTTP 404', { status: 404, body: doc([CALLER]) }, /HTTP 404, not 200/],
  ['HTTP 301', { status: 301, body: doc([CALLER]) }, /HTTP 301/],
  ['text/html', { contentType: 'text/html', body: doc([CALLER]) }, /served as "text\/html", not application\/json/],
  ['no content type', { contentType: null, body: doc([CALLER]) }, /no content type/],
  ['application/jsonp', { contentType: 'application/jsonp', body: doc([CALLER]) }, /not application\/json/],
  ['bad JSON', { body: `{"origins": ["${CALLER}"]` }, /not valid JSON/],
  ['a JSON array', { body: JSON.stringify([CALLER]) }, /not a JSON object/],
  ['JSON null', { body: 'null' }, /not a JSON object/],
  ['no origins', { body: JSON.stringify({ origin: [CALLER] }) }, /no "origins" array of strings/],
  ['origins a string', { body: JSON.stringify({ origins: CALLER }) }, /no "origins" array of strings/],
  ['origins with a number', { body: JSON.stringify({ origins: [CALLER, 1] }) }, /no "origins" array of strings/],
  ['too large', { body: doc([CALLER, 'x'.repeat(2048)]) }, /larger than 1024 bytes/],
  ['declared too large', { body: doc([CALLER]), contentLength: '5000' }, /declared as 5000 bytes/],
];

for (const [name, answer, message] of badDocuments) {
  test(`a bad well-known document (${name}): SecurityError`, async () => {
    const { fetch, calls } = served(answer);
    const b = await clientWith({ relatedOrigins: { fetch, maxBytes: 1024 } });
    try {
      await expectSecurityError(b.client.get({ rpId: RPID, challenge: challenge() }), message);
      assert.equal(calls.length, 1);
    } finally {
      await b.close();
    }
  });
}

test('a failed fetch is not cached: the next ceremony fetches again', async () => {
  let n = 0;
  const { fetch, calls } = served(() => (++n === 1 ? { status: 503 } : { body: doc([CALLER]) }));
  const b = await clientWith({ relatedOrigins: { fetch } });
  try {
    await expectSecurityError(b.client.create(creation()), /HTTP 503/);
    const reg = await b.client.create(creation());
    assert.equal(reg.type, 'public-key');
    assert.equal(calls.length, 2);
  } finally {
    await b.close();
  }
});

test('a fetcher that throws: SecurityError with the cause', async () => {
  const boom = new TypeError('fetch failed');
  const b = await clientWith({ relatedOrigins: { fetch: () => Promise.reject(boom) } });
  try {
    const e = await expectSecurityError(b.client.get({ rpId: RPID, challenge: challenge() }), /fetching https:\/\/example\.com\/\.well-known\/webauthn failed \(fetch failed\)/);
    assert.equal(e.cause, boom);
  } finally {
    await b.close();
  }
});

test('a fetch that never answers times out: SecurityError, and the fetcher sees its signal aborted', async () => {
  let seen: AbortSignal | undefined;
  // Ignores its signal on purpose: the client must not hang on such a fetcher.
  const fetch: RelatedOriginsFetcher = (_url, init) => {
    seen = init.signal;
    return new Promise(() => undefined);
  };
  const b = await clientWith({ relatedOrigins: { fetch, timeoutMs: 30 } });
  try {
    await expectSecurityError(b.client.get({ rpId: RPID, challenge: challenge() }), /timed out after 30 ms/);
    assert.equal(seen?.aborted, true);
  } finally {
    await b.close();
  }
});

test('a body that never ends times out too', async () => {
  const fetch: RelatedOriginsFetcher = async () => ({
    status: 200,
    headers: { get: () => 'application/json' },
    text: () => new Promise<string>(() => undefined),
  });
  const b = await clientWith({ relatedOrigins: { fetch, timeoutMs: 30 } });
  try {
    await expectSecurityError(b.client.get({ rpId: RPID, challenge: challenge() }), /timed out/);
  } finally {
    await b.close();
  }
});

test("the caller's abort during the fetch: AbortError, passed on to the fetcher", async () => {
  let seen: AbortSignal | undefined;
  const ac = new AbortController();
  const fetch: RelatedOriginsFetcher = (_url, init) => {
    seen = init.signal;
    setImmediate(() => ac.abort());
    return new Promise(() => undefined);
  };
  const b = await clientWith({ relatedOrigins: { fetch } });
  try {
    const e = await b.client.get({ rpId: RPID, challenge: challenge() }, { signal: ac.signal }).then(
      () => assert.fail('expected AbortError'),
      (err: unknown) => err as WebAuthnError,
    );
    assert.equal(e.name, 'AbortError');
    assert.equal(seen?.aborted, true);
  } finally {
    await b.close();
  }
});

test('off by default: SecurityError and no network request at all', async (t) => {
  const real = globalThis.fetch;
  let fetched = 0;
  globalThis.fetch = (async () => {
    fetched++;
    throw new Error('no network in tests');
  }) as typeof fetch;
  t.after(() => {
    globalThis.fetch = real;
  });
  const b = await clientWith({});
  try {
    await expectSecurityError(b.client.create(creation()), /not a registrable domain suffix of, nor equal to the current domain "shop\.example\.co\.uk"/);
    await expectSecurityError(b.client.get({ rpId: RPID, challenge: challenge() }));
    assert.equal(fetched, 0);
  } finally {
    await b.close();
  }
  const off = served({ body: doc([CALLER]) });
  const b2 = await clientWith({ relatedOrigins: false });
  try {
    await expectSecurityError(b2.client.get({ rpId: RPID, challenge: challenge() }));
    assert.equal(fetched, 0);
    assert.equal(off.calls.length, 0);
  } finally {
    await b2.close();
  }
});

test('no fetch for a public-suffix RP ID, an insecure or IP caller, or when verifyRpId decides', async () => {
  const { fetch, calls } = served({ body: doc([CALLER, 'http://shop.example.de', 'https://192.0.2.1']) });
  const b = await clientWith({ relatedOrigins: { fetch } });
  try {
    await expectSecurityError(b.client.get({ rpId: 'co.uk', challenge: challenge() }));
    await expectSecurityError(b.client.get({ rpId: 'github.io', challenge: challenge() }), /public suffix/);
  } finally {
    await b.close();
  }
  for (const origin of ['http://shop.example.de', 'https://192.0.2.1']) {
    const bi = await bench({}, {}, { origin, relatedOrigins: { fetch } });
    try {
      await expectSecurityError(bi.client.get({ rpId: RPID, challenge: challenge() }));
    } finally {
      await bi.close();
    }
  }
  const bv = await clientWith({ relatedOrigins: { fetch }, verifyRpId: () => false });
  try {
    await expectSecurityError(bv.client.get({ rpId: RPID, challenge: challenge() }), /verifyRpId refused/);
  } finally {
    await bv.close();
  }
  assert.equal(calls.length, 0);
});

test('bad relatedOrigins options are a TypeError at construction', async () => {
  const { WebAuthnClient } = await import('../../src/webauthn/client.js');
  assert.throws(() => new WebAuthnClient({ origin: CALLER, relatedOrigins: { maxBytes: 0 } }), TypeError);
  assert.throws(() => new WebAuthnClient({ origin: CALLER, relatedOrigins: { timeoutMs: -1 } }), TypeError);
  assert.throws(() => new WebAuthnClient({ origin: CALLER, relatedOrigins: 'yes' as never }), TypeError);
});

// ---- the built-in fetcher, against a local server (no outside network) ----

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

test('nodeRelatedOriginsFetcher: no redirects followed, body capped while reading, no cookies or referrer sent', async (t) => {
  const seenHeaders: Record<string, string | string[] | undefined>[] = [];
  const server = createServer((req, res) => {
    seenHeaders.push(req.headers);
    if (req.url === '/ok') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(doc([CALLER]));
    } else if (req.url === '/redirect') {
      res.writeHead(302, { location: '/ok' });
      res.end();
    } else {
      // Large, chunked (no content-length): only the reader's cap can stop it.
      res.writeHead(200, { 'content-type': 'application/json' });
      for (let i = 0; i < 64; i++) res.write('x'.repeat(1024));
      res.end();
    }
  });
  const base = await listen(server);
  t.after(() => server.close());
  const init = () => ({ signal: new AbortController().signal, maxBytes: 4096 });

  const ok = await nodeRelatedOriginsFetcher(`${base}/ok`, init());
  assert.equal(ok.status, 200);
  assert.equal(ok.headers.get('content-type'), 'application/json');
  assert.deepEqual(JSON.parse(await ok.text()), { origins: [CALLER] });
  assert.equal(seenHeaders[0]!.cookie, undefined);
  assert.equal(seenHeaders[0]!.referer, undefined);

  await assert.rejects(nodeRelatedOriginsFetcher(`${base}/redirect`, init()));
  assert.equal(seenHeaders.length, 2, 'the redirect target was not requested');

  const big = await nodeRelatedOriginsFetcher(`${base}/big`, init());
  await assert.rejects(big.text(), /larger than 4096 bytes/);
});
