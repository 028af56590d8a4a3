/**
 * `ctap virtual serve`: the virtual key over CTAPHID-over-UDP (the firmware
 * simulator convention), for python-fido2, libfido2, `--device udp:...` and
 * any other client. Runs until Ctrl-C / SIGTERM; the state file (if any) is
 * written atomically after every change.
 */
import { CTAPHID_COMMAND_NAMES } from '../../ctaphid/constants.js';
import { isLoopbackAddress, parseUdpSpec } from '../../hid/udp.js';
import { utf8Decode } from '../../util/bytes.js';
import { choice, flag, intOption, str, strs } from '../args.js';
import type { CommandDef, Context } from '../context.js';
import { CliError, EXIT, UsageError } from '../errors.js';
import { confirmOnTty } from '../secrets.js';
import type { FaultRecord } from '../../virtual/faults.js';

/**
 * One stderr line for a fault that fired (or was due and changed nothing):
 * `fault: drop on transaction 5 (CBOR): packet 0 of 1 dropped`; with --json a
 * `{"fault":{kind,tx,cmd,applied,note}}` line. tx is the device's transaction
 * count (0-based, INIT included), not the rule's `tx=` position.
 */
export function faultLine(r: FaultRecord, json: boolean): string {
  const cmd = CTAPHID_COMMAND_NAMES[r.cmd] ?? `0x${r.cmd.toString(16).padStart(2, '0')}`;
  if (json) return JSON.stringify({ fault: { kind: r.kind, tx: r.tx, cmd, applied: r.applied, note: r.note } });
  return r.applied ? `fault: ${r.kind} on transaction ${r.tx} (${cmd}): ${r.note}` : `fault: ${r.kind} due on transaction ${r.tx} (${cmd}) but not applied: ${r.note}`;
}

async function initialPin(ctx: Context): Promise<string | undefined> {
  const fromArgv = str(ctx.args.values, 'pin');
  if (fromArgv !== undefined) return fromArgv;
  if (!ctx.args.globals.pinStdin && process.env.CTAP_PIN === undefined) return undefined;
  const bytes = await ctx.secrets.pin('current', 'PIN for the virtual key: ');
  try {
    // the virtual key keeps its PIN as a string option (it only hashes it)
    return utf8Decode(bytes);
  } catch {
    throw new UsageError('the PIN is not valid UTF-8');
  } finally {
    bytes.fill(0);
  }
}

export const virtualCommand: CommandDef = {
  name: 'virtual',
  summary: 'run the virtual FIDO2 key as a CTAPHID-over-UDP simulator (test bench)',
  usage: `virtual serve [--udp HOST:PORT] [--state FILE] [--pin PIN | --pin-stdin] [--presence auto|deny|prompt]
 [--uv none|auto|deny] [--aaguid UUID] [--capacity N] [--fault SPEC]... [--reset-window-ms N]
 [--u2f-only] [--bio] [--preview] [--json]`,
  details: `Listens on HOST:PORT (default 127.0.0.1:8111, the simulator convention; loopback only
unless --allow-remote) and answers each datagram's sender, so clients on port 7112 and on
ephemeral ports both work. Reach it with --device udp:HOST:PORT (add ?local=0 for an
ephemeral local port).
  --state FILE      keep credentials, PIN and counters in FILE (mode 0600, atomic writes)
  --pin PIN         TEST-BENCH OPTION: the PIN a fresh virtual key starts with. It is a
                    command-line argument (visible to other local users in the process
                    list), acceptable only for throwaway test keys; --pin-stdin or
                    CTAP_PIN keep it out of argv.
  --presence MODE   auto (approve every touch, default), deny, or prompt on this terminal
  --uv MODE         built-in user verification: none (default), auto, deny
  --aaguid UUID     the AAGUID of a fresh key (default random)
  --capacity N      discoverable-credential slots (default 100)
  --fault SPEC      fault injection, repeatable: KIND[:PARAM,...] with KIND one of drop,
                    duplicate, reorder, foreign-cid, bad-seq, stall, error-mid-message,
                    garbage-cbor, wrong-rpid-hash, no-up, disconnect and PARAMs tx=N,
                    p=P, seed=N, times=N, cmd=C, packet=N, ms=N, code=N, mode=, after=N
                    (e.g. drop:p=0.1,seed=42 or stall:tx=3); see src/virtual/faults.ts.
                    Each firing prints a line on stderr: "fault: KIND on transaction N
                    (CMD): what it did" (N counts every transaction, INIT included);
                    with --json, {"fault":{"kind","tx","cmd","applied","note"}}
  --reset-window-ms N
                    TEST-BENCH OPTION: how long after start (and after each power
                    cycle) authenticatorReset is accepted, in ms (default 10000, as real
                    keys); e.g. 86400000 lets \`ctap reset\` run against a long-lived server
  --u2f-only        behave like an old U2F-only key (no CTAP2)
  --bio             a simulated fingerprint sensor: \`ctap bio\` enrolls, then built-in UV
                    (a touch matches; --uv deny makes it miss); kept in --state FILE
  --preview         FIDO_2_1_PRE: credentialMgmtPreview / userVerificationMgmtPreview
                    (commands 0x41 / 0x40), like a YubiKey Bio on older firmware
Prints "listening on udp:HOST:PORT" (with --json: {"spec","address","port"}) once ready.`,
  options: {
    udp: { type: 'string' },
    state: { type: 'string' },
    pin: { type: 'string' },
    presence: { type: 'string' },
    uv: { type: 'string' },
    aaguid: { type: 'string' },
    capacity: { type: 'string' },
    fault: { type: 'string', multiple: true },
    'reset-window-ms': { type: 'string' },
    'u2f-only': { type: 'boolean' },
    bio: { type: 'boolean' },
    preview: { type: 'boolean' },
  },
  async run(ctx) {
    if (ctx.operands[0] !== 'serve') throw new UsageError('virtual takes: serve');
    if (ctx.operands.length > 1) throw new UsageError('unexpected extra argument after "virtual serve"');
    const v = ctx.args.values;
    const udp = parseUdpSpec(`udp:${str(v, 'udp') ?? '127.0.0.1:8111'}`);
    if (!isLoopbackAddress(udp.host) && !ctx.args.globals.allowRemote) {
      throw new UsageError(`--udp ${udp.host} is not a loopback address: the virtual key is a test bench; pass --allow-remote to expose it`);
    }
    const presenceArg = choice(v, 'presence', ['auto', 'deny', 'prompt'] as const) ?? 'auto';
    const uv = choice(v, 'uv', ['none', 'auto', 'deny'] as const);
    const capacity = intOption(v, 'capacity', 1, 1_000_000);
    const resetWindowMs = intOption(v, 'reset-window-ms', 0, 2_147_483_647);
    if (presenceArg === 'prompt' && !(process.stdin.isTTY && process.stderr.isTTY)) {
      throw new UsageError('--presence prompt needs a terminal (stdin and stderr)');
    }
    const faultSpecs = strs(v, 'fault');
    let faults: import('../../virtual/index.js').FaultInjector | undefined;
    if (faultSpecs.length) {
      const { parseFaultSpecs } = await import('../../virtual/faults.js');
      try {
        const plan = parseFaultSpecs(faultSpecs);
        // one line per firing on stderr, so the person running the bench sees when each fault hit
        plan.onFault = (r) => ctx.out.streams.stderr.write(`${faultLine(r, ctx.out.json)}\n`);
        faults = plan;
      } catch (e) {
        throw new UsageError(`--fault: ${e instanceof Error ? e.message : String(e)}`);
      }
    }
    const pin = await initialPin(ctx);
    const presence =
      presenceArg === 'prompt'
        ? async (req: { rpId?: string | undefined; command: string }): Promise<boolean> =>
            confirmOnTty(`Virtual key: ${req.command}${req.rpId ? ` for ${req.rpId}` : ''} asks for a touch. Approve?`)
        : presenceArg;
    const { VirtualAuthenticator } = await import('../../virtual/index.js');
    const { serveVirtualUdp } = await import('../../virtual/udp-server.js');
    const key = await VirtualAuthenticator.create({
      presence,
      ...(uv ? { uv } : {}),
      ...(pin !== undefined ? { pin } : {}),
      ...(str(v, 'state') ? { statePath: str(v, 'state') } : {}),
      ...(str(v, 'aaguid') ? { aaguid: str(v, 'aaguid') } : {}),
      ...(capacity !== undefined ? { capacity } : {}),
      ...(resetWindowMs !== undefined ? { resetWindowMs } : {}),
      ...(flag(v, 'u2f-only') ? { u2fOnly: true } : {}),
      ...(flag(v, 'bio') ? { bio: true } : {}),
      ...(flag(v, 'preview') ? { preview: true } : {}),
      ...(faults ? { faults } : {}),
    });
    let server;
    try {
      server = await serveVirtualUdp(key, { host: udp.host, port: udp.port });
    } catch (e) {
      await key.close();
      const code = (e as { code?: string }).code;
      if (code === 'EADDRINUSE') throw new CliError(`udp ${udp.host}:${udp.port} is already in use: pick another port with --udp HOST:PORT`, EXIT.FAILURE);
      throw e;
    }
    const host = server.address.includes(':') ? `[${server.address}]` : server.address;
    const spec = `udp:${host}:${server.port}`;
    ctx.out.result({ spec, address: server.address, port: server.port }, () => {
      ctx.out.line(`Virtual key listening on ${spec}`);
      ctx.out.line(`Use it with: ctap info --device ${spec}`);
    });
    ctx.out.status('Ctrl-C stops it.');
    await new Promise<void>((resolve) => {
      const stop = (): void => {
        process.off('SIGTERM', stop);
        ctx.signal.removeEventListener('abort', stop);
        resolve();
      };
      process.on('SIGTERM', stop);
      ctx.signal.addEventListener('abort', stop, { once: true });
    });
    await server.close();
    await key.close();
    return EXIT.OK;
  },
};
