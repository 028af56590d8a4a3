/**
 * FaultPlan on its own: the --fault spec grammar and its errors, which
 * transactions a rule picks (tx=, next(), p+seed, times, cmd=), and what each
 * packet fault does to the framed packets. The end-to-end outcome of every
 * fault through the real client is in test/ctaphid/faults.test.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeCbor, encodeCbor } from '../../src/cbor/index.js';
import { CTAPHID } from '../../src/ctaphid/constants.js';
import { encodeMessage, parseHeader, Reassembler } from '../../src/ctaphid/framing.js';
import { FaultPlan, FaultSpecError, parseFaultSpec, parseFaultSpecs } from '../../src/virtual/faults.js';
import type { FaultDeviceControl, FaultTransaction } from '../../src/virtual/fault-types.js';
import { VirtualOptionError, virtualOptionsFromCli } from '../../src/virtual/cli-options.js';

const CID = 0x01020304;

function device(): FaultDeviceControl & { sent: Uint8Array[]; unplugged: number } {
  const d = {
    sent: [] as Uint8Array[],
    unplugged: 0,
    disconnect(): void {
      d.unplugged++;
    },
    async sendRaw(p: Uint8Array): Promise<void> {
      d.sent.push(p);
    },
  };
  return d;
}

let index = 0;
function tx(cmd: number, payload: Uint8Array = new Uint8Array(0)): FaultTransaction {
  return { index: index++, cid: CID, cmd, payload };
}

/** Run one transaction through the hooks as the device does; returns the action and the packets that would leave. */
async function through(plan: FaultPlan, t: FaultTransaction, response: Uint8Array): Promise<{ action: string; packets: Uint8Array[]; dev: ReturnType<typeof device> }> {
  const dev = device();
  const action = t.cmd === CTAPHID.INIT ? undefined : plan.onTransaction(t);
  if (action && action.kind !== 'pass') return { action: action.kind, packets: [], dev };
  const body = plan.onResponse(t, response);
  const packets = await plan.onOutgoing(encodeMessage(CID, t.cmd, body), { tx: t, cid: CID, cmd: t.cmd }, dev);
  return { action: 'pass', packets, dev };
}

const BIG = new Uint8Array(200).map((_, i) => i); // 4 packets at 64 bytes

function reassemble(packets: Uint8Array[]): Uint8Array | Error {
  const r = new Reassembler(CID);
  try {
    for (const p of packets) {
      const m = r.push(p);
      if (m) return m.payload;
    }
    return new Error('incomplete');
  } catch (e) {
    return e as Error;
  }
}

test('spec grammar: kinds, alias, parameters; errors name the problem', () => {
  assert.deepEqual(parseFaultSpec('drop'), { kind: 'drop' });
  assert.deepEqual(parseFaultSpec('drop:p=0.1,seed=42'), { kind: 'drop', p: 0.1, seed: 42 });
  assert.deepEqual(parseFaultSpec('stall:tx=3'), { kind: 'stall', tx: [3] });
  assert.deepEqual(parseFaultSpec(' error : code=0x06 , cmd=ping '), { kind: 'error-mid-message', code: 6, cmd: 'ping' });
  assert.deepEqual(parseFaultSpec('garbage-cbor:tx=2+4'), { kind: 'garbage-cbor', tx: [2, 4] });
  assert.deepEqual(parseFaultSpec('duplicate:packet=last,times=2'), { kind: 'duplicate', packet: 'last', times: 2 });
  assert.deepEqual(parseFaultSpec('foreign-cid:mode=extra'), { kind: 'foreign-cid', mode: 'extra' });
  assert.deepEqual(parseFaultSpec('disconnect:after=1'), { kind: 'disconnect', after: 1 });
  assert.deepEqual(parseFaultSpec('stall:ms=250,p=1'), { kind: 'stall', ms: 250, p: 1 });
  const bad: [string, RegExp][] = [
    ['explode', /unknown fault "explode"/],
    ['drop:p=2', /p=2/],
    ['drop:p=0', /p=0/],
    ['drop:tx=0', /tx counts from 1/],
    ['drop:tx=1,p=0.5', /tx= or p=/],
    ['drop:seed=3', /seed= goes with p=/],
    ['drop:ms=5', /drop takes no ms=/],
    ['stall:code=1', /stall takes no code=/],
    ['drop:cmd=bogus', /cmd=bogus/],
    ['drop:times=0', /at least 1/],
    ['drop:p', /NAME=VALUE/],
    ['drop:tx=1,tx=2', /given twice/],
    ['garbage-cbor:cmd=msg', /CBOR responses only/],
    ['foreign-cid:mode=both', /replace or extra/],
  ];
  for (const [spec, re] of bad) assert.throws(() => parseFaultSpec(spec), (e: unknown) => e instanceof FaultSpecError && re.test((e as Error).message), spec);
  const plan = parseFaultSpecs(['drop:tx=1; stall:tx=2', 'no-up']);
  assert.deepEqual(plan.rules.map((r) => r.kind), ['drop', 'stall', 'no-up']);
});

test('selection: a bare rule fires once on the next applicable transaction; tx= counts applicable ones from when added; cmd= filters', async () => {
  const plan = new FaultPlan();
  plan.add('drop:tx=2+3');
  plan.next('stall');
  const cbor = (): FaultTransaction => tx(CTAPHID.CBOR, Uint8Array.of(0x04));
  // INIT and PING do not count for the default filter (CBOR and MSG).
  assert.equal((await through(plan, tx(CTAPHID.INIT, new Uint8Array(8)), new Uint8Array(17))).packets.length, 1);
  assert.equal((await through(plan, tx(CTAPHID.PING, Uint8Array.of(1)), Uint8Array.of(1))).packets.length, 1);
  assert.equal((await through(plan, cbor(), Uint8Array.of(0))).action, 'stall', '1st CBOR: the next() stall');
  assert.equal((await through(plan, cbor(), Uint8Array.of(0))).packets.length, 0, '2nd: dropped (its only packet)');
  assert.equal((await through(plan, cbor(), Uint8Array.of(0))).packets.length, 0, '3rd: dropped');
  assert.equal((await through(plan, cbor(), Uint8Array.of(0))).packets.length, 1, '4th: untouched');
  assert.deepEqual(plan.rules, [], 'every rule used up');
  assert.deepEqual(plan.records.map((r) => r.kind), ['stall', 'drop', 'drop']);

  const pings = new FaultPlan();
  pings.add('drop:cmd=ping,times=2,p=1');
  for (let i = 0; i < 3; i++) await through(pings, tx(CTAPHID.CBOR, Uint8Array.of(4)), Uint8Array.of(0));
  const outs = [];
  for (let i = 0; i < 3; i++) outs.push((await through(pings, tx(CTAPHID.PING), Uint8Array.of(1))).packets.length);
  assert.deepEqual(outs, [0, 0, 1], 'times=2 caps p=1');
});

test('probability: the same seed picks the same transactions; another seed picks others; an unseeded rule gets a seed to repeat it', async () => {
  const pattern = async (spec: string): Promise<boolean[]> => {
    const plan = new FaultPlan();
    plan.add(spec);
    const out: boolean[] = [];
    for (let i = 0; i < 64; i++) out.push((await through(plan, tx(CTAPHID.CBOR, Uint8Array.of(4)), Uint8Array.of(0))).packets.length === 0);
    return out;
  };
  const a = await pattern('drop:p=0.3,seed=42');
  assert.deepEqual(await pattern('drop:p=0.3,seed=42'), a);
  assert.notDeepEqual(await pattern('drop:p=0.3,seed=43'), a);
  const hits = a.filter(Boolean).length;
  assert.ok(hits > 5 && hits < 40, `about 30% of 64: ${hits}`);
  const plan = new FaultPlan();
  const kept = plan.add('drop:p=0.5');
  assert.equal(typeof kept.seed, 'number');
  const again = new FaultPlan();
  again.add({ ...kept });
  const seq = async (p: FaultPlan): Promise<number[]> => {
    const r = [];
    for (let i = 0; i < 16; i++) r.push((await through(p, tx(CTAPHID.MSG, Uint8Array.of(0, 3, 0, 0)), Uint8Array.of(0x90, 0))).packets.length);
    return r;
  };
  assert.deepEqual(await seq(plan), await seq(again));
});

test('packet faults on a 4-packet answer: what the client reassembler sees', async () => {
  const expectPacketFault = async (spec: string, check: (packets: Uint8Array[]) => void): Promise<void> => {
    const plan = new FaultPlan();
    plan.add(spec);
    const { packets } = await through(plan, tx(CTAPHID.CBOR, Uint8Array.of(4)), BIG);
    check(packets);
    assert.equal(plan.records.length, 1, spec);
    assert.ok(plan.records[0]!.applied, spec);
  };
  assert.deepEqual(reassemble(encodeMessage(CID, CTAPHID.CBOR, BIG)), BIG, 'control');
  await expectPacketFault('drop', (p) => {
    assert.equal(p.length, 3);
    assert.match(String(reassemble(p)), /incomplete/);
  });
  await expectPacketFault('drop:packet=0', (p) => assert.match(String(reassemble(p)), /without an initialization packet/));
  await expectPacketFault('duplicate', (p) => {
    assert.equal(p.length, 5);
    assert.match(String(reassemble(p)), /new initialization packet/);
  });
  await expectPacketFault('duplicate:packet=2', (p) => assert.match(String(reassemble(p)), /expected SEQ 2, got 1/));
  await expectPacketFault('reorder', (p) => assert.match(String(reassemble(p)), /expected SEQ 1, got 2/));
  await expectPacketFault('bad-seq', (p) => assert.match(String(reassemble(p)), /expected SEQ 0, got 1/));
  await expectPacketFault('foreign-cid', (p) => {
    assert.equal(p.length, 4);
    for (const x of p) assert.notEqual(parseHeader(x)!.cid, CID);
  });
  await expectPacketFault('foreign-cid:mode=extra', (p) => {
    assert.equal(p.length, 8);
    assert.deepEqual(reassemble(p.slice(4)), BIG);
  });
  await expectPacketFault('error-mid-message:code=0x7f', (p) => {
    assert.equal(p.length, 2);
    const h = parseHeader(p[1]!);
    assert.ok(h && h.type === 'init' && h.cmd === CTAPHID.ERROR && h.cid === CID);
    assert.equal(p[1]![7], 0x7f);
  });
});

test('KEEPALIVE messages and replies outside a transaction are never touched', async () => {
  const plan = new FaultPlan();
  plan.add('drop:p=1');
  const t = tx(CTAPHID.CBOR, Uint8Array.of(4));
  const ka = encodeMessage(CID, CTAPHID.KEEPALIVE, Uint8Array.of(1));
  assert.equal((await plan.onOutgoing(ka, { tx: t, cid: CID, cmd: CTAPHID.KEEPALIVE }, device())).length, 1);
  const err = encodeMessage(CID, CTAPHID.ERROR, Uint8Array.of(0x0b));
  assert.equal((await plan.onOutgoing(err, { tx: undefined, cid: CID, cmd: CTAPHID.ERROR }, device())).length, 1);
  assert.equal(plan.records.length, 0);
});

test('content faults: garbage CBOR, wrong rpIdHash, UP cleared; left alone (and recorded as not applied) on an error status', async () => {
  const authData = new Uint8Array(37).fill(7);
  authData[32] = 0x05; // UP | UV
  const ok = new Uint8Array([0x00, ...encodeCbor(new Map<number, Uint8Array | string>([[1, 'packed'], [2, authData]]))]);
  const ga = (): FaultTransaction => tx(CTAPHID.CBOR, Uint8Array.of(0x02, 0xa0));

  const plan = new FaultPlan();
  plan.next('garbage-cbor');
  const g = plan.onResponse(ga(), ok);
  assert.equal(g[0], 0x00);
  assert.throws(() => decodeCbor(g.subarray(1)));

  const wrong = new FaultPlan();
  wrong.next('wrong-rpid-hash');
  const info = tx(CTAPHID.CBOR, Uint8Array.of(0x04));
  assert.deepEqual(wrong.onResponse(info, ok), ok, 'getInfo has no authData: not a candidate');
  const w = decodeCbor(wrong.onResponse(ga(), ok).subarray(1)).value as Map<number, Uint8Array>;
  assert.notDeepEqual(w.get(2)!.subarray(0, 32), authData.subarray(0, 32));
  assert.deepEqual(w.get(2)!.subarray(32), authData.subarray(32), 'only the hash changes');

  const noUp = new FaultPlan();
  noUp.add('no-up:p=1');
  const n = decodeCbor(noUp.onResponse(ga(), ok).subarray(1)).value as Map<number, Uint8Array>;
  assert.equal(n.get(2)![32], 0x04, 'UP cleared, UV kept');
  const denied = Uint8Array.of(0x27);
  assert.deepEqual(noUp.onResponse(ga(), denied), denied);
  assert.deepEqual(noUp.records.map((r) => r.applied), [true, false]);
  // U2F: enforce-AUTHENTICATE only.
  const u2f = noUp.onResponse(tx(CTAPHID.MSG, Uint8Array.of(0x00, 0x02, 0x03, 0x00)), Uint8Array.of(0x01, 0, 0, 0, 9, 0x30, 0x90, 0x00));
  assert.equal(u2f[0], 0x00);
  const version = Uint8Array.of(0x55, 0x90, 0x00);
  assert.deepEqual(noUp.onResponse(tx(CTAPHID.MSG, Uint8Array.of(0x00, 0x03, 0x00, 0x00)), version), version);
});

test('stall and disconnect: transaction-level by default, at the answer with ms= / after=', async () => {
  const plan = new FaultPlan();
  plan.next('disconnect', { after: 2 });
  const { packets, dev } = await through(plan, tx(CTAPHID.CBOR, Uint8Array.of(4)), BIG);
  assert.equal(packets.length, 0);
  assert.equal(dev.sent.length, 2, 'two packets left before the unplug');
  assert.equal(dev.unplugged, 1);
  plan.next('disconnect');
  assert.equal((await through(plan, tx(CTAPHID.CBOR, Uint8Array.of(4)), BIG)).action, 'disconnect');
  plan.next('stall', { ms: 1 });
  assert.equal((await through(plan, tx(CTAPHID.CBOR, Uint8Array.of(4)), BIG)).packets.length, 4, 'a late answer, whole');
  plan.next('stall', { cmd: 'init' });
  assert.equal((await through(plan, tx(CTAPHID.INIT, new Uint8Array(8)), new Uint8Array(17))).packets.length, 0, 'INIT has no transaction hook: no answer');
});

test('--fault on the CLI: specs become a FaultPlan; a bad one is a VirtualOptionError naming --fault', async () => {
  const o = await virtualOptionsFromCli({ fault: ['drop:p=0.1,seed=42', 'stall:tx=3'] });
  assert.ok(o.faults instanceof FaultPlan);
  assert.deepEqual((o.faults as FaultPlan).rules.map((r) => [r.kind, r.p ?? r.tx]), [['drop', 0.1], ['stall', [3]]]);
  await assert.rejects(virtualOptionsFromCli({ fault: 'drop:p=7' }), (e: unknown) => e instanceof VirtualOptionError && e.flag === '--fault' && /p=7/.test(e.message));
});

test('rules made in code are checked like parsed ones', () => {
  const plan = new FaultPlan();
  const bad: [Record<string, unknown>, RegExp][] = [
    [{ kind: 'explode' }, /unknown fault/],
    [{ kind: 'drop', tx: [] }, /at least one position/],
    [{ kind: 'drop', tx: [0] }, /tx must be/],
    [{ kind: 'drop', p: 1.5 }, /p must be/],
    [{ kind: 'drop', times: 0 }, /times must be/],
    [{ kind: 'drop', packet: -1 }, /packet must be/],
    [{ kind: 'stall', ms: 1.5 }, /ms must be/],
    [{ kind: 'drop', cmd: 'nope' }, /cmd must be/],
  ];
  for (const [rule, re] of bad) assert.throws(() => plan.add(rule as never), (e: unknown) => e instanceof FaultSpecError && re.test((e as Error).message), JSON.stringify(rule));
  assert.deepEqual(plan.rules, []);
});
