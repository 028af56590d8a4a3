/**
 * The --fault spec grammar of the virtual key (faults.ts has the grammar
 * and what each fault does): kinds, rules, parsing and validation.
 */

export const FAULT_KINDS = [
  'drop',
  'duplicate',
  'reorder',
  'foreign-cid',
  'bad-seq',
  'stall',
  'error-mid-message',
  'garbage-cbor',
  'wrong-rpid-hash',
  'no-up',
  'disconnect',
] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

export type FaultCommandFilter = 'app' | 'cbor' | 'msg' | 'ping' | 'wink' | 'lock' | 'init' | 'any';

export interface FaultRule {
  kind: FaultKind;
  /** 1-based positions among the transactions the rule applies to (counted from when it was added). */
  tx?: number[] | undefined;
  /** Probability per applicable transaction. */
  p?: number | undefined;
  /** Seed of the probability draws (a random one is chosen and kept here when absent). */
  seed?: number | undefined;
  times?: number | undefined;
  cmd?: FaultCommandFilter | undefined;
  /** Packet index for drop/duplicate/reorder/bad-seq. */
  packet?: number | 'last' | undefined;
  /** stall: answer after this many ms instead of never. */
  ms?: number | undefined;
  /** error-mid-message: CTAPHID error code. */
  code?: number | undefined;
  /** foreign-cid: replace the answer's CID, or send an extra copy on a foreign CID first. */
  mode?: 'replace' | 'extra' | undefined;
  /** disconnect: unplug after this many packets of the response (default: before processing). */
  after?: number | undefined;
}


/** A syntax or value error in a fault spec. */
export class FaultSpecError extends RangeError {
  constructor(message: string) {
    super(message);
    this.name = 'FaultSpecError';
  }
}

const ALIASES: Record<string, FaultKind> = { error: 'error-mid-message' };
const FILTERS: readonly FaultCommandFilter[] = ['app', 'cbor', 'msg', 'ping', 'wink', 'lock', 'init', 'any'];
/** Which parameters each kind takes (beyond tx, p, seed, times, cmd). */
const KIND_PARAMS: Record<FaultKind, readonly string[]> = {
  drop: ['packet'],
  duplicate: ['packet'],
  reorder: ['packet'],
  'foreign-cid': ['mode'],
  'bad-seq': ['packet'],
  stall: ['ms'],
  'error-mid-message': ['code'],
  'garbage-cbor': [],
  'wrong-rpid-hash': [],
  'no-up': [],
  disconnect: ['after'],
};
const COMMON_PARAMS = ['tx', 'p', 'seed', 'times', 'cmd'];


function parseUint(v: string, name: string, max = 0xffffffff): number {
  const n = /^0x[0-9a-f]+$/i.test(v) ? parseInt(v, 16) : /^\d+$/.test(v) ? Number(v) : NaN;
  if (!Number.isSafeInteger(n) || n < 0 || n > max) throw new FaultSpecError(`${name}=${v}: expected an integer from 0 to ${max}`);
  return n;
}

/** Parse one spec (`drop:p=0.1,seed=42`) into a rule. Throws FaultSpecError. */
export function parseFaultSpec(spec: string): FaultRule {
  const text = spec.trim();
  const colon = text.indexOf(':');
  const name = (colon < 0 ? text : text.slice(0, colon)).trim().toLowerCase();
  const kind = (ALIASES[name] ?? name) as FaultKind;
  if (!FAULT_KINDS.includes(kind)) throw new FaultSpecError(`unknown fault ${JSON.stringify(name)}; expected one of ${FAULT_KINDS.join(', ')}`);
  const rule: FaultRule = { kind };
  if (colon < 0) return rule;
  const seen = new Set<string>();
  for (const part of text.slice(colon + 1).split(',')) {
    const m = /^\s*([a-z]+)\s*=\s*(\S+)\s*$/i.exec(part);
    if (!m) throw new FaultSpecError(`${kind}: expected NAME=VALUE, got ${JSON.stringify(part)}`);
    const key = m[1]!.toLowerCase();
    const value = m[2]!;
    if (seen.has(key)) throw new FaultSpecError(`${kind}: ${key} given twice`);
    seen.add(key);
    if (!COMMON_PARAMS.includes(key) && !KIND_PARAMS[kind].includes(key)) {
      const allowed = [...COMMON_PARAMS, ...KIND_PARAMS[kind]].join(', ');
      throw new FaultSpecError(`${kind} takes no ${key}= (it takes ${allowed})`);
    }
    switch (key) {
      case 'tx': {
        const list = value.split('+').map((x) => parseUint(x, 'tx'));
        if (list.some((n) => n < 1)) throw new FaultSpecError('tx counts from 1');
        rule.tx = list;
        break;
      }
      case 'p': {
        const p = Number(value);
        if (!/^(0|1)?(\.\d+)?$|^1$/.test(value) || !(p > 0 && p <= 1)) throw new FaultSpecError(`p=${value}: expected a probability in (0, 1]`);
        rule.p = p;
        break;
      }
      case 'seed':
        rule.seed = parseUint(value, 'seed');
        break;
      case 'times':
        rule.times = parseUint(value, 'times');
        if (rule.times === 0) throw new FaultSpecError('times must be at least 1');
        break;
      case 'cmd':
        if (!FILTERS.includes(value as FaultCommandFilter)) throw new FaultSpecError(`cmd=${value}: expected one of ${FILTERS.join(', ')}`);
        rule.cmd = value as FaultCommandFilter;
        break;
      case 'packet':
        rule.packet = value === 'last' ? 'last' : parseUint(value, 'packet', 128);
        break;
      case 'ms':
        rule.ms = parseUint(value, 'ms', 3_600_000);
        break;
      case 'code':
        rule.code = parseUint(value, 'code', 0xff);
        break;
      case 'mode':
        if (value !== 'replace' && value !== 'extra') throw new FaultSpecError(`mode=${value}: expected replace or extra`);
        rule.mode = value;
        break;
      case 'after':
        rule.after = parseUint(value, 'after', 129);
        break;
    }
  }
  validateRule(rule);
  return rule;
}

/** Checks that hold for rules made in code as well as parsed ones. Throws FaultSpecError. */
export function validateRule(rule: FaultRule): void {
  if (!FAULT_KINDS.includes(rule.kind)) throw new FaultSpecError(`unknown fault ${JSON.stringify(rule.kind)}; expected one of ${FAULT_KINDS.join(', ')}`);
  const uint = (v: number | undefined, name: string, min: number, max: number): void => {
    if (v !== undefined && !(Number.isSafeInteger(v) && v >= min && v <= max)) throw new FaultSpecError(`${rule.kind}: ${name} must be an integer from ${min} to ${max}`);
  };
  if (rule.tx !== undefined) {
    if (!Array.isArray(rule.tx) || rule.tx.length === 0) throw new FaultSpecError(`${rule.kind}: tx lists at least one position`);
    for (const n of rule.tx) uint(n, 'tx', 1, 0xffffffff);
  }
  if (rule.p !== undefined && !(rule.p > 0 && rule.p <= 1)) throw new FaultSpecError(`${rule.kind}: p must be in (0, 1]`);
  uint(rule.seed, 'seed', 0, 0xffffffff);
  uint(rule.times, 'times', 1, 0xffffffff);
  if (rule.packet !== 'last') uint(rule.packet, 'packet', 0, 128);
  uint(rule.ms, 'ms', 0, 3_600_000);
  uint(rule.code, 'code', 0, 0xff);
  uint(rule.after, 'after', 0, 129);
  if (rule.cmd !== undefined && !FILTERS.includes(rule.cmd)) throw new FaultSpecError(`${rule.kind}: cmd must be one of ${FILTERS.join(', ')}`);
  if (rule.mode !== undefined && rule.mode !== 'replace' && rule.mode !== 'extra') throw new FaultSpecError(`${rule.kind}: mode must be replace or extra`);
  if (rule.tx !== undefined && rule.p !== undefined) throw new FaultSpecError(`${rule.kind}: give tx= or p=, not both`);
  if (rule.seed !== undefined && rule.p === undefined) throw new FaultSpecError(`${rule.kind}: seed= goes with p=`);
  if ((rule.kind === 'garbage-cbor' || rule.kind === 'wrong-rpid-hash') && rule.cmd !== undefined && rule.cmd !== 'cbor') {
    throw new FaultSpecError(`${rule.kind} applies to CTAPHID_CBOR responses only`);
  }
}
