/**
 * The fault-injection hook points of the virtual key's CTAPHID device
 * (fault-types.ts), exercised with small injectors written here. The real
 * fault catalogue (faults.ts) plugs into these same hooks.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CtapHidChannel } from '../../src/ctaphid/channel.js';
import { CTAPHID } from '../../src/ctaphid/constants.js';
import { Ctap2Session } from '../../src/ctap2/session.js';
import { CTAP2_CMD } from '../../src/ctap2/commands.js';
import { CborMapReader, decodeCbor, encodeCbor, type CborValue } from '../../src/cbor/index.js';
import { randomBytes } from '../../src/crypto/primitives.js';
import { concatBytes, utf8Encode } from '../../src/util/bytes.js';
import { VirtualAuthenticator, type FaultInjector } from '../../src/virtual/index.js';

function mcParams(): Map<number, CborValue> {
  return new Map<number, CborValue>([
    [1, randomBytes(32)],
    [2, { id: 'example.com' }],
    [3, { id: utf8Encode('u') }],
    [4, [{ alg: -7, type: 'public-key' }]],
  ]);
}

test('onResponse can rewrite a CBOR answer (here: clear the UP flag) and the client sees it', async () => {
  const faults: FaultInjector = {
    onResponse: (tx, payload) => {
      if (tx.cmd !== CTAPHID.CBOR || tx.payload[0] !== CTAP2_CMD.makeCredential || payload[0] !== 0) return payload;
      const map = decodeCbor(payload.subarray(1)).value as Map<number, CborValue>;
      const authData = (map.get(2) as Uint8Array).slice();
      authData[32]! &= ~0x01;
      map.set(2, authData);
      return concatBytes(Uint8Array.of(0), encodeCbor(map));
    },
  };
  const key = await VirtualAuthenticator.create({ faults });
  const session = new Ctap2Session(await CtapHidChannel.open(key.port()));
  const r = await session.send(CTAP2_CMD.makeCredential, mcParams());
  const authData = CborMapReader.from(r.value, 'mc').bytes(2);
  assert.equal(authData[32]! & 0x01, 0);
  await key.close();
});

test('onOutgoing dropping every response packet: the client times out, then recovers once the fault is gone', async () => {
  let drop = false;
  const key = await VirtualAuthenticator.create({
    faults: { onOutgoing: (packets, ctx) => (drop && ctx.cmd === CTAPHID.PING ? [] : packets) },
  });
  const channel = await CtapHidChannel.open(key.port());
  drop = true;
  await assert.rejects(channel.ping(Uint8Array.of(1), { timeoutMs: 300 }), (e: unknown) => (e as { code?: string }).code === 'TIMEOUT');
  drop = false;
  assert.deepEqual(await channel.ping(Uint8Array.of(2), { timeoutMs: 2000 }), Uint8Array.of(2));
  await channel.close();
  await key.close();
});

test('onTransaction stall holds the channel silently until cancelled; disconnect removes the device', async () => {
  let action: 'stall' | 'disconnect' | 'pass' = 'stall';
  const key = await VirtualAuthenticator.create({
    faults: { onTransaction: (tx) => (tx.cmd === CTAPHID.CBOR ? { kind: action } : undefined) },
  });
  const channel = await CtapHidChannel.open(key.port());
  const session = new Ctap2Session(channel);
  await assert.rejects(session.send(CTAP2_CMD.getInfo, undefined, { timeoutMs: 300 }));
  action = 'pass';
  assert.ok((await session.getInfo({ timeoutMs: 3000 })).versions.includes('FIDO_2_1'));
  action = 'disconnect';
  await assert.rejects(session.send(CTAP2_CMD.getInfo, undefined, { timeoutMs: 3000 }), (e: unknown) => (e as { code?: string }).code === 'DEVICE_REMOVED');
  await key.close();
});
