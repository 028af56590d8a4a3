/** authenticatorReset (CTAP 2.2 §6.6): deletes every credential and the PIN. */
import type { TransactOptions } from '../ctaphid/transport.js';
import { CTAP2_CMD } from './commands.js';
import type { Ctap2Session } from './session.js';
import { CtapError } from './status.js';

/** What to tell a user when the key refuses a reset. */
export const RESET_HINTS: Readonly<Record<number, string>> = {
  0x30: 'the key only accepts a reset within 10 seconds of being plugged in: unplug it, plug it back in and run the reset again right away',
  0x27: 'the reset was denied on the key (touch refused or not given)',
  0x2f: 'the key was not touched in time: run the reset again and touch the key when it blinks',
  0x3a: 'the key was not touched in time: run the reset again and touch the key when it blinks',
};

/**
 * Reset the key. Irreversible: the caller must have confirmed with the user.
 * The cached getInfo is dropped (the PIN state and counts change).
 */
export async function reset(session: Ctap2Session, opts?: TransactOptions): Promise<void> {
  try {
    await session.send(CTAP2_CMD.reset, undefined, opts);
  } catch (e) {
    if (e instanceof CtapError && RESET_HINTS[e.status]) {
      throw new CtapError(e.status, { command: CTAP2_CMD.reset, message: RESET_HINTS[e.status]!, cause: e });
    }
    throw e;
  } finally {
    session.invalidateInfo();
  }
}
