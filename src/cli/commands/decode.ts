/**
 * `ctap decode KIND HEX`: bytes from a log or trace, decoded by the library's
 * own decoders and printed with spec names. A stream that breaks the protocol
 * is an error (exit 7), never repaired.
 */
import { decodeCbor } from '../../cbor/index.js';
import { toJson, type JsonValue } from '../../ctap2/json.js';
import { statusName } from '../../ctap2/status.js';
import { CTAPHID } from '../../ctaphid/constants.js';
import { commandName, decodeReportStream, errorFromPayload, keepaliveStatus, parseInitResponse } from '../../ctaphid/decode.js';
import { fromHex, toHex } from '../../util/bytes.js';
import { str } from '../args.js';
import type { CommandDef, Context } from '../context.js';
import { CliError, EXIT, UsageError } from '../errors.js';
import { describeCtap2, describeKind, CTAP2_DECODE_COMMANDS, type Ctap2DecodeCommand } from '../describe.js';
import { printTree } from '../render.js';

const KINDS = ['ctaphid', 'ctap2', 'authdata', 'attestation', 'cose', 'u2f-register', 'u2f-authenticate'] as const;
type Kind = (typeof KINDS)[number];

const hex32 = (n: number): string => n.toString(16).padStart(8, '0');

/** The bytes: operands after KIND joined (logs split hex across words), or stdin when `-` / absent. */
async function inputBytes(ctx: Context): Promise<Uint8Array> {
  let text = ctx.operands.slice(1).join('');
  if (text === '' || text === '-') {
    if (process.stdin.isTTY) throw new UsageError('give the bytes as hex after KIND (or pipe them on standard input)');
    const chunks: Buffer[] = [];
    for await (const c of process.stdin) chunks.push(typeof c === 'string' ? Buffer.from(c) : (c as Buffer));
    text = Buffer.concat(chunks).toString('utf8');
  }
  text = text.replace(/^0x/i, '').replace(/[\s:,]|0x/gi, '');
  try {
    return fromHex(text);
  } catch {
    throw new CliError('the input is not hex: expected pairs of 0-9a-f digits (spaces, colons and 0x prefixes are ignored)', EXIT.BAD_DATA);
  }
}

function commandOption(ctx: Context, required: boolean): Ctap2DecodeCommand | undefined {
  const name = str(ctx.args.values, 'command');
  if (name === undefined) {
    if (required) throw new UsageError(`decode ctap2 needs --command NAME (one of: ${CTAP2_DECODE_COMMANDS.join(', ')})`);
    return undefined;
  }
  if (!(CTAP2_DECODE_COMMANDS as readonly string[]).includes(name)) throw new UsageError(`--command takes one of: ${CTAP2_DECODE_COMMANDS.join(', ')}`);
  return name as Ctap2DecodeCommand;
}

/** One CTAPHID message's payload, interpreted by its command. */
function interpretMessage(cmd: number, payload: Uint8Array, command: Ctap2DecodeCommand | undefined): JsonValue {
  switch (cmd) {
    case CTAPHID.INIT: {
      const r = parseInitResponse(payload);
      return {
        nonce: toHex(r.nonce),
        cid: hex32(r.cid),
        protocolVersion: r.protocolVersion,
        deviceVersion: r.deviceVersion,
        capabilities: r.capabilities.raw,
        capabilityFlags: { WINK: r.capabilities.wink, LOCK: r.capabilities.lock ?? false, CBOR: r.capabilities.cbor, NMSG: r.capabilities.nmsg },
      };
    }
    case CTAPHID.KEEPALIVE: {
      const s = keepaliveStatus(payload);
      return { status: payload[0] ?? null, statusName: s === 'processing' ? 'PROCESSING' : s === 'up-needed' ? 'UPNEEDED' : null };
    }
    case CTAPHID.ERROR: {
      const e = errorFromPayload(payload);
      return { errorCode: e.hidError ?? null, errorName: e.specName ?? null };
    }
    case CTAPHID.CBOR: {
      if (payload.length === 0) return { status: null };
      const status = payload[0]!;
      if (payload.length === 1 || status !== 0) return { status, statusName: statusName(status) };
      if (command) {
        const d = describeCtap2(command, payload).json as Record<string, JsonValue>;
        return { status, statusName: statusName(status), decoded: d['decoded'] ?? null };
      }
      const d = decodeCbor(payload.subarray(1), { context: 'CBOR response' });
      return { status, statusName: statusName(status), cbor: toJson(d.value), ...(d.nonCanonical.length ? { nonCanonical: d.nonCanonical } : {}) };
    }
    case CTAPHID.MSG: {
      if (payload.length < 2) return { statusWord: null };
      return { statusWord: toHex(payload.subarray(payload.length - 2)), data: toHex(payload.subarray(0, payload.length - 2)) };
    }
    case CTAPHID.PING:
      return { data: toHex(payload) };
    default:
      return null;
  }
}

function decodeCtaphid(ctx: Context, bytes: Uint8Array): void {
  const command = commandOption(ctx, false);
  const stream = decodeReportStream(bytes);
  const packets = stream.packets.map((p) =>
    p.type === 'init'
      ? { cid: hex32(p.cid), type: 'init', cmd: p.cmd, cmdName: commandName(p.cmd), bcnt: p.bcnt }
      : { cid: hex32(p.cid), type: 'cont', seq: p.seq },
  );
  const messages = stream.messages.map((m) => ({
    cid: hex32(m.cid),
    cmd: m.cmd,
    cmdName: commandName(m.cmd),
    bcnt: m.payload.length,
    packetCount: m.packetCount,
    payload: toHex(m.payload),
    interpretation: interpretMessage(m.cmd, m.payload, command),
  }));
  const incomplete = stream.incomplete
    ? { cid: hex32(stream.incomplete.cid), cmd: stream.incomplete.cmd, cmdName: commandName(stream.incomplete.cmd), bcnt: stream.incomplete.declared }
    : undefined;
  ctx.out.result({ reportSize: 64, packets, messages, ...(incomplete ? { incomplete } : {}) }, () => {
    const out = ctx.out;
    out.line(`${packets.length} report(s), ${messages.length} message(s)`);
    for (const [i, m] of messages.entries()) {
      out.line();
      out.line(`message ${i + 1}: ${m.cmdName} on channel ${m.cid}, ${m.bcnt} byte(s) in ${m.packetCount} report(s)`);
      if (m.interpretation !== null) printTree(out, m.interpretation, '  ');
      else out.line(`  payload: ${m.payload}`);
    }
    if (incomplete) {
      out.line();
      out.line(`incomplete: ${incomplete.cmdName} on channel ${incomplete.cid} declared ${incomplete.bcnt} byte(s); the stream ends before the message does`);
    }
  });
}

export const decodeCommand: CommandDef = {
  name: 'decode',
  summary: 'decode bytes from a log or trace (CTAPHID reports, CTAP2/U2F responses, authData, COSE keys)',
  usage: `decode ctaphid HEX [--command NAME] [--json]
decode ctap2 --command NAME HEX [--json]
decode authdata|attestation|cose|u2f-register|u2f-authenticate HEX [--json]`,
  details: `KIND:
  ctaphid           concatenated 64-byte HID reports as read from a key, without a report-ID
                    byte; reassembled into messages. With --command, CBOR replies are decoded
                    as that command's response. A stream that breaks the protocol (a
                    continuation on another channel, a bad sequence number, a length past
                    the data) is an error, not repaired.
  ctap2             a CTAP2 response, with or without the leading status byte; --command is
                    one of: ${CTAP2_DECODE_COMMANDS.join(', ')}
  authdata          WebAuthn authenticatorData
  attestation       a WebAuthn attestationObject (fmt, attStmt, authData)
  cose              a COSE_Key
  u2f-register      a U2F REGISTER response (with or without the 9000 status word)
  u2f-authenticate  a U2F AUTHENTICATE response (with or without the status word)
HEX may contain spaces, colons and 0x prefixes; "-" or nothing reads it from standard input.
--json prints byte strings as lowercase hex and names fields as the CTAP/WebAuthn specs do.`,
  options: { command: { type: 'string', short: 'c' } },
  async run(ctx) {
    const kind = ctx.operands[0];
    if (kind === undefined) throw new UsageError(`decode needs a KIND: ${KINDS.join(', ')}`);
    if (!(KINDS as readonly string[]).includes(kind)) throw new UsageError(`unknown KIND "${kind}"; one of: ${KINDS.join(', ')}`);
    const bytes = await inputBytes(ctx);
    if (bytes.length === 0) throw new CliError('nothing to decode: the input is empty', EXIT.BAD_DATA);
    if ((kind as Kind) === 'ctaphid') return decodeCtaphid(ctx, bytes);
    if (kind === 'ctap2') {
      const command = commandOption(ctx, true)!;
      const d = describeCtap2(command, bytes);
      ctx.out.result(d.json, () => printTree(ctx.out, d.json));
      for (const w of d.warnings) ctx.out.warn(w);
      return undefined;
    }
    const d = describeKind(kind as Exclude<Kind, 'ctaphid' | 'ctap2'>, bytes);
    ctx.out.result(d.json, () => printTree(ctx.out, d.json));
    for (const w of d.warnings) ctx.out.warn(w);
    return undefined;
  },
};
