/** Constants from microsoft/webauthn webauthn.h, named as the header names them. */

export const WEBAUTHN_AUTHENTICATOR_ATTACHMENT = {
  ANY: 0,
  PLATFORM: 1,
  CROSS_PLATFORM: 2,
  CROSS_PLATFORM_U2F_V2: 3,
} as const;

export const WEBAUTHN_USER_VERIFICATION_REQUIREMENT = {
  ANY: 0,
  REQUIRED: 1,
  PREFERRED: 2,
  DISCOURAGED: 3,
} as const;

export const WEBAUTHN_ATTESTATION_CONVEYANCE_PREFERENCE = {
  ANY: 0,
  NONE: 1,
  INDIRECT: 2,
  DIRECT: 3,
} as const;

export const WEBAUTHN_ENTERPRISE_ATTESTATION = {
  NONE: 0,
  VENDOR_FACILITATED: 1,
  PLATFORM_MANAGED: 2,
} as const;

export const WEBAUTHN_LARGE_BLOB_SUPPORT = {
  NONE: 0,
  REQUIRED: 1,
  PREFERRED: 2,
} as const;

export const WEBAUTHN_CRED_LARGE_BLOB_OPERATION = {
  NONE: 0,
  GET: 1,
  SET: 2,
  DELETE: 3,
} as const;

export const WEBAUTHN_CRED_LARGE_BLOB_STATUS = {
  NONE: 0,
  SUCCESS: 1,
  NOT_SUPPORTED: 2,
  INVALID_DATA: 3,
  INVALID_PARAMETER: 4,
  NOT_FOUND: 5,
  MULTIPLE_CREDENTIALS: 6,
  LACK_OF_SPACE: 7,
  PLATFORM_ERROR: 8,
  AUTHENTICATOR_ERROR: 9,
} as const;

/** credProtect levels (WEBAUTHN_USER_VERIFICATION_*), the values CTAP uses too. */
export const WEBAUTHN_USER_VERIFICATION = {
  ANY: 0,
  OPTIONAL: 1,
  OPTIONAL_WITH_CREDENTIAL_ID_LIST: 2,
  REQUIRED: 3,
} as const;

export const WEBAUTHN_CTAP_TRANSPORT = {
  USB: 0x01,
  NFC: 0x02,
  BLE: 0x04,
  TEST: 0x08,
  INTERNAL: 0x10,
  HYBRID: 0x20,
  SMART_CARD: 0x40,
} as const;

/** Bit → WebAuthn AuthenticatorTransport string (WEBAUTHN_CTAP_TRANSPORT_*_STRING). */
export const TRANSPORT_NAMES: ReadonlyArray<readonly [number, string]> = [
  [WEBAUTHN_CTAP_TRANSPORT.USB, 'usb'],
  [WEBAUTHN_CTAP_TRANSPORT.NFC, 'nfc'],
  [WEBAUTHN_CTAP_TRANSPORT.BLE, 'ble'],
  [WEBAUTHN_CTAP_TRANSPORT.SMART_CARD, 'smart-card'],
  [WEBAUTHN_CTAP_TRANSPORT.HYBRID, 'hybrid'],
  [WEBAUTHN_CTAP_TRANSPORT.INTERNAL, 'internal'],
];

export const WEBAUTHN_AUTHENTICATOR_HMAC_SECRET_VALUES_FLAG = 0x0010_0000;
export const WEBAUTHN_CTAP_ONE_HMAC_SECRET_LENGTH = 32;
export const WEBAUTHN_MAX_USER_ID_LENGTH = 64;

export const WEBAUTHN_HASH_ALGORITHM_SHA_256 = 'SHA-256';
export const WEBAUTHN_CREDENTIAL_TYPE_PUBLIC_KEY = 'public-key';

export const WEBAUTHN_EXTENSIONS_IDENTIFIER = {
  HMAC_SECRET: 'hmac-secret',
  CRED_PROTECT: 'credProtect',
  CRED_BLOB: 'credBlob',
  MIN_PIN_LENGTH: 'minPinLength',
} as const;

/** HRESULTs webauthn.dll returns (winerror.h), as unsigned 32-bit values. */
export const HRESULT = {
  S_OK: 0x0000_0000,
  E_INVALIDARG: 0x8007_0057,
  E_NOTIMPL: 0x8000_4001,
  NTE_EXISTS: 0x8009_000f,
  NTE_NOT_FOUND: 0x8009_0011,
  NTE_TOKEN_KEYSET_STORAGE_FULL: 0x8009_0023,
  NTE_INVALID_PARAMETER: 0x8009_0027,
  NTE_NOT_SUPPORTED: 0x8009_0029,
  NTE_DEVICE_NOT_FOUND: 0x8009_0035,
  NTE_USER_CANCELLED: 0x8009_0036,
  /** HRESULT_FROM_WIN32(ERROR_NOT_SUPPORTED) */
  ERROR_NOT_SUPPORTED: 0x8007_0032,
  /** HRESULT_FROM_WIN32(ERROR_CANCELLED) */
  ERROR_CANCELLED: 0x8007_04c7,
  /** HRESULT_FROM_WIN32(ERROR_TIMEOUT) */
  ERROR_TIMEOUT: 0x8007_05b4,
} as const;

export function hresultHex(hr: number): string {
  return `0x${(hr >>> 0).toString(16).toUpperCase().padStart(8, '0')}`;
}

/** Windows 10 1903: the first build that needs webauthn.dll for FIDO keys without Administrator. */
export const WINDOWS_BUILD_WEBAUTHN_REQUIRED = 18362;
