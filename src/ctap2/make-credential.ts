/** authenticatorMakeCredential (CTAP 2.2 §6.1): request encoder, response decoder, command. */
import { CborError, CborMapReader, asMap, type CborKey, type CborValue } from '../cbor/index.js';
import type { TransactOptions } from '../ctaphid/transport.js';
import { CTAP2_CMD } from './commands.js';
import { parseAuthenticatorData, type AuthenticatorData, type ParseAuthenticatorDataOptions } from './authenticator-data.js';
import {
  encodeCredentialDescriptor,
  encodeCredentialParameters,
  encodeRpEntity,
  encodeUserEntity,
  type PublicKeyCredentialDescriptor,
  type PublicKeyCredentialParameters,
  type PublicKeyCredentialRpEntity,
  type PublicKeyCredentialUserEntity,
} from './entities.js';
import { getOption, supportsOption, type AuthenticatorInfo } from './get-info.js';
import type { Ctap2Session } from './session.js';
import { CtapError } from './status.js';

/** Request parameter keys. */
export const MAKE_CREDENTIAL = {
  clientDataHash: 0x01,
  rp: 0x02,
  user: 0x03,
  pubKeyCredParams: 0x04,
  excludeList: 0x05,
  extensions: 0x06,
  options: 0x07,
  pinUvAuthParam: 0x08,
  pinUvAuthProtocol: 0x09,
  enterpriseAttestation: 0x0a,
  attestationFormatsPreference: 0x0b,
} as const;

/** Response member keys. */
export const MAKE_CREDENTIAL_RESPONSE = {
  fmt: 0x01,
  authData: 0x02,
  attStmt: 0x03,
  epAtt: 0x04,
  largeBlobKey: 0x05,
  unsignedExtensionOutputs: 0x06,
} as const;

/** Extension inputs: identifier → CBOR value, as produced by the extension plug-ins. */
export type ExtensionInputs = ReadonlyMap<string, CborValue> | { readonly [id: string]: CborValue | undefined };

export interface CommandOptions {
  rk?: boolean | undefined;
  up?: boolean | undefined;
  uv?: boolean | undefined;
}

export interface MakeCredentialRequest {
  clientDataHash: Uint8Array;
  rp: PublicKeyCredentialRpEntity;
  user: PublicKeyCredentialUserEntity;
  pubKeyCredParams: readonly PublicKeyCredentialParameters[];
  excludeList?: readonly PublicKeyCredentialDescriptor[] | undefined;
  extensions?: ExtensionInputs | undefined;
  options?: CommandOptions | undefined;
  pinUvAuthParam?: Uint8Array | undefined;
  pinUvAuthProtocol?: number | undefined;
  enterpriseAttestation?: number | undefined;
  attestationFormatsPreference?: readonly string[] | undefined;
}

export function encodeOptions(o: CommandOptions | undefined): Map<string, boolean> | undefined {
  if (!o) return undefined;
  const m = new Map<string, boolean>();
  for (const k of ['rk', 'up', 'uv'] as const) if (o[k] !== undefined) m.set(k, o[k]);
  return m.size ? m : undefined;
}

export function encodeExtensions(ext: ExtensionInputs | undefined): Map<string, CborValue> | undefined {
  if (!ext) return undefined;
  const entries: [string, CborValue | undefined][] = ext instanceof Map ? [...ext.entries()] : Object.entries(ext);
  const m = new Map<string, CborValue>();
  for (const [k, v] of entries) if (v !== undefined) m.set(k, v);
  return m.size ? m : undefined;
}

/** The request members makeCredential and getAssertion share, each under its command's key. */
type CeremonyParameters = Pick<MakeCredentialRequest, 'extensions' | 'options' | 'pinUvAuthParam' | 'pinUvAuthProtocol' | 'enterpriseAttestation' | 'attestationFormatsPreference'>;
type CeremonyParameterKeys = { readonly [K in keyof CeremonyParameters]-?: number };

/** Sets the shared members (extensions onward) that req carries into the parameter map m, under keys K. */
export function setCeremonyParameters(m: Map<CborKey, CborValue>, K: CeremonyParameterKeys, req: CeremonyParameters): Map<CborKey, CborValue> {
  const ext = encodeExtensions(req.extensions);
  if (ext) m.set(K.extensions, ext);
  const opts = encodeOptions(req.options);
  if (opts) m.set(K.options, opts);
  if (req.pinUvAuthParam !== undefined) m.set(K.pinUvAuthParam, req.pinUvAuthParam);
  if (req.pinUvAuthProtocol !== undefined) m.set(K.pinUvAuthProtocol, req.pinUvAuthProtocol);
  if (req.enterpriseAttestation !== undefined) m.set(K.enterpriseAttestation, req.enterpriseAttestation);
  if (req.attestationFormatsPreference !== undefined) m.set(K.attestationFormatsPreference, [...req.attestationFormatsPreference]);
  return m;
}

/**
 * What makeCredential and getAssertion check against getInfo before sending: built-in UV
 * when options.uv asks for it, and the exclude/allow list within maxCredentialCountInList.
 */
export function checkCeremonyAgainstInfo(
  info: AuthenticatorInfo,
  command: number,
  uv: boolean | undefined,
  list: readonly unknown[] | undefined,
  listName: 'excludeList' | 'allowList',
): void {
  if (uv && getOption(info, 'uv') === undefined) {
    throw new CtapError(0x2b, { command, message: 'the key has no built-in user verification (use a PIN instead)' });
  }
  if (list && info.maxCredentialCountInList !== undefined && list.length > info.maxCredentialCountInList) {
    throw new CtapError(0x15, {
      command,
      message: `the ${listName} has ${list.length} entries, the key accepts ${info.maxCredentialCountInList} (send it in batches)`,
    });
  }
}

function checkBytes(v: Uint8Array, name: string, length?: number): void {
  if (!(v instanceof Uint8Array)) throw new TypeError(`${name} must be a Uint8Array`);
  if (length !== undefined && v.length !== length) throw new RangeError(`${name} must be ${length} bytes, got ${v.length}`);
}

/** The parameter map (canonical order is applied by the CBOR encoder). */
export function encodeMakeCredentialRequest(req: MakeCredentialRequest): Map<CborKey, CborValue> {
  checkBytes(req.clientDataHash, 'clientDataHash', 32);
  if (typeof req.rp?.id !== 'string' || req.rp.id.length === 0) throw new TypeError('rp.id must be a non-empty string');
  checkBytes(req.user?.id, 'user.id');
  if (req.user.id.length === 0 || req.user.id.length > 64) throw new RangeError('user.id must be 1 to 64 bytes');
  if (!req.pubKeyCredParams.length) throw new RangeError('pubKeyCredParams must list at least one algorithm');
  if (req.pinUvAuthParam !== undefined) {
    checkBytes(req.pinUvAuthParam, 'pinUvAuthParam');
    if (req.pinUvAuthProtocol === undefined) throw new TypeError('pinUvAuthParam needs pinUvAuthProtocol');
  }
  const K = MAKE_CREDENTIAL;
  const m = new Map<CborKey, CborValue>();
  m.set(K.clientDataHash, req.clientDataHash);
  m.set(K.rp, encodeRpEntity(req.rp));
  m.set(K.user, encodeUserEntity(req.user));
  m.set(K.pubKeyCredParams, req.pubKeyCredParams.map(encodeCredentialParameters));
  if (req.excludeList?.length) m.set(K.excludeList, req.excludeList.map(encodeCredentialDescriptor));
  return setCeremonyParameters(m, K, req);
}

export interface MakeCredentialResponse {
  fmt: string;
  authData: AuthenticatorData;
  /** The attestation statement as decoded CBOR (format-specific; see attestation.ts). */
  attStmt: Map<unknown, unknown>;
  epAtt?: boolean | undefined;
  largeBlobKey?: Uint8Array | undefined;
  unsignedExtensionOutputs?: Map<unknown, unknown> | undefined;
  unknownKeys: Map<CborKey, unknown>;
}

/** WebAuthn: fmt is at most 32 characters; largeBlobKey is 32 bytes. */
const MAX_FMT = 32;

export function decodeMakeCredentialResponse(value: unknown, opts?: ParseAuthenticatorDataOptions): MakeCredentialResponse {
  const r = CborMapReader.from(value, 'makeCredential response');
  const K = MAKE_CREDENTIAL_RESPONSE;
  const fmt = r.text(K.fmt, 'fmt', MAX_FMT);
  const authData = parseAuthenticatorData(r.bytes(K.authData, 'authData'), opts);
  if (!authData.attestedCredentialData) {
    throw new CborError('CBOR_TYPE', 'authData carries no attested credential data (AT flag clear)', r.path(K.authData, 'authData'));
  }
  const attStmt = asMap(r.raw(K.attStmt) ?? (fmt === 'none' ? new Map() : undefined), r.path(K.attStmt, 'attStmt'));
  const unsigned = r.raw(K.unsignedExtensionOutputs);
  return {
    fmt,
    authData,
    attStmt,
    epAtt: r.optionalBool(K.epAtt, 'epAtt'),
    largeBlobKey: r.optionalBytes(K.largeBlobKey, 'largeBlobKey', 32),
    unsignedExtensionOutputs: unsigned === undefined ? undefined : asMap(unsigned, r.path(K.unsignedExtensionOutputs, 'unsignedExtensionOutputs')),
    unknownKeys: r.unknownEntries(Object.values(K)) as Map<CborKey, unknown>,
  };
}

/**
 * Send authenticatorMakeCredential. Checks getInfo first (fetched once per
 * session: it also gives the maxMsgSize the request must fit) so a key that
 * cannot do what is asked fails with a plain reason before anything is sent.
 */
export async function makeCredential(session: Ctap2Session, req: MakeCredentialRequest, opts?: TransactOptions): Promise<MakeCredentialResponse> {
  const params = encodeMakeCredentialRequest(req);
  const info = session.cachedInfo ?? (await session.getInfo(opts));
  if (req.options?.rk && !supportsOption(info, 'rk')) {
    throw new CtapError(0x2b, { command: CTAP2_CMD.makeCredential, message: 'the key cannot store discoverable (resident) credentials' });
  }
  checkCeremonyAgainstInfo(info, CTAP2_CMD.makeCredential, req.options?.uv, req.excludeList, 'excludeList');
  const { value } = await session.send(CTAP2_CMD.makeCredential, params, opts);
  return decodeMakeCredentialResponse(value);
}
