/** authenticatorSelection (CTAP 2.2 §6.9) and authenticatorReset (§6.6) for the virtual key. */
import { CTAP2_STATUS } from '../ctap2/status.js';
import type { CommandHandler } from './core.js';
import { fail } from './common.js';
import { resetState } from './state.js';

export const selection: CommandHandler = async (ctx, params) => {
  if (params !== undefined) fail(CTAP2_STATUS.CTAP1_ERR_INVALID_LENGTH);
  await ctx.requestUserPresence();
  return undefined;
};

/**
 * Reset: only within `resetWindowMs` of power-up (10 s, as real keys), and
 * only with a touch. Credentials, PIN and config go; the attestation identity stays.
 */
export const reset: CommandHandler = async (ctx, params) => {
  if (params !== undefined) fail(CTAP2_STATUS.CTAP1_ERR_INVALID_LENGTH);
  if (ctx.now() - ctx.volatile.powerUpAt > ctx.options.resetWindowMs) fail(CTAP2_STATUS.CTAP2_ERR_NOT_ALLOWED);
  await ctx.requestUserPresence();
  ctx.checkCancelled();
  const old = ctx.state;
  ctx.core.state = resetState(old);
  try {
    await ctx.persist();
  } catch (e) {
    ctx.core.state = old;
    throw e;
  }
  old.masterSecret.fill(0);
  for (const c of old.credentials) c.privateKey.fill(0);
  ctx.core.resetPinUvAuthState();
  ctx.volatile.pending = undefined;
  ctx.volatile.pinFailuresSincePowerUp = 0;
  return undefined;
};
