/** Hostile input: random reports and random CTAP2 requests never crash the virtual key or wedge it. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { encodeCbor, type CborValue } from '../../src/cbor/index.js';
import { CTAPHID } from '../../src/ctaphid/constants.js';
import { VirtualAuthenticator } from '../../src/virtual/index.js';
import { TestCtapHidHost } from '../helpers/virtual-driver.js';

const noTransport = { signal: new AbortController().signal, keepalive: () => undefined };

test('random CTAP2 requests always get a single status byte or a well-formed answer, never an exception', async () => {
  const key = await VirtualAuthenticator.create({ pin: '1234', resetWindowMs: 0 });
  const cborValue: fc.Arbitrary<CborValue> = fc.letrec<{ v: CborValue }>((tie) => ({
    v: fc.oneof(
      { depthSize: 'small' },
      fc.integer({ min: -300, max: 70000 }),
      fc.string({ maxLength: 20 }),
      fc.uint8Array({ maxLength: 80 }),
      fc.boolean(),
      fc.array(tie('v'), { maxLength: 4 }),
      fc.array(fc.tuple(fc.integer({ min: -3, max: 12 }), tie('v')), { maxLength: 6 }).map((e) => new Map(e)),
    ),
  })).v;
  await fc.assert(
    fc.asyncProperty(fc.constantFrom(0x01, 0x02, 0x04, 0x06, 0x07, 0x08, 0x0a, 0x0b, 0x0c, 0x0d, 0x41, 0x99), fc.oneof(cborValue, fc.uint8Array({ maxLength: 64 })), fc.boolean(), async (cmd, body, raw) => {
      const bytes = body instanceof Uint8Array && raw ? body : encodeCbor(body);
      const req = new Uint8Array(1 + bytes.length);
      req[0] = cmd;
      req.set(bytes, 1);
      const reply = await key.handleCbor(req, noTransport);
      assert.ok(reply.length >= 1);
      if (reply[0] !== 0) assert.equal(reply.length, 1, 'errors are a bare status byte');
      assert.notEqual(reply[0], 0x7f, 'CTAP1_ERR_OTHER would mean an unexpected exception inside a handler');
    }),
    { numRuns: 400 },
  );
  await key.close();
});

test('random reports never wedge the CTAPHID device: a fresh channel still answers PING', async () => {
  const key = await VirtualAuthenticator.create();
  const port = key.port();
  await fc.assert(
    fc.asyncProperty(fc.array(fc.uint8Array({ minLength: 64, maxLength: 64 }), { maxLength: 12 }), async (reports) => {
      for (const r of reports) await port.write(r);
    }),
    { numRuns: 100 },
  );
  // Drain whatever the device said, then prove it is alive. A half-received message on some channel may hold the device busy until MSG_TIMEOUT.
  while (await port.read(700)) {
    /* drain */
  }
  const host = await TestCtapHidHost.open(port);
  assert.equal((await host.transact(CTAPHID.PING, Uint8Array.of(1, 2))).cmd, CTAPHID.PING);
  await key.close();
});
