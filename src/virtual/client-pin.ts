/**
 * authenticatorClientPIN (CTAP 2.2 §6.5) for the virtual key: PIN/UV auth
 * protocols 1 and 2, retries (8, persisted), PIN_AUTH_BLOCKED after three
 * wrong PINs in a row until the next power cycle, PIN_BLOCKED at zero,
 * minimum length and forcePINChange, tokens with permissions and RP binding.
 */
import { CTAP2_STATUS } from '../ctap2/status.js';
import type { CborMapReader, CborValue } from '../cbor/index.js';
import { sha256 } from '../crypto/hashes.js';
import { randomBytes } from '../crypto/primitives.js';
import { codePointCount } from '../ctap2/pin-input.js';
import type { PinUvAuthProtocol } from '../ctap2/pin-protocol.js';
import { concatBytes, timingSafeEqual, zeroize } from '../util/bytes.js';
import type { CommandContext, CommandHandler } from './core.js';
import { CLIENT_PIN_PARAM, CLIENT_PIN_RESPONSE, CLIENT_PIN_SUBCOMMAND, encodeKeyAgreement } from '../ctap2/client-pin.js';
import { PERMISSION } from '../ctap2/permissions.js';
import { fail, requireParams } from './common.js';
import { coseP256 } from './extensions.js';
import { PIN_RETRIES_MAX, UV_RETRIES_MAX } from './state.js';

const MAX_CONSECUTIVE_PIN_FAILURES = 3;

export const clientPin: CommandHandler = async (ctx, params) => {
  const p = requireParams(params);
  const sub = p.uint(CLIENT_PIN_PARAM.subCommand, 'subCommand');
  switch (sub) {
    case CLIENT_PIN_SUBCOMMAND.getPINRetries:
      return new Map<number, CborValue>([
        [CLIENT_PIN_RESPONSE.pinRetries, ctx.state.pinRetries],
        [CLIENT_PIN_RESPONSE.powerCycleState, ctx.volatile.pinFailuresSincePowerUp >= MAX_CONSECUTIVE_PIN_FAILURES],
      ]);
    case CLIENT_PIN_SUBCOMMAND.getUVRetries:
      // A fingerprint sensor answers even before a finger is enrolled.
      if (!ctx.core.uvSupported && !ctx.options.bio) fail(CTAP2_STATUS.CTAP2_ERR_INVALID_SUBCOMMAND);
      return new Map<number, CborValue>([[CLIENT_PIN_RESPONSE.uvRetries, ctx.state.uvRetries]]);
    case CLIENT_PIN_SUBCOMMAND.getKeyAgreement: {
      protocolOf(ctx, p);
      const pub = ctx.volatile.keyAgreement.publicKey;
      return new Map<number, CborValue>([[CLIENT_PIN_RESPONSE.keyAgreement, encodeKeyAgreement(pub)]]);
    }
    case CLIENT_PIN_SUBCOMMAND.setPIN:
      return setPin(ctx, p);
    case CLIENT_PIN_SUBCOMMAND.changePIN:
      return changePin(ctx, p);
    case CLIENT_PIN_SUBCOMMAND.getPinToken:
      return pinToken(ctx, p, false);
    case CLIENT_PIN_SUBCOMMAND.getPinUvAuthTokenUsingPinWithPermissions:
      return pinToken(ctx, p, true);
    case CLIENT_PIN_SUBCOMMAND.getPinUvAuthTokenUsingUvWithPermissions:
      return uvToken(ctx, p);
    default:
      fail(CTAP2_STATUS.CTAP2_ERR_INVALID_SUBCOMMAND);
  }
};

function protocolOf(ctx: CommandContext, p: CborMapReader): PinUvAuthProtocol {
  const v = p.optionalUint(CLIENT_PIN_PARAM.pinUvAuthProtocol, 'pinUvAuthProtocol');
  if (v === undefined) fail(CTAP2_STATUS.CTAP2_ERR_MISSING_PARAMETER);
  return ctx.core.protocol(v);
}

function sharedSecret(ctx: CommandContext, proto: PinUvAuthProtocol, p: CborMapReader): Uint8Array {
  const peer = coseP256(p.raw(CLIENT_PIN_PARAM.keyAgreement) ?? fail(CTAP2_STATUS.CTAP2_ERR_MISSING_PARAMETER), 'clientPin keyAgreement');
  try {
    return proto.decapsulate(ctx.volatile.keyAgreement.privateKey, peer);
  } catch {
    fail(CTAP2_STATUS.CTAP1_ERR_INVALID_PARAMETER);
  }
}

/** Decrypt newPinEnc and apply the PIN policy; returns the PIN bytes (caller zeroes them). */
function decryptNewPin(ctx: CommandContext, proto: PinUvAuthProtocol, shared: Uint8Array, newPinEnc: Uint8Array): Uint8Array {
  const expected = proto.version === 1 ? 64 : 80;
  if (newPinEnc.length !== expected) fail(CTAP2_STATUS.CTAP1_ERR_INVALID_PARAMETER);
  const padded = proto.decrypt(shared, newPinEnc);
  try {
    const end = padded.indexOf(0);
    const pin = padded.slice(0, end < 0 ? padded.length : end);
    // The padding must be all zeros, the PIN at most 63 bytes and at least minPINLength code points.
    if (end < 0 || padded.subarray(end).some((b) => b !== 0) || pin.length > 63) {
      zeroize(pin);
      fail(CTAP2_STATUS.CTAP2_ERR_PIN_POLICY_VIOLATION);
    }
    let codePoints: number;
    try {
      codePoints = [...new TextDecoder('utf-8', { fatal: true }).decode(pin)].length;
    } catch {
      zeroize(pin);
      fail(CTAP2_STATUS.CTAP2_ERR_PIN_POLICY_VIOLATION);
    }
    if (codePoints < ctx.state.minPinLength || codePoints < 4) {
      zeroize(pin);
      fail(CTAP2_STATUS.CTAP2_ERR_PIN_POLICY_VIOLATION);
    }
    return pin;
  } finally {
    zeroize(padded);
  }
}

async function setPin(ctx: CommandContext, p: CborMapReader): Promise<undefined> {
  const proto = protocolOf(ctx, p);
  const newPinEnc = p.optionalBytes(CLIENT_PIN_PARAM.newPinEnc, 'newPinEnc');
  const param = p.optionalBytes(CLIENT_PIN_PARAM.pinUvAuthParam, 'pinUvAuthParam');
  if (!p.has(CLIENT_PIN_PARAM.keyAgreement) || !newPinEnc || !param) fail(CTAP2_STATUS.CTAP2_ERR_MISSING_PARAMETER);
  if (ctx.core.pinSet) fail(CTAP2_STATUS.CTAP2_ERR_NOT_ALLOWED);
  const shared = sharedSecret(ctx, proto, p);
  try {
    if (!proto.verify(shared, newPinEnc, param)) fail(CTAP2_STATUS.CTAP2_ERR_PIN_AUTH_INVALID);
    const pin = decryptNewPin(ctx, proto, shared, newPinEnc);
    ctx.state.pinHash = sha256(pin).slice(0, 16);
    ctx.state.pinCodePoints = codePointCount(pin);
    zeroize(pin);
    ctx.state.pinRetries = PIN_RETRIES_MAX;
    ctx.state.forcePinChange = false;
    await ctx.persist();
  } finally {
    zeroize(shared);
  }
  return undefined;
}

/**
 * Check pinHashEnc against the stored PIN (CTAP 2.2 §6.5.5.5 step 6): a
 * retry is spent (durably) first; a wrong PIN regenerates the key agreement
 * key and answers PIN_INVALID, PIN_AUTH_BLOCKED after three in a row, or
 * PIN_BLOCKED when no retries are left.
 */
async function checkPin(ctx: CommandContext, proto: PinUvAuthProtocol, shared: Uint8Array, pinHashEnc: Uint8Array): Promise<void> {
  if (ctx.state.pinRetries === 0) fail(CTAP2_STATUS.CTAP2_ERR_PIN_BLOCKED);
  if (ctx.volatile.pinFailuresSincePowerUp >= MAX_CONSECUTIVE_PIN_FAILURES) fail(CTAP2_STATUS.CTAP2_ERR_PIN_AUTH_BLOCKED);
  const expected = proto.version === 1 ? 16 : 32;
  if (pinHashEnc.length !== expected) fail(CTAP2_STATUS.CTAP1_ERR_INVALID_PARAMETER);
  ctx.state.pinRetries--;
  await ctx.persist();
  const pinHash = proto.decrypt(shared, pinHashEnc);
  const ok = ctx.core.checkPinHash(pinHash);
  zeroize(pinHash);
  if (!ok) {
    ctx.core.resetPinUvAuthState();
    ctx.volatile.pinFailuresSincePowerUp++;
    if (ctx.state.pinRetries === 0) fail(CTAP2_STATUS.CTAP2_ERR_PIN_BLOCKED);
    if (ctx.volatile.pinFailuresSincePowerUp >= MAX_CONSECUTIVE_PIN_FAILURES) fail(CTAP2_STATUS.CTAP2_ERR_PIN_AUTH_BLOCKED);
    fail(CTAP2_STATUS.CTAP2_ERR_PIN_INVALID);
  }
  ctx.state.pinRetries = PIN_RETRIES_MAX;
  ctx.volatile.pinFailuresSincePowerUp = 0;
  // The right PIN unblocks the fingerprint sensor (CTAP 2.1 §6.5.5.5: uvRetries back to the maximum).
  if (ctx.options.bio) ctx.state.uvRetries = UV_RETRIES_MAX;
  await ctx.persist();
}

async function changePin(ctx: CommandContext, p: CborMapReader): Promise<undefined> {
  const proto = protocolOf(ctx, p);
  const newPinEnc = p.optionalBytes(CLIENT_PIN_PARAM.newPinEnc, 'newPinEnc');
  const pinHashEnc = p.optionalBytes(CLIENT_PIN_PARAM.pinHashEnc, 'pinHashEnc');
  const param = p.optionalBytes(CLIENT_PIN_PARAM.pinUvAuthParam, 'pinUvAuthParam');
  if (!p.has(CLIENT_PIN_PARAM.keyAgreement) || !newPinEnc || !pinHashEnc || !param) fail(CTAP2_STATUS.CTAP2_ERR_MISSING_PARAMETER);
  if (!ctx.core.pinSet) fail(CTAP2_STATUS.CTAP2_ERR_PIN_NOT_SET);
  if (ctx.state.pinRetries === 0) fail(CTAP2_STATUS.CTAP2_ERR_PIN_BLOCKED);
  if (ctx.volatile.pinFailuresSincePowerUp >= MAX_CONSECUTIVE_PIN_FAILURES) fail(CTAP2_STATUS.CTAP2_ERR_PIN_AUTH_BLOCKED);
  const shared = sharedSecret(ctx, proto, p);
  try {
    if (!proto.verify(shared, concatBytes(newPinEnc, pinHashEnc), param)) fail(CTAP2_STATUS.CTAP2_ERR_PIN_AUTH_INVALID);
    await checkPin(ctx, proto, shared, pinHashEnc);
    const pin = decryptNewPin(ctx, proto, shared, newPinEnc);
    const newHash = sha256(pin).slice(0, 16);
    const newCodePoints = codePointCount(pin);
    zeroize(pin);
    if (ctx.state.forcePinChange && ctx.state.pinHash && timingSafeEqual(newHash, ctx.state.pinHash)) fail(CTAP2_STATUS.CTAP2_ERR_PIN_POLICY_VIOLATION);
    ctx.state.pinHash = newHash;
    ctx.state.pinCodePoints = newCodePoints;
    ctx.state.forcePinChange = false;
    await ctx.persist();
    // A new PIN invalidates every token issued under the old one.
    zeroize(ctx.volatile.pinUvAuthToken);
    ctx.volatile.pinUvAuthToken = randomBytes(32);
    ctx.volatile.token = undefined;
  } finally {
    zeroize(shared);
  }
  return undefined;
}

function checkPermissions(ctx: CommandContext, permissions: number, rpId: string | undefined): void {
  if (permissions === 0) fail(CTAP2_STATUS.CTAP1_ERR_INVALID_PARAMETER);
  const f = ctx.options.features;
  const known = PERMISSION.mc | PERMISSION.ga | PERMISSION.cm | PERMISSION.be | PERMISSION.lbw | PERMISSION.acfg;
  if (permissions & ~known) fail(CTAP2_STATUS.CTAP1_ERR_INVALID_PARAMETER);
  if (permissions & PERMISSION.be && !ctx.options.bio) fail(CTAP2_STATUS.CTAP2_ERR_UNAUTHORIZED_PERMISSION); // no fingerprint sensor
  if (permissions & PERMISSION.cm && !f.credMgmt) fail(CTAP2_STATUS.CTAP2_ERR_UNAUTHORIZED_PERMISSION);
  if (permissions & PERMISSION.lbw && !f.largeBlobs) fail(CTAP2_STATUS.CTAP2_ERR_UNAUTHORIZED_PERMISSION);
  if (permissions & PERMISSION.acfg && !f.config) fail(CTAP2_STATUS.CTAP2_ERR_UNAUTHORIZED_PERMISSION);
  if (permissions & (PERMISSION.mc | PERMISSION.ga) && rpId === undefined) fail(CTAP2_STATUS.CTAP2_ERR_MISSING_PARAMETER);
}

function issueToken(ctx: CommandContext, proto: PinUvAuthProtocol, shared: Uint8Array, permissions: number, rpId: string | undefined, viaUv: boolean): Map<number, CborValue> {
  // A fresh token for each grant: every earlier token stops working (CTAP 2.2 §6.5.5.7 resetPinUvAuthToken).
  zeroize(ctx.volatile.pinUvAuthToken);
  ctx.volatile.pinUvAuthToken = randomBytes(32);
  ctx.volatile.token = { protocol: proto.version, issuedAt: ctx.now(), used: false, permissions, rpId, userVerified: true, userPresent: viaUv };
  return new Map<number, CborValue>([[CLIENT_PIN_RESPONSE.pinUvAuthToken, proto.encrypt(shared, ctx.volatile.pinUvAuthToken)]]);
}

async function pinToken(ctx: CommandContext, p: CborMapReader, withPermissions: boolean): Promise<Map<number, CborValue>> {
  const proto = protocolOf(ctx, p);
  const pinHashEnc = p.optionalBytes(CLIENT_PIN_PARAM.pinHashEnc, 'pinHashEnc');
  if (!p.has(CLIENT_PIN_PARAM.keyAgreement) || !pinHashEnc) fail(CTAP2_STATUS.CTAP2_ERR_MISSING_PARAMETER);
  let permissions = PERMISSION.mc | PERMISSION.ga;
  let rpId: string | undefined;
  if (withPermissions) {
    if (!p.has(CLIENT_PIN_PARAM.permissions)) fail(CTAP2_STATUS.CTAP2_ERR_MISSING_PARAMETER);
    permissions = p.uint(CLIENT_PIN_PARAM.permissions, 'permissions');
    rpId = p.optionalText(CLIENT_PIN_PARAM.rpId, 'rpId', 512);
    checkPermissions(ctx, permissions, rpId);
  } else if (p.has(CLIENT_PIN_PARAM.permissions) || p.has(CLIENT_PIN_PARAM.rpId)) {
    fail(CTAP2_STATUS.CTAP1_ERR_INVALID_PARAMETER);
  }
  if (!ctx.core.pinSet) fail(CTAP2_STATUS.CTAP2_ERR_PIN_NOT_SET);
  const shared = sharedSecret(ctx, proto, p);
  try {
    await checkPin(ctx, proto, shared, pinHashEnc);
    if (ctx.state.forcePinChange) fail(CTAP2_STATUS.CTAP2_ERR_PIN_POLICY_VIOLATION);
    return issueToken(ctx, proto, shared, permissions, rpId, false);
  } finally {
    zeroize(shared);
  }
}

async function uvToken(ctx: CommandContext, p: CborMapReader): Promise<Map<number, CborValue>> {
  const proto = protocolOf(ctx, p);
  if (!p.has(CLIENT_PIN_PARAM.keyAgreement)) fail(CTAP2_STATUS.CTAP2_ERR_MISSING_PARAMETER);
  if (!p.has(CLIENT_PIN_PARAM.permissions)) fail(CTAP2_STATUS.CTAP2_ERR_MISSING_PARAMETER);
  const permissions = p.uint(CLIENT_PIN_PARAM.permissions, 'permissions');
  const rpId = p.optionalText(CLIENT_PIN_PARAM.rpId, 'rpId', 512);
  checkPermissions(ctx, permissions, rpId);
  if (!ctx.core.uvSupported) fail(CTAP2_STATUS.CTAP2_ERR_NOT_ALLOWED);
  const shared = sharedSecret(ctx, proto, p);
  try {
    await ctx.performBuiltInUv(rpId);
    return issueToken(ctx, proto, shared, permissions, rpId, true);
  } finally {
    zeroize(shared);
  }
}
