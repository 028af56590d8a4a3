/**
 * Compares our JSON descriptions with a vector's `expected` tree. Keys the
 * vectors add from their own tooling are skipped: `_pyfido2_*` cross-checks,
 * `webauthn` (the base64url view, checked by the webauthn layer) and
 * `attestation_verification` (a verifier's verdict, not a decoded field: checked
 * in attestation.test.ts where the vector gives the clientDataHash). For the
 * `*canonical` summaries only the `ctap2_canonical` verdict is compared (the
 * itemised reasons are python's wording); for `error` only its presence.
 */
import assert from 'node:assert/strict';

const SKIP = new Set(['webauthn', 'attestation_verification']);
const VERDICT_ONLY = new Set(['canonical', 'extensions_canonical', 'cbor_canonical']);

export function assertMatches(actual: unknown, expected: unknown, path = '$'): void {
  if (expected === null || typeof expected !== 'object') {
    assert.deepEqual(actual, expected, `${path}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`);
    return;
  }
  if (Array.isArray(expected)) {
    assert.ok(Array.isArray(actual), `${path}: expected an array`);
    assert.equal(actual.length, expected.length, `${path}: length`);
    expected.forEach((e, i) => assertMatches(actual[i], e, `${path}[${i}]`));
    return;
  }
  assert.ok(actual !== null && typeof actual === 'object' && !Array.isArray(actual), `${path}: expected an object, got ${JSON.stringify(actual)}`);
  const a = actual as Record<string, unknown>;
  const e = expected as Record<string, unknown>;
  const keys = Object.keys(e).filter((k) => !k.startsWith('_') && !SKIP.has(k));
  for (const k of keys) {
    assert.ok(k in a, `${path}.${k}: missing (have ${Object.keys(a).join(', ')})`);
    if (VERDICT_ONLY.has(k)) {
      assert.equal((a[k] as Record<string, unknown>)['ctap2_canonical'], (e[k] as Record<string, unknown>)['ctap2_canonical'], `${path}.${k}.ctap2_canonical`);
    } else if (k === 'error') {
      assert.equal(typeof a[k], 'string', `${path}.error`);
    } else {
      assertMatches(a[k], e[k], `${path}.${k}`);
    }
  }
  const extra = Object.keys(a).filter((k) => !(k in e));
  assert.deepEqual(extra, [], `${path}: members the vector does not have`);
}
