/**
 * JSON-ready descriptions of CTAP2 requests and responses, authenticatorData,
 * attestation objects and COSE keys, with spec member names and byte strings
 * as lowercase hex (what `ctap decode ... --json` and `ctap info --json`
 * print). Unknown keys are kept under `unknownKeys`. Descriptions are for
 * people and logs: where the strict decoders would reject (a non-canonical
 * COSE key, too-short authData) the description says so instead of failing.
 */
import { CborError, asMap, decodeCbor, type Decoded } from '../cbor/index.js';
import { toHex } from '../util/bytes.js';
import { flagsOf, parseAuthenticatorData, type AuthenticatorData } from './authenticator-data.js';
import { CTAP2_CMD, CTAP2_COMMAND_NAMES } from './commands.js';
import { coseAlgName, coseCrvName, coseKeyToSpki, coseKtyName, decodeCoseKey, type CoseKey } from './cose-key.js';
import { decodeAttestationObject } from './attestation.js';
import { decodeGetInfo, type AuthenticatorInfo } from './get-info.js';
import { jsonKey, toJson, type JsonValue } from './json.js';
import { statusName } from './status.js';
import { X509Certificate } from 'node:crypto';

export type JsonObject = { [key: string]: JsonValue };

/** The command names `ctap decode ctap2 --command NAME` accepts (the vectors' names). */
export const CTAP2_DECODE_COMMANDS = [
  'getInfo',
  'makeCredential',
  'getAssertion',
  'getNextAssertion',
  'clientPin',
  'credentialManagement',
  'bioEnrollment',
  'largeBlobs',
  'config',
  'selection',
  'reset',
] as const;
export type Ctap2DecodeCommand = (typeof CTAP2_DECODE_COMMANDS)[number];

/** Response member names per command (CTAP 2.2 §6). */
const RESPONSE_NAMES: Readonly<Record<string, Readonly<Record<number, string>>>> = {
  makeCredential: { 1: 'fmt', 2: 'authData', 3: 'attStmt', 4: 'epAtt', 5: 'largeBlobKey', 6: 'unsignedExtensionOutputs' },
  getAssertion: {
    1: 'credential',
    2: 'authData',
    3: 'signature',
    4: 'user',
    5: 'numberOfCredentials',
    6: 'userSelected',
    7: 'largeBlobKey',
    8: 'unsignedExtensionOutputs',
    9: 'epAtt',
    10: 'attStmt',
  },
  clientPin: { 1: 'keyAgreement', 2: 'pinUvAuthToken', 3: 'pinRetries', 4: 'powerCycleState', 5: 'uvRetries' },
  credentialManagement: {
    1: 'existingResidentCredentialsCount',
    2: 'maxPossibleRemainingResidentCredentialsCount',
    3: 'rp',
    4: 'rpIDHash',
    5: 'totalRPs',
    6: 'user',
    7: 'credentialID',
    8: 'publicKey',
    9: 'totalCredentials',
    10: 'credProtect',
    11: 'largeBlobKey',
    12: 'thirdPartyPayment',
  },
  bioEnrollment: {
    1: 'modality',
    2: 'fingerprintKind',
    3: 'maxCaptureSamplesRequiredForEnroll',
    4: 'templateId',
    5: 'lastEnrollSampleStatus',
    6: 'remainingSamples',
    7: 'templateInfos',
    8: 'maxTemplateFriendlyName',
  },
  largeBlobs: { 1: 'config' },
};

/** Request parameter names per command. */
const REQUEST_NAMES: Readonly<Record<string, Readonly<Record<number, string>>>> = {
  makeCredential: {
    1: 'clientDataHash',
    2: 'rp',
    3: 'user',
    4: 'pubKeyCredParams',
    5: 'excludeList',
    6: 'extensions',
    7: 'options',
    8: 'pinUvAuthParam',
    9: 'pinUvAuthProtocol',
    10: 'enterpriseAttestation',
    11: 'attestationFormatsPreference',
  },
  getAssertion: {
    1: 'rpId',
    2: 'clientDataHash',
    3: 'allowList',
    4: 'extensions',
    5: 'options',
    6: 'pinUvAuthParam',
    7: 'pinUvAuthProtocol',
    8: 'enterpriseAttestation',
    9: 'attestationFormatsPreference',
  },
  clientPin: { 1: 'pinUvAuthProtocol', 2: 'subCommand', 3: 'keyAgreement', 4: 'pinUvAuthParam', 5: 'newPinEnc', 6: 'pinHashEnc', 9: 'permissions', 10: 'rpId' },
  credentialManagement: { 1: 'subCommand', 2: 'subCommandParams', 3: 'pinUvAuthProtocol', 4: 'pinUvAuthParam' },
  bioEnrollment: { 1: 'modality', 2: 'subCommand', 3: 'subCommandParams', 4: 'pinUvAuthProtocol', 5: 'pinUvAuthParam', 6: 'getModality' },
  largeBlobs: { 1: 'get', 2: 'set', 3: 'offset', 4: 'length', 5: 'pinUvAuthParam', 6: 'pinUvAuthProtocol' },
  config: { 1: 'subCommand', 2: 'subCommandParams', 3: 'pinUvAuthProtocol', 4: 'pinUvAuthParam' },
};

function normalizeCommand(command: string): string {
  if (command === 'getNextAssertion') return 'getAssertion';
  if (command === 'credentialManagementPreview') return 'credentialManagement';
  if (command === 'bioEnrollmentPreview') return 'bioEnrollment';
  return command;
}

function canonicalOf(nonCanonical: readonly string[]): JsonObject {
  return nonCanonical.length ? { ctap2_canonical: false, non_canonical: [...nonCanonical] } : { ctap2_canonical: true };
}

/** A decoded getInfo with spec member names (what `ctap info --json` prints under its getInfo member). */
export function describeGetInfo(info: AuthenticatorInfo): JsonObject {
  return toJson(info) as JsonObject;
}

/** A COSE key as the vectors summarise it: raw map, kty/alg/crv with names, coordinates, SPKI DER. */
export function describeCoseKeyValue(key: CoseKey): JsonObject {
  const out: JsonObject = { raw: toJson(key.raw), kty: key.kty };
  const kty = coseKtyName(key.kty);
  if (kty) out['kty_name'] = kty;
  if (key.alg !== undefined) {
    out['alg'] = key.alg;
    const n = coseAlgName(key.alg);
    if (n) out['alg_name'] = n;
  }
  if (key.crv !== undefined) {
    out['crv'] = key.crv;
    const n = coseCrvName(key.crv);
    if (n) out['crv_name'] = n;
  }
  for (const f of ['x', 'y', 'n', 'e'] as const) if (key[f]) out[f] = toHex(key[f]!);
  const spki = coseKeyToSpki(key);
  if (spki) out['spki_der'] = toHex(spki);
  return out;
}

/** Describe COSE_Key bytes. */
export function describeCoseKey(bytes: Uint8Array): JsonObject {
  const d = decodeCbor(bytes, { context: 'COSE_Key' });
  return { ...describeCoseKeyValue(decodeCoseKey(d.value)), canonical: canonicalOf(d.nonCanonical) };
}

function describeParsedAuthData(a: AuthenticatorData): JsonObject {
  const out: JsonObject = {
    length: a.bytes.length,
    rpIdHash: toHex(a.rpIdHash),
    flags: a.flags,
    flags_decoded: flagsOf(a.flags),
    signCount: a.signCount,
  };
  const acd = a.attestedCredentialData;
  if (acd) {
    const keyWarnings = a.nonCanonical.filter((w) => w.startsWith('credentialPublicKey ')).map((w) => w.slice('credentialPublicKey '.length));
    out['attestedCredentialData'] = {
      aaguid: toHex(acd.aaguid),
      credentialIdLength: acd.credentialId.length,
      credentialId: toHex(acd.credentialId),
      credentialPublicKey: { ...describeCoseKeyValue(acd.credentialPublicKey), canonical: canonicalOf(keyWarnings) },
      credentialPublicKeyCbor: toHex(acd.credentialPublicKeyBytes),
    };
  }
  if (a.extensions && a.extensionsBytes) {
    const extWarnings = a.nonCanonical.filter((w) => w.startsWith('extensions ')).map((w) => w.slice('extensions '.length));
    out['extensions'] = toJson(a.extensions);
    out['extensionsCbor'] = toHex(a.extensionsBytes);
    out['extensions_canonical'] = canonicalOf(extWarnings);
  }
  return out;
}

/**
 * Describe authenticatorData. A COSE key with out-of-order map keys (which
 * the strict parser rejects) is described with `canonical.ctap2_canonical`
 * false; other faults throw (CtapFormatError / CborError).
 */
export function describeAuthenticatorData(bytes: Uint8Array): JsonObject {
  return describeParsedAuthData(parseAuthenticatorData(bytes, { allowNonCanonicalKeyOrder: true }));
}

/** authData inside a response: a fault becomes `{length, error}` so the rest of the reply is still shown. */
function describeAuthDataLenient(bytes: Uint8Array): JsonObject {
  try {
    return describeAuthenticatorData(bytes);
  } catch (e) {
    return { length: bytes.length, error: (e as Error).message };
  }
}

function rfc4514(name: string | undefined): string {
  return (name ?? '').split('\n').filter(Boolean).reverse().join(',');
}

function certSummary(der: Uint8Array): JsonObject {
  const out: JsonObject = { der: toHex(der) };
  try {
    const c = new X509Certificate(der);
    // RFC 4514 order (most specific first), as python-fido2 / cryptography print it; an empty name is ''
    out['subject'] = rfc4514(c.subject);
    out['issuer'] = rfc4514(c.issuer);
    out['serial'] = c.serialNumber.toLowerCase().replace(/^0+(?=.)/, '');
  } catch {
    out['error'] = 'not a valid X.509 certificate';
  }
  return out;
}

/** An attestation statement: raw map, wire key order, alg with its name, sig, x5c with subject/issuer/serial. */
export function describeAttStmt(attStmt: Map<unknown, unknown>): JsonObject {
  const out: JsonObject = { raw: toJson(attStmt), key_order: [...attStmt.keys()].map(jsonKey) };
  const alg = attStmt.get('alg');
  if (typeof alg === 'number') {
    out['alg'] = alg;
    const n = coseAlgName(alg);
    if (n) out['alg_name'] = n;
  }
  const sig = attStmt.get('sig');
  if (sig instanceof Uint8Array) out['sig'] = toHex(sig);
  const x5c = attStmt.get('x5c');
  if (Array.isArray(x5c)) out['x5c'] = x5c.map((c) => (c instanceof Uint8Array ? certSummary(c) : toJson(c)));
  return out;
}

/** Describe a WebAuthn attestationObject (text keys fmt / attStmt / authData). */
export function describeAttestationObject(bytes: Uint8Array): JsonObject {
  const att = decodeAttestationObject(bytes, { allowNonCanonicalKeyOrder: true });
  const d = decodeCbor(bytes);
  const top = asMap(d.value, 'attestationObject');
  return {
    cbor_canonical: canonicalOf(att.nonCanonical),
    top_level_key_order: [...top.keys()].map(jsonKey),
    fmt: att.fmt,
    attStmt: describeAttStmt(att.attStmt),
    authData: toHex(att.authData.bytes),
    authData_decoded: describeParsedAuthData(att.authData),
  };
}

function nameMap(value: unknown, names: Readonly<Record<number, string>>, context: string): { named: JsonObject; entries: Map<string, unknown> } {
  const m = asMap(value, context);
  const named: JsonObject = {};
  const entries = new Map<string, unknown>();
  const unknown: JsonObject = {};
  for (const [k, v] of m) {
    const name = typeof k === 'number' ? names[k] : undefined;
    if (name) {
      named[name] = toJson(v);
      entries.set(name, v);
    } else unknown[jsonKey(k)] = toJson(v);
  }
  if (Object.keys(unknown).length) named['unknownKeys'] = unknown;
  return { named, entries };
}

/** Describe a decoded response map (no status byte) for `command`. */
export function describeCtap2ResponseValue(command: string, value: unknown): JsonObject {
  const cmd = normalizeCommand(command);
  if (cmd === 'getInfo') return describeGetInfo(decodeGetInfo(value));
  const names = RESPONSE_NAMES[cmd];
  if (!names) return nameMap(value, {}, `${command} response`).named;
  const { named, entries } = nameMap(value, names, `${command} response`);
  if (cmd === 'makeCredential' || cmd === 'getAssertion') {
    const ad = entries.get('authData');
    const out: JsonObject = {};
    // authData_decoded right after authData, the order the vectors print
    for (const [k, v] of Object.entries(named)) {
      out[k] = v;
      if (k === 'authData' && ad instanceof Uint8Array) out['authData_decoded'] = describeAuthDataLenient(ad);
      if (k === 'attStmt' && entries.get('attStmt') instanceof Map) out[k] = describeAttStmt(entries.get('attStmt') as Map<unknown, unknown>);
    }
    if (cmd === 'getAssertion') {
      out['user'] ??= null;
      out['numberOfCredentials'] ??= null;
    }
    return out;
  }
  if (cmd === 'clientPin' && entries.get('keyAgreement') instanceof Map) {
    try {
      named['keyAgreement_cose'] = describeCoseKeyValue(decodeCoseKey(entries.get('keyAgreement'), 'clientPin keyAgreement'));
    } catch (e) {
      named['keyAgreement_cose'] = { error: (e as Error).message };
    }
  }
  return named;
}

export interface Ctap2ResponseDescription {
  command: string;
  framing: 'status+cbor' | 'cbor';
  /** null when the input was the CBOR body only. */
  status: number | null;
  statusName: string | null;
  /** The response with spec member names; null for an empty body or an error status. */
  decoded: JsonObject | null;
  /** Where the CBOR departs from canonical form (accepted, reported). */
  nonCanonical: string[];
}

export interface DescribeResponseOptions {
  /**
   * true: the first byte is the CTAP status; false: CBOR only; undefined:
   * decide from the first byte (a CBOR map starts 0xa0..0xbf, a range no
   * status code uses).
   */
  withStatus?: boolean | undefined;
}

/**
 * Describe a CTAP2 response, with or without its leading status byte.
 * Throws CborError for malformed CBOR and TypeError for an unknown command.
 */
export function describeCtap2Response(command: string, bytes: Uint8Array, opts: DescribeResponseOptions = {}): Ctap2ResponseDescription {
  if (!(CTAP2_DECODE_COMMANDS as readonly string[]).includes(command) && !(command in CTAP2_CMD)) {
    throw new TypeError(`unknown CTAP2 command "${command}" (one of ${CTAP2_DECODE_COMMANDS.join(', ')})`);
  }
  const withStatus = opts.withStatus ?? !(bytes.length > 0 && bytes[0]! >= 0xa0 && bytes[0]! <= 0xbf);
  let body = bytes;
  let status: number | null = null;
  if (withStatus) {
    if (bytes.length === 0) throw new CborError('CBOR_MALFORMED', 'empty response: no status byte', `${command} response`);
    status = bytes[0]!;
    body = bytes.subarray(1);
  }
  const base = { command, framing: withStatus ? ('status+cbor' as const) : ('cbor' as const), status, statusName: status === null ? null : statusName(status) };
  if ((status !== null && status !== 0) || body.length === 0) return { ...base, decoded: null, nonCanonical: [] };
  const d: Decoded = decodeCbor(body, { context: `${command} response` });
  return { ...base, decoded: describeCtap2ResponseValue(command, d.value), nonCanonical: d.nonCanonical };
}

export interface Ctap2RequestDescription {
  command: string;
  framing: 'command+cbor' | 'cbor';
  commandByte: number | null;
  decoded: JsonObject | null;
  nonCanonical: string[];
}

/**
 * Describe a CTAP2 request: the parameter map, with or without the leading
 * command byte. `command` may be omitted when the command byte is present.
 */
export function describeCtap2Request(command: string | undefined, bytes: Uint8Array, opts: { withCommand?: boolean } = {}): Ctap2RequestDescription {
  const withCommand = opts.withCommand ?? !(bytes.length > 0 && bytes[0]! >= 0xa0 && bytes[0]! <= 0xbf);
  let body = bytes;
  let commandByte: number | null = null;
  let name = command;
  if (withCommand) {
    if (bytes.length === 0) throw new CborError('CBOR_MALFORMED', 'empty request: no command byte', 'request');
    commandByte = bytes[0]!;
    body = bytes.subarray(1);
    const fromByte = CTAP2_COMMAND_NAMES[commandByte];
    if (name && fromByte && normalizeCommand(fromByte) !== normalizeCommand(name)) {
      throw new TypeError(`the command byte 0x${commandByte.toString(16).padStart(2, '0')} is ${fromByte}, not ${name}`);
    }
    name ??= fromByte ?? `0x${commandByte.toString(16).padStart(2, '0')}`;
  }
  if (!name) throw new TypeError('name the command (the input has no command byte)');
  const framing = withCommand ? ('command+cbor' as const) : ('cbor' as const);
  if (body.length === 0) return { command: name, framing, commandByte, decoded: null, nonCanonical: [] };
  const d = decodeCbor(body, { context: `${name} request` });
  const { named } = nameMap(d.value, REQUEST_NAMES[normalizeCommand(name)] ?? {}, `${name} request`);
  return { command: name, framing, commandByte, decoded: named, nonCanonical: d.nonCanonical };
}
