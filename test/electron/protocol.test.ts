import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { channelsFor, checkOptionsPayload, isBridgeReply, readErrorJSON } from '../../src/electron/protocol.js';

test('channels share one prefix; a bad prefix is refused', () => {
  assert.deepEqual(channelsFor(), { create: 'ctap-bridge:create', get: 'ctap-bridge:get', cancel: 'ctap-bridge:cancel' });
  assert.equal(channelsFor('my-app').get, 'my-app:get');
  for (const bad of ['', 'a b', 'x'.repeat(65), 42]) assert.throws(() => channelsFor(bad as never), TypeError);
});

test('checkOptionsPayload copies JSON data and keeps its shape', () => {
  fc.assert(
    fc.property(fc.jsonValue({ maxDepth: 6 }), (v) => {
      const payload = { v };
      // JSON normalises -0 to 0; the checker keeps numbers as they are.
      const out = checkOptionsPayload(JSON.parse(JSON.stringify(payload)));
      assert.deepEqual(out, JSON.parse(JSON.stringify(payload)));
    }),
  );
});

test('checkOptionsPayload refuses what is not JSON options', () => {
  const refuse = (v: unknown, re: RegExp) => assert.throws(() => checkOptionsPayload(v), (e: Error) => e instanceof TypeError && re.test(e.message));
  refuse(null, /options must be/);
  refuse([], /options must be/);
  refuse('x', /options must be/);
  refuse({ challenge: new Uint8Array(4) }, /options\.challenge is binary data/);
  refuse({ challenge: new ArrayBuffer(4) }, /binary data/);
  refuse({ when: new Date() }, /non-plain object/);
  refuse({ big: 10n }, /bigint/);
  refuse({ n: NaN }, /finite/);
  refuse({ n: Infinity }, /finite/);
  refuse({ u: undefined }, /undefined/);
  refuse(JSON.parse('{"__proto__": {"polluted": true}}'), /__proto__/);
  refuse(JSON.parse('{"a":'.repeat(20) + '1' + '}'.repeat(20)), /deeper/);
  refuse({ s: 'x'.repeat(70_000) }, /larger than 65536/);
  refuse({ a: new Array(70_000).fill(0) }, /larger than/);
  assert.throws(() => checkOptionsPayload({ s: 'x'.repeat(200) }, 100), /larger than 100/);
  assert.equal(({} as Record<string, unknown>).polluted, undefined);
});

test('replies: envelopes are recognised; malformed errors become UnknownError', () => {
  assert.equal(isBridgeReply({ ok: true, value: 1 }), true);
  assert.equal(isBridgeReply({ ok: false, error: {} }), true);
  for (const r of [null, 1, {}, { ok: true }, { ok: 'yes', value: 1 }]) assert.equal(isBridgeReply(r), false);
  assert.deepEqual(readErrorJSON({ name: 'SecurityError', message: 'm', ctap: 'CTAP2_ERR_X', extra: 1 }), { name: 'SecurityError', message: 'm', ctap: 'CTAP2_ERR_X' });
  assert.equal(readErrorJSON({ name: 'Not Allowed<script>', message: 'm' }).name, 'UnknownError');
  assert.equal(readErrorJSON('boom').name, 'UnknownError');
});
