import { test } from 'node:test';
import assert from 'node:assert/strict';
import { observeInteraction, scriptedInteraction, ask, type InteractionEvent } from '../../src/device/interaction.js';

test('scriptedInteraction hands out PINs in order, then cancels; observeInteraction sees every event', async () => {
  const seen: InteractionEvent[] = [];
  const i = scriptedInteraction({ pins: ['1111', '2222'], chooseAccount: (a) => a.findIndex((x) => x.name === 'b'), onEvent: (e) => seen.push(e) });
  const signal = new AbortController().signal;
  assert.equal(await ask(i, { type: 'pin-required', reason: 'uv-required', retriesLeft: 8 }, signal), '1111');
  assert.equal(await ask(i, { type: 'pin-invalid', retriesLeft: 7 }, signal), '2222');
  assert.equal(await ask(i, { type: 'pin-invalid', retriesLeft: 6 }, signal), null, 'no PIN is invented past the script');
  assert.equal(await ask(i, { type: 'select-account', accounts: [{ id: new Uint8Array(1), name: 'a' }, { id: new Uint8Array(1), name: 'b' }] }, signal), 1);
  assert.equal(await ask(i, { type: 'uv-retry', retriesLeft: 1 }, signal), false);
  assert.deepEqual(seen.map((e) => e.type), ['pin-required', 'pin-invalid', 'pin-invalid', 'select-account', 'uv-retry']);
});

test('observeInteraction leaves an unanswered question unanswered', async () => {
  const seen: string[] = [];
  const i = observeInteraction({ 'touch-required': () => undefined }, (e) => seen.push(e.type));
  assert.equal(i['pin-required'], undefined, 'no handler for a question: still a refusal');
  await ask(i, { type: 'touch-required' }, new AbortController().signal);
  await ask(i, { type: 'removed' }, new AbortController().signal);
  assert.deepEqual(seen, ['touch-required', 'removed']);
});
