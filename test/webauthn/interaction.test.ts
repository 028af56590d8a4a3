import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ask, notify, type Interaction } from '../../src/webauthn/interaction.js';
import { AbortedError } from '../../src/util/errors.js';

test('ask: the handler\'s answer, undefined without a handler, AbortedError when the signal fires first', async () => {
  const signal = new AbortController().signal;
  const i: Interaction = { 'pin-required': (e) => (e.retriesLeft === 8 ? '1234' : null), 'select-account': async (e) => e.accounts.length - 1 };
  assert.equal(await ask(i, { type: 'pin-required', reason: 'uv-required', retriesLeft: 8 }, signal), '1234');
  assert.equal(await ask(i, { type: 'select-account', accounts: [{ id: new Uint8Array(1) }, { id: new Uint8Array(2) }] }, signal), 1);
  assert.equal(await ask(i, { type: 'uv-retry', retriesLeft: 2 }, signal), undefined);
  assert.equal(await ask(undefined, { type: 'touch-required' }, signal), undefined);

  const ac = new AbortController();
  let seen: AbortSignal | undefined;
  const hanging: Interaction = { 'pin-required': (_e, ctx) => { seen = ctx.signal; return new Promise(() => undefined); } };
  const p = ask(hanging, { type: 'pin-required', reason: 'uv-preferred', retriesLeft: 3 }, ac.signal);
  ac.abort();
  await assert.rejects(p, AbortedError);
  assert.equal(seen, ac.signal, 'the handler gets the signal to dismiss its prompt');
  await assert.rejects(ask(i, { type: 'pin-required', reason: 'uv-required', retriesLeft: 1 }, ac.signal), AbortedError);
});

test('ask: a handler that throws rejects the ask; notify never throws', async () => {
  const signal = new AbortController().signal;
  const boom: Interaction = { 'touch-required': () => { throw new Error('ui crashed'); } };
  await assert.rejects(ask(boom, { type: 'touch-required' }, signal), /ui crashed/);
  assert.doesNotThrow(() => notify(boom, { type: 'touch-required' }, signal));
  await new Promise((r) => setImmediate(r)); // the rejected notice is swallowed, not unhandled
});
