/** authenticatorConfig (CTAP 2.2 §6.11) for the virtual key: enterprise attestation, alwaysUv, setMinPINLength. */
import { CTAP2_CMD } from '../ctap2/commands.js';
import { CTAP2_STATUS } from '../ctap2/status.js';
import { asArray, asText, CborMapReader, asMap, encodeCbor, type CborValue } from '../cbor/index.js';
import { concatBytes } from '../util/bytes.js';
import type { CommandHandler } from './core.js';
import { CONFIG_PARAM, CONFIG_SUBCOMMAND, SET_MIN_PIN_LENGTH_PARAM } from '../ctap2/config.js';
import { PERMISSION } from '../ctap2/permissions.js';
import { fail, requireParams } from './common.js';

const MAX_RPIDS_FOR_SET_MIN_PIN_LENGTH = 8;

export const authenticatorConfig: CommandHandler = async (ctx, params) => {
  const p = requireParams(params);
  const sub = p.uint(CONFIG_PARAM.subCommand, 'subCommand');
  const subParamsRaw = p.raw(CONFIG_PARAM.subCommandParams);
  const param = p.optionalBytes(CONFIG_PARAM.pinUvAuthParam, 'pinUvAuthParam');
  const protocol = p.optionalUint(CONFIG_PARAM.pinUvAuthProtocol, 'pinUvAuthProtocol');
  if (sub === CONFIG_SUBCOMMAND.vendorPrototype) fail(CTAP2_STATUS.CTAP2_ERR_INVALID_SUBCOMMAND);
  if (sub !== CONFIG_SUBCOMMAND.enableEnterpriseAttestation && sub !== CONFIG_SUBCOMMAND.toggleAlwaysUv && sub !== CONFIG_SUBCOMMAND.setMinPINLength) fail(CTAP2_STATUS.CTAP2_ERR_INVALID_SUBCOMMAND);
  // A key protected by a PIN or built-in UV needs a token with acfg (§6.11 step 4); an unprotected one does not.
  if (param !== undefined || ctx.core.pinSet || ctx.core.uvSupported || ctx.state.alwaysUv) {
    if (param === undefined) fail(CTAP2_STATUS.CTAP2_ERR_PUAT_REQUIRED);
    if (protocol === undefined) fail(CTAP2_STATUS.CTAP2_ERR_MISSING_PARAMETER);
    const tail = subParamsRaw === undefined ? new Uint8Array(0) : encodeCbor(subParamsRaw as CborValue);
    const message = concatBytes(new Uint8Array(32).fill(0xff), Uint8Array.of(CTAP2_CMD.config, sub), tail);
    ctx.core.verifyToken(param, protocol, message, PERMISSION.acfg, undefined);
  }
  switch (sub) {
    case CONFIG_SUBCOMMAND.enableEnterpriseAttestation:
      if (!ctx.options.features.enterpriseAttestation) fail(CTAP2_STATUS.CTAP1_ERR_INVALID_PARAMETER);
      ctx.state.enterpriseAttestation = true;
      break;
    case CONFIG_SUBCOMMAND.toggleAlwaysUv:
      ctx.state.alwaysUv = !ctx.state.alwaysUv;
      break;
    case CONFIG_SUBCOMMAND.setMinPINLength: {
      const sp = subParamsRaw === undefined ? undefined : new CborMapReader(asMap(subParamsRaw, 'config subCommandParams'), 'config subCommandParams');
      const newMin = sp?.optionalUint(SET_MIN_PIN_LENGTH_PARAM.newMinPINLength, 'newMinPINLength') ?? ctx.state.minPinLength;
      const rpIdsRaw = sp?.optionalArray(SET_MIN_PIN_LENGTH_PARAM.minPinLengthRPIDs, 'minPinLengthRPIDs');
      const rpIds = rpIdsRaw ? asArray(rpIdsRaw, 'minPinLengthRPIDs').map((v, i) => asText(v, `minPinLengthRPIDs[${i}]`, 512)) : undefined;
      const force = sp?.optionalBool(SET_MIN_PIN_LENGTH_PARAM.forceChangePin, 'forceChangePin') ?? false;
      if (newMin < ctx.state.minPinLength || newMin > 63) fail(CTAP2_STATUS.CTAP2_ERR_PIN_POLICY_VIOLATION);
      if (rpIds && rpIds.length > MAX_RPIDS_FOR_SET_MIN_PIN_LENGTH) fail(CTAP2_STATUS.CTAP2_ERR_PIN_POLICY_VIOLATION);
      if (force && !ctx.core.pinSet) fail(CTAP2_STATUS.CTAP2_ERR_PIN_NOT_SET);
      // The current PIN must change only if it is now too short (CTAP 2.1 §6.11.4; OpenSK does the
      // same). A state file from before the length was kept: assume the worst when the minimum rises.
      const pinLength = ctx.state.pinCodePoints;
      if (ctx.core.pinSet && (pinLength === undefined ? newMin > ctx.state.minPinLength : newMin > pinLength)) ctx.state.forcePinChange = true;
      if (force) ctx.state.forcePinChange = true;
      ctx.state.minPinLength = newMin;
      if (rpIds) ctx.state.minPinLengthRpIds = rpIds;
      break;
    }
  }
  await ctx.persist();
  return undefined;
};
