/** authenticatorCredentialManagement (CTAP 2.2 §6.8) for the virtual key's resident credentials. */
import { CTAP2_STATUS } from '../ctap2/status.js';
import { asMap, CborMapReader, encodeCbor, type CborValue } from '../cbor/index.js';
import { concatBytes } from '../util/bytes.js';
import type { CommandContext, CommandHandler } from './core.js';
import { CREDENTIAL_MANAGEMENT_PARAM, CREDENTIAL_MANAGEMENT_RESPONSE, CREDENTIAL_MANAGEMENT_SUBCOMMAND, CREDENTIAL_MANAGEMENT_SUBCOMMAND_PARAM } from '../ctap2/credential-management.js';
import { PERMISSION } from '../ctap2/permissions.js';
import { coseKeyMap } from './credentials.js';
import { bytesEq, continueWalk, descriptor, fail, requireParams, rpIdHashOf, userEntity, userEntityCbor } from './common.js';
import type { ResidentCredential } from './state.js';

const ENUMERATION_TIMEOUT_MS = 30_000;

export const credentialManagement: CommandHandler = async (ctx, params) => {
  const p = requireParams(params);
  const sub = p.uint(CREDENTIAL_MANAGEMENT_PARAM.subCommand, 'subCommand');
  // The GetNext subcommands carry no auth: they continue a walk the Begin call authorised.
  if (sub === CREDENTIAL_MANAGEMENT_SUBCOMMAND.enumerateRPsGetNextRP || sub === CREDENTIAL_MANAGEMENT_SUBCOMMAND.enumerateCredentialsGetNextCredential) {
    return continueWalk(ctx, sub === CREDENTIAL_MANAGEMENT_SUBCOMMAND.enumerateRPsGetNextRP ? 'enumerateRPs' : 'enumerateCredentials', true);
  }
  const subParamsRaw = p.raw(CREDENTIAL_MANAGEMENT_PARAM.subCommandParams);
  const subParams = subParamsRaw === undefined ? undefined : new CborMapReader(asMap(subParamsRaw, 'credentialManagement subCommandParams'), 'credentialManagement subCommandParams');
  const known = Object.values(CREDENTIAL_MANAGEMENT_SUBCOMMAND) as number[];
  if (!known.includes(sub)) fail(CTAP2_STATUS.CTAP2_ERR_INVALID_SUBCOMMAND);
  // Every other subcommand is authorised by a token with the cm permission (§6.8.1).
  const param = p.optionalBytes(CREDENTIAL_MANAGEMENT_PARAM.pinUvAuthParam, 'pinUvAuthParam');
  const protocol = p.optionalUint(CREDENTIAL_MANAGEMENT_PARAM.pinUvAuthProtocol, 'pinUvAuthProtocol');
  if (param === undefined) fail(CTAP2_STATUS.CTAP2_ERR_PUAT_REQUIRED);
  if (protocol === undefined) fail(CTAP2_STATUS.CTAP2_ERR_MISSING_PARAMETER);
  const message = subParamsRaw === undefined ? Uint8Array.of(sub) : concatBytes(Uint8Array.of(sub), encodeCbor(subParamsRaw as CborValue));
  const token = ctx.core.verifyToken(param, protocol, message, PERMISSION.cm, undefined);
  const creds = ctx.state.credentials;

  switch (sub) {
    case CREDENTIAL_MANAGEMENT_SUBCOMMAND.getCredsMetadata:
      if (token.rpId !== undefined) fail(CTAP2_STATUS.CTAP2_ERR_PIN_AUTH_INVALID);
      return new Map<number, CborValue>([
        [CREDENTIAL_MANAGEMENT_RESPONSE.existingResidentCredentialsCount, creds.length],
        [CREDENTIAL_MANAGEMENT_RESPONSE.maxPossibleRemainingResidentCredentialsCount, Math.max(0, ctx.options.capacity - creds.length)],
      ]);
    case CREDENTIAL_MANAGEMENT_SUBCOMMAND.enumerateRPsBegin: {
      if (token.rpId !== undefined) fail(CTAP2_STATUS.CTAP2_ERR_PIN_AUTH_INVALID);
      const rps: { id: string; name: string | undefined }[] = [];
      for (const c of creds) if (!rps.some((r) => r.id === c.rpId)) rps.push({ id: c.rpId, name: c.rpName });
      if (rps.length === 0) fail(CTAP2_STATUS.CTAP2_ERR_NO_CREDENTIALS);
      const item = (r: { id: string; name: string | undefined }): Map<number, CborValue> => {
        const rp = new Map<string, CborValue>([['id', r.id]]);
        if (r.name !== undefined) rp.set('name', r.name);
        return new Map<number, CborValue>([
          [CREDENTIAL_MANAGEMENT_RESPONSE.rp, rp],
          [CREDENTIAL_MANAGEMENT_RESPONSE.rpIDHash, rpIdHashOf(r.id)],
        ]);
      };
      const first = item(rps[0]!);
      first.set(CREDENTIAL_MANAGEMENT_RESPONSE.totalRPs, rps.length);
      walk(ctx, 'enumerateRPs', rps.slice(1).map((r) => () => item(r)));
      return first;
    }
    case CREDENTIAL_MANAGEMENT_SUBCOMMAND.enumerateCredentialsBegin: {
      const rpIdHash = subParams?.optionalBytes(CREDENTIAL_MANAGEMENT_SUBCOMMAND_PARAM.rpIDHash, 'rpIDHash');
      if (!rpIdHash) fail(CTAP2_STATUS.CTAP2_ERR_MISSING_PARAMETER);
      const list = creds.filter((c) => bytesEq(rpIdHashOf(c.rpId), rpIdHash)).sort((a, b) => b.created - a.created);
      if (token.rpId !== undefined && !bytesEq(rpIdHashOf(token.rpId), rpIdHash)) fail(CTAP2_STATUS.CTAP2_ERR_PIN_AUTH_INVALID);
      if (list.length === 0) fail(CTAP2_STATUS.CTAP2_ERR_NO_CREDENTIALS);
      const first = credentialItem(list[0]!);
      first.set(CREDENTIAL_MANAGEMENT_RESPONSE.totalCredentials, list.length);
      walk(ctx, 'enumerateCredentials', list.slice(1).map((c) => () => credentialItem(c)));
      return first;
    }
    case CREDENTIAL_MANAGEMENT_SUBCOMMAND.deleteCredential: {
      const cred = findById(ctx, subParams);
      if (token.rpId !== undefined && token.rpId !== cred.rpId) fail(CTAP2_STATUS.CTAP2_ERR_PIN_AUTH_INVALID);
      ctx.state.credentials = creds.filter((c) => c !== cred);
      await ctx.persist();
      return undefined;
    }
    case CREDENTIAL_MANAGEMENT_SUBCOMMAND.updateUserInformation: {
      const cred = findById(ctx, subParams);
      if (token.rpId !== undefined && token.rpId !== cred.rpId) fail(CTAP2_STATUS.CTAP2_ERR_PIN_AUTH_INVALID);
      const user = userEntity(subParams?.raw(CREDENTIAL_MANAGEMENT_SUBCOMMAND_PARAM.user) ?? fail(CTAP2_STATUS.CTAP2_ERR_MISSING_PARAMETER), 'credentialManagement user');
      if (!bytesEq(user.id, cred.userId)) fail(CTAP2_STATUS.CTAP1_ERR_INVALID_PARAMETER);
      // Absent or empty fields are removed (§6.8.6).
      cred.userName = user.name === '' ? undefined : user.name;
      cred.userDisplayName = user.displayName === '' ? undefined : user.displayName;
      await ctx.persist();
      return undefined;
    }
    default:
      fail(CTAP2_STATUS.CTAP2_ERR_INVALID_SUBCOMMAND);
  }
};

function findById(ctx: CommandContext, subParams: CborMapReader | undefined): ResidentCredential {
  const raw = subParams?.raw(CREDENTIAL_MANAGEMENT_SUBCOMMAND_PARAM.credentialID);
  if (raw === undefined) fail(CTAP2_STATUS.CTAP2_ERR_MISSING_PARAMETER);
  const d = descriptor(raw, 'credentialManagement credentialID');
  const cred = ctx.state.credentials.find((c) => bytesEq(c.id, d.id));
  if (!cred) fail(CTAP2_STATUS.CTAP2_ERR_NO_CREDENTIALS);
  return cred;
}

function credentialItem(c: ResidentCredential): Map<number, CborValue> {
  const m = new Map<number, CborValue>([
    [CREDENTIAL_MANAGEMENT_RESPONSE.user, userEntityCbor(c, true)],
    [CREDENTIAL_MANAGEMENT_RESPONSE.credentialID, new Map<string, CborValue>([
      ['id', c.id],
      ['type', 'public-key'],
    ])],
    [CREDENTIAL_MANAGEMENT_RESPONSE.publicKey, coseKeyMap(c.alg, c.privateKey)],
    [CREDENTIAL_MANAGEMENT_RESPONSE.credProtect, c.credProtect],
  ]);
  if (c.largeBlobKey) m.set(CREDENTIAL_MANAGEMENT_RESPONSE.largeBlobKey, c.largeBlobKey);
  return m;
}

function walk(ctx: CommandContext, kind: 'enumerateRPs' | 'enumerateCredentials', items: (() => Map<number, CborValue>)[]): void {
  if (items.length === 0) {
    ctx.volatile.pending = undefined;
    return;
  }
  ctx.volatile.pending = {
    kind,
    remaining: items.length,
    expiresAt: ctx.now() + ENUMERATION_TIMEOUT_MS,
    next: async () => items.shift()?.(),
  };
}
