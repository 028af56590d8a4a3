/**
 * A key that answers wrongly (the virtual key's fault injection rewrites its
 * response) gets a typed error, never a silently wrong credential.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeCbor, encodeCbor, type CborValue } from '../../src/cbor/index.js';
import type { FaultInjector } from '../../src/virtual/fault-types.js';
import { WebAuthnError } from '../../src/webauthn/errors.js';
import { concatBytes } from '../../src/util/bytes.js';
import { bench, challenge, creationOptions, RP_ID } from './harness.js';

const CTAPHID_CBOR = 0x10;

/** Rewrite the authData (key 2 of both responses) of the response to `command`. */
function rewriteAuthData(command: number, edit: (authData: Uint8Array) => Uint8Array): FaultInjector {
  return {
    onResponse(tx, payload) {
      if (tx.cmd !== CTAPHID_CBOR || tx.payload[0] !== command || payload[0] !== 0) return payload;
      const m = decodeCbor(payload.subarray(1)).value as Map<number, CborValue>;
      const key = 2; // authData: makeCredential 0x02, getAssertion 0x02
      m.set(key, edit(m.get(key) as Uint8Array));
      return concatBytes(new Uint8Array([0]), encodeCbor(m));
    },
  };
}

const unknownError = (what: RegExp) => (e: unknown) => e instanceof WebAuthnError && e.name === 'UnknownError' && what.test(e.message);

async function withFault(faults: FaultInjector, run: (b: Awaited<ReturnType<typeof bench>>) => Promise<void>): Promise<void> {
  const b = await bench({ faults });
  try {
    await run(b);
  } finally {
    await b.close();
  }
}

test('makeCredential: a wrong rpIdHash is refused', async () => {
  await withFault(rewriteAuthData(0x01, (a) => { const c = a.slice(); c[0]! ^= 1; return c; }), async (b) => {
    await assert.rejects(b.client.create(creationOptions()), unknownError(/rpIdHash/));
  });
});

test('makeCredential: UP clear is refused', async () => {
  await withFault(rewriteAuthData(0x01, (a) => { const c = a.slice(); c[32]! &= ~0x01; return c; }), async (b) => {
    await assert.rejects(b.client.create(creationOptions()), unknownError(/UP/));
  });
});

test('getAssertion: a wrong rpIdHash, UP clear, or an unrequested extension output is refused', async () => {
  // Each case on a key that made its own credential (credentials are bound to the key).
  const cases: [string, (a: Uint8Array) => Uint8Array, RegExp][] = [
    ['rpIdHash', (a) => { const c = a.slice(); c[5]! ^= 0xff; return c; }, /rpIdHash/],
    ['UP', (a) => { const c = a.slice(); c[32]! &= ~0x01; return c; }, /UP/],
    ['extension', (a) => { const c = concatBytes(a, encodeCbor(new Map([['credBlob', new Uint8Array([1])]]))); c[32]! |= 0x80; return c; }, /not requested: credBlob/],
  ];
  for (const [, edit, msg] of cases) {
    let armed = false;
    const inner = rewriteAuthData(0x02, edit);
    const faults: FaultInjector = { onResponse: (tx, p) => (armed ? inner.onResponse!(tx, p) : p) };
    await withFault(faults, async (b) => {
      const r = await b.client.create(creationOptions());
      armed = true;
      await assert.rejects(b.client.get({ challenge: challenge(), rpId: RP_ID, allowCredentials: [{ type: 'public-key', id: r.rawId }] }), unknownError(msg));
    });
  }
});

test('UV required but the UV flag is clear: refused', async () => {
  let armed = false;
  const inner = rewriteAuthData(0x02, (a) => { const c = a.slice(); c[32]! &= ~0x04; return c; });
  const faults: FaultInjector = { onResponse: (tx, p) => (armed ? inner.onResponse!(tx, p) : p) };
  const b = await bench({ pin: '1234', faults }, { 'pin-required': () => '1234' });
  try {
    const r = await b.client.create(creationOptions());
    armed = true;
    await assert.rejects(b.client.get({ challenge: challenge(), rpId: RP_ID, userVerification: 'required', allowCredentials: [{ type: 'public-key', id: r.rawId }] }), unknownError(/UV flag/));
  } finally {
    await b.close();
  }
});
