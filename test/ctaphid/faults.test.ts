/**
 * Every injected fault of the virtual key (src/virtual/faults.ts) driven
 * through the real client stack — CtapHidChannel (+ Ctap2Session /
 * Ctap1Session) over the in-process port — ends in the documented error or
 * recovery, never a hang: each test has a hard timeout and every call a
 * short deadline. Each test also checks the fault really fired (the plan's
 * records), so none can pass by the fault being skipped.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sha256 } from '../../src/crypto/hashes.js';
import { p256Verify, randomBytes } from '../../src/crypto/primitives.js';
import { CborError, type CborValue } from '../../src/cbor/index.js';
import { CtapHidChannel } from '../../src/ctaphid/channel.js';
import { CtapHidError } from '../../src/ctaphid/errors.js';
import { Ctap2Session } from '../../src/ctap2/session.js';
import { CTAP2_CMD } from '../../src/ctap2/commands.js';
import { decodeGetAssertionResponse } from '../../src/ctap2/get-assertion.js';
import { decodeMakeCredentialResponse } from '../../src/ctap2/make-credential.js';
import { coseToP256Point } from '../../src/ctap2/cose-key.js';
import { Ctap1Session, pointFromU2fPublicKey, u2fAuthenticateSignedData } from '../../src/ctap1/index.js';
import { HidError } from '../../src/hid/errors.js';
import { openUdpPort } from '../../src/hid/udp.js';
import { concatBytes, utf8Encode } from '../../src/util/bytes.js';
import { TimeoutError } from '../../src/util/errors.js';
import { VirtualAuthenticator } from '../../src/virtual/index.js';
import { FaultPlan, type FaultKind } from '../../src/virtual/faults.js';
import { serveVirtualUdp } from '../../src/virtual/udp-server.js';
import { WebAuthnClient } from '../../src/webauthn/client.js';
import { startVirtualServe } from '../helpers/virtual-serve.js';
import { WebAuthnError } from '../../src/webauthn/errors.js';

/** A hang fails the test instead of stalling the suite. */
const T = { timeout: 15_000 };
/** Deadline of a call that is expected to time out. */
const SHORT = { timeoutMs: 300 };
/** Deadline of a call that is expected to succeed. */
const LONG = { timeoutMs: 5_000 };

interface Rig {
  plan: FaultPlan;
  key: VirtualAuthenticator;
  channel: CtapHidChannel;
  session: Ctap2Session;
  close(): Promise<void>;
}

async function rig(opts: { u2fOnly?: boolean } = {}): Promise<Rig> {
  const plan = new FaultPlan();
  const key = await VirtualAuthenticator.create({ faults: plan, ...opts });
  const channel = await CtapHidChannel.open(key.port(), { cancelGraceMs: 50 });
  return {
    plan,
    key,
    channel,
    session: new Ctap2Session(channel),
    close: async () => {
      await channel.close();
      await key.close();
    },
  };
}

function fired(plan: FaultPlan, kind: FaultKind, applied = true): string {
  const r = plan.records.filter((x) => x.kind === kind && x.applied === applied);
  assert.equal(r.length, 1, `${kind} fired once (${JSON.stringify(plan.records)})`);
  return r[0]!.note;
}

/** The answer was more than one packet (what makes duplicate/reorder/bad-seq detectable). */
function multiPacket(note: string): void {
  const m = / of (\d+)/.exec(note);
  assert.ok(m && Number(m[1]) >= 2, `a multi-packet answer: ${note}`);
}

const isProtocol = (e: unknown): boolean => e instanceof CtapHidError && e.code === 'PROTOCOL';
const isRemoved = (e: unknown): boolean => e instanceof HidError && e.code === 'DEVICE_REMOVED';

async function worksAgain(r: Rig): Promise<void> {
  const info = await r.session.getInfo({ refresh: true, ...LONG });
  assert.ok(info.versions.includes('FIDO_2_1'));
  const data = randomBytes(100);
  assert.deepEqual(await r.channel.ping(data, LONG), data);
}

test('drop (last packet of a multi-packet answer): TimeoutError at the deadline, then the channel resyncs and works', T, async () => {
  const r = await rig();
  try {
    r.plan.next('drop');
    await assert.rejects(r.session.getInfo(SHORT), TimeoutError);
    multiPacket(fired(r.plan, 'drop'));
    await worksAgain(r);
  } finally {
    await r.close();
  }
});

test('drop of a one-packet answer (PING): TimeoutError, then the next call works', T, async () => {
  const r = await rig();
  try {
    r.plan.next('drop', { cmd: 'ping' });
    await assert.rejects(r.channel.ping(Uint8Array.of(1, 2, 3), SHORT), TimeoutError);
    assert.match(fired(r.plan, 'drop'), /packet 0 of 1/);
    await worksAgain(r);
  } finally {
    await r.close();
  }
});

test('drop of the INIT answer: CtapHidChannel.open times out; opening again works', T, async () => {
  const plan = new FaultPlan();
  plan.next('drop', { cmd: 'init' });
  const key = await VirtualAuthenticator.create({ faults: plan });
  const port = key.port();
  try {
    await assert.rejects(CtapHidChannel.open(port, SHORT), TimeoutError);
    fired(plan, 'drop');
    const channel = await CtapHidChannel.open(port, LONG);
    assert.ok((await new Ctap2Session(channel).getInfo(LONG)).versions.length > 0);
    await channel.close();
  } finally {
    await key.close();
  }
});

test('duplicate packet in a multi-packet answer: CtapHidError PROTOCOL, then recovery', T, async () => {
  const r = await rig();
  try {
    r.plan.next('duplicate');
    await assert.rejects(r.session.getInfo(LONG), isProtocol);
    multiPacket(fired(r.plan, 'duplicate'));
    await worksAgain(r);
  } finally {
    await r.close();
  }
});

test('duplicate of a one-packet answer: the call succeeds and the stale copy never answers the next request', T, async () => {
  const r = await rig();
  try {
    r.plan.next('duplicate', { cmd: 'ping' });
    assert.deepEqual(await r.channel.ping(Uint8Array.of(7), LONG), Uint8Array.of(7));
    fired(r.plan, 'duplicate');
    // A different PING: were the duplicate taken as its answer, the echo would differ (PROTOCOL).
    assert.deepEqual(await r.channel.ping(Uint8Array.of(8, 9), LONG), Uint8Array.of(8, 9));
  } finally {
    await r.close();
  }
});

test('reorder (two packets swapped): CtapHidError PROTOCOL, then recovery; a one-packet answer is left alone', T, async () => {
  const r = await rig();
  try {
    r.plan.next('reorder');
    await assert.rejects(r.session.getInfo(LONG), isProtocol);
    multiPacket(fired(r.plan, 'reorder'));
    await worksAgain(r);
    r.plan.next('reorder', { cmd: 'ping' });
    assert.deepEqual(await r.channel.ping(Uint8Array.of(1), LONG), Uint8Array.of(1));
    fired(r.plan, 'reorder', false);
  } finally {
    await r.close();
  }
});

test('foreign CID: the answer on another channel is ignored → TimeoutError; with mode=extra the real answer still comes → success', T, async () => {
  const r = await rig();
  try {
    r.plan.next('foreign-cid');
    await assert.rejects(r.session.getInfo(SHORT), TimeoutError);
    fired(r.plan, 'foreign-cid');
    await worksAgain(r);
    r.plan.next('foreign-cid', { mode: 'extra' });
    const info = await r.session.getInfo({ refresh: true, ...LONG });
    assert.ok(info.versions.includes('FIDO_2_0'));
    assert.equal(r.plan.records.filter((x) => x.kind === 'foreign-cid').length, 2);
  } finally {
    await r.close();
  }
});

test('bad SEQ in a continuation packet: CtapHidError PROTOCOL, then recovery', T, async () => {
  const r = await rig();
  try {
    r.plan.next('bad-seq');
    await assert.rejects(r.session.getInfo(LONG), isProtocol);
    assert.match(fired(r.plan, 'bad-seq'), /carries SEQ/);
    await worksAgain(r);
  } finally {
    await r.close();
  }
});

test('stall (no answer, no KEEPALIVE): TimeoutError at the deadline, the CANCEL/INIT frees the key, the next call works', T, async () => {
  const r = await rig();
  try {
    r.plan.next('stall');
    const statuses: unknown[] = [];
    await assert.rejects(r.session.getInfo({ ...SHORT, onKeepalive: (s) => statuses.push(s) }), TimeoutError);
    assert.deepEqual(statuses, [], 'a stalled key sends no KEEPALIVE');
    fired(r.plan, 'stall');
    await worksAgain(r);
    // A late answer within the deadline is just slow.
    r.plan.next('stall', { ms: 50 });
    assert.ok((await r.session.getInfo({ refresh: true, ...LONG })).versions.length > 0);
    assert.equal(r.plan.records.filter((x) => x.kind === 'stall').length, 2);
  } finally {
    await r.close();
  }
});

test('CTAPHID_ERROR mid-message: CtapHidError with the spec name; the channel stays usable', T, async () => {
  const r = await rig();
  try {
    r.plan.next('error-mid-message');
    await assert.rejects(r.session.getInfo(LONG), (e: unknown) => e instanceof CtapHidError && e.code === 'CTAPHID_ERROR' && e.specName === 'ERR_OTHER');
    assert.match(fired(r.plan, 'error-mid-message'), /after the first packet/);
    await worksAgain(r);
    r.plan.add('error:code=0x06,cmd=ping');
    // CHANNEL_BUSY is retried by the client until the deadline: a one-off ERR_CHANNEL_BUSY ends in success.
    assert.deepEqual(await r.channel.ping(Uint8Array.of(3), LONG), Uint8Array.of(3));
    r.plan.add('error:code=0x04,cmd=ping');
    await assert.rejects(r.channel.ping(Uint8Array.of(4), LONG), (e: unknown) => e instanceof CtapHidError && e.specName === 'ERR_INVALID_SEQ');
    assert.deepEqual(await r.channel.ping(Uint8Array.of(5), LONG), Uint8Array.of(5));
  } finally {
    await r.close();
  }
});

test('garbage CBOR: CborError from Ctap2Session, then recovery', T, async () => {
  const r = await rig();
  try {
    r.plan.next('garbage-cbor');
    await assert.rejects(r.session.getInfo(LONG), CborError);
    fired(r.plan, 'garbage-cbor');
    await worksAgain(r);
  } finally {
    await r.close();
  }
});

test('wrong rpIdHash / no UP flag: the transport and the CTAP2 decoders accept the reply; the content is what the WebAuthn layer must reject', T, async () => {
  // These pass the layers below unchanged in form; the WebAuthn layer's rejection is the last test
  // of this file (a note for the webauthn validation tests: keep it that way).
  const r = await rig();
  try {
    const rpId = 'faults.example.com';
    const rpIdHash = sha256(utf8Encode(rpId));
    const mcParams = (cdh: Uint8Array): Map<number, CborValue> =>
      new Map<number, CborValue>([
        [1, cdh],
        [2, { id: rpId }],
        [3, { id: utf8Encode('u1'), name: 'u1' }],
        [4, [{ alg: -7, type: 'public-key' }]],
      ]);
    await r.session.getInfo(LONG);
    r.plan.next('wrong-rpid-hash');
    const badMc = decodeMakeCredentialResponse((await r.session.send(CTAP2_CMD.makeCredential, mcParams(randomBytes(32)), LONG)).value);
    assert.notDeepEqual(badMc.authData.rpIdHash, rpIdHash);
    fired(r.plan, 'wrong-rpid-hash');

    const mc = decodeMakeCredentialResponse((await r.session.send(CTAP2_CMD.makeCredential, mcParams(randomBytes(32)), LONG)).value);
    assert.deepEqual(mc.authData.rpIdHash, rpIdHash, 'control: no fault, the right hash');
    const cred = mc.authData.attestedCredentialData!;
    const point = coseToP256Point(cred.credentialPublicKey);
    const ga = async (): Promise<{ authData: ReturnType<typeof decodeGetAssertionResponse>['authData']; verifies: boolean }> => {
      const cdh = randomBytes(32);
      const res = decodeGetAssertionResponse(
        (await r.session.send(CTAP2_CMD.getAssertion, new Map<number, CborValue>([[1, rpId], [2, cdh], [3, [{ id: cred.credentialId, type: 'public-key' }]]]), LONG)).value,
      );
      return { authData: res.authData, verifies: p256Verify(point, concatBytes(res.authData.bytes, cdh), res.signature) };
    };
    const clean = await ga();
    assert.ok(clean.verifies && clean.authData.up, 'control: a clean assertion verifies and has UP');

    r.plan.next('wrong-rpid-hash');
    const wrong = await ga();
    assert.notDeepEqual(wrong.authData.rpIdHash, rpIdHash);
    assert.equal(wrong.verifies, false, 'the injector cannot re-sign: the signature fails too');

    r.plan.next('no-up');
    const noUp = await ga();
    assert.equal(noUp.authData.up, false);
    assert.deepEqual(noUp.authData.rpIdHash, rpIdHash);
    fired(r.plan, 'no-up');
  } finally {
    await r.close();
  }
});

test('no-up on U2F: the presence byte of an enforce-AUTHENTICATE is cleared (Ctap1Session returns it as is)', T, async () => {
  const r = await rig();
  try {
    const u2f = new Ctap1Session(r.channel);
    const app = sha256(utf8Encode('u2f.example.com'));
    const reg = await u2f.register(randomBytes(32), app, LONG);
    r.plan.next('no-up');
    const c = randomBytes(32);
    const auth = await u2f.authenticate(c, app, reg.keyHandle, LONG);
    assert.equal(auth.userPresence & 1, 0);
    fired(r.plan, 'no-up');
    // The key signed UP=1: with the byte cleared the signature no longer verifies.
    assert.equal(p256Verify(pointFromU2fPublicKey(reg.publicKey), u2fAuthenticateSignedData(app, c, auth), auth.signature), false);
  } finally {
    await r.close();
  }
});

test('stall on CTAPHID_MSG (U2F): TimeoutError, then U2F works again', T, async () => {
  const r = await rig({ u2fOnly: true });
  try {
    const u2f = new Ctap1Session(r.channel);
    r.plan.next('stall');
    await assert.rejects(u2f.getVersion(SHORT), TimeoutError);
    fired(r.plan, 'stall');
    assert.equal(await u2f.getVersion(LONG), 'U2F_V2');
  } finally {
    await r.close();
  }
});

test('disconnect mid-transaction: HidError DEVICE_REMOVED, queued calls rejected with it; replug() brings a working key', T, async () => {
  for (const spec of ['disconnect', 'disconnect:after=1']) {
    const r = await rig();
    try {
      r.plan.add(spec);
      const first = r.session.getInfo(LONG);
      const queued = r.channel.ping(Uint8Array.of(1), LONG);
      await assert.rejects(first, isRemoved, spec);
      await assert.rejects(queued, isRemoved, `${spec}: queued call`);
      await assert.rejects(r.channel.ping(Uint8Array.of(2), LONG), isRemoved, `${spec}: later call`);
      assert.match(fired(r.plan, 'disconnect'), spec === 'disconnect' ? /before any answer/ : /after 1 of \d+/);
      r.key.replug();
      const channel = await CtapHidChannel.open(r.key.port(), LONG);
      assert.ok((await new Ctap2Session(channel).getInfo(LONG)).versions.length > 0);
      await channel.close();
    } finally {
      await r.close();
    }
  }
});

test('by probability with a seed: each call either succeeds or ends in the fault\'s error, and the same seed gives the same run', T, async () => {
  // ERROR mid-message fails at once, so the run has no timing in it; the selection is the same for every kind.
  const run = async (spec: string, calls: number, timeoutMs: number): Promise<string[]> => {
    const r = await rig();
    try {
      r.plan.add(spec);
      const outcomes: string[] = [];
      for (let i = 0; i < calls; i++) {
        try {
          await r.channel.ping(Uint8Array.of(i), { timeoutMs });
          outcomes.push('ok');
        } catch (e) {
          if (e instanceof TimeoutError) outcomes.push('timeout');
          else if (e instanceof CtapHidError && e.specName === 'ERR_OTHER') outcomes.push('error');
          else throw e;
        }
      }
      assert.equal(outcomes.filter((o) => o !== 'ok').length, r.plan.records.length, 'every failure is a recorded fault');
      return outcomes;
    } finally {
      await r.close();
    }
  };
  const a = await run('error:p=0.5,seed=42,cmd=ping', 16, 5_000);
  assert.deepEqual(await run('error:p=0.5,seed=42,cmd=ping', 16, 5_000), a);
  assert.ok(a.includes('ok') && a.includes('error'), `both outcomes occur: ${a.join(' ')}`);
  assert.ok(!a.includes('timeout'));
  // drop by probability: a dropped answer is a TimeoutError and the next call recovers.
  const d = await run('drop:p=0.5,seed=42,cmd=ping', 6, 1_000);
  assert.ok(d.every((o) => o === 'ok' || o === 'timeout') && d.includes('timeout') && d.includes('ok'), d.join(' '));
});

test('over UDP (the simulator convention): the same outcomes; an unplug is silence there, so disconnect ends in TimeoutError', T, async () => {
  const plan = new FaultPlan();
  const key = await VirtualAuthenticator.create({ faults: plan });
  const server = await serveVirtualUdp(key, { host: '127.0.0.1', port: 0 });
  try {
    const channel = await CtapHidChannel.open(await openUdpPort(`udp:127.0.0.1:${server.port}?local=0`), { ...LONG, cancelGraceMs: 50 });
    const session = new Ctap2Session(channel);
    plan.next('drop');
    await assert.rejects(session.getInfo(SHORT), TimeoutError);
    plan.next('duplicate');
    await assert.rejects(session.getInfo(LONG), isProtocol);
    plan.next('garbage-cbor');
    await assert.rejects(session.getInfo(LONG), CborError);
    assert.ok((await session.getInfo(LONG)).versions.includes('FIDO_2_1'), 'recovered');
    plan.next('disconnect');
    await assert.rejects(session.getInfo({ refresh: true, ...SHORT }), TimeoutError);
    assert.deepEqual(plan.records.map((r) => r.kind), ['drop', 'duplicate', 'garbage-cbor', 'disconnect']);
    await channel.close();
  } finally {
    await server.close();
    await key.close();
  }
});

test('wrong rpIdHash / no UP end to end: WebAuthnClient rejects the response (create and get)', T, async () => {
  const plan = new FaultPlan();
  const key = await VirtualAuthenticator.create({ faults: plan });
  const client = new WebAuthnClient({ origin: 'https://login.example.com', device: key.port(), interaction: {} });
  const creation = () => ({
    rp: { id: 'example.com', name: 'Example' },
    user: { id: randomBytes(16), name: 'alice@example.com', displayName: 'Alice' },
    challenge: randomBytes(32),
    pubKeyCredParams: [{ type: 'public-key' as const, alg: -7 }],
  });
  const rejected = (re: RegExp) => (e: unknown): boolean => e instanceof WebAuthnError && re.test(e.message);
  try {
    const reg = await client.create(creation());
    for (const [kind, re] of [['wrong-rpid-hash', /rpIdHash/], ['no-up', /user-present \(UP\)/]] as const) {
      plan.next(kind);
      await assert.rejects(client.create(creation()), rejected(re), `${kind}: create`);
      // get() first probes the allow list silently (up=false); the fault goes on the real assertion after it.
      plan.add({ kind, tx: [2] });
      await assert.rejects(client.get({ challenge: randomBytes(32), rpId: 'example.com', allowCredentials: [{ type: 'public-key', id: reg.rawId }] }), rejected(re), `${kind}: get`);
      assert.equal(plan.records.filter((r) => r.kind === kind && r.applied).length, 2);
    }
    // Untouched responses still pass.
    await client.get({ challenge: randomBytes(32), rpId: 'example.com', allowCredentials: [{ type: 'public-key', id: reg.rawId }] });
  } finally {
    await client.close();
    await key.close();
  }
});

test('`ctap virtual serve --fault` (the CLI): the 1st CTAP command stalls, the 2nd gets garbage CBOR, then the key works', { timeout: 60_000 }, async () => {
  const served = await startVirtualServe(['--fault', 'stall:tx=1', '--fault', 'garbage-cbor:tx=2']);
  try {
    const channel = await CtapHidChannel.open(await openUdpPort(`udp:127.0.0.1:${served.port}?local=0`), { ...LONG, cancelGraceMs: 50 });
    const session = new Ctap2Session(channel);
    await assert.rejects(session.getInfo({ timeoutMs: 500 }), TimeoutError);
    await assert.rejects(session.getInfo(LONG), CborError);
    assert.ok((await session.getInfo(LONG)).versions.includes('FIDO_2_1'), served.output());
    await channel.close();
  } finally {
    await served.stop();
  }
});

test('every fault at random (seeded): each call settles with success or a documented error, and the key recovers once the faults stop', { timeout: 60_000 }, async (t) => {
  const kinds = ['drop', 'duplicate', 'reorder', 'foreign-cid', 'bad-seq', 'stall', 'error-mid-message', 'garbage-cbor', 'wrong-rpid-hash', 'no-up'] as const;
  const tally = new Map<string, number>();
  for (const seed of [1, 2, 3]) {
    const r = await rig();
    try {
      kinds.forEach((kind, i) => r.plan.add({ kind, p: 0.12, seed: seed * 100 + i }));
      for (let i = 0; i < 12; i++) {
        const call =
          i % 3 === 0
            ? r.session.getInfo({ refresh: true, timeoutMs: 250 })
            : i % 3 === 1
              ? r.channel.ping(randomBytes(1 + ((i * 37) % 150)), { timeoutMs: 250 })
              : r.session.send(
                  CTAP2_CMD.makeCredential,
                  new Map<number, CborValue>([
                    [1, randomBytes(32)],
                    [2, { id: 'random.example.com' }],
                    [3, { id: utf8Encode(`u${i}`), name: 'u' }],
                    [4, [{ alg: -7, type: 'public-key' }]],
                  ]),
                  { timeoutMs: 250 },
                );
        let outcome: string;
        try {
          await call;
          outcome = 'ok';
        } catch (e) {
          if (e instanceof TimeoutError) outcome = 'TimeoutError';
          else if (e instanceof CtapHidError && (e.code === 'PROTOCOL' || e.code === 'CTAPHID_ERROR')) outcome = `CtapHidError ${e.code}`;
          else if (e instanceof CborError) outcome = 'CborError';
          else throw e; // anything else is not a documented outcome
        }
        tally.set(outcome, (tally.get(outcome) ?? 0) + 1);
      }
      r.plan.clear();
      await worksAgain(r);
    } finally {
      await r.close();
    }
  }
  t.diagnostic(JSON.stringify([...tally]));
  assert.ok((tally.get('ok') ?? 0) > 0 && tally.size > 1, JSON.stringify([...tally]));
});
