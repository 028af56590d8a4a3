/**
 * The C layout of Microsoft's webauthn.h structs (github.com/microsoft/webauthn,
 * API versions 1–9), computed from field tables, not hand-written offsets.
 *
 * Types are fixed-width on purpose: DWORD = uint32, BOOL = int32, LONG = int32
 * (Windows LONG is 32-bit everywhere, C `long` is not), PCWSTR = pointer to
 * UTF-16. Pointers are 8 bytes on x64/arm64 Windows and 4 on x86; every table
 * is laid out for the running pointer size with natural alignment, as MSVC
 * and mingw do for these structs (no #pragma pack in webauthn.h).
 *
 * `since` is the struct version (`dwVersion`) that added the field. A struct
 * received from webauthn.dll is read only up to its own dwVersion: the DLL
 * allocates exactly that much, and reading further is reading foreign memory.
 */

export type Scalar = 'u32' | 'i32' | 'ptr';

export interface FieldDef {
  readonly name: string;
  readonly type: Scalar | StructDef;
  /** Struct version that introduced the field (1 for unversioned structs). */
  readonly since: number;
}

export interface StructDef {
  readonly name: string;
  /** true when the first field is `DWORD dwVersion`. */
  readonly versioned: boolean;
  readonly fields: readonly FieldDef[];
}

function s(name: string, versioned: boolean, spec: ReadonlyArray<readonly [string, Scalar | StructDef, number?]>): StructDef {
  return { name, versioned, fields: spec.map(([n, t, v]) => ({ name: n, type: t, since: v ?? 1 })) };
}

export const WEBAUTHN_RP_ENTITY_INFORMATION = s('WEBAUTHN_RP_ENTITY_INFORMATION', true, [
  ['dwVersion', 'u32'], ['pwszId', 'ptr'], ['pwszName', 'ptr'], ['pwszIcon', 'ptr'],
]);

export const WEBAUTHN_USER_ENTITY_INFORMATION = s('WEBAUTHN_USER_ENTITY_INFORMATION', true, [
  ['dwVersion', 'u32'], ['cbId', 'u32'], ['pbId', 'ptr'], ['pwszName', 'ptr'], ['pwszIcon', 'ptr'], ['pwszDisplayName', 'ptr'],
]);

export const WEBAUTHN_CLIENT_DATA = s('WEBAUTHN_CLIENT_DATA', true, [
  ['dwVersion', 'u32'], ['cbClientDataJSON', 'u32'], ['pbClientDataJSON', 'ptr'], ['pwszHashAlgId', 'ptr'],
]);

export const WEBAUTHN_COSE_CREDENTIAL_PARAMETER = s('WEBAUTHN_COSE_CREDENTIAL_PARAMETER', true, [
  ['dwVersion', 'u32'], ['pwszCredentialType', 'ptr'], ['lAlg', 'i32'],
]);

export const WEBAUTHN_COSE_CREDENTIAL_PARAMETERS = s('WEBAUTHN_COSE_CREDENTIAL_PARAMETERS', false, [
  ['cCredentialParameters', 'u32'], ['pCredentialParameters', 'ptr'],
]);

export const WEBAUTHN_CREDENTIAL = s('WEBAUTHN_CREDENTIAL', true, [
  ['dwVersion', 'u32'], ['cbId', 'u32'], ['pbId', 'ptr'], ['pwszCredentialType', 'ptr'],
]);

export const WEBAUTHN_CREDENTIALS = s('WEBAUTHN_CREDENTIALS', false, [
  ['cCredentials', 'u32'], ['pCredentials', 'ptr'],
]);

export const WEBAUTHN_CREDENTIAL_EX = s('WEBAUTHN_CREDENTIAL_EX', true, [
  ['dwVersion', 'u32'], ['cbId', 'u32'], ['pbId', 'ptr'], ['pwszCredentialType', 'ptr'], ['dwTransports', 'u32'],
]);

export const WEBAUTHN_CREDENTIAL_LIST = s('WEBAUTHN_CREDENTIAL_LIST', false, [
  ['cCredentials', 'u32'], ['ppCredentials', 'ptr'],
]);

export const WEBAUTHN_HMAC_SECRET_SALT = s('WEBAUTHN_HMAC_SECRET_SALT', false, [
  ['cbFirst', 'u32'], ['pbFirst', 'ptr'], ['cbSecond', 'u32'], ['pbSecond', 'ptr'],
]);

export const WEBAUTHN_CRED_WITH_HMAC_SECRET_SALT = s('WEBAUTHN_CRED_WITH_HMAC_SECRET_SALT', false, [
  ['cbCredID', 'u32'], ['pbCredID', 'ptr'], ['pHmacSecretSalt', 'ptr'],
]);

export const WEBAUTHN_HMAC_SECRET_SALT_VALUES = s('WEBAUTHN_HMAC_SECRET_SALT_VALUES', false, [
  ['pGlobalHmacSalt', 'ptr'], ['cCredWithHmacSecretSaltList', 'u32'], ['pCredWithHmacSecretSaltList', 'ptr'],
]);

export const WEBAUTHN_CRED_PROTECT_EXTENSION_IN = s('WEBAUTHN_CRED_PROTECT_EXTENSION_IN', false, [
  ['dwCredProtect', 'u32'], ['bRequireCredProtect', 'i32'],
]);

export const WEBAUTHN_CRED_BLOB_EXTENSION = s('WEBAUTHN_CRED_BLOB_EXTENSION', false, [
  ['cbCredBlob', 'u32'], ['pbCredBlob', 'ptr'],
]);

export const WEBAUTHN_EXTENSION = s('WEBAUTHN_EXTENSION', false, [
  ['pwszExtensionIdentifier', 'ptr'], ['cbExtension', 'u32'], ['pvExtension', 'ptr'],
]);

export const WEBAUTHN_EXTENSIONS = s('WEBAUTHN_EXTENSIONS', false, [
  ['cExtensions', 'u32'], ['pExtensions', 'ptr'],
]);

export const WEBAUTHN_AUTHENTICATOR_MAKE_CREDENTIAL_OPTIONS = s('WEBAUTHN_AUTHENTICATOR_MAKE_CREDENTIAL_OPTIONS', true, [
  ['dwVersion', 'u32'],
  ['dwTimeoutMilliseconds', 'u32'],
  ['CredentialList', WEBAUTHN_CREDENTIALS],
  ['Extensions', WEBAUTHN_EXTENSIONS],
  ['dwAuthenticatorAttachment', 'u32'],
  ['bRequireResidentKey', 'i32'],
  ['dwUserVerificationRequirement', 'u32'],
  ['dwAttestationConveyancePreference', 'u32'],
  ['dwFlags', 'u32'],
  ['pCancellationId', 'ptr', 2],
  ['pExcludeCredentialList', 'ptr', 3],
  ['dwEnterpriseAttestation', 'u32', 4],
  ['dwLargeBlobSupport', 'u32', 4],
  ['bPreferResidentKey', 'i32', 4],
  ['bBrowserInPrivateMode', 'i32', 5],
  ['bEnablePrf', 'i32', 6],
  ['pLinkedDevice', 'ptr', 7],
  ['cbJsonExt', 'u32', 7],
  ['pbJsonExt', 'ptr', 7],
  ['pPRFGlobalEval', 'ptr', 8],
  ['cCredentialHints', 'u32', 8],
  ['ppwszCredentialHints', 'ptr', 8],
  ['bThirdPartyPayment', 'i32', 8],
  ['pwszRemoteWebOrigin', 'ptr', 9],
  ['cbPublicKeyCredentialCreationOptionsJSON', 'u32', 9],
  ['pbPublicKeyCredentialCreationOptionsJSON', 'ptr', 9],
  ['cbAuthenticatorId', 'u32', 9],
  ['pbAuthenticatorId', 'ptr', 9],
]);

export const WEBAUTHN_AUTHENTICATOR_GET_ASSERTION_OPTIONS = s('WEBAUTHN_AUTHENTICATOR_GET_ASSERTION_OPTIONS', true, [
  ['dwVersion', 'u32'],
  ['dwTimeoutMilliseconds', 'u32'],
  ['CredentialList', WEBAUTHN_CREDENTIALS],
  ['Extensions', WEBAUTHN_EXTENSIONS],
  ['dwAuthenticatorAttachment', 'u32'],
  ['dwUserVerificationRequirement', 'u32'],
  ['dwFlags', 'u32'],
  ['pwszU2fAppId', 'ptr', 2],
  ['pbU2fAppId', 'ptr', 2],
  ['pCancellationId', 'ptr', 3],
  ['pAllowCredentialList', 'ptr', 4],
  ['dwCredLargeBlobOperation', 'u32', 5],
  ['cbCredLargeBlob', 'u32', 5],
  ['pbCredLargeBlob', 'ptr', 5],
  ['pHmacSecretSaltValues', 'ptr', 6],
  ['bBrowserInPrivateMode', 'i32', 6],
  ['pLinkedDevice', 'ptr', 7],
  ['bAutoFill', 'i32', 7],
  ['cbJsonExt', 'u32', 7],
  ['pbJsonExt', 'ptr', 7],
  ['cCredentialHints', 'u32', 8],
  ['ppwszCredentialHints', 'ptr', 8],
  ['pwszRemoteWebOrigin', 'ptr', 9],
  ['cbPublicKeyCredentialRequestOptionsJSON', 'u32', 9],
  ['pbPublicKeyCredentialRequestOptionsJSON', 'ptr', 9],
  ['cbAuthenticatorId', 'u32', 9],
  ['pbAuthenticatorId', 'ptr', 9],
]);

export const WEBAUTHN_CREDENTIAL_ATTESTATION = s('WEBAUTHN_CREDENTIAL_ATTESTATION', true, [
  ['dwVersion', 'u32'],
  ['pwszFormatType', 'ptr'],
  ['cbAuthenticatorData', 'u32'],
  ['pbAuthenticatorData', 'ptr'],
  ['cbAttestation', 'u32'],
  ['pbAttestation', 'ptr'],
  ['dwAttestationDecodeType', 'u32'],
  ['pvAttestationDecode', 'ptr'],
  ['cbAttestationObject', 'u32'],
  ['pbAttestationObject', 'ptr'],
  ['cbCredentialId', 'u32'],
  ['pbCredentialId', 'ptr'],
  ['Extensions', WEBAUTHN_EXTENSIONS, 2],
  ['dwUsedTransport', 'u32', 3],
  ['bEpAtt', 'i32', 4],
  ['bLargeBlobSupported', 'i32', 4],
  ['bResidentKey', 'i32', 4],
  ['bPrfEnabled', 'i32', 5],
  ['cbUnsignedExtensionOutputs', 'u32', 6],
  ['pbUnsignedExtensionOutputs', 'ptr', 6],
  ['pHmacSecret', 'ptr', 7],
  ['bThirdPartyPayment', 'i32', 7],
  ['dwTransports', 'u32', 8],
  ['cbClientDataJSON', 'u32', 8],
  ['pbClientDataJSON', 'ptr', 8],
  ['cbRegistrationResponseJSON', 'u32', 8],
  ['pbRegistrationResponseJSON', 'ptr', 8],
]);

export const WEBAUTHN_ASSERTION = s('WEBAUTHN_ASSERTION', true, [
  ['dwVersion', 'u32'],
  ['cbAuthenticatorData', 'u32'],
  ['pbAuthenticatorData', 'ptr'],
  ['cbSignature', 'u32'],
  ['pbSignature', 'ptr'],
  ['Credential', WEBAUTHN_CREDENTIAL],
  ['cbUserId', 'u32'],
  ['pbUserId', 'ptr'],
  ['Extensions', WEBAUTHN_EXTENSIONS, 2],
  ['cbCredLargeBlob', 'u32', 2],
  ['pbCredLargeBlob', 'ptr', 2],
  ['dwCredLargeBlobStatus', 'u32', 2],
  ['pHmacSecret', 'ptr', 3],
  ['dwUsedTransport', 'u32', 4],
  ['cbUnsignedExtensionOutputs', 'u32', 5],
  ['pbUnsignedExtensionOutputs', 'ptr', 5],
  ['cbClientDataJSON', 'u32', 6],
  ['pbClientDataJSON', 'ptr', 6],
  ['cbAuthenticationResponseJSON', 'u32', 6],
  ['pbAuthenticationResponseJSON', 'ptr', 6],
]);

/** Every struct the binding reads or writes, for offset checks against C. */
export const ALL_STRUCTS: readonly StructDef[] = [
  WEBAUTHN_RP_ENTITY_INFORMATION,
  WEBAUTHN_USER_ENTITY_INFORMATION,
  WEBAUTHN_CLIENT_DATA,
  WEBAUTHN_COSE_CREDENTIAL_PARAMETER,
  WEBAUTHN_COSE_CREDENTIAL_PARAMETERS,
  WEBAUTHN_CREDENTIAL,
  WEBAUTHN_CREDENTIALS,
  WEBAUTHN_CREDENTIAL_EX,
  WEBAUTHN_CREDENTIAL_LIST,
  WEBAUTHN_HMAC_SECRET_SALT,
  WEBAUTHN_CRED_WITH_HMAC_SECRET_SALT,
  WEBAUTHN_HMAC_SECRET_SALT_VALUES,
  WEBAUTHN_CRED_PROTECT_EXTENSION_IN,
  WEBAUTHN_CRED_BLOB_EXTENSION,
  WEBAUTHN_EXTENSION,
  WEBAUTHN_EXTENSIONS,
  WEBAUTHN_AUTHENTICATOR_MAKE_CREDENTIAL_OPTIONS,
  WEBAUTHN_AUTHENTICATOR_GET_ASSERTION_OPTIONS,
  WEBAUTHN_CREDENTIAL_ATTESTATION,
  WEBAUTHN_ASSERTION,
];

export interface FieldLayout {
  readonly name: string;
  readonly offset: number;
  readonly size: number;
  readonly since: number;
  readonly type: Scalar | StructLayout;
}

export interface StructLayout {
  readonly name: string;
  readonly size: number;
  readonly align: number;
  readonly pointerSize: 4 | 8;
  readonly versioned: boolean;
  readonly fields: readonly FieldLayout[];
  /** Highest dwVersion this table knows. */
  readonly maxVersion: number;
  offset(field: string): number;
  field(name: string): FieldLayout;
  /**
   * Bytes a struct of version `v` occupies: up to the end of the last field
   * present in `v` (what the DLL allocates for it).
   */
  sizeForVersion(v: number): number;
}

const cache = new Map<string, StructLayout>();

function alignUp(n: number, a: number): number {
  return Math.ceil(n / a) * a;
}

/** Lays out `def` for `pointerSize` (natural alignment, trailing padding to the largest member). */
export function layoutOf(def: StructDef, pointerSize: 4 | 8 = 8): StructLayout {
  const key = `${def.name}/${pointerSize}`;
  const hit = cache.get(key);
  if (hit) return hit;
  let offset = 0;
  let align = 1;
  const fields: FieldLayout[] = [];
  for (const f of def.fields) {
    let size: number;
    let a: number;
    let type: Scalar | StructLayout;
    if (typeof f.type === 'string') {
      size = f.type === 'ptr' ? pointerSize : 4;
      a = size;
      type = f.type;
    } else {
      const inner = layoutOf(f.type, pointerSize);
      size = inner.size;
      a = inner.align;
      type = inner;
    }
    offset = alignUp(offset, a);
    fields.push({ name: f.name, offset, size, since: f.since, type });
    offset += size;
    align = Math.max(align, a);
  }
  const size = alignUp(offset, align);
  const byName = new Map(fields.map((f) => [f.name, f]));
  const maxVersion = Math.max(...fields.map((f) => f.since));
  const layout: StructLayout = {
    name: def.name,
    size,
    align,
    pointerSize,
    versioned: def.versioned,
    fields,
    maxVersion,
    offset(name: string): number {
      return this.field(name).offset;
    },
    field(name: string): FieldLayout {
      const f = byName.get(name);
      if (!f) throw new RangeError(`${def.name} has no field ${name}`);
      return f;
    },
    sizeForVersion(v: number): number {
      if (v >= maxVersion) return size;
      let end = 0;
      for (const f of fields) if (f.since <= v) end = Math.max(end, f.offset + f.size);
      return end;
    },
  };
  cache.set(key, layout);
  return layout;
}
