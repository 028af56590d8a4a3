/**
 * The CTAPHID_INIT handshake (CTAP 2.2 §11.2.9.1.3): on the broadcast CID it
 * allocates a channel, on an allocated CID it resynchronises that channel.
 */
import type { HidPort } from '../hid/port.js';
import { bytesEqual } from '../util/bytes.js';
import type { Deadline } from '../util/deadline.js';
import { AbortedError, TimeoutError } from '../util/errors.js';
import { BROADCAST_CID, CTAPHID, INIT_HEADER_SIZE, INIT_NONCE_SIZE } from './constants.js';
import { errorFromPayload, parseInitResponse, type InitResponse } from './decode.js';
import { CtapHidError } from './errors.js';
import { encodeMessage, parseHeader } from './framing.js';

/** setTimeout's limit (about 24.8 days); longer budgets are waited for in steps. */
export const MAX_WAIT_MS = 0x7fffffff;

/**
 * CTAPHID_INIT on `cid` (broadcast to allocate, or an allocated CID to
 * resynchronise it). Everything that is not the INIT reply echoing `nonce`
 * on `cid` is skipped. On an allocated CID a CTAPHID_ERROR is returned as
 * an error (the caller falls back to the broadcast CID).
 */
export async function initExchange(port: HidPort, cid: number, nonce: Uint8Array, deadline: Deadline, signal: AbortSignal | undefined): Promise<InitResponse> {
  if (nonce.length !== INIT_NONCE_SIZE) throw new RangeError('CTAPHID_INIT needs an 8-byte nonce');
  const [packet] = encodeMessage(cid, CTAPHID.INIT, nonce, port.reportSize);
  deadline.check('CTAPHID_INIT');
  await port.write(packet!, { timeoutMs: Math.max(1, deadline.remaining()) });
  for (;;) {
    const report = await port.read(Math.min(deadline.remaining(), MAX_WAIT_MS), signal);
    if (signal?.aborted) throw new AbortedError(undefined, { cause: signal.reason });
    if (report === null) {
      if (deadline.remaining() > 0) continue;
      throw new TimeoutError(`No CTAPHID_INIT reply from ${port.info.path}: is it a FIDO security key, and is it still plugged in?`);
    }
    const header = parseHeader(report);
    if (!header || header.type !== 'init' || header.cid !== cid) continue;
    if (header.cmd === CTAPHID.ERROR && cid !== BROADCAST_CID) {
      throw errorFromPayload(report.subarray(INIT_HEADER_SIZE, INIT_HEADER_SIZE + 1));
    }
    if (header.cmd !== CTAPHID.INIT) continue;
    const payload = report.subarray(INIT_HEADER_SIZE, INIT_HEADER_SIZE + Math.min(header.bcnt, report.length - INIT_HEADER_SIZE));
    if (payload.length < INIT_NONCE_SIZE || !bytesEqual(payload.subarray(0, INIT_NONCE_SIZE), nonce)) continue; // someone else's INIT
    const init = parseInitResponse(payload);
    if (init.cid === 0 || init.cid === BROADCAST_CID) {
      throw new CtapHidError('INIT_FAILED', `the key assigned the reserved channel id 0x${init.cid.toString(16).padStart(8, '0')}`);
    }
    return init;
  }
}
