/**
 * VirtualHidPort honours the HidPort contract for `read(0)`: a poll that
 * answers what is queued, or null at once, without arming a timer (the
 * channel polls before every request, so a timer would cost every
 * transaction a tick).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BROADCAST_CID, CTAPHID, TYPE_INIT } from '../../src/ctaphid/constants.js';
import { VirtualAuthenticator } from '../../src/virtual/index.js';

const PENDING = Symbol('pending');

/** Settles with the promise's value, or PENDING if it has not settled by the next macrotask turn. */
function settledBeforeNextTurn<T>(p: Promise<T>): Promise<T | typeof PENDING> {
  return Promise.race([p, new Promise<typeof PENDING>((resolve) => setImmediate(() => resolve(PENDING)))]);
}

test('read(0) on an empty port resolves null at once, with no timer (setTimeout mocked)', async (t) => {
  const key = await VirtualAuthenticator.create({});
  t.after(() => key.close());
  const port = key.port();
  t.mock.timers.enable({ apis: ['setTimeout'] });
  // With setTimeout mocked and never ticked, an implementation that waits on a timer stays pending.
  assert.equal(await settledBeforeNextTurn(port.read(0)), null);
  t.mock.timers.reset();
  await port.close();
});

test('read(0) returns a report that is already queued, then null', async (t) => {
  const key = await VirtualAuthenticator.create({});
  t.after(() => key.close());
  const port = key.port();
  const init = new Uint8Array(port.reportSize);
  new DataView(init.buffer).setUint32(0, BROADCAST_CID);
  init[4] = TYPE_INIT | CTAPHID.INIT;
  init[6] = 8;
  init.set([1, 2, 3, 4, 5, 6, 7, 8], 7);
  await port.write(init);
  // The device may answer on a later turn: poll with read(0) between turns (bounded, no clock).
  let reply: Uint8Array | null = null;
  for (let i = 0; i < 1000 && !reply; i++) {
    reply = await port.read(0);
    if (!reply) await new Promise((r) => setImmediate(r));
  }
  assert.ok(reply, 'read(0) hands over the queued INIT reply');
  assert.deepEqual([...reply.subarray(7, 15)], [1, 2, 3, 4, 5, 6, 7, 8]);
  assert.equal(await port.read(0), null);
  await port.close();
  await assert.rejects(port.read(0), { code: 'CLOSED' });
});
