/**
 * The CTAPHID_INIT handshake (CTAP 2.2 §11.2.9.1.3): on the broadcast CID it
 * allocates a channel, on an allocated CID it resynchronises that channel.
 */
import type { HidPort } from '../hid/port.js';
import { bytesEqual } from '../util/bytes.js';
import { Deadline } from '../util/deadline.js';
import { AbortedError, TimeoutError } from '../util/errors.js';
import { BROADCAST_CID, CTAPHID, CTAPHID_ERR, INIT_HEADER_SIZE, INIT_NONCE_SIZE } from './constants.js';
import { errorFromPayload, parseInitResponse, type InitResponse } from './decode.js';
import { CtapHidError } from './errors.js';
import { encodeMessage, parseHeader } from './framing.js';

/** setTimeout's limit (about 24.8 days); longer budgets are waited for in steps. */
export const MAX_WAIT_MS = 0x7fffffff;

/** How a CHANNEL_BUSY answer is retried: first wait, doubled each time up to the cap (both in ms, jittered by ±25 %). */
export interface BusyBackoff {
  initialMs: number;
  maxMs: number;
}

/**
 * How many of the nonces sent by one allocation still count as ours: a reply
 * to any of them is a channel the key allocated for us. Bounded so a
 * days-long budget of busy retries cannot grow the list without end.
 */
const REMEMBERED_NONCES = 8;

/** The CtapHidError a caller gets when the key answered CHANNEL_BUSY until the deadline. */
export function busyError(cause: CtapHidError): CtapHidError {
  return new CtapHidError('BUSY', 'the key stayed busy with another program (CTAPHID ERR_CHANNEL_BUSY) until the deadline; close the other program or try again', {
    cause,
    hidError: CTAPHID_ERR.CHANNEL_BUSY,
  });
}

/** A backoff wait with ±25 % jitter, so two waiting hosts do not retry in lockstep. */
export function jittered(ms: number): number {
  return Math.round(ms * (0.75 + Math.random() * 0.5));
}

/**
 * CTAPHID_INIT on `cid` (broadcast to allocate, or an allocated CID to
 * resynchronise it). Everything that is not the INIT reply echoing `nonce`
 * on `cid` is skipped. On an allocated CID a CTAPHID_ERROR is returned as
 * an error (the caller falls back to the broadcast CID). On the broadcast CID
 * a CTAPHID_ERROR is skipped: use allocateChannel to retry CHANNEL_BUSY.
 */
export async function initExchange(port: HidPort, cid: number, nonce: Uint8Array, deadline: Deadline, signal: AbortSignal | undefined): Promise<InitResponse> {
  checkNonce(nonce);
  deadline.check('CTAPHID_INIT');
  await writeInit(port, cid, nonce, deadline);
  const reply = await awaitInitReply(port, cid, [nonce], deadline, signal, false);
  if (reply === null) throw noReply(port);
  if (reply instanceof CtapHidError) throw reply; // not reached: busy answers only end the wait when asked to
  return reply;
}

/**
 * Allocate a channel: CTAPHID_INIT on the broadcast CID. A key busy with
 * another process's transaction answers it with CTAPHID_ERROR
 * ERR_CHANNEL_BUSY on the broadcast CID. That answer cannot be told apart
 * from one meant for another process's INIT, so while our INIT is
 * unanswered it means "try again": wait (`backoff`, capped), still
 * accepting a reply to any nonce we sent, then send INIT with a fresh
 * nonce; until the deadline. If the busy answer was someone else's, that
 * costs one extra INIT. Rejects with CtapHidError BUSY when the key was busy
 * and no reply came by the deadline, TimeoutError when it never answered at
 * all, CtapHidError INIT_FAILED on a malformed reply.
 */
export async function allocateChannel(
  port: HidPort,
  nextNonce: () => Uint8Array,
  deadline: Deadline,
  signal: AbortSignal | undefined,
  backoff: BusyBackoff,
): Promise<InitResponse> {
  const sent: Uint8Array[] = [];
  let busy: CtapHidError | undefined;
  let wait = Math.max(0, backoff.initialMs);
  deadline.check('CTAPHID_INIT');
  for (;;) {
    const nonce = nextNonce();
    checkNonce(nonce);
    sent.push(nonce);
    if (sent.length > REMEMBERED_NONCES) sent.shift();
    await writeInit(port, BROADCAST_CID, nonce, deadline);
    const reply = await awaitInitReply(port, BROADCAST_CID, sent, deadline, signal, true);
    if (reply === null) throw busy ? busyError(busy) : noReply(port);
    if (!(reply instanceof CtapHidError)) return reply;
    busy = reply;
    // Back off, still listening: the reply to one of our INITs may yet come (the busy answer may have been someone else's).
    const pause = new Deadline({ timeoutMs: Math.min(jittered(wait), deadline.remaining()) });
    const late = await awaitInitReply(port, BROADCAST_CID, sent, pause, signal, false);
    if (late !== null && !(late instanceof CtapHidError)) return late;
    if (deadline.remaining() <= 0) throw busyError(busy);
    wait = Math.min(wait * 2, Math.max(0, backoff.maxMs));
  }
}

function checkNonce(nonce: Uint8Array): void {
  if (nonce.length !== INIT_NONCE_SIZE) throw new RangeError('CTAPHID_INIT needs an 8-byte nonce');
}

function noReply(port: HidPort): TimeoutError {
  return new TimeoutError(`No CTAPHID_INIT reply from ${port.info.path}: is it a FIDO security key, and is it still plugged in?`);
}

async function writeInit(port: HidPort, cid: number, nonce: Uint8Array, deadline: Deadline): Promise<void> {
  const [packet] = encodeMessage(cid, CTAPHID.INIT, nonce, port.reportSize);
  await port.write(packet!, { timeoutMs: Math.max(1, deadline.remaining()) });
}

/**
 * Read until the INIT reply on `cid` echoing one of `nonces` (returned), the
 * budget runs out (null) or, when `busyEndsWait`, a CTAPHID_ERROR
 * ERR_CHANNEL_BUSY on the broadcast CID (returned as the CtapHidError).
 * On an allocated CID any CTAPHID_ERROR is thrown.
 */
async function awaitInitReply(
  port: HidPort,
  cid: number,
  nonces: readonly Uint8Array[],
  budget: Deadline,
  signal: AbortSignal | undefined,
  busyEndsWait: boolean,
): Promise<InitResponse | CtapHidError | null> {
  for (;;) {
    const remaining = budget.remaining();
    const report = await port.read(Math.min(remaining, MAX_WAIT_MS), signal);
    if (signal?.aborted) throw new AbortedError(undefined, { cause: signal.reason });
    if (report === null) {
      if (budget.remaining() > 0) continue;
      return null;
    }
    const header = parseHeader(report);
    if (!header || header.type !== 'init' || header.cid !== cid) continue;
    if (header.cmd === CTAPHID.ERROR) {
      const error = errorFromPayload(report.subarray(INIT_HEADER_SIZE, INIT_HEADER_SIZE + 1));
      if (cid !== BROADCAST_CID) throw error;
      if (busyEndsWait && error.hidError === CTAPHID_ERR.CHANNEL_BUSY) return error;
      continue; // another error on the broadcast CID: likely an answer to another process
    }
    if (header.cmd !== CTAPHID.INIT) continue;
    const payload = report.subarray(INIT_HEADER_SIZE, INIT_HEADER_SIZE + Math.min(header.bcnt, report.length - INIT_HEADER_SIZE));
    if (payload.length < INIT_NONCE_SIZE) continue;
    const echoed = payload.subarray(0, INIT_NONCE_SIZE);
    if (!nonces.some((n) => bytesEqual(echoed, n))) continue; // someone else's INIT
    const init = parseInitResponse(payload);
    if (init.cid === 0 || init.cid === BROADCAST_CID) {
      throw new CtapHidError('INIT_FAILED', `the key assigned the reserved channel id 0x${init.cid.toString(16).padStart(8, '0')}`);
    }
    return init;
  }
}
