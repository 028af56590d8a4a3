/**
 * The `ctap` argument parser: node:util parseArgs (strict) over the global
 * flags plus the chosen command's own, so a typo is a usage error instead of
 * a silently ignored flag. PINs are never accepted from argv (except the
 * virtual key's test-bench `--pin`, declared by that command alone).
 *
 * Credential and template IDs are base64url of random bytes, so one in 64
 * starts with `-`. Where a command still expects an operand (it says how many
 * through `maxOperands`), a word that starts with `-`, is made of base64url
 * characters only and is not an option of the command nor a global one is
 * taken as that operand: `ctap creds delete -q3x…` works. A long word that
 * reads like an option name (`--frobnicate`: lowercase words joined by `-`)
 * stays an unknown option (usage error). `--` before the operand always works.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { UsageError } from './errors.js';

export type OptionSpec = NonNullable<ParseArgsConfig['options']>;
export type OptionValues = Record<string, string | boolean | string[] | boolean[] | undefined>;

/** Flags every command takes (DESIGN.md "CLI"). */
export const GLOBAL_OPTIONS = {
  device: { type: 'string', short: 'd' },
  timeout: { type: 'string' },
  json: { type: 'boolean' },
  verbose: { type: 'boolean', short: 'v' },
  'pin-stdin': { type: 'boolean' },
  yes: { type: 'boolean', short: 'y' },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean' },
  'allow-remote': { type: 'boolean' },
  transport: { type: 'string' },
} as const satisfies OptionSpec;

export interface GlobalOptions {
  device: string;
  timeoutMs: number | undefined;
  json: boolean;
  verbose: boolean;
  pinStdin: boolean;
  yes: boolean;
  help: boolean;
  version: boolean;
  /** --device udp:HOST:PORT may name a non-loopback HOST (virtual serve: may listen on one). */
  allowRemote: boolean;
  /** --transport: how ceremonies reach the key; undefined = CTAP_BRIDGE_TRANSPORT, else chosen from the platform. */
  transport: 'hid' | 'webauthn-dll' | undefined;
}

export interface ParsedArgs {
  /** Words that are not options: command, subcommand, operands. */
  positionals: string[];
  values: OptionValues;
  globals: GlobalOptions;
}

/** The first word that is not an option (skipping the values of global string flags). */
export function findCommandWords(argv: readonly string[], max = 2): string[] {
  const words: string[] = [];
  for (let i = 0; i < argv.length && words.length < max; i++) {
    const a = argv[i]!;
    if (a === '--') break;
    if (a.startsWith('-')) {
      const name = a.startsWith('--') ? a.slice(2).split('=')[0]! : a.slice(1);
      const spec = Object.entries(GLOBAL_OPTIONS).find(([k, v]) => k === name || ('short' in v && v.short === name));
      if (spec && spec[1].type === 'string' && !a.includes('=')) i++;
      continue;
    }
    words.push(a);
  }
  return words;
}

const PIN_FLAG = /^--(?:new-)?pin(?:=|$)/;

/**
 * How many operands (positionals after the command word) the command takes,
 * given those seen so far; e.g. `creds`: 2 after `delete`. Lets an operand
 * that starts with `-` (a base64url ID) through the parser.
 */
export type MaxOperands = (operands: readonly string[]) => number;

/** A word that may be a base64url operand: `-` then base64url characters only (no `=`). */
const DASH_OPERAND = /^-[A-Za-z0-9_-]+$/;
/** A long word that reads like an option name: kept as an unknown option, never an operand. */
const OPTION_LIKE = /^--[a-z][a-z0-9]*(?:-[a-z0-9]+)*$/;
/** Stands for an operand while node's parser runs (argv never holds a NUL byte). */
const PLACEHOLDER = (n: number): string => `\u0000${n}`;

/**
 * argv with each word that starts with `-` but is an operand the command
 * still expects replaced by a placeholder, and the words replaced.
 */
function shieldDashOperands(argv: readonly string[], options: OptionSpec, maxOperands: MaxOperands | undefined): { args: string[]; operands: string[] } {
  const args = [...argv];
  const shielded: string[] = [];
  if (!maxOperands || !argv.some((a) => DASH_OPERAND.test(a))) return { args, operands: shielded };
  let tokens;
  try {
    tokens = parseArgs({ args, options, strict: false, allowPositionals: true, tokens: true }).tokens;
  } catch {
    return { args, operands: shielded }; // the strict parse below reports it
  }
  const known = (name: string, raw: string): boolean => Object.hasOwn(options, name) || (!raw.startsWith('--') && Object.values(options).some((o) => o.short === name));
  const positionals: string[] = [];
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!;
    if (t.kind === 'option-terminator') break;
    if (t.kind === 'positional') {
      positionals.push(t.value);
      continue;
    }
    // a short group (-q3x) is several tokens of one argv index
    const group = [t];
    while (tokens[i + 1]?.kind === 'option' && tokens[i + 1]!.index === t.index) group.push(tokens[++i] as typeof t);
    const word = argv[t.index]!;
    if (!DASH_OPERAND.test(word) || OPTION_LIKE.test(word)) continue;
    if (group.every((g) => known(g.name, g.rawName))) continue;
    if (positionals.length === 0 || maxOperands(positionals.slice(1)) <= positionals.length - 1) continue;
    positionals.push(word);
    args[t.index] = PLACEHOLDER(shielded.length);
    shielded.push(word);
  }
  return { args, operands: shielded };
}

/**
 * Parse argv against the global flags and `commandOptions`; `maxOperands`
 * lets operands that start with `-` through (see the top of this file).
 * Throws UsageError.
 */
export function parseCommandLine(argv: readonly string[], commandOptions: OptionSpec = {}, maxOperands?: MaxOperands): ParsedArgs {
  if (!('pin' in commandOptions) && argv.some((a) => PIN_FLAG.test(a))) {
    throw new UsageError('PINs are never taken from the command line: use --pin-stdin, the CTAP_PIN environment variable, or type it at the prompt');
  }
  const options: OptionSpec = { ...GLOBAL_OPTIONS, ...commandOptions };
  const shield = shieldDashOperands(argv, options, maxOperands);
  let parsed: { values: OptionValues; positionals: string[] };
  try {
    parsed = parseArgs({ args: shield.args, options, strict: true, allowPositionals: true }) as typeof parsed;
  } catch (e) {
    // node's messages name the flag, never a value; keep them.
    let msg = e instanceof Error ? e.message.replace(/\. To specify a positional argument.*$/s, '') : String(e);
    if (/^Unknown option/.test(msg)) msg += '; an argument that starts with "-" (an ID) can follow "--", e.g. ctap creds delete -- ID';
    throw new UsageError(msg);
  }
  parsed.positionals = parsed.positionals.map((p) => (p.startsWith('\u0000') ? (shield.operands[Number(p.slice(1))] ?? p) : p));
  const v = parsed.values;
  let timeoutMs: number | undefined;
  if (typeof v.timeout === 'string') {
    timeoutMs = Number(v.timeout);
    if (!Number.isInteger(timeoutMs) || timeoutMs <= 0 || timeoutMs > 3_600_000) {
      throw new UsageError('--timeout takes a whole number of milliseconds between 1 and 3600000');
    }
  }
  let transport: GlobalOptions['transport'];
  if (typeof v.transport === 'string') {
    const t = v.transport.trim().toLowerCase();
    if (t !== 'hid' && t !== 'webauthn-dll') throw new UsageError('--transport takes hid or webauthn-dll');
    transport = t;
  }
  const globals: GlobalOptions = {
    device: typeof v.device === 'string' && v.device !== '' ? v.device : process.env.CTAP_DEVICE || 'auto',
    timeoutMs,
    json: v.json === true,
    verbose: v.verbose === true,
    pinStdin: v['pin-stdin'] === true,
    yes: v.yes === true,
    help: v.help === true,
    version: v.version === true,
    allowRemote: v['allow-remote'] === true,
    transport,
  };
  return { positionals: parsed.positionals, values: v, globals };
}

/** Typed accessors for a command's own option values. */
export function str(values: OptionValues, name: string): string | undefined {
  const x = values[name];
  return typeof x === 'string' ? x : undefined;
}

export function strs(values: OptionValues, name: string): string[] {
  const x = values[name];
  if (Array.isArray(x)) return x.filter((s): s is string => typeof s === 'string');
  return typeof x === 'string' ? [x] : [];
}

export function flag(values: OptionValues, name: string): boolean {
  return values[name] === true;
}

export function intOption(values: OptionValues, name: string, min: number, max: number): number | undefined {
  const s = str(values, name);
  if (s === undefined) return undefined;
  const n = Number(s);
  if (!Number.isInteger(n) || n < min || n > max) throw new UsageError(`--${name} takes a whole number from ${min} to ${max}`);
  return n;
}

export function choice<T extends string>(values: OptionValues, name: string, allowed: readonly T[]): T | undefined {
  const s = str(values, name);
  if (s === undefined) return undefined;
  if (!(allowed as readonly string[]).includes(s)) throw new UsageError(`--${name} takes one of: ${allowed.join(', ')}`);
  return s as T;
}
