import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { base64urlDecode, base64urlDecodeOrNull, base64urlEncode } from '../../src/webauthn/base64url.js';

test('base64url round-trips and matches node\'s encoder', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 200 }), (b) => {
      const s = base64urlEncode(b);
      assert.equal(s, Buffer.from(b).toString('base64url'));
      assert.deepEqual(base64urlDecode(s), b);
    }),
  );
});

test('strict decoding refuses padding, the standard alphabet, whitespace and impossible lengths', () => {
  for (const bad of ['AAAA=', 'AA==', 'ab+/', 'ab/c', 'ab c', 'A', 'AAAAA', '€€', 'AA\n']) {
    assert.equal(base64urlDecodeOrNull(bad), null, bad);
  }
  assert.throws(() => base64urlDecode('a=', 'challenge'), /challenge contains invalid base64url data/);
  assert.deepEqual(base64urlDecodeOrNull(''), new Uint8Array(0));
  assert.deepEqual(base64urlDecodeOrNull('-_8'), new Uint8Array([0xfb, 0xff]));
});
