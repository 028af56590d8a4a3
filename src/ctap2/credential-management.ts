/**
 * authenticatorCredentialManagement (0x0A, CTAP 2.2 §6.8), and the
 * FIDO_2_1_PRE preview command 0x41 for keys that only advertise
 * `credentialMgmtPreview`. Every authenticated subcommand carries
 * pinUvAuthParam = authenticate(token, subCommand || subCommandParams).
 */
import { CborError, CborMapReader, encodeCbor, type CborValue } from '../cbor/index.js';
import { decodeCoseKey, type CoseKey } from './cose-key.js';
import {
  decodeCredentialDescriptor,
  decodeRpEntity,
  decodeUserEntity,
  encodeCredentialDescriptor,
  encodeUserEntity,
  type PublicKeyCredentialDescriptor,
  type PublicKeyCredentialRpEntity,
  type PublicKeyCredentialUserEntity,
} from './entities.js';
import type { TransactOptions } from '../ctaphid/transport.js';
import { CTAP2_CMD } from './commands.js';
import type { PinUvAuthToken } from './client-pin.js';
import { infoOption, PERMISSION, requirePermission, UnsupportedFeatureError, type FeatureInfo } from './permissions.js';
import type { Ctap2Session } from './session.js';
import { CTAP2_STATUS, CtapError } from './status.js';

export const CREDENTIAL_MANAGEMENT_SUBCOMMAND = {
  getCredsMetadata: 0x01,
  enumerateRPsBegin: 0x02,
  enumerateRPsGetNextRP: 0x03,
  enumerateCredentialsBegin: 0x04,
  enumerateCredentialsGetNextCredential: 0x05,
  deleteCredential: 0x06,
  updateUserInformation: 0x07,
} as const;

export const CREDENTIAL_MANAGEMENT_PARAM = {
  subCommand: 0x01,
  subCommandParams: 0x02,
  pinUvAuthProtocol: 0x03,
  pinUvAuthParam: 0x04,
} as const;

export const CREDENTIAL_MANAGEMENT_SUBCOMMAND_PARAM = {
  rpIDHash: 0x01,
  credentialID: 0x02,
  user: 0x03,
} as const;

export const CREDENTIAL_MANAGEMENT_RESPONSE = {
  existingResidentCredentialsCount: 0x01,
  maxPossibleRemainingResidentCredentialsCount: 0x02,
  rp: 0x03,
  rpIDHash: 0x04,
  totalRPs: 0x05,
  user: 0x06,
  credentialID: 0x07,
  publicKey: 0x08,
  totalCredentials: 0x09,
  credProtect: 0x0a,
  largeBlobKey: 0x0b,
  thirdPartyPayment: 0x0c,
} as const;

export type { PublicKeyCredentialRpEntity as RpEntity, PublicKeyCredentialUserEntity as UserEntity, PublicKeyCredentialDescriptor as CredentialDescriptor };

export interface CredentialManagementResponse {
  existingResidentCredentialsCount?: number | undefined;
  maxPossibleRemainingResidentCredentialsCount?: number | undefined;
  rp?: PublicKeyCredentialRpEntity | undefined;
  rpIDHash?: Uint8Array | undefined;
  totalRPs?: number | undefined;
  user?: PublicKeyCredentialUserEntity | undefined;
  credentialID?: PublicKeyCredentialDescriptor | undefined;
  publicKey?: CoseKey | undefined;
  totalCredentials?: number | undefined;
  credProtect?: number | undefined;
  largeBlobKey?: Uint8Array | undefined;
  thirdPartyPayment?: boolean | undefined;
}

/** Decode a credentialManagement reply; an empty reply (Feitian with no credentials, delete, update) is `{}`. */
export function decodeCredentialManagementResponse(value: unknown): CredentialManagementResponse {
  if (value === undefined) return {};
  const R = CREDENTIAL_MANAGEMENT_RESPONSE;
  const r = CborMapReader.from(value, 'credentialManagement response');
  const out: CredentialManagementResponse = {
    existingResidentCredentialsCount: r.optionalUint(R.existingResidentCredentialsCount, 'existingResidentCredentialsCount'),
    maxPossibleRemainingResidentCredentialsCount: r.optionalUint(R.maxPossibleRemainingResidentCredentialsCount, 'maxPossibleRemainingResidentCredentialsCount'),
    rpIDHash: r.optionalBytes(R.rpIDHash, 'rpIDHash'),
    totalRPs: r.optionalUint(R.totalRPs, 'totalRPs'),
    totalCredentials: r.optionalUint(R.totalCredentials, 'totalCredentials'),
    credProtect: r.optionalUint(R.credProtect, 'credProtect'),
    largeBlobKey: r.optionalBytes(R.largeBlobKey, 'largeBlobKey', 32),
    thirdPartyPayment: r.optionalBool(R.thirdPartyPayment, 'thirdPartyPayment'),
  };
  if (r.has(R.rp)) out.rp = decodeRpEntity(r.raw(R.rp), r.path(R.rp, 'rp'));
  if (r.has(R.user)) out.user = decodeUserEntity(r.raw(R.user), r.path(R.user, 'user'));
  if (r.has(R.credentialID)) out.credentialID = decodeCredentialDescriptor(r.raw(R.credentialID), r.path(R.credentialID, 'credentialID'));
  if (r.has(R.publicKey)) out.publicKey = decodeCoseKey(r.raw(R.publicKey), r.path(R.publicKey, 'publicKey'));
  if (out.largeBlobKey && out.largeBlobKey.length !== 32) throw new CborError('CBOR_TYPE', `largeBlobKey must be 32 bytes, got ${out.largeBlobKey.length}`, r.path(R.largeBlobKey, 'largeBlobKey'));
  if (out.rpIDHash && out.rpIDHash.length !== 32) throw new CborError('CBOR_TYPE', 'rpIDHash must be 32 bytes', r.path(R.rpIDHash, 'rpIDHash'));
  return out;
}

export interface CredentialManagementRequest {
  subCommand: number;
  subCommandParams?: Map<number, CborValue> | undefined;
  pinUvAuthProtocol?: number | undefined;
  pinUvAuthParam?: Uint8Array | undefined;
}

export function encodeCredentialManagementRequest(req: CredentialManagementRequest): Map<number, CborValue> {
  const P = CREDENTIAL_MANAGEMENT_PARAM;
  const m = new Map<number, CborValue>([[P.subCommand, req.subCommand]]);
  if (req.subCommandParams) m.set(P.subCommandParams, req.subCommandParams);
  if (req.pinUvAuthProtocol !== undefined) m.set(P.pinUvAuthProtocol, req.pinUvAuthProtocol);
  if (req.pinUvAuthParam) m.set(P.pinUvAuthParam, req.pinUvAuthParam);
  return m;
}

/** The bytes pinUvAuthParam covers: subCommand || CBOR(subCommandParams). */
export function credentialManagementAuthMessage(subCommand: number, params?: Map<number, CborValue>): Uint8Array {
  const p = params ? encodeCbor(params) : new Uint8Array(0);
  const out = new Uint8Array(1 + p.length);
  out[0] = subCommand;
  out.set(p, 1);
  return out;
}

/** 0x0A, 0x41 (preview), or undefined when the key has neither. */
export function credentialManagementCommand(info: FeatureInfo): number | undefined {
  if (infoOption(info, 'credMgmt') === true) return CTAP2_CMD.credentialManagement;
  if (infoOption(info, 'credentialMgmtPreview') === true) return CTAP2_CMD.credentialManagementPreview;
  return undefined;
}

export interface CredentialsMetadata {
  existingResidentCredentialsCount: number;
  maxPossibleRemainingResidentCredentialsCount: number;
}

export interface RpInfo {
  rp: PublicKeyCredentialRpEntity;
  rpIDHash: Uint8Array;
}

export interface CredentialInfo {
  user: PublicKeyCredentialUserEntity;
  credentialID: PublicKeyCredentialDescriptor;
  publicKey: CoseKey;
  credProtect?: number | undefined;
  largeBlobKey?: Uint8Array | undefined;
  thirdPartyPayment?: boolean | undefined;
}

/**
 * Absolute ceilings on what one enumeration walks (real keys hold 25–300
 * discoverable credentials). A key reporting more is refused with a
 * CborError before the walk starts, so a hostile key cannot make `creds list`
 * run a hundred thousand round trips per RP.
 */
export const MAX_ENUMERATED_RPS = 2_000;
export const MAX_ENUMERATED_CREDENTIALS = 10_000;

/**
 * Credential management with a pinUvAuthToken that has the `cm` permission
 * (or `pcmr` for listing only, CTAP 2.2; a legacy getPinToken token on
 * preview keys).
 */
export class CredentialManagement {
  readonly session: Ctap2Session;
  readonly token: PinUvAuthToken;
  readonly command: number;
  /** existing + remaining from the last getCredsMetadata: the key's capacity, which bounds every total it reports. */
  #capacity: number | undefined;

  constructor(session: Ctap2Session, token: PinUvAuthToken, info: FeatureInfo) {
    const command = credentialManagementCommand(info);
    if (command === undefined) {
      throw new UnsupportedFeatureError('credentialManagement', 'this key does not support credential management (getInfo lists neither credMgmt nor credentialMgmtPreview)', {
        command: CTAP2_CMD.credentialManagement,
      });
    }
    // cm, or (CTAP 2.2) pcmr for the read-only subcommands; a legacy token (0) is the key's to judge.
    requirePermission(token, PERMISSION.cm | PERMISSION.pcmr, 'cm (credential management)');
    this.session = session;
    this.token = token;
    this.command = command;
  }

  /** Build after fetching getInfo. */
  static async open(session: Ctap2Session, token: PinUvAuthToken, opts?: TransactOptions): Promise<CredentialManagement> {
    return new CredentialManagement(session, token, await session.getInfo(opts));
  }

  static isSupported(info: FeatureInfo): boolean {
    return credentialManagementCommand(info) !== undefined;
  }

  async #call(subCommand: number, params: Map<number, CborValue> | undefined, auth: boolean, opts?: TransactOptions): Promise<CredentialManagementResponse> {
    const req: CredentialManagementRequest = { subCommand, subCommandParams: params };
    if (auth) {
      req.pinUvAuthProtocol = this.token.protocolVersion;
      req.pinUvAuthParam = this.token.authenticate(credentialManagementAuthMessage(subCommand, params));
    }
    const { value } = await this.session.send(this.command, encodeCredentialManagementRequest(req), opts);
    return decodeCredentialManagementResponse(value);
  }

  async getCredsMetadata(opts?: TransactOptions): Promise<CredentialsMetadata> {
    const r = await this.#call(CREDENTIAL_MANAGEMENT_SUBCOMMAND.getCredsMetadata, undefined, true, opts);
    if (r.existingResidentCredentialsCount === undefined || r.maxPossibleRemainingResidentCredentialsCount === undefined) {
      throw new CborError('CBOR_MISSING_KEY', 'getCredsMetadata reply lacks the counts', 'credentialManagement response');
    }
    const existing = r.existingResidentCredentialsCount;
    const remaining = r.maxPossibleRemainingResidentCredentialsCount;
    if (existing > MAX_ENUMERATED_CREDENTIALS) {
      throw new CborError('CBOR_TYPE', `the key reports ${existing} discoverable credentials, more than this client handles (${MAX_ENUMERATED_CREDENTIALS})`, 'credentialManagement response');
    }
    this.#capacity = existing + remaining;
    return { existingResidentCredentialsCount: existing, maxPossibleRemainingResidentCredentialsCount: remaining };
  }

  /**
   * The most entries a walk may have: the ceiling, or the key's capacity
   * (existing + remaining, from getCredsMetadata) when known. Call
   * getCredsMetadata first for the tighter bound.
   */
  #checkTotal(total: number, what: 'totalRPs' | 'totalCredentials'): void {
    const ceiling = what === 'totalRPs' ? MAX_ENUMERATED_RPS : MAX_ENUMERATED_CREDENTIALS;
    const bound = this.#capacity === undefined ? ceiling : Math.min(ceiling, this.#capacity);
    if (total > bound) {
      const why = bound === ceiling ? `this client walks at most ${ceiling}` : `the key said it holds at most ${bound} credentials (getCredsMetadata)`;
      throw new CborError('CBOR_TYPE', `${what} ${total} is implausible: ${why}`, 'credentialManagement response');
    }
  }

  /** Every RP with discoverable credentials (begin + getNextRP until totalRPs). */
  async enumerateRps(opts?: TransactOptions): Promise<RpInfo[]> {
    const S = CREDENTIAL_MANAGEMENT_SUBCOMMAND;
    let first: CredentialManagementResponse;
    try {
      first = await this.#call(S.enumerateRPsBegin, undefined, true, opts);
    } catch (e) {
      if (e instanceof CtapError && e.status === CTAP2_STATUS.CTAP2_ERR_NO_CREDENTIALS) return [];
      throw e;
    }
    const total = first.totalRPs ?? 0;
    if (total === 0) return [];
    this.#checkTotal(total, 'totalRPs');
    const out: RpInfo[] = [rpInfo(first)];
    for (let i = 1; i < total; i++) out.push(rpInfo(await this.#call(S.enumerateRPsGetNextRP, undefined, false, opts)));
    return out;
  }

  /** Every credential of one RP, by rpIDHash (32 bytes). */
  async enumerateCredentials(rpIDHash: Uint8Array, opts?: TransactOptions): Promise<CredentialInfo[]> {
    if (!(rpIDHash instanceof Uint8Array) || rpIDHash.length !== 32) throw new TypeError('rpIDHash must be 32 bytes (SHA-256 of the RP id)');
    const S = CREDENTIAL_MANAGEMENT_SUBCOMMAND;
    const params = new Map<number, CborValue>([[CREDENTIAL_MANAGEMENT_SUBCOMMAND_PARAM.rpIDHash, rpIDHash]]);
    let first: CredentialManagementResponse;
    try {
      first = await this.#call(S.enumerateCredentialsBegin, params, true, opts);
    } catch (e) {
      if (e instanceof CtapError && e.status === CTAP2_STATUS.CTAP2_ERR_NO_CREDENTIALS) return [];
      throw e;
    }
    const total = first.totalCredentials ?? 1;
    this.#checkTotal(total, 'totalCredentials');
    const out: CredentialInfo[] = [credentialInfo(first)];
    for (let i = 1; i < total; i++) out.push(credentialInfo(await this.#call(S.enumerateCredentialsGetNextCredential, undefined, false, opts)));
    return out;
  }

  async deleteCredential(credentialId: Uint8Array | PublicKeyCredentialDescriptor, opts?: TransactOptions): Promise<void> {
    const d = descriptor(credentialId);
    const params = new Map<number, CborValue>([[CREDENTIAL_MANAGEMENT_SUBCOMMAND_PARAM.credentialID, encodeCredentialDescriptor(d)]]);
    await this.#call(CREDENTIAL_MANAGEMENT_SUBCOMMAND.deleteCredential, params, true, opts);
    this.session.invalidateInfo(); // remainingDiscoverableCredentials changed
  }

  /** Replace the stored user entity (the id must stay the same; name/displayName omitted are removed). */
  async updateUserInformation(
    credentialId: Uint8Array | PublicKeyCredentialDescriptor,
    user: { id: Uint8Array; name?: string | undefined; displayName?: string | undefined },
    opts?: TransactOptions,
  ): Promise<void> {
    if (this.command === CTAP2_CMD.credentialManagementPreview) {
      throw new UnsupportedFeatureError('updateUserInformation', 'this key only speaks the credential management preview, which has no updateUserInformation', {
        command: this.command,
        status: CTAP2_STATUS.CTAP2_ERR_INVALID_SUBCOMMAND,
      });
    }
    const P = CREDENTIAL_MANAGEMENT_SUBCOMMAND_PARAM;
    const params = new Map<number, CborValue>([
      [P.credentialID, encodeCredentialDescriptor(descriptor(credentialId))],
      [P.user, encodeUserEntity(user)],
    ]);
    await this.#call(CREDENTIAL_MANAGEMENT_SUBCOMMAND.updateUserInformation, params, true, opts);
  }
}

function descriptor(c: Uint8Array | PublicKeyCredentialDescriptor): PublicKeyCredentialDescriptor {
  if (c instanceof Uint8Array) return { type: 'public-key', id: c };
  return c;
}

function rpInfo(r: CredentialManagementResponse): RpInfo {
  if (!r.rp || !r.rpIDHash) throw new CborError('CBOR_MISSING_KEY', 'an RP entry lacks rp or rpIDHash', 'credentialManagement response');
  return { rp: r.rp, rpIDHash: r.rpIDHash };
}

function credentialInfo(r: CredentialManagementResponse): CredentialInfo {
  if (!r.user || !r.credentialID || !r.publicKey) {
    throw new CborError('CBOR_MISSING_KEY', 'a credential entry lacks user, credentialID or publicKey', 'credentialManagement response');
  }
  return {
    user: r.user,
    credentialID: r.credentialID,
    publicKey: r.publicKey,
    credProtect: r.credProtect,
    largeBlobKey: r.largeBlobKey,
    thirdPartyPayment: r.thirdPartyPayment,
  };
}
