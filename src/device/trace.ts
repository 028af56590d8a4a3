/**
 * A HidPort wrapper that traces every CTAPHID *message* (reassembled from its
 * packets) as one line, for `ctap --verbose` and for apps that want a frame
 * trace. CTAP2 messages are decoded and printed with their secrets left out:
 *
 * - requests: pinUvAuthParam, and every clientPin secret (keyAgreement,
 *   pinHashEnc, newPinEnc); the hmac-secret / hmac-secret-mc inputs (salts
 *   encrypted under the ECDH shared secret) and the credBlob to store;
 * - replies: largeBlobKey (makeCredential 0x05, getAssertion 0x07,
 *   credentialManagement 0x0B), the large-blob array (largeBlobs 0x01: only
 *   its length), every clientPin reply member but the retry counters, and in
 *   authenticatorData the hmac-secret / hmac-secret-mc / credBlob outputs;
 * - anything the trace cannot decode (a malformed reply, a vendor command, an
 *   authenticatorData that does not parse) is shown by its length only.
 *
 * Everything else — getInfo, flags, sign counts, credential ids, statuses,
 * keepalives, U2F and the other CTAPHID commands — is printed in full.
 */
import type { HidDeviceInfo, HidPort } from '../hid/port.js';
import type { CallOptions } from '../util/deadline.js';
import { CTAPHID, CTAPHID_COMMAND_NAMES } from '../ctaphid/constants.js';
import { parseHeader } from '../ctaphid/framing.js';
import { decodeCbor } from '../cbor/index.js';
import { CTAP2_CMD, CTAP2_COMMAND_NAMES } from '../ctap2/commands.js';
import { parseAuthenticatorData } from '../ctap2/authenticator-data.js';
import { statusName } from '../ctap2/status.js';
import { toHex } from '../util/bytes.js';

export type TraceSink = (line: string) => void;

const hex32 = (n: number): string => n.toString(16).padStart(8, '0');

/** Extensions whose inputs or outputs are secret (or encrypted under a secret). */
const SECRET_EXTENSIONS = new Set(['hmac-secret', 'hmac-secret-mc', 'credBlob', 'largeBlobKey']);

/** CTAPHID commands whose payload is printed in hex (none of them carries a CTAP2 secret). */
const PLAIN_CTAPHID = new Set<number>([CTAPHID.INIT, CTAPHID.PING, CTAPHID.MSG, CTAPHID.WINK, CTAPHID.LOCK, CTAPHID.ERROR, CTAPHID.KEEPALIVE, CTAPHID.CANCEL]);

/** How one member of a CTAP2 map is shown. */
type Rule = 'secret' | 'length' | 'extensions' | 'authData';

interface CommandRules {
  request: Readonly<Record<number, Rule>>;
  reply: Readonly<Record<number, Rule>>;
  /** clientPin: every reply member not listed in `replyKeep` is secret. */
  replyKeep?: ReadonlySet<number>;
}

const C = CTAP2_CMD;
const credMgmt: CommandRules = { request: { 0x04: 'secret' }, reply: { 0x0b: 'secret' } };
const bio: CommandRules = { request: { 0x05: 'secret' }, reply: {} };
const assertion: CommandRules = { request: { 0x04: 'extensions', 0x06: 'secret' }, reply: { 0x02: 'authData', 0x07: 'secret', 0x08: 'extensions' } };
const RULES: Readonly<Record<number, CommandRules>> = {
  [C.makeCredential]: { request: { 0x06: 'extensions', 0x08: 'secret' }, reply: { 0x02: 'authData', 0x05: 'secret', 0x06: 'extensions' } },
  [C.getAssertion]: assertion,
  [C.getNextAssertion]: assertion,
  [C.getInfo]: { request: {}, reply: {} },
  [C.clientPin]: { request: { 0x03: 'secret', 0x04: 'secret', 0x05: 'secret', 0x06: 'secret' }, reply: {}, replyKeep: new Set([0x03, 0x04, 0x05]) },
  [C.reset]: { request: {}, reply: {} },
  [C.bioEnrollment]: bio,
  [C.bioEnrollmentPreview]: bio,
  [C.credentialManagement]: credMgmt,
  [C.credentialManagementPreview]: credMgmt,
  [C.selection]: { request: {}, reply: {} },
  [C.largeBlobs]: { request: { 0x02: 'length', 0x05: 'secret' }, reply: { 0x01: 'length' } },
  [C.config]: { request: { 0x04: 'secret' }, reply: {} },
};

function sizeOf(v: unknown): string {
  if (v instanceof Uint8Array) return `${v.length} bytes`;
  if (typeof v === 'string') return `${v.length} chars`;
  if (v instanceof Map) return `map of ${v.size}`;
  if (Array.isArray(v)) return `array of ${v.length}`;
  return typeof v;
}

const redacted = (v: unknown): string => `<redacted ${sizeOf(v)}>`;

/** CBOR diagnostic-like text of a value with no secrets in it. */
function render(v: unknown): string {
  if (v instanceof Uint8Array) return `h'${toHex(v)}'`;
  if (typeof v === 'string') return JSON.stringify(v);
  if (Array.isArray(v)) return `[${v.map(render).join(', ')}]`;
  if (v instanceof Map) return `{${[...v].map(([k, x]) => `${render(k)}: ${render(x)}`).join(', ')}}`;
  if (v === undefined) return 'undefined';
  return String(v);
}

/** An extensions map: secret extensions keep a boolean or small-integer value (e.g. hmac-secret: true), nothing else. */
function renderExtensions(v: unknown): string {
  if (!(v instanceof Map)) return redacted(v);
  const parts = [...v].map(([k, x]) => {
    const secret = typeof k !== 'string' || SECRET_EXTENSIONS.has(k);
    const plain = typeof x === 'boolean' || (typeof x === 'number' && Number.isSafeInteger(x) && x >= 0 && x < 256);
    return `${render(k)}: ${secret && !plain ? redacted(x) : render(x)}`;
  });
  return `{${parts.join(', ')}}`;
}

const FLAG_NAMES: readonly [number, string][] = [[0x01, 'UP'], [0x04, 'UV'], [0x08, 'BE'], [0x10, 'BS'], [0x40, 'AT'], [0x80, 'ED']];

function renderAuthData(v: unknown): string {
  if (!(v instanceof Uint8Array)) return redacted(v);
  let ad;
  try {
    ad = parseAuthenticatorData(v, { allowNonCanonicalKeyOrder: true });
  } catch {
    return `<authData ${v.length} bytes, undecodable>`;
  }
  const flags = FLAG_NAMES.filter(([bit]) => ad.flags & bit).map(([, n]) => n).join('|') || '-';
  const parts = [`rpIdHash h'${toHex(ad.rpIdHash)}'`, `flags ${flags}`, `signCount ${ad.signCount}`];
  const acd = ad.attestedCredentialData;
  if (acd) parts.push(`aaguid h'${toHex(acd.aaguid)}'`, `credentialId h'${toHex(acd.credentialId)}'`, `credentialPublicKey h'${toHex(acd.credentialPublicKeyBytes)}'`);
  if (ad.extensions) parts.push(`extensions ${renderExtensions(ad.extensions)}`);
  return `authData(${v.length} bytes){${parts.join(', ')}}`;
}

function renderMember(rule: Rule | undefined, v: unknown): string {
  switch (rule) {
    case 'secret':
      return redacted(v);
    case 'length':
      return `<${sizeOf(v)}>`;
    case 'extensions':
      return renderExtensions(v);
    case 'authData':
      return renderAuthData(v);
    default:
      return render(v);
  }
}

/** A decoded CTAP2 request or reply map, with this command's secret members left out. */
function renderCtap2Body(command: number, body: Uint8Array, dir: 'request' | 'reply'): string {
  if (body.length === 0) return '';
  const rules = RULES[command];
  if (!rules) return ` <${body.length} bytes, vendor or unknown command: not shown>`;
  let value: unknown;
  try {
    value = decodeCbor(body, { context: 'trace' }).value;
  } catch {
    return ` <${body.length} bytes, undecodable CBOR: not shown>`;
  }
  if (!(value instanceof Map)) return ` <${body.length} bytes, not a CBOR map: not shown>`;
  const table = dir === 'request' ? rules.request : rules.reply;
  const keep = dir === 'reply' ? rules.replyKeep : undefined;
  const parts = [...value].map(([k, v]) => {
    const rule: Rule | undefined = typeof k !== 'number' ? 'secret' : keep ? (keep.has(k) ? undefined : 'secret') : table[k];
    return `${render(k)}: ${renderMember(rule, v)}`;
  });
  return ` {${parts.join(', ')}}`;
}

const ctap2Name = (cmd: number): string => `${CTAP2_COMMAND_NAMES[cmd] ?? 'command'}(0x${cmd.toString(16).padStart(2, '0')})`;

interface PendingMessage {
  cmd: number;
  data: Uint8Array;
  filled: number;
  nextSeq: number;
}

/** Reassembles messages per direction and channel, and describes each complete one. */
class MessageTracer {
  readonly #partial = { '>': new Map<number, PendingMessage>(), '<': new Map<number, PendingMessage>() };
  /** The CTAP2 command of each channel's last CBOR request, to decode its reply. */
  readonly #lastCommand = new Map<number, number>();

  /** Feed one report; returns the lines to trace (a complete message, or a framing anomaly). */
  feed(dir: '>' | '<', packet: Uint8Array): string[] {
    const h = parseHeader(packet);
    if (!h) return [`${dir} short report (${packet.length} bytes)`];
    const partials = this.#partial[dir];
    const out: string[] = [];
    if (h.type === 'init') {
      if (partials.has(h.cid)) out.push(`${dir} ${hex32(h.cid)} previous message abandoned (a new one started)`);
      partials.delete(h.cid);
      const p: PendingMessage = { cmd: h.cmd, data: new Uint8Array(h.bcnt), filled: 0, nextSeq: 0 };
      const first = packet.subarray(7, 7 + h.bcnt);
      p.data.set(first);
      p.filled = first.length;
      if (p.filled >= h.bcnt) out.push(this.#describe(dir, h.cid, p));
      else partials.set(h.cid, p);
      return out;
    }
    const p = partials.get(h.cid);
    if (!p) return [`${dir} ${hex32(h.cid)} cont seq=${h.seq} without a message in progress`];
    if (h.seq !== p.nextSeq) {
      partials.delete(h.cid);
      return [`${dir} ${hex32(h.cid)} cont seq=${h.seq}, expected ${p.nextSeq}: message dropped`];
    }
    p.nextSeq++;
    const chunk = packet.subarray(5, 5 + (p.data.length - p.filled));
    p.data.set(chunk, p.filled);
    p.filled += chunk.length;
    if (p.filled < p.data.length) return [];
    partials.delete(h.cid);
    return [this.#describe(dir, h.cid, p)];
  }

  #describe(dir: '>' | '<', cid: number, p: PendingMessage): string {
    const head = `${dir} ${hex32(cid)} ${CTAPHID_COMMAND_NAMES[p.cmd] ?? `0x${p.cmd.toString(16)}`} bcnt=${p.data.length}`;
    try {
      if (p.cmd === CTAPHID.CBOR) return head + this.#describeCbor(dir, cid, p.data);
      if (PLAIN_CTAPHID.has(p.cmd)) return p.data.length ? `${head} ${toHex(p.data)}` : head;
      return `${head} <vendor command: payload not shown>`;
    } finally {
      p.data.fill(0);
    }
  }

  #describeCbor(dir: '>' | '<', cid: number, data: Uint8Array): string {
    if (data.length === 0) return '';
    if (dir === '>') {
      const cmd = data[0]!;
      this.#lastCommand.set(cid, cmd);
      return ` ${ctap2Name(cmd)}${renderCtap2Body(cmd, data.subarray(1), 'request')}`;
    }
    const cmd = this.#lastCommand.get(cid);
    this.#lastCommand.delete(cid);
    const status = data[0]!;
    const what = cmd === undefined ? 'reply to an unknown request' : `${ctap2Name(cmd)} reply`;
    const st = status === 0 ? 'OK' : `${statusName(status)} (0x${status.toString(16).padStart(2, '0')})`;
    // A reply we cannot attribute to a request is shown by its length only.
    const body = cmd === undefined ? (data.length > 1 ? ` <${data.length - 1} bytes: not shown>` : '') : renderCtap2Body(cmd, data.subarray(1), 'reply');
    return ` ${what} ${st}${body}`;
  }
}

/** Wrap `port` so each message written (`>`) and read (`<`) is traced to `sink`, once its last packet has passed. */
export function tracePort(port: HidPort, sink: TraceSink): HidPort {
  const t = new MessageTracer();
  return {
    get info(): HidDeviceInfo {
      return port.info;
    },
    get reportSize(): number {
      return port.reportSize;
    },
    get closed(): boolean {
      return port.closed;
    },
    async write(report: Uint8Array, opts?: CallOptions): Promise<void> {
      for (const l of t.feed('>', report)) sink(l);
      await port.write(report, opts);
    },
    async read(timeoutMs: number, signal?: AbortSignal): Promise<Uint8Array | null> {
      const report = await port.read(timeoutMs, signal);
      if (report) for (const l of t.feed('<', report)) sink(l);
      return report;
    },
    close(): Promise<void> {
      return port.close();
    },
  };
}
