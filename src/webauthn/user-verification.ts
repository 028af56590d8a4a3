/**
 * User verification against what the key offers (CTAP 2.1 §6.5, WebAuthn
 * §5.1.3/§5.1.4): built-in UV first (getPinUvAuthTokenUsingUvWithPermissions,
 * or the `uv` option on a CTAP 2.0 key), the PIN when the key has no
 * built-in UV or it is blocked. A PIN is only ever sent as the application
 * answered it: a wrong PIN is reported (`pin-invalid`, retries left) and the
 * next attempt waits for a new answer; when the app gives none (null), the
 * ceremony fails with the wrong PIN (CTAP2_ERR_PIN_INVALID, retriesLeft), and
 * only a null to the first `pin-required` is a cancellation. A key with no PIN set is reported,
 * never guessed at.
 */
import { ClientPin, type PinUvAuthToken } from '../ctap2/client-pin.js';
import { PERMISSION, type PermissionName } from '../ctap2/permissions.js';
import { CTAP2_STATUS, CtapError } from '../ctap2/status.js';
import type { Ctap2Session } from '../ctap2/session.js';
import type { AuthenticatorInfo } from '../ctap2/get-info.js';
import type { CeremonyContext } from './ceremony-context.js';
import { WebAuthnError } from './errors.js';
import { ask, notify, type PinRequiredReason } from './interaction.js';
import type { UserVerificationRequirement } from './options.js';

export interface UvRequest {
  phase: 'create' | 'get';
  requirement: UserVerificationRequirement;
  rpId: string;
  /** create: whether a discoverable credential is being made. */
  rk?: boolean | undefined;
  /** Extra token permissions (lbw for a largeBlob write). */
  extraPermissions?: readonly PermissionName[] | undefined;
}

export interface UvOutcome {
  /** `options.uv` for the command (CTAP 2.0 built-in UV only). */
  uvOption: boolean | undefined;
  /** A token to compute pinUvAuthParam with (destroy it after the ceremony). */
  token: PinUvAuthToken | undefined;
  /** The authData UV flag must be set. */
  uvExpected: boolean;
}

export interface KeyUvCapabilities {
  pinSupported: boolean;
  pinSet: boolean;
  uvConfigured: boolean;
  uvSupported: boolean;
  tokenSupported: boolean;
  alwaysUv: boolean;
  makeCredUvNotRqd: boolean;
}

export function uvCapabilities(info: AuthenticatorInfo): KeyUvCapabilities {
  const o = info.options;
  return {
    pinSupported: o.clientPin !== undefined,
    pinSet: o.clientPin === true,
    uvConfigured: o.uv === true,
    uvSupported: o.uv !== undefined,
    tokenSupported: o.pinUvAuthToken === true,
    alwaysUv: o.alwaysUv === true,
    makeCredUvNotRqd: o.makeCredUvNotRqd === true,
  };
}

/** Whether this ceremony must verify the user: what the RP asks, and what the key itself insists on. */
export function needsUv(caps: KeyUvCapabilities, req: UvRequest): { want: boolean; reason: PinRequiredReason } {
  const protectedKey = caps.pinSet || caps.uvConfigured;
  if (req.requirement === 'required') return { want: true, reason: 'uv-required' };
  if (caps.alwaysUv && protectedKey) return { want: true, reason: 'always-uv' };
  // CTAP 2.1 §6.1.2 step 6: a protected key refuses makeCredential without a pinUvAuthParam
  // unless makeCredUvNotRqd is set — and even then for a discoverable credential.
  if (req.phase === 'create' && protectedKey && (!caps.makeCredUvNotRqd || req.rk)) return { want: true, reason: 'uv-preferred' };
  if (req.requirement === 'preferred' && protectedKey) return { want: true, reason: 'uv-preferred' };
  if (req.extraPermissions?.length && protectedKey) return { want: true, reason: 'extension' };
  return { want: false, reason: 'uv-preferred' };
}

const NONE: UvOutcome = { uvOption: undefined, token: undefined, uvExpected: false };

function refuse(message: string, ctap?: string, cause?: unknown, retriesLeft?: number): WebAuthnError {
  return new WebAuthnError('NotAllowedError', message, { ctap, cause, retriesLeft });
}

/**
 * A wrong PIN the app does not answer again (pin-invalid → null, or no
 * handler — a script's PIN is not retried): the key's verdict, not a
 * cancellation. `ctap` CTAP2_ERR_PIN_INVALID, the retries left on the error
 * and on its CtapError cause.
 */
function wrongPin(e: CtapError): WebAuthnError {
  const left = e.retriesLeft;
  const count = left !== undefined ? `: ${left} ${left === 1 ? 'try' : 'tries'} left before the key locks` : '';
  return refuse(`Wrong PIN${count}.`, 'CTAP2_ERR_PIN_INVALID', e, left);
}

export async function obtainUserVerification(session: Ctap2Session, info: AuthenticatorInfo, req: UvRequest, ctx: CeremonyContext): Promise<UvOutcome> {
  const caps = uvCapabilities(info);
  const { want, reason } = needsUv(caps, req);
  if (!want) return NONE;
  if (!caps.pinSet && !caps.uvConfigured) {
    if (req.requirement !== 'required') return NONE;
    if (caps.pinSupported) {
      throw refuse('User verification is required, but this key has no PIN set: set a PIN on the key first (for example `ctap pin set`), then try again.', 'CTAP2_ERR_PIN_NOT_SET');
    }
    if (caps.uvSupported) throw refuse('User verification is required, but the key\'s built-in user verification is not set up (no fingerprint enrolled).', 'CTAP2_ERR_UV_INVALID');
    throw new WebAuthnError('ConstraintError', 'User verification is required, but this key cannot verify its user (it has neither a PIN nor built-in user verification).');
  }
  if (caps.pinSet && info.forcePINChange === true && !caps.uvConfigured) {
    // CTAP 2.1 §6.5.5.7: no token until the PIN is changed; a ceremony cannot change it for the user.
    throw refuse('The key requires its PIN to be changed before it can be used (for example `ctap pin change`).', 'CTAP2_ERR_PIN_POLICY_VIOLATION');
  }
  const permissions: PermissionName[] = [req.phase === 'create' ? 'mc' : 'ga', ...(req.extraPermissions ?? [])];
  if (req.phase === 'create') permissions.push('ga'); // silent exclude-list probes need getAssertion
  const pin = new ClientPin(session);

  if (caps.uvConfigured) {
    if (!caps.tokenSupported) return { uvOption: true, token: undefined, uvExpected: true };
    for (;;) {
      try {
        ctx.expectTouch();
        const token = await pin.getPinUvAuthTokenUsingUvWithPermissions({ permissions: [...new Set(permissions)], rpId: req.rpId }, ctx.call());
        return { uvOption: undefined, token, uvExpected: true };
      } catch (e) {
        if (!(e instanceof CtapError)) throw e;
        if (e.status === CTAP2_STATUS.CTAP2_ERR_UV_INVALID) {
          const again = await ask(ctx.interaction, { type: 'uv-retry', retriesLeft: e.retriesLeft, device: ctx.device }, ctx.signal);
          if (again === true) continue;
          throw refuse('User verification failed.', e.specName, e);
        }
        if (e.status === CTAP2_STATUS.CTAP2_ERR_UV_BLOCKED && caps.pinSet) break; // fall back to the PIN
        throw e;
      }
    }
    return pinToken(pin, caps, permissions, req.rpId, 'uv-blocked', ctx);
  }
  return pinToken(pin, caps, permissions, req.rpId, reason, ctx);
}

async function pinToken(
  pin: ClientPin,
  caps: KeyUvCapabilities,
  permissions: PermissionName[],
  rpId: string,
  reason: PinRequiredReason,
  ctx: CeremonyContext,
): Promise<UvOutcome> {
  const retries = await pin.getPinRetries(ctx.call());
  if (retries.pinRetries === 0) {
    notify(ctx.interaction, { type: 'pin-blocked', device: ctx.device }, ctx.signal);
    throw refuse('The key\'s PIN is blocked: the key must be reset before it can be used again.', 'CTAP2_ERR_PIN_BLOCKED');
  }
  if (retries.powerCycleState) {
    notify(ctx.interaction, { type: 'pin-auth-blocked', device: ctx.device }, ctx.signal);
    throw refuse('Too many wrong PINs: remove and re-insert the key, then try again.', 'CTAP2_ERR_PIN_AUTH_BLOCKED');
  }
  let answer = await ask(ctx.interaction, { type: 'pin-required', reason, retriesLeft: retries.pinRetries, device: ctx.device }, ctx.signal);
  if (answer === undefined) {
    throw refuse('This key needs its PIN, and no interaction["pin-required"] handler was given to ask for it.', 'CTAP2_ERR_PUAT_REQUIRED');
  }
  let left: number | undefined = retries.pinRetries;
  const perms = [...new Set(permissions)].reduce((m, p) => m | PERMISSION[p], 0);
  /** Why the app was last asked again (pin-invalid): a declined answer then reports this, not a cancellation. */
  let refused: CtapError | RangeError | undefined;
  for (;;) {
    if (answer === null || answer === undefined) {
      if (refused instanceof CtapError) throw wrongPin(refused);
      if (refused) throw refuse(refused.message, 'CTAP2_ERR_PIN_POLICY_VIOLATION', refused, left);
      throw refuse('The PIN entry was cancelled.');
    }
    const given: string | Uint8Array = answer;
    try {
      const token = caps.tokenSupported
        ? await pin.getPinUvAuthTokenUsingPinWithPermissions(given, { permissions: perms, rpId }, ctx.call())
        : await pin.getPinToken(given, ctx.call());
      return { uvOption: undefined, token, uvExpected: true };
    } catch (e) {
      if (e instanceof RangeError) {
        // Refused locally (too short/long for this key): nothing was sent, no retry was used.
        refused = e;
        answer = await ask(ctx.interaction, { type: 'pin-invalid', retriesLeft: left, device: ctx.device }, ctx.signal);
        continue;
      }
      if (!(e instanceof CtapError)) throw e;
      if (e.status === CTAP2_STATUS.CTAP2_ERR_PIN_INVALID) {
        left = e.retriesLeft;
        if (e.powerCycleRequired) {
          notify(ctx.interaction, { type: 'pin-auth-blocked', device: ctx.device }, ctx.signal);
          throw refuse('Too many wrong PINs: remove and re-insert the key, then try again.', 'CTAP2_ERR_PIN_AUTH_BLOCKED', e);
        }
        if (e.retriesLeft === 0) {
          notify(ctx.interaction, { type: 'pin-blocked', device: ctx.device }, ctx.signal);
          throw refuse('The key\'s PIN is blocked: the key must be reset before it can be used again.', 'CTAP2_ERR_PIN_BLOCKED', e);
        }
        refused = e;
        answer = await ask(ctx.interaction, { type: 'pin-invalid', retriesLeft: e.retriesLeft, device: ctx.device }, ctx.signal);
        continue;
      }
      if (e.status === CTAP2_STATUS.CTAP2_ERR_PIN_AUTH_BLOCKED) {
        notify(ctx.interaction, { type: 'pin-auth-blocked', device: ctx.device }, ctx.signal);
        throw refuse('Too many wrong PINs: remove and re-insert the key, then try again.', e.specName, e);
      }
      if (e.status === CTAP2_STATUS.CTAP2_ERR_PIN_BLOCKED) {
        notify(ctx.interaction, { type: 'pin-blocked', device: ctx.device }, ctx.signal);
        throw refuse('The key\'s PIN is blocked: the key must be reset before it can be used again.', e.specName, e);
      }
      throw e;
    } finally {
      if (given instanceof Uint8Array) given.fill(0);
    }
  }
}
