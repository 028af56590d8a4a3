/** authenticatorGetInfo (CTAP 2.2 §6.4) for the virtual key: reflects its options, features and state. */
import type { CborValue } from '../cbor/index.js';
import { GET_INFO } from '../ctap2/get-info.js';
import { CTAP2_STATUS, CtapError } from '../ctap2/status.js';
import type { CommandHandler, ResolvedOptions } from './core.js';
import type { PersistentState } from './state.js';
import { EXTENSION_ID } from '../ctap2/extensions/extension.js';

export function supportedExtensions(o: ResolvedOptions): string[] {
  const f = o.features;
  const out: string[] = [];
  if (f.credBlob) out.push(EXTENSION_ID.credBlob);
  if (f.credProtect) out.push(EXTENSION_ID.credProtect);
  if (f.hmacSecret) out.push(EXTENSION_ID.hmacSecret);
  if (f.hmacSecret && f.hmacSecretMc) out.push(EXTENSION_ID.hmacSecretMc);
  if (f.largeBlobKey && f.largeBlobs) out.push(EXTENSION_ID.largeBlobKey);
  if (f.minPinLength && f.config) out.push(EXTENSION_ID.minPinLength);
  return out;
}

export function buildGetInfo(o: ResolvedOptions, s: PersistentState): Map<number, CborValue> {
  const f = o.features;
  const options = new Map<string, boolean>();
  options.set('rk', true);
  options.set('up', true);
  if (o.bio) {
    // A sensor: uv is present, true once a finger is enrolled (CTAP 2.1 §6.4); bioEnroll likewise (§6.7).
    const enrolled = (s.bio?.templates.length ?? 0) > 0;
    options.set('uv', enrolled && o.uv !== 'none');
    options.set(o.preview ? 'userVerificationMgmtPreview' : 'bioEnroll', enrolled);
  } else if (o.uv !== 'none') options.set('uv', true);
  if (f.clientPin) {
    options.set('clientPin', s.pinHash !== undefined);
    options.set('pinUvAuthToken', true);
  }
  if (f.credMgmt) options.set(o.preview ? 'credentialMgmtPreview' : 'credMgmt', true);
  if (f.largeBlobs) options.set('largeBlobs', true);
  if (f.config) {
    options.set('authnrCfg', true);
    options.set('setMinPINLength', true);
    options.set('alwaysUv', s.alwaysUv);
  }
  // makeCredUvNotRqd cannot hold while alwaysUv is on (CTAP 2.2 §6.4, makeCredUvNotRqd).
  if (f.makeCredUvNotRqd) options.set('makeCredUvNotRqd', !s.alwaysUv);
  if (f.enterpriseAttestation && f.config) options.set('ep', s.enterpriseAttestation);
  const info = new Map<number, CborValue>();
  // While alwaysUv is on, U2F (which cannot verify the user) is switched off (u2f.ts answers every
  // APDU 0x6d00), so the key stops advertising it: CTAP 2.1 §6.11.2 (toggleAlwaysUv).
  info.set(GET_INFO.versions, s.alwaysUv ? o.versions.filter((v) => v !== 'U2F_V2') : o.versions);
  const ext = supportedExtensions(o);
  if (ext.length) info.set(GET_INFO.extensions, ext);
  info.set(GET_INFO.aaguid, s.aaguid);
  info.set(GET_INFO.options, options);
  info.set(GET_INFO.maxMsgSize, o.maxMsgSize);
  if (f.clientPin) info.set(GET_INFO.pinUvAuthProtocols, o.pinUvAuthProtocols);
  info.set(GET_INFO.maxCredentialCountInList, o.maxCredentialCountInList);
  info.set(GET_INFO.maxCredentialIdLength, o.maxCredentialIdLength);
  info.set(GET_INFO.transports, ['usb']);
  info.set(GET_INFO.algorithms, o.algorithms.map((alg) => ({ alg, type: 'public-key' })));
  if (f.largeBlobs) info.set(GET_INFO.maxSerializedLargeBlobArray, o.maxSerializedLargeBlobArray);
  if (f.clientPin) {
    info.set(GET_INFO.forcePINChange, s.forcePinChange);
    info.set(GET_INFO.minPINLength, s.minPinLength);
  }
  info.set(GET_INFO.firmwareVersion, o.firmwareVersion);
  if (f.credBlob) info.set(GET_INFO.maxCredBlobLength, o.maxCredBlobLength);
  if (f.config && f.minPinLength) info.set(GET_INFO.maxRPIDsForSetMinPINLength, 8);
  if (o.uv !== 'none' || o.bio) {
    info.set(GET_INFO.preferredPlatformUvAttempts, 3);
    info.set(GET_INFO.uvModality, 0x02); // USER_VERIFY_FINGERPRINT_INTERNAL
  }
  info.set(GET_INFO.remainingDiscoverableCredentials, Math.max(0, o.capacity - s.credentials.length));
  return info;
}

export const getInfo: CommandHandler = async (ctx, params) => {
  if (params !== undefined) throw new CtapError(CTAP2_STATUS.CTAP1_ERR_INVALID_LENGTH); // getInfo takes no parameters
  return buildGetInfo(ctx.options, ctx.state);
};
