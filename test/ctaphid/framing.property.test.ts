import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { CtapHidChannel } from '../../src/ctaphid/channel.js';
import { decodeReportStream } from '../../src/ctaphid/decode.js';
import { CtapHidError } from '../../src/ctaphid/errors.js';
import { encodeMessage, maxMessageSize, Reassembler } from '../../src/ctaphid/framing.js';
import { TimeoutError } from '../../src/util/errors.js';
import { FakeCtapDevice, framesOf } from '../helpers/scripted-hid-port.js';

const cidArb = fc.integer({ min: 0, max: 0xffffffff });
const cmdArb = fc.integer({ min: 0, max: 0x7f });

test('encode → reassemble is the identity (report sizes 64, 32, 48)', () => {
  fc.assert(
    fc.property(cidArb, cmdArb, fc.constantFrom(64, 32, 48), fc.uint8Array({ maxLength: 7609 }), (cid, cmd, size, raw) => {
      const payload = raw.subarray(0, maxMessageSize(size));
      const packets = encodeMessage(cid, cmd, payload, size);
      const r = new Reassembler(cid, undefined, size);
      let m = null;
      for (const p of packets) {
        assert.equal(m, null);
        assert.equal(p.length, size);
        m = r.push(p);
      }
      assert.ok(m, 'm');
      assert.equal(m.cid, cid);
      assert.equal(m.cmd, cmd);
      assert.deepEqual(m.payload, payload);
      assert.equal(r.inProgress, false);
    }),
    { numRuns: 300 },
  );
});

/** Feed reports; only CtapHidError may escape; completed messages keep the framing's promises. */
function feed(cid: number, reports: Uint8Array[]): void {
  const r = new Reassembler(cid);
  for (const rep of reports) {
    let m;
    try {
      m = r.push(rep);
    } catch (e) {
      assert.ok(e instanceof CtapHidError, `unexpected ${String(e)}`);
      assert.equal(e.code, 'PROTOCOL');
      assert.equal(r.inProgress, false, 'a broken message is dropped');
      continue;
    }
    if (m) {
      assert.equal(m.cid, cid);
      assert.ok(m.payload.length <= 7609, 'm.payload.length <= 7609');
      assert.equal(r.inProgress, false);
    }
  }
}

test('random report streams: the reassembler only ever throws CtapHidError PROTOCOL', () => {
  fc.assert(
    fc.property(
      cidArb,
      fc.array(fc.uint8Array({ maxLength: 70 }), { maxLength: 60 }),
      (cid, reports) => {
        feed(cid, reports);
        // The same reports on "our" channel, to reach past the CID check.
        feed(cid, reports.map((r) => (r.length >= 4 ? Uint8Array.from([cid >>> 24, (cid >>> 16) & 0xff, (cid >>> 8) & 0xff, cid & 0xff, ...r.subarray(4)]) : r)));
      },
    ),
    { numRuns: 500 },
  );
});

const mutation = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
  fc.record({ kind: fc.constant('drop' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('duplicate' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('swap' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat(), len: fc.integer({ min: 0, max: 63 }) }),
  fc.record({ kind: fc.constant('foreign-cid' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('bcnt' as const), value: fc.integer({ min: 0, max: 0xffff }) }),
);
type Mutation = typeof mutation extends fc.Arbitrary<infer M> ? M : never;

function mutate(packets: Uint8Array[], muts: Mutation[]): Uint8Array[] {
  const out = packets.map((p) => new Uint8Array(p));
  for (const m of muts) {
    if (out.length === 0) break;
    const i = 'at' in m ? m.at % out.length : 0;
    switch (m.kind) {
      case 'flip': {
        const p = out[i]!;
        if (p.length) p[(m.at >> 3) % p.length]! ^= 1 << m.bit;
        break;
      }
      case 'drop':
        out.splice(i, 1);
        break;
      case 'duplicate':
        out.splice(i, 0, new Uint8Array(out[i]!));
        break;
      case 'swap':
        if (out.length > 1) [out[i], out[(i + 1) % out.length]] = [out[(i + 1) % out.length]!, out[i]!];
        break;
      case 'truncate':
        out[i] = out[i]!.slice(0, m.len);
        break;
      case 'foreign-cid':
        if (out[i]!.length >= 4) out[i]![0]! ^= 0x80;
        break;
      case 'bcnt':
        if (out[0]!.length >= 7) out[0]!.set([m.value >> 8, m.value & 0xff], 5);
        break;
    }
  }
  return out;
}

test('mutated valid streams (flip, drop, duplicate, swap, truncate, foreign CID, lying BCNT): only CtapHidError, never a wrong-length message', () => {
  fc.assert(
    fc.property(cidArb, cmdArb, fc.uint8Array({ maxLength: 1200 }), fc.array(mutation, { minLength: 1, maxLength: 4 }), (cid, cmd, payload, muts) => {
      const packets = mutate(encodeMessage(cid, cmd, payload), muts);
      feed(cid, packets);
      // The stream decoder (ctap decode ctaphid) on the same bytes, when they tile into reports.
      const whole = Uint8Array.from(packets.flatMap((p) => [...p]));
      try {
        const d = decodeReportStream(whole);
        assert.equal(d.packets.length, whole.length / 64);
        for (const m of d.messages) assert.ok(m.payload.length <= 7609, 'm.payload.length <= 7609');
      } catch (e) {
        assert.ok(e instanceof CtapHidError, `unexpected ${String(e)}`);
      }
    }),
    { numRuns: 500 },
  );
});

test('random and mutated replies through CtapHidChannel: typed error or result within the deadline, and the channel keeps working', { timeout: 120_000 }, async () => {
  const dev = new FakeCtapDevice();
  const channel = await CtapHidChannel.open(dev.port, { cancelGraceMs: 5, busyBackoffMs: 1, maxBusyBackoffMs: 2 });
  const garbage = fc.array(fc.uint8Array({ minLength: 1, maxLength: 64 }), { maxLength: 12 });
  await fc.assert(
    fc.asyncProperty(
      fc.oneof(
        garbage.map((g) => ({ kind: 'garbage' as const, g })),
        fc.tuple(fc.uint8Array({ maxLength: 400 }), fc.array(mutation, { minLength: 1, maxLength: 3 })).map(([p, m]) => ({ kind: 'mutated' as const, p, m })),
      ),
      async (scenario) => {
        dev.respond = (req, d) => {
          const reports =
            scenario.kind === 'garbage'
              ? scenario.g.map((r) => {
                  const full = new Uint8Array(r);
                  if (full.length >= 4 && full[0]! & 1) full.set([(req.cid >>> 24) & 0xff, (req.cid >>> 16) & 0xff, (req.cid >>> 8) & 0xff, req.cid & 0xff]);
                  return full;
                })
              : mutate(framesOf(req.cid, 0x10, scenario.p), scenario.m);
          d.port.deliver(...reports);
        };
        try {
          await channel.cbor(Uint8Array.of(1), { timeoutMs: 40 });
        } catch (e) {
          assert.ok(e instanceof CtapHidError || e instanceof TimeoutError, `unexpected ${String(e)}`);
        }
        dev.respond = (req, d) => d.defaultReply(req);
        assert.deepEqual(await channel.ping(Uint8Array.of(5, 6), { timeoutMs: 2000 }), Uint8Array.of(5, 6));
      },
    ),
    { numRuns: 60 },
  );
  await channel.close();
});
