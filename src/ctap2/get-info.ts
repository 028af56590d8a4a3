/**
 * authenticatorGetInfo (CTAP 2.2 §6.4): every member through 0x1f under its
 * spec name. Unknown integer keys are kept in `unknownKeys`, not dropped.
 * Device bytes are untrusted: every list and string is bounded, and every
 * failure is a CborError that names the member.
 */
import type { PublicKeyCredentialParameters } from './entities.js';
import { CborError, CborMapReader, asBool, asBytes, asMap, asText, asUint, type CborKey } from '../cbor/index.js';

/** getInfo response member keys (CTAP 2.2 §6.4, 2.3 draft for 0x1e/0x1f). */
export const GET_INFO = {
  versions: 0x01,
  extensions: 0x02,
  aaguid: 0x03,
  options: 0x04,
  maxMsgSize: 0x05,
  pinUvAuthProtocols: 0x06,
  maxCredentialCountInList: 0x07,
  maxCredentialIdLength: 0x08,
  transports: 0x09,
  algorithms: 0x0a,
  maxSerializedLargeBlobArray: 0x0b,
  forcePINChange: 0x0c,
  minPINLength: 0x0d,
  firmwareVersion: 0x0e,
  maxCredBlobLength: 0x0f,
  maxRPIDsForSetMinPINLength: 0x10,
  preferredPlatformUvAttempts: 0x11,
  uvModality: 0x12,
  certifications: 0x13,
  remainingDiscoverableCredentials: 0x14,
  vendorPrototypeConfigCommands: 0x15,
  attestationFormats: 0x16,
  uvCountSinceLastPinEntry: 0x17,
  longTouchForReset: 0x18,
  encIdentifier: 0x19,
  transportsForReset: 0x1a,
  pinComplexityPolicy: 0x1b,
  pinComplexityPolicyURL: 0x1c,
  maxPINLength: 0x1d,
  encCredStoreState: 0x1e,
  authenticatorConfigCommands: 0x1f,
} as const;

export type GetInfoMember = keyof typeof GET_INFO;

/** Version strings a key lists in 0x01. */
export const CTAP_VERSION = {
  U2F_V2: 'U2F_V2',
  FIDO_2_0: 'FIDO_2_0',
  FIDO_2_1_PRE: 'FIDO_2_1_PRE',
  FIDO_2_1: 'FIDO_2_1',
  FIDO_2_2: 'FIDO_2_2',
  FIDO_2_3: 'FIDO_2_3',
} as const;

/** Option ids (CTAP 2.2 §6.4, options member). */
export const AUTHENTICATOR_OPTION = {
  plat: 'plat',
  rk: 'rk',
  clientPin: 'clientPin',
  up: 'up',
  uv: 'uv',
  pinUvAuthToken: 'pinUvAuthToken',
  noMcGaPermissionsWithClientPin: 'noMcGaPermissionsWithClientPin',
  largeBlobs: 'largeBlobs',
  ep: 'ep',
  bioEnroll: 'bioEnroll',
  userVerificationMgmtPreview: 'userVerificationMgmtPreview',
  uvBioEnroll: 'uvBioEnroll',
  authnrCfg: 'authnrCfg',
  uvAcfg: 'uvAcfg',
  credMgmt: 'credMgmt',
  perCredMgmtRO: 'perCredMgmtRO',
  credentialMgmtPreview: 'credentialMgmtPreview',
  setMinPINLength: 'setMinPINLength',
  makeCredUvNotRqd: 'makeCredUvNotRqd',
  alwaysUv: 'alwaysUv',
} as const;

/** Bounds for untrusted getInfo content (generous: real keys use a fraction). */
export const GET_INFO_LIMITS = {
  maxListItems: 64,
  maxStringLength: 256,
  maxOptions: 64,
  maxBytesLength: 1024,
} as const;

export type { PublicKeyCredentialParameters };

export interface AuthenticatorInfo {
  versions: string[];
  extensions: string[];
  aaguid: Uint8Array;
  /** Only the options the key listed; use getOption() for spec defaults. */
  options: Record<string, boolean>;
  /**
   * As the key reported it (so `ctap info` and the diagnostics can show a
   * non-conforming value). Code that sizes messages uses
   * effectiveMaxMsgSize(), which raises a value below CTAP's 1024-byte
   * floor to 1024.
   */
  maxMsgSize?: number | undefined;
  pinUvAuthProtocols: number[];
  maxCredentialCountInList?: number | undefined;
  maxCredentialIdLength?: number | undefined;
  transports?: string[] | undefined;
  algorithms?: PublicKeyCredentialParameters[] | undefined;
  maxSerializedLargeBlobArray?: number | undefined;
  forcePINChange?: boolean | undefined;
  minPINLength?: number | undefined;
  firmwareVersion?: number | undefined;
  maxCredBlobLength?: number | undefined;
  maxRPIDsForSetMinPINLength?: number | undefined;
  preferredPlatformUvAttempts?: number | undefined;
  uvModality?: number | undefined;
  certifications?: Record<string, number> | undefined;
  remainingDiscoverableCredentials?: number | undefined;
  vendorPrototypeConfigCommands?: number[] | undefined;
  attestationFormats?: string[] | undefined;
  uvCountSinceLastPinEntry?: number | undefined;
  longTouchForReset?: boolean | undefined;
  encIdentifier?: Uint8Array | undefined;
  transportsForReset?: string[] | undefined;
  pinComplexityPolicy?: boolean | undefined;
  /** A byte string in CTAP 2.2 (UTF-8 URL); a text string from older drafts is kept as its UTF-8 bytes. */
  pinComplexityPolicyURL?: Uint8Array | undefined;
  maxPINLength?: number | undefined;
  encCredStoreState?: Uint8Array | undefined;
  authenticatorConfigCommands?: number[] | undefined;
  /** Members this decoder does not know, keyed as the key sent them. */
  unknownKeys: Map<CborKey, unknown>;
}

const L = GET_INFO_LIMITS;

function list<T>(r: CborMapReader, key: number, name: string, item: (v: unknown, path: string) => T): T[] | undefined {
  const arr = r.optionalArray(key, name);
  if (arr === undefined) return undefined;
  const path = r.path(key, name);
  if (arr.length > L.maxListItems) throw new CborError('CBOR_TYPE', `${arr.length} entries exceed the limit of ${L.maxListItems}`, path);
  return arr.map((v, i) => item(v, `${path}[${i}]`));
}

const text = (v: unknown, path: string): string => asText(v, path, L.maxStringLength);
const uint = (v: unknown, path: string): number => asUint(v, path);

function algorithm(v: unknown, path: string): PublicKeyCredentialParameters {
  const r = new CborMapReader(asMap(v, path), path);
  const alg = r.int('alg', 'alg');
  return { type: r.text('type', 'type', L.maxStringLength), alg };
}

function boolMap(r: CborMapReader, key: number, name: string): Record<string, boolean> {
  const raw = r.raw(key);
  if (raw === undefined) return {};
  const path = r.path(key, name);
  const m = asMap(raw, path);
  if (m.size > L.maxOptions) throw new CborError('CBOR_TYPE', `${m.size} entries exceed the limit of ${L.maxOptions}`, path);
  const out: Record<string, boolean> = {};
  for (const [k, v] of m) {
    const id = asText(k, `${path} key`, L.maxStringLength);
    out[id] = asBool(v, `${path} ${JSON.stringify(id)}`);
  }
  return out;
}

function uintMap(r: CborMapReader, key: number, name: string): Record<string, number> | undefined {
  const raw = r.raw(key);
  if (raw === undefined) return undefined;
  const path = r.path(key, name);
  const m = asMap(raw, path);
  if (m.size > L.maxOptions) throw new CborError('CBOR_TYPE', `${m.size} entries exceed the limit of ${L.maxOptions}`, path);
  const out: Record<string, number> = {};
  for (const [k, v] of m) {
    const id = asText(k, `${path} key`, L.maxStringLength);
    out[id] = asUint(v, `${path} ${JSON.stringify(id)}`);
  }
  return out;
}

/** CTAP 2.1/2.2 §6.4: maxMsgSize defaults to 1024, and every authenticator supports messages of at least 1024 bytes. */
export const MIN_MAX_MSG_SIZE = 1024;

/**
 * The maxMsgSize to size messages by: the reported value, or 1024 when it is
 * absent, not a safe integer, or below the spec's 1024-byte floor. Clamping
 * (rather than refusing the key) keeps `ctap info` and ordinary commands
 * working on such a key; every key must accept 1024-byte messages anyway.
 */
export function effectiveMaxMsgSize(info: { maxMsgSize?: number | undefined } | undefined): number {
  const m = info?.maxMsgSize;
  return m !== undefined && Number.isSafeInteger(m) && m >= MIN_MAX_MSG_SIZE ? m : MIN_MAX_MSG_SIZE;
}

/** Decode the getInfo CBOR map (already decoded from bytes by the CBOR layer). */
export function decodeGetInfo(value: unknown): AuthenticatorInfo {
  const r = CborMapReader.from(value, 'getInfo');
  const K = GET_INFO;
  const aaguid = r.bytes(K.aaguid, 'aaguid');
  if (aaguid.length !== 16) throw new CborError('CBOR_TYPE', `aaguid must be 16 bytes, got ${aaguid.length}`, r.path(K.aaguid, 'aaguid'));
  let policyUrl: Uint8Array | undefined;
  const rawUrl = r.raw(K.pinComplexityPolicyURL);
  if (typeof rawUrl === 'string') policyUrl = new TextEncoder().encode(text(rawUrl, r.path(K.pinComplexityPolicyURL, 'pinComplexityPolicyURL')));
  else if (rawUrl !== undefined) policyUrl = asBytes(rawUrl, r.path(K.pinComplexityPolicyURL, 'pinComplexityPolicyURL'), L.maxBytesLength);
  const versions = list(r, K.versions, 'versions', text);
  if (versions === undefined) throw new CborError('CBOR_MISSING_KEY', 'required member is missing', r.path(K.versions, 'versions'));
  const info: AuthenticatorInfo = {
    versions,
    extensions: list(r, K.extensions, 'extensions', text) ?? [],
    aaguid,
    options: boolMap(r, K.options, 'options'),
    maxMsgSize: r.optionalUint(K.maxMsgSize, 'maxMsgSize'),
    pinUvAuthProtocols: list(r, K.pinUvAuthProtocols, 'pinUvAuthProtocols', uint) ?? [],
    maxCredentialCountInList: r.optionalUint(K.maxCredentialCountInList, 'maxCredentialCountInList'),
    maxCredentialIdLength: r.optionalUint(K.maxCredentialIdLength, 'maxCredentialIdLength'),
    transports: list(r, K.transports, 'transports', text),
    algorithms: list(r, K.algorithms, 'algorithms', algorithm),
    maxSerializedLargeBlobArray: r.optionalUint(K.maxSerializedLargeBlobArray, 'maxSerializedLargeBlobArray'),
    forcePINChange: r.optionalBool(K.forcePINChange, 'forcePINChange'),
    minPINLength: r.optionalUint(K.minPINLength, 'minPINLength'),
    firmwareVersion: r.optionalUint(K.firmwareVersion, 'firmwareVersion'),
    maxCredBlobLength: r.optionalUint(K.maxCredBlobLength, 'maxCredBlobLength'),
    maxRPIDsForSetMinPINLength: r.optionalUint(K.maxRPIDsForSetMinPINLength, 'maxRPIDsForSetMinPINLength'),
    preferredPlatformUvAttempts: r.optionalUint(K.preferredPlatformUvAttempts, 'preferredPlatformUvAttempts'),
    uvModality: r.optionalUint(K.uvModality, 'uvModality'),
    certifications: uintMap(r, K.certifications, 'certifications'),
    remainingDiscoverableCredentials: r.optionalUint(K.remainingDiscoverableCredentials, 'remainingDiscoverableCredentials'),
    vendorPrototypeConfigCommands: list(r, K.vendorPrototypeConfigCommands, 'vendorPrototypeConfigCommands', uint),
    attestationFormats: list(r, K.attestationFormats, 'attestationFormats', text),
    uvCountSinceLastPinEntry: r.optionalUint(K.uvCountSinceLastPinEntry, 'uvCountSinceLastPinEntry'),
    longTouchForReset: r.optionalBool(K.longTouchForReset, 'longTouchForReset'),
    encIdentifier: r.optionalBytes(K.encIdentifier, 'encIdentifier', L.maxBytesLength),
    transportsForReset: list(r, K.transportsForReset, 'transportsForReset', text),
    pinComplexityPolicy: r.optionalBool(K.pinComplexityPolicy, 'pinComplexityPolicy'),
    pinComplexityPolicyURL: policyUrl,
    maxPINLength: r.optionalUint(K.maxPINLength, 'maxPINLength'),
    encCredStoreState: r.optionalBytes(K.encCredStoreState, 'encCredStoreState', L.maxBytesLength),
    authenticatorConfigCommands: list(r, K.authenticatorConfigCommands, 'authenticatorConfigCommands', uint),
    unknownKeys: r.unknownEntries(Object.values(GET_INFO)) as Map<CborKey, unknown>,
  };
  return info;
}

/** Spec defaults for options a key leaves out (CTAP 2.2 §6.4): up true; plat, rk false; others absent = not supported. */
const OPTION_DEFAULTS: Readonly<Record<string, boolean>> = { up: true, plat: false, rk: false };

/**
 * An option's value with the spec's defaults applied. `undefined` means the
 * key does not support the feature at all (e.g. clientPin absent = no PIN
 * support; clientPin false = supported but no PIN set).
 */
export function getOption(info: AuthenticatorInfo, name: string): boolean | undefined {
  return Object.hasOwn(info.options, name) ? info.options[name] : OPTION_DEFAULTS[name];
}

/** True when the option is present (or defaulted) and true. */
export function supportsOption(info: AuthenticatorInfo, name: string): boolean {
  return getOption(info, name) === true;
}

/** True when the option is listed at all (either value): the feature exists on the key. */
export function hasOption(info: AuthenticatorInfo, name: string): boolean {
  return Object.hasOwn(info.options, name);
}

export function hasVersion(info: AuthenticatorInfo, version: string): boolean {
  return info.versions.includes(version);
}

/** Speaks CTAP2 at all (any FIDO_2_x version). */
export function isCtap2(info: AuthenticatorInfo): boolean {
  return info.versions.some((v) => v.startsWith('FIDO_2_'));
}

/** CTAP 2.1 final or later (FIDO_2_1, FIDO_2_2, ...); FIDO_2_1_PRE alone does not count. */
export function isCtap21(info: AuthenticatorInfo): boolean {
  return info.versions.some((v) => /^FIDO_2_([1-9]\d*)$/.test(v));
}

/** Advertises the CTAP 2.1 preview (FIDO_2_1_PRE): preview commands 0x40/0x41. */
export function isCtap21Pre(info: AuthenticatorInfo): boolean {
  return hasVersion(info, CTAP_VERSION.FIDO_2_1_PRE);
}

/** CTAP 2.2 or later. */
export function isCtap22(info: AuthenticatorInfo): boolean {
  return info.versions.some((v) => {
    const m = /^FIDO_2_(\d+)$/.exec(v);
    return m !== null && Number(m[1]) >= 2;
  });
}

export function supportsU2f(info: AuthenticatorInfo): boolean {
  return hasVersion(info, CTAP_VERSION.U2F_V2);
}

export function supportsExtension(info: AuthenticatorInfo, name: string): boolean {
  return info.extensions.includes(name);
}

/** The key's first-listed PIN/UV auth protocol we support (it lists them in preference order), or undefined. */
export function preferredPinUvAuthProtocol(info: AuthenticatorInfo, supported: readonly number[] = [2, 1]): number | undefined {
  const listed = info.pinUvAuthProtocols.length ? info.pinUvAuthProtocols : supportsOption(info, 'clientPin') || hasOption(info, 'clientPin') ? [1] : [];
  return listed.find((p) => supported.includes(p));
}

/** Whether the key supports the given COSE algorithm (keys without 0x0a support ES256 only, CTAP 2.0). */
export function supportsAlgorithm(info: AuthenticatorInfo, alg: number): boolean {
  if (!info.algorithms) return alg === -7;
  return info.algorithms.some((a) => a.type === 'public-key' && a.alg === alg);
}
