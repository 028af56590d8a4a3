/**
 * The allocation-free scan (lazy paths, duplicate keys found by canonical
 * comparison, a Set only for maps out of order) against the scan it replaced
 * (scan-reference.ts): on random items — maps with and without duplicate keys,
 * in and out of canonical order, non-shortest heads, nesting, truncation and
 * corrupted bytes — both give the same result: the same length and notes, or
 * an error with the same code, message and path.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { CborError } from '../../src/cbor/errors.js';
import { scanItem, type ScanLimits } from '../../src/cbor/scan.js';
import { toHex } from '../../src/util/bytes.js';
import { scanItemReference } from './scan-reference.js';

type Outcome = { length: number; nonCanonical: string[] } | { code: string; message: string; path: string | undefined };

function outcome(run: () => { length: number; nonCanonical: string[] }): Outcome {
  try {
    const r = run();
    return { length: r.length, nonCanonical: r.nonCanonical };
  } catch (e) {
    if (!(e instanceof CborError)) throw e;
    return { code: e.code, message: e.message, path: e.path };
  }
}

/** A head of `major` with argument `value`; `wide` adds bytes beyond the shortest form (non-canonical). */
function head(major: number, value: number, wide: boolean): number[] {
  const m = major << 5;
  if (value < 24 && !wide) return [m | value];
  if (value < 0x100 && !(wide && value >= 24)) return [m | 24, value];
  if (value < 0x10000) return [m | 25, value >> 8, value & 0xff];
  return [m | 26, (value >>> 24) & 0xff, (value >> 16) & 0xff, (value >> 8) & 0xff, value & 0xff];
}

const wide = fc.oneof({ weight: 6, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) });

/** Keys as CTAP uses them: small and larger ints, negatives, short text (incl. non-ASCII), bytes. */
const key: fc.Arbitrary<number[]> = fc.oneof(
  fc.tuple(fc.integer({ min: 0, max: 30 }), wide).map(([n, w]) => head(0, n, w)),
  fc.tuple(fc.integer({ min: 0, max: 300 }), wide).map(([n, w]) => head(0, n, w)),
  fc.tuple(fc.integer({ min: 0, max: 30 }), wide).map(([n, w]) => head(1, n, w)),
  fc.tuple(fc.constantFrom('', 'a', 'b', 'rp', 'id', 'é', 'hmac-secret'), wide).map(([s, w]) => {
    const b = [...new TextEncoder().encode(s)];
    return [...head(3, b.length, w), ...b];
  }),
  fc.uint8Array({ maxLength: 3 }).map((b) => [...head(2, b.length, false), ...b]),
);

const { item, map } = fc.letrec<{ item: number[]; map: number[]; array: number[] }>((tie) => ({
  item: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    { weight: 6, arbitrary: key },
    { weight: 2, arbitrary: fc.constantFrom<number[]>([0xf4], [0xf5], [0xf6]) },
    // undefined, a tag, a half float, indefinite length, a break, invalid UTF-8: all rejected
    { weight: 1, arbitrary: fc.constantFrom<number[]>([0xf7], [0xc0, 0x00], [0xf9, 0, 0], [0x5f], [0xff], [0x61, 0xff]) },
    { weight: 2, arbitrary: tie('map') },
    { weight: 1, arbitrary: tie('array') },
  ),
  array: fc.tuple(fc.array(tie('item'), { maxLength: 4 }), wide).map(([xs, w]) => [...head(4, xs.length, w), ...xs.flat()]),
  // Entries from a small key pool, so duplicates happen often; sorted or not.
  map: fc
    .tuple(fc.array(fc.tuple(key, tie('item')), { maxLength: 6 }), fc.boolean(), fc.boolean(), wide)
    .map(([entries, sort, duplicate, w]) => {
      if (duplicate && entries.length > 0) entries.push([entries[0]![0], entries[0]![1]]);
      if (sort) entries.sort(([a], [b]) => compareKeys(a, b));
      return [...head(5, entries.length, w), ...entries.flatMap(([k, v]) => [...k, ...v])];
    }),
}));

function compareKeys(a: number[], b: number[]): number {
  if (a[0]! >> 5 !== b[0]! >> 5) return (a[0]! >> 5) - (b[0]! >> 5);
  if (a.length !== b.length) return a.length - b.length;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return 0;
}

/** Sometimes cut the item short or overwrite one byte: malformed input must fail the same way too. */
const damaged = fc.tuple(fc.oneof({ weight: 3, arbitrary: map }, { weight: 1, arbitrary: item }), fc.nat(), fc.nat({ max: 255 }), fc.integer({ min: 0, max: 5 })).map(([bytes, at, b, how]) => {
  const out = [...bytes];
  if (how === 1 && out.length > 1) out.length = at % out.length;
  if (how === 2 && out.length > 0) out[at % out.length] = b;
  return Uint8Array.from(out);
});

const limits: fc.Arbitrary<ScanLimits> = fc.record({
  maxDepth: fc.integer({ min: 1, max: 16 }),
  maxItems: fc.constantFrom(3, 65_536),
  allowFloats: fc.boolean(),
});

test('scanItem gives the verdict, length, notes and error of the reference scan on random items', () => {
  let duplicates = 0;
  let outOfOrder = 0;
  fc.assert(
    fc.property(damaged, limits, (bytes, l) => {
      const expected = outcome(() => scanItemReference(bytes, 0, l));
      const actual = outcome(() => scanItem(bytes, 0, l));
      if ('code' in expected && expected.code === 'CBOR_DUPLICATE_KEY') duplicates++;
      if ('nonCanonical' in expected && expected.nonCanonical.some((n) => n.includes('out of CTAP2 canonical order'))) outOfOrder++;
      assert.deepEqual(actual, expected, toHex(bytes));
    }),
    // No shrinking: the recursive items shrink for minutes; the hex of the first failure is in the message.
    { numRuns: 3000, endOnFailure: true },
  );
  // The generator must really produce both kinds of map, or the property says little.
  assert.ok(duplicates > 50, `only ${duplicates} inputs with duplicate keys`);
  assert.ok(outOfOrder > 50, `only ${outOfOrder} inputs with keys out of order`);
});

test('duplicate keys: adjacent in canonical order, far apart out of order, and nested maps', () => {
  for (const hex of [
    'a201000100', // {0: 0, 0: 0}, canonical order: adjacent duplicates
    'a3010002000100', // {1: 0, 2: 0, 1: 0}: out of order, the duplicate is two entries back
    'a30200010001020300', // {2: 0, 1: 0, 2: 0, 3: ...}: truncated after a duplicate
    'a2616101616102', // {"a": 1, "a": 2}
    'a101a2626964006269640001', // {1: {"id": 0, "id": 0}}: the path names the inner map
    'a301000200a2010002000100', // {1: 0, 2: 0, {1: 0, 2: 0}: 1 ...}
  ]) {
    const bytes = Uint8Array.from(Buffer.from(hex, 'hex'));
    assert.deepEqual(
      outcome(() => scanItem(bytes)),
      outcome(() => scanItemReference(bytes)),
      hex,
    );
  }
  const e = outcome(() => scanItem(Uint8Array.from(Buffer.from('a101a2626964006269640001', 'hex'))));
  assert.deepEqual(e, { code: 'CBOR_DUPLICATE_KEY', message: '${1}: duplicate map key (encoded 626964)', path: '${1}' });
  const far = outcome(() => scanItem(Uint8Array.from(Buffer.from('a3010002000100', 'hex'))));
  assert.deepEqual(far, { code: 'CBOR_DUPLICATE_KEY', message: '$: duplicate map key (encoded 01)', path: '$' });
});
