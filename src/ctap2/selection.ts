/** authenticatorSelection (CTAP 2.1 §6.9): the key blinks and waits for a touch. */
import type { TransactOptions } from '../ctaphid/transport.js';
import { CTAP2_CMD } from './commands.js';
import { isCtap21 } from './get-info.js';
import type { Ctap2Session } from './session.js';
import { CtapError } from './status.js';

/**
 * Ask the user to touch this key. Resolves on a touch; a CTAP 2.0 key (which
 * lacks the command) fails with CTAP1_ERR_INVALID_COMMAND and a plain reason,
 * so callers can fall back to a dummy makeCredential, as browsers do.
 */
export async function selection(session: Ctap2Session, opts?: TransactOptions): Promise<void> {
  const info = session.cachedInfo ?? (await session.getInfo(opts));
  if (!isCtap21(info)) {
    throw new CtapError(0x01, { command: CTAP2_CMD.selection, message: 'the key does not support authenticatorSelection (CTAP 2.1); touch-to-select needs a dummy makeCredential instead' });
  }
  await session.send(CTAP2_CMD.selection, undefined, opts);
}
