/** authenticatorSelection (CTAP 2.1 §6.9): the key blinks and waits for a touch. */
import type { TransactOptions } from '../ctaphid/transport.js';
import { CTAP2_CMD } from './commands.js';
import { isCtap21 } from './get-info.js';
import { makeCredential } from './make-credential.js';
import type { Ctap2Session } from './session.js';
import { CTAP2_STATUS, CtapError } from './status.js';

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

/**
 * The CTAP 2.0 way to wait for a touch without using any credential: a makeCredential with a
 * zero-length pinUvAuthParam (CTAP 2.0 §5.5.8.2: the key waits for a touch, then answers
 * PIN_NOT_SET or PIN_INVALID, which here mean "touched"), as browsers do. Other errors throw.
 */
export async function waitForTouchByMakeCredential(session: Ctap2Session, opts?: TransactOptions): Promise<void> {
  try {
    await makeCredential(
      session,
      {
        clientDataHash: new Uint8Array(32),
        rp: { id: '.dummy' },
        user: { id: new Uint8Array([1]), name: 'dummy' },
        pubKeyCredParams: [{ type: 'public-key', alg: -7 }],
        pinUvAuthParam: new Uint8Array(0),
        pinUvAuthProtocol: 1,
      },
      opts,
    );
  } catch (e) {
    if (e instanceof CtapError && (e.status === CTAP2_STATUS.CTAP2_ERR_PIN_NOT_SET || e.status === CTAP2_STATUS.CTAP2_ERR_PIN_INVALID)) return;
    throw e;
  }
}
