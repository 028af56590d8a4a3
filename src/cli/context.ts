/**
 * What a command gets: its parsed arguments, the output, the PIN source, one
 * AbortSignal (Ctrl-C), one Deadline (`--timeout`, the budget of the whole
 * command), and the device named by --device, opened on first use and closed
 * when the command ends.
 *
 * The budget: every call on the key gets what is left of it, so a command
 * made of many calls (creds list walks RPs and credentials) ends within
 * --timeout even when each call is slow, and a touch the key waits for counts
 * too. Time spent at the CLI's own terminal prompts (PIN entry, a yes/no
 * confirmation) does not: the clock stops while the person types. register
 * and login are one WebAuthn ceremony (one call) whose timeout is the budget
 * left, as a browser's `timeout` option (without --timeout: the WebAuthn
 * default, see commands/webauthn.ts). Without --timeout the budget is 30 s.
 */
import { Deadline, DEFAULT_TIMEOUT_MS, type CallOptions } from '../util/deadline.js';
import type { OpenDeviceOptions, OpenedDevice } from '../device/open.js';
import type { MaxOperands, OptionSpec, ParsedArgs } from './args.js';
import { UsageError } from './errors.js';
import type { Output } from './output.js';
import { confirmOnTty, type SecretSource } from './secrets.js';
import { operationFor, resolveCliRoute, unsupported, type CliRoute } from './route.js';

export interface CommandDef {
  name: string;
  /** One line for `ctap --help`. */
  summary: string;
  /** Usage lines for `ctap help NAME` (without the leading `ctap `). */
  usage: string;
  /** More text for `ctap help NAME`. */
  details?: string;
  options?: OptionSpec;
  /**
   * How many operands the command takes given those seen so far (see
   * args.ts MaxOperands): lets an operand that starts with `-` (a base64url
   * ID) through the parser. Without it such a word is an unknown option.
   */
  maxOperands?: MaxOperands;
  run(ctx: Context): Promise<number | void>;
}

export interface Context {
  readonly args: ParsedArgs;
  /** Positionals after the command name. */
  readonly operands: string[];
  readonly out: Output;
  readonly secrets: SecretSource;
  readonly signal: AbortSignal;
  /**
   * The command's signal, and as timeoutMs what is left of its budget, read
   * when the library starts a call (a getter: an `opts` object taken once at
   * the top of a command stays current; a spread copies the value left then).
   */
  callOptions(): CallOptions;
  /** Run a wait on the person at the terminal with the budget's clock stopped. */
  userWait<T>(fn: () => Promise<T>): Promise<T>;
  /**
   * The device named by --device (opened once per run, closed at exit). On
   * the webauthn.dll route it rejects with NotSupportedError for the command.
   */
  device(opts?: Partial<OpenDeviceOptions>): Promise<OpenedDevice>;
  /** How this run reaches keys (--transport, CTAP_BRIDGE_TRANSPORT, the platform), decided once. */
  route(): Promise<CliRoute>;
  /** Confirm a destructive step: --yes, else a TTY question, else refuse. */
  confirm(question: string): Promise<boolean>;
  /** Register cleanup to run when the command ends. */
  onExit(fn: () => Promise<void> | void): void;
}

export interface ContextInit {
  args: ParsedArgs;
  operands: string[];
  out: Output;
  secrets: SecretSource;
  signal: AbortSignal;
  openDevice: (spec: string, opts: OpenDeviceOptions) => Promise<OpenedDevice>;
}

export class CommandContext implements Context {
  readonly args: ParsedArgs;
  readonly operands: string[];
  readonly out: Output;
  readonly secrets: SecretSource;
  readonly signal: AbortSignal;
  readonly #open: ContextInit['openDevice'];
  #device: Promise<OpenedDevice> | undefined;
  #route: Promise<CliRoute> | undefined;
  #cleanups: (() => Promise<void> | void)[] = [];
  #deadline: Deadline;
  #paused = 0;
  #pausedLeft = 0;

  constructor(init: ContextInit) {
    this.args = init.args;
    this.operands = init.operands;
    this.out = init.out;
    this.secrets = init.secrets;
    this.signal = init.signal;
    this.#open = init.openDevice;
    this.#deadline = new Deadline({ signal: this.signal, timeoutMs: this.args.globals.timeoutMs ?? DEFAULT_TIMEOUT_MS });
    this.secrets.setPromptWrapper((fn) => this.userWait(fn));
  }

  /** Milliseconds left of the command's budget (frozen while a prompt waits). */
  remainingMs(): number {
    return this.#paused > 0 ? this.#pausedLeft : this.#deadline.remaining();
  }

  callOptions(): CallOptions {
    const ctx = this;
    return {
      signal: this.signal,
      get timeoutMs(): number {
        return ctx.remainingMs();
      },
    };
  }

  async userWait<T>(fn: () => Promise<T>): Promise<T> {
    if (this.#paused++ === 0) this.#pausedLeft = this.#deadline.remaining();
    try {
      return await fn();
    } finally {
      if (--this.#paused === 0) this.#deadline = new Deadline({ signal: this.signal, timeoutMs: this.#pausedLeft });
    }
  }

  device(opts: Partial<OpenDeviceOptions> = {}): Promise<OpenedDevice> {
    if (!this.#device) {
      const out = this.out;
      this.#device = this.route().then(async (route) => {
        if (route.transport === 'webauthn-dll') throw await unsupported(operationFor(this.args.positionals[0], this.operands[0]), route);
        return this.#open(this.args.globals.device, {
          signal: this.signal,
          timeoutMs: this.remainingMs(),
          allowRemote: this.args.globals.allowRemote,
          trace: out.verbose ? (line: string) => out.debug(line) : undefined,
          onSelect: out.interactive ? () => out.status('Several keys found: touch the one to use.') : undefined,
          ...opts,
        });
      });
      this.#cleanups.push(async () => {
        const d = await this.#device!.catch(() => undefined);
        await d?.close();
      });
    }
    return this.#device;
  }

  route(): Promise<CliRoute> {
    this.#route ??= resolveCliRoute(this.args.globals);
    return this.#route;
  }

  async confirm(question: string): Promise<boolean> {
    if (this.args.globals.yes) return true;
    if (!this.out.interactive) throw new UsageError(`${question.replace(/\?$/, '')}: this is destructive; pass --yes to confirm when not on a terminal`);
    return this.userWait(() => confirmOnTty(question));
  }

  onExit(fn: () => Promise<void> | void): void {
    this.#cleanups.push(fn);
  }

  async dispose(): Promise<void> {
    for (const fn of this.#cleanups.reverse()) {
      try {
        await fn();
      } catch {
        // closing a device that is already gone is not a failure of the command
      }
    }
    this.secrets.dispose();
  }
}

/** The operand at `i`, or a usage error naming it. */
export function operand(ctx: Context, i: number, name: string): string {
  const v = ctx.operands[i];
  if (v === undefined) throw new UsageError(`missing ${name}`);
  return v;
}

/** Fail on operands past `count`, without echoing them (they might be secrets typed by mistake). */
export function noMoreOperands(ctx: Context, count: number): void {
  if (ctx.operands.length > count) throw new UsageError(`unexpected extra argument (${ctx.operands.length - count} too many)`);
}
