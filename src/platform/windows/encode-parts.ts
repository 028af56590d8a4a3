/**
 * Building blocks shared by the MakeCredential and GetAssertion encoders:
 * scalar mappings and the small structs both calls carry, laid out in an Arena.
 */
import type { Arena, StructWriter } from './arena.js';
import {
  WEBAUTHN_AUTHENTICATOR_ATTACHMENT,
  WEBAUTHN_CREDENTIAL_TYPE_PUBLIC_KEY,
  WEBAUTHN_CTAP_TRANSPORT,
  WEBAUTHN_HASH_ALGORITHM_SHA_256,
  WEBAUTHN_USER_VERIFICATION,
  WEBAUTHN_USER_VERIFICATION_REQUIREMENT,
} from './constants.js';
import {
  layoutOf,
  type StructDef,
  WEBAUTHN_CLIENT_DATA,
  WEBAUTHN_CREDENTIAL_EX,
  WEBAUTHN_CREDENTIAL_LIST,
  WEBAUTHN_EXTENSION,
  WEBAUTHN_HMAC_SECRET_SALT,
} from './layout.js';
import type { BufferSourceLike, DllCredentialDescriptor, PrfValues, UserVerificationRequirement } from './types.js';

export function bytesOf(b: BufferSourceLike): Uint8Array {
  if (b instanceof Uint8Array) return b;
  if (ArrayBuffer.isView(b)) return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
  return new Uint8Array(b);
}

const UV: Readonly<Record<UserVerificationRequirement, number>> = {
  required: WEBAUTHN_USER_VERIFICATION_REQUIREMENT.REQUIRED,
  preferred: WEBAUTHN_USER_VERIFICATION_REQUIREMENT.PREFERRED,
  discouraged: WEBAUTHN_USER_VERIFICATION_REQUIREMENT.DISCOURAGED,
};

/** WebAuthn's default is "preferred"; an unknown value is treated as the default (WebAuthn §5.4.6). */
export function uvRequirement(uv: string | undefined): number {
  return UV[uv as UserVerificationRequirement] ?? WEBAUTHN_USER_VERIFICATION_REQUIREMENT.PREFERRED;
}

const TRANSPORT_BITS: Readonly<Record<string, number>> = {
  usb: WEBAUTHN_CTAP_TRANSPORT.USB,
  nfc: WEBAUTHN_CTAP_TRANSPORT.NFC,
  ble: WEBAUTHN_CTAP_TRANSPORT.BLE,
  'smart-card': WEBAUTHN_CTAP_TRANSPORT.SMART_CARD,
  hybrid: WEBAUTHN_CTAP_TRANSPORT.HYBRID,
  internal: WEBAUTHN_CTAP_TRANSPORT.INTERNAL,
};

/** AuthenticatorTransport strings → WEBAUTHN_CTAP_TRANSPORT_* bits; 0 = no restriction. Unknown strings are ignored (WebAuthn §5.8.4). */
export function transportBits(transports: readonly string[] | undefined): number {
  let bits = 0;
  for (const t of transports ?? []) bits |= TRANSPORT_BITS[t] ?? 0;
  return bits;
}

export const CRED_PROTECT: Readonly<Record<string, number>> = {
  userVerificationOptional: WEBAUTHN_USER_VERIFICATION.OPTIONAL,
  userVerificationOptionalWithCredentialIDList: WEBAUTHN_USER_VERIFICATION.OPTIONAL_WITH_CREDENTIAL_ID_LIST,
  userVerificationRequired: WEBAUTHN_USER_VERIFICATION.REQUIRED,
};

/** Arena offsets of what a call passes, plus what it needs to read back. */

export function clientDataStruct(arena: Arena, json: Uint8Array): number {
  const l = layoutOf(WEBAUTHN_CLIENT_DATA, arena.pointerSize);
  const at = arena.struct(l);
  arena
    .at(l, at)
    .u32('dwVersion', 1)
    .blob('cbClientDataJSON', 'pbClientDataJSON', json)
    .wstr('pwszHashAlgId', WEBAUTHN_HASH_ALGORITHM_SHA_256);
  return at;
}

/** WEBAUTHN_CREDENTIAL_LIST of CREDENTIAL_EX (with transports); null when the list is empty or absent. */
export function credentialList(arena: Arena, list: readonly DllCredentialDescriptor[] | undefined): number | null {
  const creds = (list ?? []).filter((c) => c.type === WEBAUTHN_CREDENTIAL_TYPE_PUBLIC_KEY);
  if (creds.length === 0) return null;
  const exL = layoutOf(WEBAUTHN_CREDENTIAL_EX, arena.pointerSize);
  const listL = layoutOf(WEBAUTHN_CREDENTIAL_LIST, arena.pointerSize);
  const exOffsets = creds.map((c) => {
    const at = arena.struct(exL);
    arena
      .at(exL, at)
      .u32('dwVersion', 1)
      .blob('cbId', 'pbId', bytesOf(c.id))
      .wstr('pwszCredentialType', WEBAUTHN_CREDENTIAL_TYPE_PUBLIC_KEY)
      .u32('dwTransports', transportBits(c.transports));
    return at;
  });
  const ptrs = arena.reserve(arena.pointerSize * creds.length, arena.pointerSize);
  exOffsets.forEach((o, i) => arena.ptr(ptrs + i * arena.pointerSize, o));
  const at = arena.struct(listL);
  arena.at(listL, at).u32('cCredentials', creds.length).ptr('ppCredentials', ptrs);
  return at;
}

export function hmacSalt(arena: Arena, v: PrfValues): number {
  const l = layoutOf(WEBAUTHN_HMAC_SECRET_SALT, arena.pointerSize);
  const at = arena.struct(l);
  const w = arena.at(l, at).blob('cbFirst', 'pbFirst', bytesOf(v.first));
  if (v.second !== undefined) w.blob('cbSecond', 'pbSecond', bytesOf(v.second));
  return at;
}

export function hints(w: StructWriter, list: readonly string[]): void {
  const arena = w.arena;
  const ptrs = arena.reserve(arena.pointerSize * list.length, arena.pointerSize);
  list.forEach((h, i) => arena.ptr(ptrs + i * arena.pointerSize, arena.utf16z(h)));
  w.u32('cCredentialHints', list.length).ptr('ppwszCredentialHints', ptrs);
}

export interface ExtensionIn {
  id: string;
  size: number;
  data: number;
}

export function extensionArray(w: StructWriter, exts: ExtensionIn[]): void {
  if (exts.length === 0) return;
  const arena = w.arena;
  const l = layoutOf(WEBAUTHN_EXTENSION, arena.pointerSize);
  const first = arena.reserve(l.size * exts.length, l.align);
  exts.forEach((e, i) => {
    arena
      .at(l, first + i * l.size)
      .wstr('pwszExtensionIdentifier', e.id)
      .u32('cbExtension', e.size)
      .ptr('pvExtension', e.data);
  });
  w.sub('Extensions').u32('cExtensions', exts.length).ptr('pExtensions', first);
}

export function boolExtension(arena: Arena, id: string): ExtensionIn {
  const data = arena.reserve(4, 4);
  arena.bool(data, true);
  return { id, size: 4, data };
}

/**
 * The options struct of either call (def), its head written: dwVersion, dwTimeoutMilliseconds,
 * and dwAuthenticatorAttachment CROSS_PLATFORM (a security-key library: never let Windows offer
 * Windows Hello, which ANY/PLATFORM would). Returns its offset and a writer for the rest.
 */
export function optionsStruct(arena: Arena, def: StructDef, version: number, timeoutMs: number): { options: number; w: StructWriter } {
  const l = layoutOf(def, arena.pointerSize);
  const options = arena.struct(l);
  const w = arena.at(l, options);
  w.u32('dwVersion', version).u32('dwTimeoutMilliseconds', clampTimeout(timeoutMs));
  w.u32('dwAuthenticatorAttachment', WEBAUTHN_AUTHENTICATOR_ATTACHMENT.CROSS_PLATFORM);
  return { options, w };
}

/** dwTimeoutMilliseconds: a DWORD; Windows treats it as guidance. */
export function clampTimeout(ms: number): number {
  if (!Number.isFinite(ms) || ms <= 0) return 0;
  return Math.min(Math.floor(ms), 0xffff_ffff);
}

