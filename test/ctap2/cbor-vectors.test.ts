/**
 * cbor.json vectors, run against the strict codec the CTAP2 layer decodes
 * with (src/cbor). Lives beside the ctap2 tests because the vectors carry
 * attestation statements too; the codec's own unit tests are in test/cbor/.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CborError, compareCanonical, decodeCbor, encodeCbor, scanItem, type CborValue } from '../../src/cbor/index.js';
import { describeAttStmt } from '../../src/ctap2/describe.js';
import { toJson } from '../../src/ctap2/json.js';
import { asMap } from '../../src/cbor/index.js';
import { fromHex, toHex } from '../../src/util/bytes.js';
import { loadVectors } from '../helpers/vectors.js';
import { assertMatches } from './match.js';

const vectors = loadVectors('cbor');
type J = Record<string, unknown>;

/** The vector's JSON value back to what our encoder takes: strings that the diagnostic shows as h'..' are bytes. */
function fromVectorValue(value: unknown, diagnostic: string): CborValue {
  if (typeof value === 'string' && diagnostic.startsWith("h'")) return fromHex(value);
  if (Array.isArray(value)) return value as CborValue;
  if (value && typeof value === 'object') return value as CborValue;
  return value as CborValue;
}

for (const v of vectors) {
  const e = v.expected as J;
  test(`cbor ${v.id}`, () => {
    const bytes = fromHex(v.input);
    const d = decodeCbor(bytes);
    const canonical = (e['cbor_canonical'] as J | undefined)?.['ctap2_canonical'];
    if (canonical !== undefined) assert.equal(d.nonCanonical.length === 0, canonical, d.nonCanonical.join('; '));
    if (e['direction'] === 'decode+encode') {
      // decode(hex) == value and encode(value) == hex
      assert.deepEqual(toJson(d.value), e['value']);
      assert.equal(toHex(encodeCbor(fromVectorValue(e['value'], e['cbor_diagnostic'] as string))), v.input);
    } else if (e['direction'] === 'encode (canonical)') {
      // the vector's bytes are canonical; their map keys, re-sorted from any order by our rule, come out in the vector's order
      assert.deepEqual(d.nonCanonical, []);
      const m = asMap(d.value, v.id);
      const keyEncodings: Uint8Array[] = [];
      let p = 1;
      for (let i = 0; i < m.size; i++) {
        const k = scanItem(bytes, p).length;
        keyEncodings.push(bytes.slice(p, p + k));
        p += k;
        p += scanItem(bytes, p).length;
      }
      const shuffled = [...keyEncodings].reverse();
      shuffled.sort(compareCanonical);
      assert.deepEqual(shuffled.map(toHex), keyEncodings.map(toHex));
      // where the keys are integers or text (all CTAP2 uses), our encoder reproduces the bytes from a reversed map
      if ([...m.keys()].every((k) => typeof k === 'string' || (typeof k === 'number' && Number.isSafeInteger(k)))) {
        const reversed = new Map([...m.entries()].reverse()) as unknown as CborValue;
        assert.equal(toHex(encodeCbor(reversed)), v.input);
      } else {
        // byte-string / boolean / 64-bit keys never occur in CTAP2; the encoder refuses them rather than guess
        assert.throws(() => encodeCbor(new Map([...m.entries()].reverse()) as unknown as CborValue), CborError);
      }
    } else {
      // attestation statements and objects
      if (e['value'] !== undefined) assert.deepEqual(toJson(d.value), e['value']);
      if (e['decoded'] !== undefined) assert.deepEqual(toJson(d.value), (e['decoded'] as J)['raw']);
      const top = asMap(d.value, v.id);
      if (e['top_level_key_order']) assert.deepEqual([...top.keys()], e['top_level_key_order']);
      const attStmt = top.has('attStmt') ? asMap(top.get('attStmt'), 'attStmt') : top;
      if (e['attStmt']) assertMatches(describeAttStmt(attStmt), e['attStmt']);
    }
  });
}

test('negative CBOR: what CTAP2 never sends is rejected with CborError', () => {
  for (const hex of [
    'c240', // tag
    '5f41004100ff', // indefinite byte string
    'a2010101', // map with a missing value (truncated)
    '1a0000', // truncated head
    'a201000100', // duplicate key
    'f7', // undefined
    'f93c00', // half float
    '0000', // trailing byte
    '62c328', // invalid UTF-8
  ]) {
    assert.throws(() => decodeCbor(fromHex(hex)), CborError, hex);
  }
});
