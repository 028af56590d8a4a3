/** Request parsing and checks shared by the virtual key's command handlers. */
import { asArray, asMap, asText, CborMapReader, type CborValue } from '../cbor/index.js';
import { sha256 } from '../crypto/hashes.js';
import { CTAP2_STATUS, CtapError } from '../ctap2/status.js';
import { utf8Encode } from '../util/bytes.js';
import type { CommandContext, PendingOperation } from './core.js';
import { openHandle, type OpenedHandle } from './credentials.js';
import type { ResidentCredential } from './state.js';

export function fail(status: number): never {
  throw new CtapError(status);
}

export function requireParams(params: CborMapReader | undefined): CborMapReader {
  if (!params) fail(CTAP2_STATUS.CTAP2_ERR_MISSING_PARAMETER);
  return params;
}

export interface CredentialDescriptor {
  type: string;
  id: Uint8Array;
}

/**
 * A PublicKeyCredentialDescriptor list; entries of other types are kept (and
 * then ignored by callers). More than maxCredentialCountInList entries is
 * CTAP2_ERR_LIMIT_EXCEEDED, so a client that does not batch is caught.
 */
export function descriptorList(v: unknown, path: string, max: number): CredentialDescriptor[] {
  const arr = asArray(v, path);
  if (arr.length > max) fail(CTAP2_STATUS.CTAP2_ERR_LIMIT_EXCEEDED);
  return arr.map((item, i) => descriptor(item, `${path}[${i}]`));
}

export function descriptor(item: unknown, path: string): CredentialDescriptor {
  const r = new CborMapReader(asMap(item, path), path);
  return { type: r.text('type', 'type', 64), id: r.bytes('id', 'id', 1024) };
}

export interface UserEntity {
  id: Uint8Array;
  name?: string | undefined;
  displayName?: string | undefined;
}

export function userEntity(v: unknown, path: string): UserEntity {
  const r = new CborMapReader(asMap(v, path), path);
  const id = r.bytes('id', 'id');
  if (id.length > 64) fail(CTAP2_STATUS.CTAP1_ERR_INVALID_PARAMETER);
  return { id, name: r.optionalText('name', 'name', 1024), displayName: r.optionalText('displayName', 'displayName', 1024) };
}

export function userEntityCbor(c: ResidentCredential, full: boolean): Map<string, CborValue> {
  const m = new Map<string, CborValue>([['id', c.userId]]);
  if (full) {
    if (c.userName !== undefined) m.set('name', c.userName);
    if (c.userDisplayName !== undefined) m.set('displayName', c.userDisplayName);
  }
  return m;
}

export function rpIdHashOf(rpId: string): Uint8Array {
  return sha256(utf8Encode(rpId));
}

/** Options map: every member a boolean; unknown options are ignored as the spec says. */
export function optionsMap(v: unknown, path: string): Map<string, boolean> {
  const m = asMap(v, path);
  const out = new Map<string, boolean>();
  for (const [k, x] of m) {
    const key = asText(k, `${path} key`);
    if (typeof x !== 'boolean') fail(CTAP2_STATUS.CTAP2_ERR_CBOR_UNEXPECTED_TYPE);
    out.set(key, x);
  }
  return out;
}

/** A credential this key made for this RP (resident ones must still be in the store). */
export interface FoundCredential {
  id: Uint8Array;
  handle: OpenedHandle;
  resident: ResidentCredential | undefined;
}

export function findCredential(ctx: CommandContext, rpIdHash: Uint8Array, id: Uint8Array): FoundCredential | undefined {
  const handle = openHandle(ctx.state.masterSecret, rpIdHash, id);
  if (!handle) return undefined;
  if (!handle.resident) return { id, handle, resident: undefined };
  const resident = ctx.state.credentials.find((c) => bytesEq(c.id, id));
  if (!resident) return undefined;
  return { id, handle, resident };
}

export function bytesEq(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * The next answer of a walk a Begin call started (getNextAssertion,
 * enumerateRPsGetNextRP, enumerateCredentialsGetNextCredential):
 * NOT_ALLOWED when no walk of `kind` is pending, it is used up or it has
 * expired (an expired walk is forgotten). `forgetOtherWalk`: a refused call
 * also drops a pending walk of another kind (credentialManagement does;
 * getNextAssertion leaves it alone).
 */
export async function continueWalk(ctx: CommandContext, kind: PendingOperation['kind'], forgetOtherWalk: boolean): Promise<CborValue> {
  const pending = ctx.volatile.pending;
  if (!pending || pending.kind !== kind || pending.remaining === 0) {
    if (forgetOtherWalk) ctx.volatile.pending = undefined;
    fail(CTAP2_STATUS.CTAP2_ERR_NOT_ALLOWED);
  }
  if (ctx.now() > pending.expiresAt) {
    ctx.volatile.pending = undefined;
    fail(CTAP2_STATUS.CTAP2_ERR_NOT_ALLOWED);
  }
  pending.remaining--;
  const out = await pending.next();
  if (pending.remaining === 0) ctx.volatile.pending = undefined;
  if (out === undefined) fail(CTAP2_STATUS.CTAP2_ERR_NOT_ALLOWED);
  return out;
}

/**
 * The platform's pinUvAuthParam, first steps (CTAP 2.2 §6.1.2 and §6.2.2
 * steps 1-2): the zero-length probe (a touch to select this key), then a
 * supported pinUvAuthProtocol is required with it.
 */
export async function checkPinUvAuthParamStart(ctx: CommandContext, rpId: string, pinUvAuthParam: Uint8Array | undefined, protocolVersion: number | undefined): Promise<void> {
  if (pinUvAuthParam !== undefined && pinUvAuthParam.length === 0 && ctx.options.features.clientPin) await zeroLengthPinUvAuthParam(ctx, rpId);
  if (pinUvAuthParam !== undefined) {
    if (protocolVersion === undefined) fail(CTAP2_STATUS.CTAP2_ERR_MISSING_PARAMETER);
    ctx.core.protocol(protocolVersion);
  }
}

/**
 * The zero-length pinUvAuthParam probe (CTAP 2.2 §6.1.2 step 1, §6.2.2 step 1):
 * the platform asks for a touch to select this key. Answers PIN_NOT_SET or PIN_INVALID after the touch.
 */
export async function zeroLengthPinUvAuthParam(ctx: CommandContext, rpId: string | undefined): Promise<never> {
  await ctx.requestUserPresence(rpId);
  fail(ctx.core.pinSet ? CTAP2_STATUS.CTAP2_ERR_PIN_INVALID : CTAP2_STATUS.CTAP2_ERR_PIN_NOT_SET);
}
