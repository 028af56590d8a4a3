import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeCbor, encodeCbor, CborError } from '../../src/cbor/index.js';
import { fromHex, toHex } from '../../src/util/bytes.js';

test('encodes maps in CTAP2 canonical order (major type, then shorter key encoding, then bytewise)', () => {
  // CTAP 2.1 §8: major type first, so 256 (major 0) sorts before -1 (major 1); see vector pyfido2-cbor-fido-canonical-keyorder-2
  const bytes = encodeCbor(new Map<number | string, number>([['ab', 1], [256, 2], [-1, 3], [3, 4], [1, 5]]));
  assert.equal(toHex(bytes), 'a5' + '0105' + '0304' + '190100' + '02' + '2003' + '626162' + '01');
});

test('rejects tags, indefinite lengths and trailing bytes with typed errors', () => {
  for (const [hex, code] of [
    ['c000', 'CBOR_UNSUPPORTED'],
    ['5f41004100ff', 'CBOR_UNSUPPORTED'],
    ['0000', 'CBOR_TRAILING_BYTES'],
    ['5affffffff', 'CBOR_MALFORMED'],
    ['a201000100', 'CBOR_DUPLICATE_KEY'],
  ] as const) {
    assert.throws(() => decodeCbor(fromHex(hex)), (e: unknown) => e instanceof CborError && e.code === code, hex);
  }
});

test('accepts well-formed non-canonical CBOR and reports it', () => {
  const d = decodeCbor(fromHex('a20200011800'));
  assert.equal(d.nonCanonical.length, 2);
  assert.deepEqual([...(d.value as Map<number, number>).keys()], [2, 1]);
});

test('byte strings decode as plain Uint8Array copies', () => {
  const input = fromHex('43010203');
  const v = decodeCbor(input).value as Uint8Array;
  assert.equal(v.constructor, Uint8Array);
  input[1] = 9;
  assert.deepEqual([...v], [1, 2, 3]);
});

test('a truncated item says what it declared and what is left (code CBOR_MALFORMED)', () => {
  for (const [hex, re] of [
    // byte string of 0xffffffff bytes, nothing after its 5-byte head
    ['5affffffff', /declares a 4294967295-byte byte string but only 0 bytes follow \(offset 5\)/],
    // text string of 3 bytes with 1 present
    ['6361', /declares a 3-byte text string but only 1 byte follows \(offset 1\)/],
    // a 2-byte length argument with only 1 byte present
    ['5901', /declares a 2-byte argument but only 1 byte follows \(offset 1\)/],
    // an array of 2 items with 1 present: the second item is missing
    ['8201', /declares 2 items but only 1 byte follows/],
    ['', /the data ends where an item should start \(offset 0\)/],
  ] as const) {
    assert.throws(
      () => decodeCbor(fromHex(hex)),
      (e: unknown) => e instanceof CborError && e.code === 'CBOR_MALFORMED' && re.test(e.message) && !/more byte\(s\)/.test(e.message),
      hex,
    );
  }
});
