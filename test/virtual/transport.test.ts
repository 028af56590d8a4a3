/**
 * The project's own transport (CtapHidChannel + Ctap2Session) drives the
 * virtual key in-process and over UDP, every byte through the real framing
 * on both sides.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CtapHidChannel } from '../../src/ctaphid/channel.js';
import { Ctap2Session } from '../../src/ctap2/session.js';
import { CTAP2_CMD } from '../../src/ctap2/commands.js';
import { CtapError } from '../../src/ctap2/status.js';
import { openUdpPort } from '../../src/hid/udp.js';
import { randomBytes } from '../../src/crypto/primitives.js';
import { utf8Encode } from '../../src/util/bytes.js';
import type { CborValue } from '../../src/cbor/index.js';
import type { HidPort } from '../../src/hid/port.js';
import { VirtualAuthenticator } from '../../src/virtual/index.js';
import { serveVirtualUdp } from '../../src/virtual/udp-server.js';
import { checkAssertion, checkAttestation } from './verify.js';

async function exercise(port: HidPort): Promise<void> {
  const channel = await CtapHidChannel.open(port);
  const session = new Ctap2Session(channel);
  const info = await session.getInfo();
  assert.ok(info.versions.includes('FIDO_2_1'));
  assert.deepEqual(await channel.ping(Uint8Array.of(1, 2, 3)), Uint8Array.of(1, 2, 3));
  const cdh = randomBytes(32);
  const mc = await session.send(
    CTAP2_CMD.makeCredential,
    new Map<number, CborValue>([
      [1, cdh],
      [2, { id: 'example.com' }],
      [3, { id: utf8Encode('user-42'), name: 'bob' }],
      [4, [{ alg: -8, type: 'public-key' }]],
      [7, { rk: true }],
    ]),
  );
  const att = checkAttestation(mc.value, 'example.com', cdh);
  const cdh2 = randomBytes(32);
  const ga = await session.send(CTAP2_CMD.getAssertion, new Map<number, CborValue>([[1, 'example.com'], [2, cdh2]]));
  const a = checkAssertion(ga.value, att.publicKey!, 'example.com', cdh2);
  assert.deepEqual(a.user!.bytes('id'), utf8Encode('user-42'));
  await assert.rejects(
    session.send(CTAP2_CMD.getAssertion, new Map<number, CborValue>([[1, 'nobody.example'], [2, cdh2]])),
    (e: unknown) => e instanceof CtapError && e.status === 0x2e,
  );
  await channel.close();
}

test('in-process: CtapHidChannel + Ctap2Session make and use a credential', async () => {
  const key = await VirtualAuthenticator.create();
  await exercise(key.port());
  await key.close();
});

test('over UDP: the client on an ephemeral port gets its replies', async () => {
  const key = await VirtualAuthenticator.create();
  const server = await serveVirtualUdp(key, { host: '127.0.0.1', port: 0 });
  try {
    const port = await openUdpPort(`udp:127.0.0.1:${server.port}?local=0`);
    await exercise(port);
  } finally {
    await server.close();
    await key.close();
  }
});

test('cancelling through the channel ends a pending touch with KEEPALIVE_CANCEL', async () => {
  const key = await VirtualAuthenticator.create({ presence: () => new Promise<boolean>(() => undefined) });
  const channel = await CtapHidChannel.open(key.port());
  const session = new Ctap2Session(channel);
  const ac = new AbortController();
  const statuses: unknown[] = [];
  const p = session.send(CTAP2_CMD.selection, undefined, { signal: ac.signal, onKeepalive: (s) => statuses.push(s) });
  setTimeout(() => ac.abort(), 250);
  await assert.rejects(p);
  assert.ok(statuses.includes('up-needed'));
  // The key is usable afterwards.
  assert.ok((await session.getInfo({ refresh: true })).versions.length > 0);
  await channel.close();
  await key.close();
});
