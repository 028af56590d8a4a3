/** authenticatorGetAssertion / authenticatorGetNextAssertion (CTAP 2.2 §6.2, §6.3). */
import { CborMapReader, asMap, type CborKey, type CborValue } from '../cbor/index.js';
import type { TransactOptions } from '../ctaphid/transport.js';
import { parseAuthenticatorData, type AuthenticatorData, type ParseAuthenticatorDataOptions } from './authenticator-data.js';
import { CTAP2_CMD } from './commands.js';
import {
  decodeCredentialDescriptor,
  decodeUserEntity,
  encodeCredentialDescriptor,
  type PublicKeyCredentialDescriptor,
  type PublicKeyCredentialUserEntity,
} from './entities.js';
import { checkCeremonyAgainstInfo, setCeremonyParameters, type CommandOptions, type ExtensionInputs } from './make-credential.js';
import type { Ctap2Session } from './session.js';
import { CtapError } from './status.js';

export const GET_ASSERTION = {
  rpId: 0x01,
  clientDataHash: 0x02,
  allowList: 0x03,
  extensions: 0x04,
  options: 0x05,
  pinUvAuthParam: 0x06,
  pinUvAuthProtocol: 0x07,
  enterpriseAttestation: 0x08,
  attestationFormatsPreference: 0x09,
} as const;

export const GET_ASSERTION_RESPONSE = {
  credential: 0x01,
  authData: 0x02,
  signature: 0x03,
  user: 0x04,
  numberOfCredentials: 0x05,
  userSelected: 0x06,
  largeBlobKey: 0x07,
  unsignedExtensionOutputs: 0x08,
  epAtt: 0x09,
  attStmt: 0x0a,
} as const;

export interface GetAssertionRequest {
  rpId: string;
  clientDataHash: Uint8Array;
  allowList?: readonly PublicKeyCredentialDescriptor[] | undefined;
  extensions?: ExtensionInputs | undefined;
  /** rk is not valid here (CTAP2_ERR_INVALID_OPTION); up and uv are. */
  options?: Omit<CommandOptions, 'rk'> | undefined;
  pinUvAuthParam?: Uint8Array | undefined;
  pinUvAuthProtocol?: number | undefined;
  enterpriseAttestation?: number | undefined;
  attestationFormatsPreference?: readonly string[] | undefined;
}

export function encodeGetAssertionRequest(req: GetAssertionRequest): Map<CborKey, CborValue> {
  if (typeof req.rpId !== 'string' || req.rpId.length === 0) throw new TypeError('rpId must be a non-empty string');
  if (!(req.clientDataHash instanceof Uint8Array) || req.clientDataHash.length !== 32) throw new RangeError('clientDataHash must be 32 bytes');
  if (req.pinUvAuthParam !== undefined && req.pinUvAuthProtocol === undefined) throw new TypeError('pinUvAuthParam needs pinUvAuthProtocol');
  if ((req.options as CommandOptions | undefined)?.rk !== undefined) throw new TypeError('getAssertion does not take the rk option');
  const K = GET_ASSERTION;
  const m = new Map<CborKey, CborValue>();
  m.set(K.rpId, req.rpId);
  m.set(K.clientDataHash, req.clientDataHash);
  if (req.allowList?.length) m.set(K.allowList, req.allowList.map(encodeCredentialDescriptor));
  return setCeremonyParameters(m, K, req);
}

export interface GetAssertionResponse {
  /** Optional on the wire when the allowList had exactly one entry; filled in from it by getAssertion(). */
  credential?: PublicKeyCredentialDescriptor | undefined;
  authData: AuthenticatorData;
  signature: Uint8Array;
  user?: PublicKeyCredentialUserEntity | undefined;
  numberOfCredentials?: number | undefined;
  userSelected?: boolean | undefined;
  largeBlobKey?: Uint8Array | undefined;
  unsignedExtensionOutputs?: Map<unknown, unknown> | undefined;
  epAtt?: boolean | undefined;
  attStmt?: Map<unknown, unknown> | undefined;
  unknownKeys: Map<CborKey, unknown>;
}

/** Largest signature we accept (RSA-8192 is 1024 bytes; ML-DSA-87 is 4627). */
const MAX_SIGNATURE = 8192;

export function decodeGetAssertionResponse(value: unknown, opts?: ParseAuthenticatorDataOptions): GetAssertionResponse {
  const r = CborMapReader.from(value, 'getAssertion response');
  const K = GET_ASSERTION_RESPONSE;
  const cred = r.raw(K.credential);
  const user = r.raw(K.user);
  const unsigned = r.raw(K.unsignedExtensionOutputs);
  const attStmt = r.raw(K.attStmt);
  return {
    credential: cred === undefined ? undefined : decodeCredentialDescriptor(cred, r.path(K.credential, 'credential')),
    authData: parseAuthenticatorData(r.bytes(K.authData, 'authData'), opts),
    signature: r.bytes(K.signature, 'signature', MAX_SIGNATURE),
    user: user === undefined ? undefined : decodeUserEntity(user, r.path(K.user, 'user')),
    numberOfCredentials: r.optionalUint(K.numberOfCredentials, 'numberOfCredentials'),
    userSelected: r.optionalBool(K.userSelected, 'userSelected'),
    largeBlobKey: r.optionalBytes(K.largeBlobKey, 'largeBlobKey', 32),
    unsignedExtensionOutputs: unsigned === undefined ? undefined : asMap(unsigned, r.path(K.unsignedExtensionOutputs, 'unsignedExtensionOutputs')),
    epAtt: r.optionalBool(K.epAtt, 'epAtt'),
    attStmt: attStmt === undefined ? undefined : asMap(attStmt, r.path(K.attStmt, 'attStmt')),
    unknownKeys: r.unknownEntries(Object.values(K)) as Map<CborKey, unknown>,
  };
}

/**
 * Send authenticatorGetAssertion (after getInfo, fetched once per session).
 * When the allowList had exactly one entry
 * and the key left out `credential` (allowed by CTAP 2.0 §6.2), it is filled
 * in from the allowList.
 */
export async function getAssertion(session: Ctap2Session, req: GetAssertionRequest, opts?: TransactOptions): Promise<GetAssertionResponse> {
  const params = encodeGetAssertionRequest(req);
  const info = session.cachedInfo ?? (await session.getInfo(opts)); // also gives the maxMsgSize the request must fit
  checkCeremonyAgainstInfo(info, CTAP2_CMD.getAssertion, req.options?.uv, req.allowList, 'allowList');
  const { value } = await session.send(CTAP2_CMD.getAssertion, params, opts);
  const res = decodeGetAssertionResponse(value);
  if (!res.credential && req.allowList?.length === 1) res.credential = { ...req.allowList[0]! };
  if (!res.credential) {
    throw new CtapError(0x7f, { command: CTAP2_CMD.getAssertion, message: 'the key did not say which credential it used' });
  }
  return res;
}

/** authenticatorGetNextAssertion: the next of numberOfCredentials after getAssertion. */
export async function getNextAssertion(session: Ctap2Session, opts?: TransactOptions): Promise<GetAssertionResponse> {
  const { value } = await session.send(CTAP2_CMD.getNextAssertion, undefined, opts);
  const res = decodeGetAssertionResponse(value);
  if (!res.credential) throw new CtapError(0x7f, { command: CTAP2_CMD.getNextAssertion, message: 'the key did not say which credential it used' });
  return res;
}

/** getAssertion followed by getNextAssertion for every remaining credential (numberOfCredentials). */
export async function getAllAssertions(session: Ctap2Session, req: GetAssertionRequest, opts?: TransactOptions): Promise<GetAssertionResponse[]> {
  const first = await getAssertion(session, req, opts);
  const out = [first];
  const total = Math.min(first.numberOfCredentials ?? 1, 1000);
  for (let i = 1; i < total; i++) out.push(await getNextAssertion(session, opts));
  return out;
}
