/** authenticatorGetAssertion / authenticatorGetNextAssertion (CTAP 2.2 §6.2, §6.3) for the virtual key. */
import { CTAP2_STATUS } from '../ctap2/status.js';
import type { CborValue } from '../cbor/index.js';
import { concatBytes, zeroize } from '../util/bytes.js';
import type { CommandContext, CommandHandler } from './core.js';
import { AUTH_DATA_FLAGS } from '../ctap2/authenticator-data.js';
import { CRED_PROTECT } from '../ctap2/extensions/cred-protect.js';
import { EXTENSION_ID } from '../ctap2/extensions/extension.js';
import { GET_ASSERTION, GET_ASSERTION_RESPONSE } from '../ctap2/get-assertion.js';
import { PERMISSION } from '../ctap2/permissions.js';
import { buildAuthData, openHandle, sign } from './credentials.js';
import {
  checkPinUvAuthParamStart,
  continueWalk,
  descriptorList,
  fail,
  findCredential,
  optionsMap,
  requireParams,
  rpIdHashOf,
  userEntityCbor,
  type FoundCredential,
} from './common.js';
import { hmacSecretOutput, parseGaExtensions, type ExtensionOutputs, type GaExtensionInput } from './extensions.js';

/** getNextAssertion must follow within 30 s (CTAP 2.2 §6.3). */
const NEXT_ASSERTION_TIMEOUT_MS = 30_000;

interface AssertionRun {
  rpIdHash: Uint8Array;
  clientDataHash: Uint8Array;
  flags: number;
  userVerified: boolean;
  ext: GaExtensionInput | undefined;
  /** User identifiable information (name, displayName) only after UV (CTAP 2.2 §6.2.2, user member). */
  fullUser: boolean;
}

export const getAssertion: CommandHandler = async (ctx, params) => {
  const p = requireParams(params);
  const rpId = p.text(GET_ASSERTION.rpId, 'rpId', 512);
  const clientDataHash = p.bytes(GET_ASSERTION.clientDataHash, 'clientDataHash');
  const allowList = p.has(GET_ASSERTION.allowList) ? descriptorList(p.raw(GET_ASSERTION.allowList), 'getAssertion allowList', ctx.options.maxCredentialCountInList) : undefined;
  const ext = p.has(GET_ASSERTION.extensions) ? parseGaExtensions(ctx, p.raw(GET_ASSERTION.extensions)) : undefined;
  const options = p.has(GET_ASSERTION.options) ? optionsMap(p.raw(GET_ASSERTION.options), 'getAssertion options') : new Map<string, boolean>();
  const pinUvAuthParam = p.optionalBytes(GET_ASSERTION.pinUvAuthParam, 'pinUvAuthParam');
  const protocolVersion = p.optionalUint(GET_ASSERTION.pinUvAuthProtocol, 'pinUvAuthProtocol');

  await checkPinUvAuthParamStart(ctx, rpId, pinUvAuthParam, protocolVersion);
  if (options.has('rk')) fail(CTAP2_STATUS.CTAP2_ERR_UNSUPPORTED_OPTION);
  const up = options.get('up') ?? true;
  let uv = pinUvAuthParam !== undefined ? false : options.get('uv') ?? false;
  if (uv && !ctx.core.uvSupported) fail(CTAP2_STATUS.CTAP2_ERR_INVALID_OPTION);
  if (ctx.state.alwaysUv && up && pinUvAuthParam === undefined && !uv) {
    if (ctx.core.uvSupported) uv = true;
    else fail(CTAP2_STATUS.CTAP2_ERR_PUAT_REQUIRED);
  }

  let userVerified = false;
  if (pinUvAuthParam !== undefined) {
    userVerified = ctx.core.verifyToken(pinUvAuthParam, protocolVersion, clientDataHash, PERMISSION.ga, rpId).userVerified;
  } else if (uv) {
    await ctx.performBuiltInUv(rpId);
    userVerified = true;
  }

  // Locate the applicable credentials, applying credProtect (§12.1).
  const rpIdHash = rpIdHashOf(rpId);
  let applicable: FoundCredential[] = [];
  if (allowList) {
    for (const d of allowList) {
      if (d.type !== 'public-key') continue;
      const found = findCredential(ctx, rpIdHash, d.id);
      if (!found) continue;
      if (found.handle.credProtect === CRED_PROTECT.userVerificationRequired && !userVerified) continue;
      applicable.push(found);
      break; // with an allowList the key answers with one credential
    }
  } else {
    const resident = ctx.state.credentials.filter((c) => c.rpId === rpId).sort((a, b) => b.created - a.created);
    for (const c of resident) {
      if (c.credProtect !== CRED_PROTECT.userVerificationOptional && !userVerified) continue;
      const handle = openHandle(ctx.state.masterSecret, rpIdHash, c.id);
      if (!handle) continue;
      applicable.push({ id: c.id, handle, resident: c });
    }
  }
  if (applicable.length === 0) fail(CTAP2_STATUS.CTAP2_ERR_NO_CREDENTIALS);

  if (up) await ctx.requestUserPresence(rpId);
  ctx.checkCancelled();

  let flags = 0;
  if (up) flags |= AUTH_DATA_FLAGS.UP;
  if (userVerified) flags |= AUTH_DATA_FLAGS.UV;
  const run: AssertionRun = {
    rpIdHash,
    clientDataHash,
    flags,
    userVerified,
    ext,
    fullUser: userVerified,
  };
  const first = applicable[0]!;
  const rest = applicable.slice(1);
  const response = await assertion(ctx, run, first);
  if (!allowList) response.set(GET_ASSERTION_RESPONSE.numberOfCredentials, applicable.length);
  if (pinUvAuthParam !== undefined && ctx.volatile.token) ctx.volatile.token.userPresent = false;
  applicable = [];
  if (rest.length) {
    ctx.volatile.pending = {
      kind: 'getNextAssertion',
      remaining: rest.length,
      expiresAt: ctx.now() + NEXT_ASSERTION_TIMEOUT_MS,
      next: async () => {
        const c = rest.shift();
        if (!c) return undefined;
        return assertion(ctx, run, c);
      },
    };
  }
  return response;
};

export const getNextAssertion: CommandHandler = async (ctx, params) => {
  if (params !== undefined) fail(CTAP2_STATUS.CTAP1_ERR_INVALID_LENGTH);
  return continueWalk(ctx, 'getNextAssertion', false);
};

async function assertion(ctx: CommandContext, run: AssertionRun, c: FoundCredential): Promise<Map<number, CborValue>> {
  const outputs: ExtensionOutputs = new Map();
  const ext = run.ext;
  if (ext?.hmacSecret && c.handle.hmacSecret) {
    outputs.set(EXTENSION_ID.hmacSecret, hmacSecretOutput(ctx, ext.hmacSecret, c.id, run.userVerified));
  }
  if (ext?.credBlob) outputs.set(EXTENSION_ID.credBlob, c.resident?.credBlob ?? new Uint8Array(0));
  let signCount: number;
  if (c.resident) signCount = ++c.resident.signCount;
  else signCount = ++ctx.state.globalSignCount;
  const authData = buildAuthData({ rpIdHash: run.rpIdHash, flags: run.flags, signCount, extensions: outputs });
  const signature = sign(c.handle.alg, c.handle.privateKey, concatBytes(authData, run.clientDataHash));
  zeroize(c.handle.privateKey);
  await ctx.persist(); // the counter is durable before the signature leaves
  const response = new Map<number, CborValue>([
    [GET_ASSERTION_RESPONSE.credential, new Map<string, CborValue>([
      ['id', c.id],
      ['type', 'public-key'],
    ])],
    [GET_ASSERTION_RESPONSE.authData, authData],
    [GET_ASSERTION_RESPONSE.signature, signature],
  ]);
  if (c.resident) response.set(GET_ASSERTION_RESPONSE.user, userEntityCbor(c.resident, run.fullUser));
  if (ext?.largeBlobKey && c.resident?.largeBlobKey) response.set(GET_ASSERTION_RESPONSE.largeBlobKey, c.resident.largeBlobKey);
  return response;
}
