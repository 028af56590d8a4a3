/**
 * Ctap2Session: sends every CTAP2 command through one function that encodes
 * canonical CBOR, enforces the key's maxMsgSize, checks the status byte and
 * strictly decodes the reply. getInfo is cached per session (per open device).
 */
import { decodeCbor, encodeCbor, type CborValue } from '../cbor/index.js';
import type { CtapTransport, TransactOptions } from '../ctaphid/transport.js';
import { CTAP2_CMD, CTAP2_COMMAND_NAMES } from './commands.js';
import { decodeGetInfo, effectiveMaxMsgSize, type AuthenticatorInfo } from './get-info.js';
import { CtapError } from './status.js';

/** Used until getInfo says otherwise (CTAP 2.2 §6.4: at least 1024). */
export const DEFAULT_MAX_MSG_SIZE = 1024;

export interface Ctap2Response {
  /** The decoded CBOR map (or undefined for commands with an empty reply). */
  value: unknown;
  /** Where the key's CBOR departs from canonical form (real keys do this; kept as warnings). */
  nonCanonical: string[];
}

export class Ctap2Session {
  readonly transport: CtapTransport;
  #info: AuthenticatorInfo | undefined;
  #infoInFlight: Promise<AuthenticatorInfo> | undefined;
  #generation = 0;
  /** Called for each non-canonical (but well-formed) reply; for --verbose and diagnostics. */
  onWarning: ((message: string) => void) | undefined;

  constructor(transport: CtapTransport) {
    this.transport = transport;
  }

  /** The cached getInfo, if fetched. */
  get cachedInfo(): AuthenticatorInfo | undefined {
    return this.#info;
  }

  /**
   * authenticatorGetInfo, fetched once per session and cached (`refresh`
   * fetches again). Concurrent callers share one request.
   */
  async getInfo(opts?: TransactOptions & { refresh?: boolean }): Promise<AuthenticatorInfo> {
    if (this.#info && !opts?.refresh) return this.#info;
    if (this.#infoInFlight && !opts?.refresh) return this.#infoInFlight;
    const generation = this.#generation;
    const p = (async () => {
      const { value } = await this.send(CTAP2_CMD.getInfo, undefined, opts);
      const info = decodeGetInfo(value);
      if (generation === this.#generation) this.#info = info; // not if invalidated meanwhile
      return info;
    })();
    this.#infoInFlight = p;
    try {
      return await p;
    } finally {
      if (this.#infoInFlight === p) this.#infoInFlight = undefined;
    }
  }

  /** Forget the cached getInfo (after reset, config or PIN changes that alter it). */
  invalidateInfo(): void {
    this.#info = undefined;
    this.#infoInFlight = undefined;
    this.#generation++;
  }

  /**
   * Send one command. Throws CtapError for a non-zero status, CborError for a
   * malformed reply, CtapError CTAP2_ERR_REQUEST_TOO_LARGE (locally, before
   * sending) when the request exceeds the key's maxMsgSize.
   */
  async send(command: number, params: CborValue | undefined, opts?: TransactOptions): Promise<Ctap2Response> {
    const body = params === undefined ? new Uint8Array(0) : encodeCbor(params);
    const request = new Uint8Array(1 + body.length);
    request[0] = command;
    request.set(body, 1);
    body.fill(0); // requests can carry encrypted PINs and tokens
    const limit = effectiveMaxMsgSize(this.#info); // absent or below CTAP's 1024 floor: 1024
    if (command !== CTAP2_CMD.getInfo && request.length > limit) {
      request.fill(0);
      throw new CtapError(0x39, {
        command,
        message: `the ${commandName(command)} request is ${request.length} bytes, more than the key's maxMsgSize of ${limit}`,
      });
    }
    let reply: Uint8Array;
    try {
      reply = await this.transport.cbor(request, opts);
    } finally {
      request.fill(0);
    }
    if (reply.length === 0) throw new CtapError(0x7f, { command, message: `the key sent an empty reply to ${commandName(command)}` });
    const status = reply[0]!;
    if (status !== 0) throw new CtapError(status, { command });
    if (reply.length === 1) return { value: undefined, nonCanonical: [] };
    const decoded = decodeCbor(reply.subarray(1), { context: `${commandName(command)} response` });
    if (decoded.nonCanonical.length && this.onWarning) {
      for (const w of decoded.nonCanonical) this.onWarning(`${commandName(command)} response is not canonical CBOR: ${w}`);
    }
    return { value: decoded.value, nonCanonical: decoded.nonCanonical };
  }
}

export function commandName(command: number): string {
  return CTAP2_COMMAND_NAMES[command] ?? `command 0x${command.toString(16).padStart(2, '0')}`;
}
