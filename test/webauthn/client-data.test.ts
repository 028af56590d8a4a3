import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { buildClientData, ccdToString, serializeClientData } from '../../src/webauthn/client-data.js';
import { sha256 } from '../../src/crypto/hashes.js';
import { fromHex, toHex, utf8Decode } from '../../src/util/bytes.js';
import { loadChromium } from '../helpers/vectors.js';

const text = (b: Uint8Array): string => utf8Decode(b);

test('CCDToString: only " and \\ get a backslash; every other code point below U+0020 is \\u + 4 lower-case hex', () => {
  // JSON.stringify would write \n, \t, \b, \f, \r and \u001F (upper case): the spec does not.
  assert.equal(ccdToString('a\nb'), '"a\\u000ab"');
  assert.equal(ccdToString('\t\b\f\r'), '"\\u0009\\u0008\\u000c\\u000d"');
  assert.equal(ccdToString('\u001f\u0000'), '"\\u001f\\u0000"');
  assert.equal(ccdToString('"\\'), '"\\"\\\\"');
  assert.equal(ccdToString('/'), '"/"', 'the solidus is not escaped');
  // U+007F, C1 controls, U+2028/2029 and astral characters pass through as UTF-8.
  assert.equal(ccdToString('\u007f\u0085\u2028\u2029😀'), '"\u007f\u0085\u2028\u2029😀"');
  assert.equal(ccdToString('\ud800x'), '"\ufffdx"', 'a lone surrogate is written as U+FFFD');
});

test('CCDToString differs from JSON.stringify exactly on the short escapes and the hex case', () => {
  fc.assert(
    fc.property(fc.string({ unit: 'binary' }), (s) => {
      const wellFormed = !/[\ud800-\udfff]/u.test(s.replace(/[\ud800-\udbff][\udc00-\udfff]/g, ''));
      fc.pre(wellFormed);
      const ours = ccdToString(s);
      assert.deepEqual(JSON.parse(ours), s, 'it is valid JSON for the same string');
      const expected = JSON.stringify(s)
        .replace(/\\[bfnrt]/g, (m) => `\\u${({ b: 8, f: 12, n: 10, r: 13, t: 9 } as Record<string, number>)[m[1]!]!.toString(16).padStart(4, '0')}`)
        .replace(/\\u00([0-9A-F]{2})/g, (_m, h: string) => `\\u00${h.toLowerCase()}`);
      assert.equal(ours, expected);
    }),
  );
});

test('serializeClientData: key order, exact bytes, topOrigin only when given', () => {
  const bytes = serializeClientData({ type: 'webauthn.get', challenge: 'AAEC', origin: 'https://example.com', crossOrigin: false });
  assert.equal(text(bytes), '{"type":"webauthn.get","challenge":"AAEC","origin":"https://example.com","crossOrigin":false}');
  // The spec's limited-verification prefix bytes: {"type":
  assert.equal(toHex(bytes.subarray(0, 8)), '7b2274797065223a');
  const cross = serializeClientData({ type: 'webauthn.create', challenge: 'x', origin: 'https://a.example', crossOrigin: true, topOrigin: 'https://top.example' });
  assert.equal(text(cross), '{"type":"webauthn.create","challenge":"x","origin":"https://a.example","crossOrigin":true,"topOrigin":"https://top.example"}');
  const tricky = serializeClientData({ type: 'webauthn.get', challenge: 'c', origin: 'app://\u00fc\n"\\' });
  assert.equal(text(tricky), '{"type":"webauthn.get","challenge":"c","origin":"app://\u00fc\\u000a\\"\\\\","crossOrigin":false}');
  // origin value bytes: a p p : / / c3 bc (raw UTF-8 ü) \ u 0 0 0 a \ " \ \
  const start = tricky.indexOf(0x61, 40);
  assert.equal(toHex(tricky.subarray(start, start + 18)), '6170703a2f2fc3bc5c75303030615c225c5c');
});

test('buildClientData matches Chromium 156 byte for byte (when Chromium adds no extra key)', () => {
  const ref = loadChromium('07-clientdatajson-variability') as { templates: Record<string, number> };
  const challenge = fromHex('dee9f4ff0a15202b36414c57626d78838e99a4afbac5d0dbe6f1fc07121d2833');
  for (const [template] of Object.entries(ref.templates)) {
    if (template.includes('other_keys_can_be_added_here')) continue; // Chromium's deliberate noise, see README
    const type = template.includes('webauthn.create') ? 'webauthn.create' : 'webauthn.get';
    const cd = buildClientData(type, challenge, 'http://localhost:8787');
    assert.equal(text(cd.json), template.replace('<challenge>', '3un0_woVICs2QUxXYm14g46ZpK-6xdDb5vH8BxIdKDM'));
    assert.deepEqual(cd.hash, sha256(cd.json));
  }
});

test('buildClientData: crossOrigin and topOrigin follow the top-level origin', () => {
  const same = buildClientData('webauthn.get', new Uint8Array([1]), 'https://a.example', 'https://a.example');
  assert.equal(text(same.json), '{"type":"webauthn.get","challenge":"AQ","origin":"https://a.example","crossOrigin":false}');
  const cross = buildClientData('webauthn.get', new Uint8Array([1]), 'https://a.example', 'https://b.example');
  assert.equal(text(cross.json), '{"type":"webauthn.get","challenge":"AQ","origin":"https://a.example","crossOrigin":true,"topOrigin":"https://b.example"}');
});
