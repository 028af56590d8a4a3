import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkAllowOrigins, decideOrigin, originOfFrame, type SenderFrameLike } from '../../src/electron/sender-origin.js';

const frame = (url: string, extra: Partial<SenderFrameLike> = {}): SenderFrameLike => ({ url, ...extra });
const nameOf = (r: string | Error): string => (typeof r === 'string' ? r : r.name);

test('secure origins are taken from the frame URL (path, query, fragment dropped; host lower-cased)', () => {
  assert.equal(originOfFrame(frame('https://Login.Example.COM:8443/a/b?c#d')), 'https://login.example.com:8443');
  assert.equal(originOfFrame(frame('https://example.com/')), 'https://example.com');
  assert.equal(originOfFrame(frame('http://localhost:3000/')), 'http://localhost:3000');
  assert.equal(originOfFrame(frame('http://app.localhost/')), 'http://app.localhost');
  assert.equal(originOfFrame(frame('https://xn--bcher-kva.example/')), 'https://xn--bcher-kva.example');
});

test('no frame, a detached frame, opaque and insecure origins are SecurityError', () => {
  for (const f of [null, undefined, frame('https://example.com/', { detached: true })]) assert.equal(nameOf(originOfFrame(f)), 'SecurityError');
  for (const url of ['file:///home/u/index.html', 'data:text/html,x', 'about:blank', 'app://bundle/index.html', 'http://example.com/', 'http://127.0.0.1/', 'ws://localhost/', 'not a url', '']) {
    assert.equal(nameOf(originOfFrame(frame(url))), 'SecurityError', url);
  }
});

test("a frame whose security origin differs from its URL's (sandboxed iframe) is refused", () => {
  assert.equal(nameOf(originOfFrame(frame('https://example.com/', { origin: 'null' }))), 'SecurityError');
  assert.equal(originOfFrame(frame('https://example.com/', { origin: 'https://example.com' })), 'https://example.com');
});

test('subframes: same origin as the top frame passes, cross-origin is NotAllowedError', () => {
  const top = frame('https://example.com/');
  assert.equal(decideOrigin(frame('https://example.com/inner', { top, parent: top }), undefined), 'https://example.com');
  assert.equal(nameOf(decideOrigin(frame('https://ads.test/', { top, parent: top }), undefined)), 'NotAllowedError');
  const selfTop: SenderFrameLike & { top?: SenderFrameLike } = { url: 'https://example.com/' };
  (selfTop as { top?: SenderFrameLike }).top = selfTop;
  assert.equal(decideOrigin(selfTop, undefined), 'https://example.com');
});

test('allowOrigins: exact origins after normalisation, or a predicate', () => {
  const allow = checkAllowOrigins(['https://App.Example.com/', 'http://localhost:5173']);
  assert.deepEqual(allow, ['https://app.example.com', 'http://localhost:5173']);
  assert.equal(decideOrigin(frame('https://app.example.com/x'), allow), 'https://app.example.com');
  assert.equal(nameOf(decideOrigin(frame('https://example.com/'), allow)), 'SecurityError');
  assert.equal(nameOf(decideOrigin(frame('http://localhost:5174/'), allow)), 'SecurityError');
  assert.equal(decideOrigin(frame('https://a.test/'), (o) => o === 'https://a.test'), 'https://a.test');
  assert.equal(nameOf(decideOrigin(frame('https://b.test/'), (o) => o === 'https://a.test')), 'SecurityError');
  // An insecure origin stays refused even when listed.
  assert.equal(nameOf(decideOrigin(frame('file:///x'), () => true)), 'SecurityError');
  for (const bad of [['https://a.test/path'], ['file:///x'], ['nope'], [42], 'https://a.test']) {
    assert.throws(() => checkAllowOrigins(bad as never), TypeError, JSON.stringify(bad));
  }
});

test('every ancestor counts, not only the top: A → B → A is NotAllowedError, A → A → A passes (review M6)', () => {
  const a = frame('https://example.com/');
  const b = frame('https://ads.test/', { parent: a, top: a });
  const aInB = frame('https://example.com/inner', { parent: b, top: a });
  assert.equal(nameOf(decideOrigin(aInB, undefined)), 'NotAllowedError');
  const a2 = frame('https://example.com/mid', { parent: a, top: a });
  assert.equal(decideOrigin(frame('https://example.com/deep', { parent: a2, top: a }), undefined), 'https://example.com', 'A → A → A passes');
  assert.equal(nameOf(decideOrigin(frame('https://example.com/deep', { parent: frame('http://example.com/', { parent: a, top: a }), top: a }), undefined)), 'NotAllowedError', 'an insecure ancestor of the same host is another origin');
});

test('allowCrossOriginFrames lets a cross-origin frame use its own origin; the allow-list and secure-origin rules still apply', () => {
  const a = frame('https://example.com/');
  const b = frame('https://ads.test/', { parent: a, top: a });
  const aInB = frame('https://example.com/inner', { parent: b, top: a });
  const opt = { allowCrossOriginFrames: true };
  assert.equal(decideOrigin(aInB, undefined, opt), 'https://example.com');
  assert.equal(decideOrigin(b, undefined, opt), 'https://ads.test');
  assert.equal(nameOf(decideOrigin(b, ['https://example.com'], opt)), 'SecurityError');
  assert.equal(nameOf(decideOrigin(frame('https://example.com/', { parent: a, top: a, origin: 'null' }), undefined, opt)), 'SecurityError');
});

test('a cyclic parent chain (a broken stand-in) is refused, not looped on', () => {
  const x: { url: string; parent?: SenderFrameLike } = { url: 'https://example.com/' };
  x.parent = x as SenderFrameLike;
  assert.equal(nameOf(decideOrigin(x as SenderFrameLike, undefined)), 'NotAllowedError');
});
