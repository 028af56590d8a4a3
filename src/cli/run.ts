/**
 * The `ctap` dispatcher: find the command, parse its flags with the global
 * ones, run it with one AbortSignal (Ctrl-C cancels the transaction in
 * flight, which sends CTAPHID_CANCEL), print the error and pick the exit code.
 */
import { readFileSync } from 'node:fs';
import type { openDevice } from '../device/open.js';
import { findCommandWords, parseCommandLine, type ParsedArgs } from './args.js';
import { COMMANDS } from './commands/index.js';
import { CommandContext, type CommandDef } from './context.js';
import { EXIT, EXIT_CODE_HELP, UsageError, exitCodeFor } from './errors.js';
import { Output, type OutputStreams } from './output.js';
import { SecretSource } from './secrets.js';

export interface RunOptions {
  streams?: OutputStreams;
  /** For tests: replaces the device layer's openDevice. */
  openDevice?: typeof openDevice;
}

function version(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: string };
    return pkg.version ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

export function mainHelp(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  return `ctap — talk to FIDO2 / U2F security keys (and the virtual key) from a terminal

Usage: ctap COMMAND [ARGS] [FLAGS]

Commands:
${COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`).join('\n')}

Global flags:
  --device, -d SPEC  which key: a path from \`ctap list\`, auto (default: the only key,
                     or touch-to-select among several), udp:HOST:PORT[?local=N]
                     (a CTAPHID-over-UDP simulator), virtual, or virtual:FILE.
                     The CTAP_DEVICE environment variable sets the default.
  --allow-remote     let udp:HOST:PORT name a host that is not loopback (default:
                     this machine only; the UDP link is neither encrypted nor authenticated)
  --timeout MS       budget of the whole command (default 30000): every call on the key,
                     a touch the key waits for included, shares it, so a command of many
                     calls still ends in time (exit 6). The clock stops while you type at
                     a prompt (PIN, confirmation, account choice). register/login: the
                     ceremony's timeout (without --timeout, the WebAuthn default a
                     browser uses: 300 s, 120 s with --uv discouraged). bench: the
                     budget of each call.
  --json             machine-readable output on stdout; errors as
                     {"error":{"name","ctap","message"}} on stderr
  --verbose, -v      trace of whole CTAPHID messages on stderr, secrets redacted (PIN
                     traffic, pinUvAuthTokens, largeBlobKeys, hmac-secret and credBlob
                     outputs)
  --pin-stdin        read the PIN from standard input (one per line: current, then new)
                     CTAP_PIN / CTAP_NEW_PIN in the environment work too. PINs are
                     never taken from the command line; on a terminal you are prompted.
  --yes, -y          confirm destructive commands (reset, creds delete) without asking
  --transport T      hid or webauthn-dll: how register/login reach the key (default:
                     CTAP_BRIDGE_TRANSPORT, else webauthn.dll on Windows 10 1903+ without
                     Administrator, raw HID otherwise; see ctap doctor). On webauthn-dll only
                     register and login work; CTAP_BRIDGE_WEBAUTHN_DLL names another library.
  --help, -h         help for a command: ctap help COMMAND

${EXIT_CODE_HELP}
`;
}

function commandHelp(cmd: CommandDef): string {
  const usage = cmd.usage
    .split('\n')
    .map((l, i) => (i === 0 ? `Usage: ctap ${l}` : `       ${l.startsWith(' ') ? l.trimStart() : `ctap ${l}`}`))
    .join('\n');
  return `${usage}\n\n${cmd.summary}\n${cmd.details ? `\n${cmd.details.trimEnd()}\n` : ''}\nGlobal flags: --device SPEC, --timeout MS, --json, --verbose, --pin-stdin, --yes, --transport T (see ctap --help)\n`;
}

function findCommand(name: string | undefined): CommandDef | undefined {
  return COMMANDS.find((c) => c.name === name);
}

export async function runCli(argv: readonly string[], opts: RunOptions = {}): Promise<number> {
  const streams = opts.streams ?? { stdout: process.stdout, stderr: process.stderr };
  const wantsJson = argv.includes('--json');
  let out = new Output({ json: wantsJson, verbose: false }, streams);
  const [name, sub] = findCommandWords(argv, 2);

  if (name === undefined || name === 'help') {
    const target = findCommand(sub);
    if (name === 'help' && sub !== undefined && !target) {
      out.error(new UsageError(`unknown command "${sub}"; see ctap --help`));
      return EXIT.USAGE;
    }
    if (argv.includes('--version')) {
      out.line(version());
      return EXIT.OK;
    }
    streams.stdout.write(target ? commandHelp(target) : mainHelp());
    return name === undefined && !argv.includes('--help') && !argv.includes('-h') ? EXIT.USAGE : EXIT.OK;
  }
  const cmd = findCommand(name);
  if (!cmd) {
    out.error(new UsageError(`unknown command "${name}"; see ctap --help`));
    return EXIT.USAGE;
  }

  let args: ParsedArgs;
  try {
    args = parseCommandLine(argv, cmd.options, cmd.maxOperands);
  } catch (e) {
    out.error(e);
    if (!wantsJson) streams.stderr.write(`See: ctap help ${cmd.name}\n`);
    return exitCodeFor(e);
  }
  out = new Output({ json: args.globals.json, verbose: args.globals.verbose }, streams);
  if (args.globals.help) {
    streams.stdout.write(commandHelp(cmd));
    return EXIT.OK;
  }

  const abort = new AbortController();
  const onSigint = (): void => {
    if (abort.signal.aborted) process.exit(130);
    abort.abort(new Error('interrupted (Ctrl-C)'));
  };
  process.on('SIGINT', onSigint);
  const ctx = new CommandContext({
    args,
    operands: args.positionals.slice(1),
    out,
    secrets: new SecretSource({ pinStdin: args.globals.pinStdin }),
    signal: abort.signal,
    // loaded on first use: decode and help never touch the device layer
    openDevice: opts.openDevice ?? (async (spec, o) => (await import('../device/open.js')).openDevice(spec, o)),
  });
  try {
    const code = await cmd.run(ctx);
    return code ?? EXIT.OK;
  } catch (e) {
    out.error(e);
    return exitCodeFor(e);
  } finally {
    process.off('SIGINT', onSigint);
    await ctx.dispose();
  }
}
