/** authenticatorMakeCredential (CTAP 2.2 §6.1) for the virtual key. */
import { CTAP2_STATUS } from '../ctap2/status.js';
import { asArray, asMap, asText, asInt, CborMapReader, encodeCbor, type CborValue } from '../cbor/index.js';
import { randomBytes } from '../crypto/primitives.js';
import { concatBytes, zeroize } from '../util/bytes.js';
import type { CommandContext, CommandHandler } from './core.js';
import { AUTH_DATA_FLAGS } from '../ctap2/authenticator-data.js';
import { COSE_ALG } from '../ctap2/cose-key.js';
import { CRED_PROTECT } from '../ctap2/extensions/cred-protect.js';
import { EXTENSION_ID } from '../ctap2/extensions/extension.js';
import { MAKE_CREDENTIAL, MAKE_CREDENTIAL_RESPONSE } from '../ctap2/make-credential.js';
import { PERMISSION } from '../ctap2/permissions.js';
import { buildAuthData, coseKeyMap, generateKey, sealHandle, sign } from './credentials.js';
import {
  bytesEq,
  checkPinUvAuthParamStart,
  descriptorList,
  fail,
  findCredential,
  optionsMap,
  requireParams,
  rpIdHashOf,
  userEntity,
} from './common.js';
import { hmacSecretOutput, parseMcExtensions, type ExtensionOutputs } from './extensions.js';
import type { ResidentCredential } from './state.js';

function chooseAlgorithm(ctx: CommandContext, v: unknown): number {
  const list = asArray(v, 'makeCredential pubKeyCredParams');
  let chosen: number | undefined;
  list.forEach((item, i) => {
    const path = `makeCredential pubKeyCredParams[${i}]`;
    const r = new CborMapReader(asMap(item, path), path);
    const type = asText(r.raw('type') ?? fail(CTAP2_STATUS.CTAP2_ERR_MISSING_PARAMETER), `${path} type`);
    const alg = asInt(r.raw('alg') ?? fail(CTAP2_STATUS.CTAP2_ERR_MISSING_PARAMETER), `${path} alg`);
    if (chosen === undefined && type === 'public-key' && ctx.options.algorithms.includes(alg)) chosen = alg;
  });
  if (chosen === undefined) fail(CTAP2_STATUS.CTAP2_ERR_UNSUPPORTED_ALGORITHM);
  return chosen;
}

export const makeCredential: CommandHandler = async (ctx, params) => {
  const p = requireParams(params);
  const clientDataHash = p.bytes(MAKE_CREDENTIAL.clientDataHash, 'clientDataHash');
  const rp = p.reader(MAKE_CREDENTIAL.rp, 'rp');
  const rpId = rp.text('id', 'id', 512);
  const rpName = rp.optionalText('name', 'name', 1024);
  const user = userEntity(p.raw(MAKE_CREDENTIAL.user) ?? fail(CTAP2_STATUS.CTAP2_ERR_MISSING_PARAMETER), 'makeCredential user');
  if (!p.has(MAKE_CREDENTIAL.pubKeyCredParams)) fail(CTAP2_STATUS.CTAP2_ERR_MISSING_PARAMETER);
  const alg = chooseAlgorithm(ctx, p.raw(MAKE_CREDENTIAL.pubKeyCredParams));
  const excludeList = p.has(MAKE_CREDENTIAL.excludeList) ? descriptorList(p.raw(MAKE_CREDENTIAL.excludeList), 'makeCredential excludeList', ctx.options.maxCredentialCountInList) : [];
  const ext = p.has(MAKE_CREDENTIAL.extensions) ? parseMcExtensions(ctx, p.raw(MAKE_CREDENTIAL.extensions)) : undefined;
  const options = p.has(MAKE_CREDENTIAL.options) ? optionsMap(p.raw(MAKE_CREDENTIAL.options), 'makeCredential options') : new Map<string, boolean>();
  const pinUvAuthParam = p.optionalBytes(MAKE_CREDENTIAL.pinUvAuthParam, 'pinUvAuthParam');
  const protocolVersion = p.optionalUint(MAKE_CREDENTIAL.pinUvAuthProtocol, 'pinUvAuthProtocol');
  const ep = p.optionalUint(MAKE_CREDENTIAL.enterpriseAttestation, 'enterpriseAttestation');

  // Step 1-2: the zero-length pinUvAuthParam probe, then the protocol.
  await checkPinUvAuthParamStart(ctx, rpId, pinUvAuthParam, protocolVersion);
  // Step 3-5: options.
  const rk = options.get('rk') ?? false;
  if (options.get('up') === false) fail(CTAP2_STATUS.CTAP2_ERR_INVALID_OPTION);
  let uv = pinUvAuthParam !== undefined ? false : options.get('uv') ?? false;
  if (uv && !ctx.core.uvSupported) fail(CTAP2_STATUS.CTAP2_ERR_INVALID_OPTION);
  const protectedByUv = ctx.core.pinSet || ctx.core.uvSupported;
  if (ctx.state.alwaysUv && pinUvAuthParam === undefined && !uv) {
    if (ctx.core.uvSupported) uv = true;
    else fail(CTAP2_STATUS.CTAP2_ERR_PUAT_REQUIRED);
  }
  if (pinUvAuthParam === undefined && !uv && protectedByUv) {
    const uvNotRequired = ctx.options.features.makeCredUvNotRqd && !rk;
    if (!uvNotRequired) fail(CTAP2_STATUS.CTAP2_ERR_PUAT_REQUIRED);
  }
  // Step 6: enterprise attestation.
  let epAtt = false;
  if (ep !== undefined) {
    if (!ctx.options.features.enterpriseAttestation || !ctx.options.features.config || !ctx.state.enterpriseAttestation) fail(CTAP2_STATUS.CTAP1_ERR_INVALID_PARAMETER);
    if (ep !== 1 && ep !== 2) fail(CTAP2_STATUS.CTAP2_ERR_INVALID_OPTION);
    epAtt = true;
  }
  // Step 11: the PIN/UV auth token.
  let userVerified = false;
  if (pinUvAuthParam !== undefined) {
    const token = ctx.core.verifyToken(pinUvAuthParam, protocolVersion, clientDataHash, PERMISSION.mc, rpId);
    userVerified = token.userVerified;
  } else if (uv) {
    await ctx.performBuiltInUv(rpId);
    userVerified = true;
  }
  const rpIdHash = rpIdHashOf(rpId);
  // Step 12: excludeList.
  for (const d of excludeList) {
    if (d.type !== 'public-key') continue;
    const found = findCredential(ctx, rpIdHash, d.id);
    if (!found) continue;
    zeroize(found.handle.privateKey);
    if (found.handle.credProtect === CRED_PROTECT.userVerificationRequired && !userVerified) continue;
    await ctx.requestUserPresence(rpId);
    fail(CTAP2_STATUS.CTAP2_ERR_CREDENTIAL_EXCLUDED);
  }
  if (ext?.largeBlobKey && !rk) fail(CTAP2_STATUS.CTAP2_ERR_INVALID_OPTION);
  // Step 13: user presence.
  await ctx.requestUserPresence(rpId);
  ctx.checkCancelled();

  // Step 14-16: the credential.
  const existingIndex = rk ? ctx.state.credentials.findIndex((c) => c.rpId === rpId && bytesEq(c.userId, user.id)) : -1;
  if (rk && existingIndex < 0 && ctx.state.credentials.length >= ctx.options.capacity) fail(CTAP2_STATUS.CTAP2_ERR_KEY_STORE_FULL);
  const credProtect = ext?.credProtect ?? CRED_PROTECT.userVerificationOptional;
  const privateKey = generateKey(alg);
  const hmacSecret = ext?.hmacSecret ?? false;
  const credentialId = sealHandle(ctx.state.masterSecret, rpIdHash, { alg, privateKey, resident: rk, hmacSecret, credProtect });
  const coseKey = encodeCbor(coseKeyMap(alg, privateKey));

  const outputs: ExtensionOutputs = new Map();
  if (ext?.credProtect !== undefined) outputs.set(EXTENSION_ID.credProtect, credProtect);
  if (ext?.hmacSecret) outputs.set(EXTENSION_ID.hmacSecret, true);
  if (ext?.hmacSecretMc) outputs.set(EXTENSION_ID.hmacSecretMc, hmacSecretOutput(ctx, ext.hmacSecretMc, credentialId, userVerified));
  let credBlob: Uint8Array | undefined;
  if (ext?.credBlob !== undefined) {
    const ok = rk && ext.credBlob.length <= ctx.options.maxCredBlobLength;
    if (ok) credBlob = ext.credBlob.slice();
    outputs.set(EXTENSION_ID.credBlob, ok);
  }
  if (ext?.minPinLength && ctx.state.minPinLengthRpIds.includes(rpId)) outputs.set(EXTENSION_ID.minPinLength, ctx.state.minPinLength);
  const largeBlobKey = ext?.largeBlobKey ? randomBytes(32) : undefined;

  let signCount: number;
  if (rk) {
    const cred: ResidentCredential = {
      id: credentialId,
      rpId,
      rpName,
      userId: user.id.slice(),
      userName: user.name,
      userDisplayName: user.displayName,
      alg,
      privateKey: privateKey.slice(),
      signCount: 0,
      credProtect,
      hmacSecret,
      credBlob,
      largeBlobKey,
      created: ctx.state.nextCreated++,
    };
    if (existingIndex >= 0) ctx.state.credentials.splice(existingIndex, 1);
    ctx.state.credentials.push(cred);
    signCount = 0;
  } else {
    signCount = ++ctx.state.globalSignCount;
  }

  let flags = AUTH_DATA_FLAGS.UP;
  if (userVerified) flags |= AUTH_DATA_FLAGS.UV;
  const authData = buildAuthData({
    rpIdHash,
    flags,
    signCount,
    attested: { aaguid: ctx.state.aaguid, credentialId, coseKey },
    extensions: outputs,
  });
  const signed = concatBytes(authData, clientDataHash);
  let attStmt: Map<string, CborValue>;
  if (ctx.options.attestation === 'self' && !epAtt) {
    attStmt = new Map<string, CborValue>([
      ['alg', alg],
      ['sig', sign(alg, privateKey, signed)],
    ]);
  } else {
    attStmt = new Map<string, CborValue>([
      ['alg', COSE_ALG.ES256],
      ['sig', sign(COSE_ALG.ES256, ctx.state.attestation.privateKey, signed)],
      ['x5c', [ctx.state.attestation.certificate, ctx.state.attestation.caCertificate]],
    ]);
  }
  zeroize(privateKey);

  // Acknowledged = durable: the store and counters are on disk before the answer leaves.
  await ctx.persist();
  if (pinUvAuthParam !== undefined && ctx.volatile.token) {
    // CTAP 2.2 §6.1.2 step 19: a token makes one credential; keep only lbw.
    ctx.volatile.token.permissions &= PERMISSION.lbw;
    ctx.volatile.token.userPresent = false;
  }
  const response = new Map<number, CborValue>([
    [MAKE_CREDENTIAL_RESPONSE.fmt, 'packed'],
    [MAKE_CREDENTIAL_RESPONSE.authData, authData],
    [MAKE_CREDENTIAL_RESPONSE.attStmt, attStmt],
  ]);
  if (epAtt) response.set(MAKE_CREDENTIAL_RESPONSE.epAtt, true);
  if (largeBlobKey) response.set(MAKE_CREDENTIAL_RESPONSE.largeBlobKey, largeBlobKey);
  return response;
};
