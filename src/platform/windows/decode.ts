/**
 * webauthn.h result structs → our result shapes, read through a MemoryReader
 * so the same code runs over real DLL memory (koffi) and over fake memory in
 * tests. Every struct is read only up to its own dwVersion; lengths are
 * bounded so a corrupt struct cannot make us copy gigabytes.
 */
import {
  TRANSPORT_NAMES,
  WEBAUTHN_CRED_LARGE_BLOB_STATUS,
  WEBAUTHN_EXTENSIONS_IDENTIFIER,
} from './constants.js';
import {
  layoutOf,
  WEBAUTHN_ASSERTION,
  WEBAUTHN_CRED_BLOB_EXTENSION,
  WEBAUTHN_CREDENTIAL_ATTESTATION,
  WEBAUTHN_EXTENSION,
  WEBAUTHN_HMAC_SECRET_SALT,
  type StructLayout,
} from './layout.js';
import type {
  AuthenticatorTransportName,
  DllAssertionResult,
  DllAttestationResult,
  DllCreationExtensionResults,
  DllRequestExtensionResults,
} from './types.js';
import { WebAuthnDllError } from './errors.js';

/** Read access to native memory at absolute addresses. */
export interface MemoryReader {
  readonly pointerSize: 4 | 8;
  u32(addr: bigint): number;
  i32(addr: bigint): number;
  ptr(addr: bigint): bigint;
  bytes(addr: bigint, len: number): Uint8Array;
  /** NUL-terminated UTF-16LE, at most `maxChars` code units. */
  utf16z(addr: bigint, maxChars: number): string;
}

/** Largest byte field accepted from the DLL (attestation objects with x5c chains stay far below). */
export const MAX_FIELD_BYTES = 1 << 20;
const MAX_EXTENSIONS = 64;
const MAX_STRING_CHARS = 4096;

class StructReader {
  readonly mem: MemoryReader;
  readonly layout: StructLayout;
  readonly addr: bigint;
  readonly version: number;
  constructor(mem: MemoryReader, layout: StructLayout, addr: bigint, version: number) {
    this.mem = mem;
    this.layout = layout;
    this.addr = addr;
    this.version = version;
  }
  has(field: string): boolean {
    return this.layout.field(field).since <= this.version;
  }
  #at(field: string): bigint {
    const f = this.layout.field(field);
    if (f.since > this.version) throw new RangeError(`${this.layout.name}.${field} is not in struct version ${this.version}`);
    return this.addr + BigInt(f.offset);
  }
  u32(field: string): number {
    return this.mem.u32(this.#at(field));
  }
  bool(field: string): boolean {
    return this.mem.i32(this.#at(field)) !== 0;
  }
  ptr(field: string): bigint {
    return this.mem.ptr(this.#at(field));
  }
  /** cbX/pbX pair; empty when the count is 0 or the pointer NULL. */
  blob(countField: string, ptrField: string): Uint8Array {
    const n = this.u32(countField);
    const p = this.ptr(ptrField);
    if (n === 0 || p === 0n) return new Uint8Array(0);
    if (n > MAX_FIELD_BYTES) throw new WebAuthnDllError('UnknownError', `webauthn.dll returned ${this.layout.name}.${countField} = ${n}, above the ${MAX_FIELD_BYTES}-byte limit`);
    return this.mem.bytes(p, n);
  }
  wstr(field: string): string | undefined {
    const p = this.ptr(field);
    return p === 0n ? undefined : this.mem.utf16z(p, MAX_STRING_CHARS);
  }
  sub(field: string): StructReader {
    const f = this.layout.field(field);
    if (typeof f.type === 'string') throw new TypeError(`${field} is not a struct`);
    return new StructReader(this.mem, f.type, this.#at(field), Number.MAX_SAFE_INTEGER);
  }
}

function open(mem: MemoryReader, def: typeof WEBAUTHN_ASSERTION, addr: bigint): StructReader {
  if (addr === 0n) throw new WebAuthnDllError('UnknownError', `webauthn.dll reported success but returned no ${def.name}`);
  const layout = layoutOf(def, mem.pointerSize);
  const version = mem.u32(addr);
  if (version < 1) throw new WebAuthnDllError('UnknownError', `webauthn.dll returned ${def.name} with dwVersion ${version}`);
  // Newer than we know: read the fields we know (all of them are in it).
  return new StructReader(mem, layout, addr, Math.min(version, layout.maxVersion));
}

export function transportNames(bits: number): AuthenticatorTransportName[] {
  return TRANSPORT_NAMES.filter(([bit]) => (bits & bit) !== 0).map(([, name]) => name);
}

interface ExtensionOut {
  id: string;
  size: number;
  data: bigint;
}

function readExtensions(r: StructReader): ExtensionOut[] {
  const exts = r.sub('Extensions');
  const n = exts.u32('cExtensions');
  const first = exts.ptr('pExtensions');
  if (n === 0 || first === 0n) return [];
  if (n > MAX_EXTENSIONS) throw new WebAuthnDllError('UnknownError', `webauthn.dll returned ${n} extensions`);
  const l = layoutOf(WEBAUTHN_EXTENSION, r.mem.pointerSize);
  const out: ExtensionOut[] = [];
  for (let i = 0; i < n; i++) {
    const e = new StructReader(r.mem, l, first + BigInt(i * l.size), 1);
    out.push({ id: e.wstr('pwszExtensionIdentifier') ?? '', size: e.u32('cbExtension'), data: e.ptr('pvExtension') });
  }
  return out;
}

function extU32(mem: MemoryReader, e: ExtensionOut): number | undefined {
  return e.size >= 4 && e.data !== 0n ? mem.u32(e.data) : undefined;
}

function hmacOutputs(mem: MemoryReader, addr: bigint): { first: Uint8Array; second?: Uint8Array } | undefined {
  if (addr === 0n) return undefined;
  const s = new StructReader(mem, layoutOf(WEBAUTHN_HMAC_SECRET_SALT, mem.pointerSize), addr, 1);
  const first = s.blob('cbFirst', 'pbFirst');
  if (first.length === 0) return undefined;
  const second = s.blob('cbSecond', 'pbSecond');
  return second.length > 0 ? { first, second } : { first };
}

/** Which extensions the caller asked for: WebAuthn reports outputs only for those. */
export interface RequestedCreateExtensions {
  credProps?: boolean;
  credProtect?: boolean;
  credBlob?: boolean;
  minPinLength?: boolean;
  largeBlob?: boolean;
  prf?: boolean;
  hmacCreateSecret?: boolean;
}

export interface RequestedGetExtensions {
  appid?: boolean;
  getCredBlob?: boolean;
  largeBlobRead?: boolean;
  largeBlobWrite?: boolean;
  prf?: boolean;
  hmacGetSecret?: boolean;
}

export function decodeCredentialAttestation(
  mem: MemoryReader,
  addr: bigint,
  ctx: { apiVersion: number; clientDataJSON: Uint8Array; requested: RequestedCreateExtensions; ignoredExtensions: string[] },
): DllAttestationResult {
  const r = open(mem, WEBAUTHN_CREDENTIAL_ATTESTATION, addr);
  const attestationObject = r.blob('cbAttestationObject', 'pbAttestationObject');
  const authenticatorData = r.blob('cbAuthenticatorData', 'pbAuthenticatorData');
  const credentialId = r.blob('cbCredentialId', 'pbCredentialId');
  if (attestationObject.length === 0 || authenticatorData.length === 0 || credentialId.length === 0) {
    throw new WebAuthnDllError('UnknownError', 'webauthn.dll returned a credential without attestation object, authenticator data or credential id');
  }
  const fmt = r.wstr('pwszFormatType') ?? 'none';
  const req = ctx.requested;
  const ext: DllCreationExtensionResults = {};
  if (r.has('Extensions')) {
    for (const e of readExtensions(r)) {
      if (e.id === WEBAUTHN_EXTENSIONS_IDENTIFIER.HMAC_SECRET && req.hmacCreateSecret) ext.hmacCreateSecret = extU32(mem, e) === 1;
      else if (e.id === WEBAUTHN_EXTENSIONS_IDENTIFIER.CRED_PROTECT && req.credProtect) {
        const v = extU32(mem, e);
        if (v !== undefined) ext.credProtect = v;
      } else if (e.id === WEBAUTHN_EXTENSIONS_IDENTIFIER.CRED_BLOB && req.credBlob) ext.credBlob = extU32(mem, e) === 1;
      else if (e.id === WEBAUTHN_EXTENSIONS_IDENTIFIER.MIN_PIN_LENGTH && req.minPinLength) {
        const v = extU32(mem, e);
        if (v !== undefined) ext.minPinLength = v;
      }
    }
  }
  let epAtt: boolean | undefined;
  if (r.has('bResidentKey')) {
    epAtt = r.bool('bEpAtt');
    if (req.credProps) ext.credProps = { rk: r.bool('bResidentKey') };
    if (req.largeBlob) ext.largeBlob = { supported: r.bool('bLargeBlobSupported') };
  }
  if (req.prf && r.has('bPrfEnabled')) {
    const prf: NonNullable<DllCreationExtensionResults['prf']> = { enabled: r.bool('bPrfEnabled') };
    if (r.has('pHmacSecret')) {
      const results = hmacOutputs(mem, r.ptr('pHmacSecret'));
      if (results) prf.results = results;
    }
    ext.prf = prf;
  }
  const usedTransport = r.has('dwUsedTransport') ? transportNames(r.u32('dwUsedTransport'))[0] : undefined;
  let transports: AuthenticatorTransportName[] = [];
  if (r.has('dwTransports')) transports = transportNames(r.u32('dwTransports'));
  if (transports.length === 0 && usedTransport !== undefined) transports = [usedTransport];
  return {
    credentialId,
    clientDataJSON: ctx.clientDataJSON,
    attestationObject,
    authenticatorData,
    fmt,
    transports,
    usedTransport,
    authenticatorAttachment: usedTransport === 'internal' ? 'platform' : 'cross-platform',
    clientExtensionResults: ext,
    epAtt,
    apiVersion: ctx.apiVersion,
    structVersion: r.version,
    ignoredExtensions: ctx.ignoredExtensions,
  };
}

export function decodeAssertion(
  mem: MemoryReader,
  addr: bigint,
  ctx: { apiVersion: number; clientDataJSON: Uint8Array; requested: RequestedGetExtensions; appIdUsed: boolean | undefined; ignoredExtensions: string[] },
): DllAssertionResult {
  const r = open(mem, WEBAUTHN_ASSERTION, addr);
  const authenticatorData = r.blob('cbAuthenticatorData', 'pbAuthenticatorData');
  const signature = r.blob('cbSignature', 'pbSignature');
  const credentialId = r.sub('Credential').blob('cbId', 'pbId');
  if (authenticatorData.length === 0 || signature.length === 0 || credentialId.length === 0) {
    throw new WebAuthnDllError('UnknownError', 'webauthn.dll returned an assertion without authenticator data, signature or credential id');
  }
  const user = r.blob('cbUserId', 'pbUserId');
  const req = ctx.requested;
  const ext: DllRequestExtensionResults = {};
  if (req.appid) ext.appid = ctx.appIdUsed === true;
  if (r.has('Extensions')) {
    for (const e of readExtensions(r)) {
      if (e.id === WEBAUTHN_EXTENSIONS_IDENTIFIER.CRED_BLOB && req.getCredBlob && e.data !== 0n) {
        const b = new StructReader(mem, layoutOf(WEBAUTHN_CRED_BLOB_EXTENSION, mem.pointerSize), e.data, 1);
        ext.getCredBlob = b.blob('cbCredBlob', 'pbCredBlob');
      }
    }
    // credBlob requested but not returned: WebAuthn reports an empty buffer.
    if (req.getCredBlob && ext.getCredBlob === undefined) ext.getCredBlob = new Uint8Array(0);
    if (req.largeBlobRead || req.largeBlobWrite) {
      const ok = r.u32('dwCredLargeBlobStatus') === WEBAUTHN_CRED_LARGE_BLOB_STATUS.SUCCESS;
      if (req.largeBlobWrite) ext.largeBlob = { written: ok };
      else {
        const blob = r.blob('cbCredLargeBlob', 'pbCredLargeBlob');
        ext.largeBlob = ok ? { blob } : {};
      }
    }
  }
  if ((req.prf || req.hmacGetSecret) && r.has('pHmacSecret')) {
    const out = hmacOutputs(mem, r.ptr('pHmacSecret'));
    if (req.prf) ext.prf = out ? { results: out } : {};
    else if (out) ext.hmacGetSecret = out.second ? { output1: out.first, output2: out.second } : { output1: out.first };
  }
  const usedTransport = r.has('dwUsedTransport') ? transportNames(r.u32('dwUsedTransport'))[0] : undefined;
  return {
    credentialId,
    clientDataJSON: ctx.clientDataJSON,
    authenticatorData,
    signature,
    userHandle: user.length > 0 ? user : null,
    usedTransport,
    authenticatorAttachment: usedTransport === 'internal' ? 'platform' : 'cross-platform',
    clientExtensionResults: ext,
    apiVersion: ctx.apiVersion,
    structVersion: r.version,
    ignoredExtensions: ctx.ignoredExtensions,
  };
}
