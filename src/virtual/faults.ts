/**
 * Fault injection for the virtual key (the FaultInjector of fault-types.ts):
 * link and device faults a client must survive with a clear error or a
 * recovery, never a hang. Chosen per transaction (`tx=3`, or `next()` for the
 * next one) or by probability with a seed (`p=0.1,seed=42`, reproducible).
 *
 * Spec grammar (`ctap virtual serve --fault SPEC`, repeatable; `;` also separates):
 *
 *   SPEC   := KIND [':' PARAM (',' PARAM)*]
 *   KIND   := drop | duplicate | reorder | foreign-cid | bad-seq | stall
 *           | error-mid-message (alias: error) | garbage-cbor
 *           | wrong-rpid-hash | no-up | disconnect
 *   PARAM  := tx=N[+N...]    1-based positions among the transactions the fault
 *                            applies to, counted from when it was added
 *           | p=P            probability per such transaction (0 < P <= 1)
 *           | seed=N         seed of the probability draws (default random; see `rules`)
 *           | times=N        fire at most N times (default: 1 alone, the tx count
 *                            with tx=, unlimited with p=)
 *           | cmd=C          which requests count: app (CBOR and MSG, the default),
 *                            cbor, msg, ping, wink, lock, init, any
 *           | packet=N|last  drop/duplicate/reorder/bad-seq: which packet of the
 *                            response (0 = the initialization packet)
 *           | ms=N           stall: answer after N ms (no KEEPALIVE) instead of never
 *           | code=N         error-mid-message: the CTAPHID error code (default 0x7f)
 *           | mode=replace|extra  foreign-cid: answer only on a foreign CID (default),
 *                            or send a copy there first and then the real answer
 *           | after=N        disconnect: unplug after N packets of the response
 *                            (default: as soon as the request is complete)
 *
 * A bare KIND fires once, on the next transaction it applies to. Examples:
 * `drop`, `drop:p=0.1,seed=42`, `stall:tx=3`, `garbage-cbor:tx=2+4`, `drop:cmd=init`.
 * Several rules may fire on one transaction. Every firing is kept in
 * `FaultPlan.records` (and passed to `onFault`), so a test can check that
 * its fault really happened.
 *
 * What each fault does, and what the project's client (CtapHidChannel +
 * Ctap2Session) makes of it (test/ctaphid/faults.test.ts proves each):
 *   drop               the response loses one packet (default the last) →
 *                      TimeoutError at the deadline; the channel resyncs; the next call works
 *   duplicate          one packet sent twice (default the first) → a multi-packet
 *                      response: CtapHidError PROTOCOL; a one-packet response:
 *                      success (the stale copy is discarded before the next request)
 *   reorder            two adjacent packets swapped (default the last two; needs
 *                      two packets) → CtapHidError PROTOCOL
 *   foreign-cid        the answer on another channel → ignored by the client:
 *                      TimeoutError (mode=extra: success)
 *   bad-seq            a continuation packet with the wrong SEQ (needs two
 *                      packets) → CtapHidError PROTOCOL
 *   stall              no answer, no KEEPALIVE, the channel held until CANCEL or
 *                      INIT → TimeoutError; the next call works
 *   error-mid-message  the first packet, then CTAPHID_ERROR → CtapHidError
 *                      CTAPHID_ERROR with the spec name (ERR_OTHER by default)
 *   garbage-cbor       status 0x00 with bytes that are not CBOR → CborError
 *   wrong-rpid-hash    makeCredential/getAssertion authData with a different
 *                      rpIdHash (the signature no longer verifies either: the
 *                      injector has no key to re-sign) → passes the transport
 *                      and CTAP2 decoding; WebAuthnClient rejects it
 *                      (WebAuthnError UnknownError "rpIdHash is not SHA-256 of the RP ID")
 *   no-up              the UP flag cleared in authData (CBOR), or the
 *                      user-presence byte of a U2F enforce-AUTHENTICATE → same
 *                      (WebAuthnError UnknownError "the user-present (UP) flag is clear")
 *   disconnect         the device is unplugged → HidError DEVICE_REMOVED, calls
 *                      queued behind it rejected with it (replug() to recover);
 *                      over UDP an unplug is only silence → TimeoutError
 */
import { decodeCbor, encodeCbor, type CborValue } from '../cbor/index.js';
import { randomBytes } from '../crypto/primitives.js';
import { BROADCAST_CID, CTAPHID, CTAPHID_ERR } from '../ctaphid/constants.js';
import { encodeMessage } from '../ctaphid/framing.js';
import type { FaultDeviceControl, FaultInjector, FaultOutgoingContext, FaultTransaction, FaultTransactionAction } from './fault-types.js';
import { parseFaultSpec, validateRule, type FaultCommandFilter, type FaultKind, type FaultRule } from './fault-spec.js';

export { FAULT_KINDS, FaultSpecError, parseFaultSpec, type FaultCommandFilter, type FaultKind, type FaultRule } from './fault-spec.js';

/** One fault that fired (or was due but could not change anything, `applied: false`). */
export interface FaultRecord {
  kind: FaultKind;
  /** The device's transaction index (0-based, INIT included). */
  tx: number;
  /** CTAPHID command of the request. */
  cmd: number;
  applied: boolean;
  note: string;
}

/** CTAP2 commands whose responses carry authData: makeCredential, getAssertion, getNextAssertion. */
const AUTH_DATA_COMMANDS: ReadonlySet<number> = new Set([0x01, 0x02, 0x08]);
const U2F_AUTHENTICATE = 0x02;
const U2F_ENFORCE = 0x03;

/** Parse specs (each may hold several separated by `;`) into one FaultPlan. Throws FaultSpecError. */
export function parseFaultSpecs(specs: readonly string[]): FaultPlan {
  const plan = new FaultPlan();
  for (const s of specs) for (const one of s.split(';')) if (one.trim()) plan.add(parseFaultSpec(one));
  return plan;
}

/** mulberry32: a small seeded PRNG, so a probability run can be repeated exactly. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface RuleState {
  rule: FaultRule;
  seen: number;
  fired: number;
  limit: number;
  draw: (() => number) | undefined;
}

const CMD_OF: Partial<Record<FaultCommandFilter, number>> = {
  cbor: CTAPHID.CBOR,
  msg: CTAPHID.MSG,
  ping: CTAPHID.PING,
  wink: CTAPHID.WINK,
  lock: CTAPHID.LOCK,
  init: CTAPHID.INIT,
};

/** Remembered decisions older than this many transactions are dropped (a transaction that never answered). */
const MEMO_WINDOW = 64;

/**
 * A schedule of faults. Attach with `VirtualAuthenticator.create({ faults })`
 * or the `faults` setter; add rules with add(), next() or parseFaultSpecs().
 */
export class FaultPlan implements FaultInjector {
  readonly #rules: RuleState[] = [];
  readonly #memo = new Map<number, RuleState[]>();
  /** Every fault that fired, in order. */
  readonly records: FaultRecord[] = [];
  /** Called for each record (e.g. `ctap virtual serve` prints it). */
  onFault: ((record: FaultRecord) => void) | undefined;

  /** Add a rule (or a spec string). Returns the rule as kept (with its seed filled in). */
  add(rule: FaultRule | string): FaultRule {
    const r: FaultRule = typeof rule === 'string' ? parseFaultSpec(rule) : { ...rule, tx: rule.tx?.slice() };
    validateRule(r);
    if (r.p !== undefined && r.seed === undefined) {
      const b = randomBytes(4);
      r.seed = ((b[0]! << 24) | (b[1]! << 16) | (b[2]! << 8) | b[3]!) >>> 0;
    }
    const limit = r.times ?? (r.tx ? r.tx.length : r.p !== undefined ? Infinity : 1);
    this.#rules.push({ rule: r, seen: 0, fired: 0, limit, draw: r.p !== undefined ? prng(r.seed!) : undefined });
    return r;
  }

  /** The fault `kind` on the next transaction it applies to (e.g. `next('garbage-cbor')`). */
  next(kind: FaultKind, options: Omit<FaultRule, 'kind' | 'tx' | 'p' | 'seed' | 'times'> = {}): FaultRule {
    return this.add({ ...options, kind });
  }

  /** The rules still able to fire. */
  get rules(): readonly FaultRule[] {
    return this.#rules.filter((s) => s.fired < s.limit).map((s) => s.rule);
  }

  /** Remove every rule (records stay). */
  clear(): void {
    this.#rules.length = 0;
    this.#memo.clear();
  }

  #applies(rule: FaultRule, tx: FaultTransaction): boolean {
    const filter = rule.cmd ?? (rule.kind === 'garbage-cbor' || rule.kind === 'wrong-rpid-hash' ? 'cbor' : 'app');
    const cmdOk =
      filter === 'any' ? true : filter === 'app' ? tx.cmd === CTAPHID.CBOR || tx.cmd === CTAPHID.MSG : tx.cmd === CMD_OF[filter];
    if (!cmdOk) return false;
    if (rule.kind === 'wrong-rpid-hash') return tx.cmd === CTAPHID.CBOR && AUTH_DATA_COMMANDS.has(tx.payload[0] ?? -1);
    if (rule.kind === 'no-up') {
      if (tx.cmd === CTAPHID.CBOR) return AUTH_DATA_COMMANDS.has(tx.payload[0] ?? -1);
      if (tx.cmd === CTAPHID.MSG) return tx.payload[1] === U2F_AUTHENTICATE && tx.payload[2] === U2F_ENFORCE;
      return false;
    }
    if (rule.kind === 'garbage-cbor') return tx.cmd === CTAPHID.CBOR;
    return true;
  }

  /** Which rules fire on this transaction (decided once, at the first hook that sees it). */
  #decide(tx: FaultTransaction): RuleState[] {
    const known = this.#memo.get(tx.index);
    if (known) return known;
    const firing: RuleState[] = [];
    for (const s of this.#rules) {
      if (s.fired >= s.limit || !this.#applies(s.rule, tx)) continue;
      s.seen++;
      let fire: boolean;
      if (s.rule.tx) fire = s.rule.tx.includes(s.seen);
      else if (s.draw) fire = s.draw() < s.rule.p!;
      else fire = true;
      if (fire) {
        s.fired++;
        firing.push(s);
      }
    }
    this.#memo.set(tx.index, firing);
    for (const k of this.#memo.keys()) if (k < tx.index - MEMO_WINDOW) this.#memo.delete(k);
    return firing;
  }

  #record(kind: FaultKind, tx: FaultTransaction, applied: boolean, note: string): void {
    const r: FaultRecord = { kind, tx: tx.index, cmd: tx.cmd, applied, note };
    this.records.push(r);
    this.onFault?.(r);
  }

  onTransaction(tx: FaultTransaction): FaultTransactionAction | undefined {
    for (const s of this.#decide(tx)) {
      if (s.rule.kind === 'stall' && s.rule.ms === undefined) {
        this.#record('stall', tx, true, 'no answer until CANCEL or INIT');
        this.#memo.delete(tx.index);
        return { kind: 'stall' };
      }
      if (s.rule.kind === 'disconnect' && s.rule.after === undefined) {
        this.#record('disconnect', tx, true, 'unplugged with the request complete, before any answer');
        this.#memo.delete(tx.index);
        return { kind: 'disconnect' };
      }
    }
    return undefined;
  }

  onResponse(tx: FaultTransaction, payload: Uint8Array): Uint8Array {
    let out = payload;
    for (const s of this.#decide(tx)) {
      const kind = s.rule.kind;
      if (kind === 'garbage-cbor') {
        // Status OK, then a map whose byte string claims 4 GiB: no decoder can take it.
        out = Uint8Array.of(0x00, 0xa1, 0x01, 0x5a, 0xff, 0xff, 0xff, 0xff, 0x00);
        this.#record(kind, tx, true, 'status 0x00 followed by bytes that are not CBOR');
      } else if (kind === 'wrong-rpid-hash' || kind === 'no-up') {
        const altered = tx.cmd === CTAPHID.MSG ? alterU2f(out) : alterAuthData(out, kind);
        if (altered) {
          out = altered;
          this.#record(kind, tx, true, kind === 'no-up' ? 'UP flag cleared' : 'rpIdHash changed');
        } else {
          this.#record(kind, tx, false, 'the response carries no authData (an error status?)');
        }
      }
    }
    return out;
  }

  async onOutgoing(packets: Uint8Array[], ctx: FaultOutgoingContext, device: FaultDeviceControl): Promise<Uint8Array[]> {
    const tx = ctx.tx;
    if (!tx || ctx.cmd === CTAPHID.KEEPALIVE) return packets;
    const firing = this.#decide(tx);
    this.#memo.delete(tx.index); // the answer leaves now: this transaction is done
    let out = packets;
    for (const s of firing) {
      const r = s.rule;
      const n = out.length;
      const index = (dflt: number): number => {
        const i = r.packet === undefined ? dflt : r.packet === 'last' ? n - 1 : r.packet;
        return Math.max(0, Math.min(n - 1, i));
      };
      switch (r.kind) {
        case 'drop': {
          const i = index(n - 1);
          out = out.filter((_, j) => j !== i);
          this.#record('drop', tx, true, `packet ${i} of ${n} dropped`);
          break;
        }
        case 'duplicate': {
          const i = index(0);
          out = [...out.slice(0, i + 1), out[i]!.slice(), ...out.slice(i + 1)];
          this.#record('duplicate', tx, true, `packet ${i} of ${n} sent twice`);
          break;
        }
        case 'reorder': {
          if (n < 2) {
            this.#record('reorder', tx, false, 'a one-packet answer has nothing to reorder');
            break;
          }
          const i = Math.min(index(n - 2), n - 2);
          out = out.slice();
          [out[i], out[i + 1]] = [out[i + 1]!, out[i]!];
          this.#record('reorder', tx, true, `packets ${i} and ${i + 1} of ${n} swapped`);
          break;
        }
        case 'bad-seq': {
          if (n < 2) {
            this.#record('bad-seq', tx, false, 'a one-packet answer has no SEQ');
            break;
          }
          const i = Math.max(1, index(1));
          out = out.slice();
          const p = out[i]!.slice();
          p[4] = (p[4]! + 1) & 0x7f;
          out[i] = p;
          this.#record('bad-seq', tx, true, `packet ${i} carries SEQ ${p[4]} instead of ${i - 1}`);
          break;
        }
        case 'foreign-cid': {
          const foreign = foreignCid(ctx.cid);
          const moved = out.map((p) => withCid(p, foreign));
          out = r.mode === 'extra' ? [...moved, ...out] : moved;
          this.#record('foreign-cid', tx, true, `${r.mode === 'extra' ? 'a copy of the answer' : 'the answer'} sent on channel 0x${foreign.toString(16).padStart(8, '0')}`);
          break;
        }
        case 'error-mid-message': {
          const code = r.code ?? CTAPHID_ERR.OTHER;
          const [error] = encodeMessage(ctx.cid, CTAPHID.ERROR, Uint8Array.of(code), out[0]?.length);
          out = n >= 2 ? [out[0]!, error!] : [error!];
          this.#record('error-mid-message', tx, true, `${n >= 2 ? 'after the first packet, ' : ''}CTAPHID_ERROR 0x${code.toString(16)}`);
          break;
        }
        case 'stall': {
          // Only with ms= (or for INIT, which has no onTransaction hook): a late answer or none.
          if (r.ms === undefined) {
            out = [];
            this.#record('stall', tx, true, 'no answer');
            break;
          }
          this.#record('stall', tx, true, `answer held back ${r.ms} ms (no KEEPALIVE)`);
          await new Promise((resolve) => setTimeout(resolve, r.ms));
          break;
        }
        case 'disconnect': {
          const after = Math.min(r.after ?? 0, out.length);
          for (const p of out.slice(0, after)) await device.sendRaw(p);
          device.disconnect();
          this.#record('disconnect', tx, true, `unplugged after ${after} of ${n} packets of the answer`);
          out = [];
          break;
        }
        default:
          break; // content faults were applied in onResponse
      }
    }
    return out;
  }
}

function foreignCid(cid: number): number {
  let f = (cid ^ 0x5a5a5a5a) >>> 0;
  if (f === 0 || f === BROADCAST_CID || f === cid) f = 0x0badcafe;
  return f;
}

function withCid(packet: Uint8Array, cid: number): Uint8Array {
  const p = packet.slice();
  p[0] = (cid >>> 24) & 0xff;
  p[1] = (cid >>> 16) & 0xff;
  p[2] = (cid >>> 8) & 0xff;
  p[3] = cid & 0xff;
  return p;
}

/** A CTAP2 response (status 0x00 + map with authData at key 2) with rpIdHash or the UP flag altered; undefined if it has none. */
function alterAuthData(payload: Uint8Array, kind: 'wrong-rpid-hash' | 'no-up'): Uint8Array | undefined {
  if (payload[0] !== 0x00 || payload.length < 2) return undefined;
  let value: unknown;
  try {
    value = decodeCbor(payload.subarray(1)).value;
  } catch {
    return undefined;
  }
  if (!(value instanceof Map)) return undefined;
  const authData = value.get(2) as unknown;
  if (!(authData instanceof Uint8Array) || authData.length < 37) return undefined;
  const changed = authData.slice();
  if (kind === 'no-up') changed[32] = changed[32]! & ~0x01;
  else for (let i = 0; i < 32; i++) changed[i] = changed[i]! ^ 0xa5;
  const map = new Map(value as Map<number, CborValue>);
  map.set(2, changed);
  const body = encodeCbor(map);
  const out = new Uint8Array(1 + body.length);
  out.set(body, 1);
  return out;
}

/** A U2F AUTHENTICATE success (UP || counter || signature || 9000) with the presence byte cleared. */
function alterU2f(payload: Uint8Array): Uint8Array | undefined {
  if (payload.length < 7 || payload[payload.length - 2] !== 0x90 || payload[payload.length - 1] !== 0x00) return undefined;
  const out = payload.slice();
  out[0] = out[0]! & ~0x01;
  return out;
}
