/**
 * What each webauthn.dll API version (WebAuthNGetApiVersionNumber) brings:
 * the struct versions it accepts and returns, and the features the binding
 * may use. Transcribed from the "API Version Information" block of
 * microsoft/webauthn webauthn.h (WEBAUTHN_API_VERSION_1 … _9).
 *
 * | API | MAKE_CREDENTIAL_OPTIONS | GET_ASSERTION_OPTIONS | CREDENTIAL_ATTESTATION | ASSERTION | adds                                      |
 * |-----|-------------------------|-----------------------|------------------------|-----------|-------------------------------------------|
 * | 1   | 3                       | 4                     | 3                      | 1         | hmac-secret (create), appid, cancel       |
 * | 2   | 3                       | 4                     | 3                      | 1         | credProtect                               |
 * | 3   | 4                       | 5                     | 4                      | 2         | credBlob, minPinLength, enterprise att.   |
 * | 4   | 5                       | 6                     | 4                      | 3         | platform credential list                  |
 * | 5   | 5                       | 6                     | 4                      | 3         | largeBlob enabled                         |
 * | 6   | 6                       | 6                     | 5                      | 4         | PRF, hybrid transport                     |
 * | 7   | 7                       | 7                     | 6                      | 5         | JSON extensions, unsigned ext. outputs    |
 * | 8   | 8                       | 8                     | 7                      | 5         | hints, PRF eval at create                 |
 * | 9   | 9                       | 9                     | 8                      | 6         | remote origin, authenticator list         |
 *
 * API 1 shipped with Windows 10 1903 (build 18362), the first build that
 * blocks raw FIDO HID for processes without Administrator.
 *
 * Field by field, the `since` column of each table in layout.ts says which
 * struct version added it.
 */

export interface StructVersions {
  readonly makeCredentialOptions: number;
  readonly getAssertionOptions: number;
  readonly credentialAttestation: number;
  readonly assertion: number;
}

const BY_API: Readonly<Record<number, StructVersions>> = {
  1: { makeCredentialOptions: 3, getAssertionOptions: 4, credentialAttestation: 3, assertion: 1 },
  2: { makeCredentialOptions: 3, getAssertionOptions: 4, credentialAttestation: 3, assertion: 1 },
  3: { makeCredentialOptions: 4, getAssertionOptions: 5, credentialAttestation: 4, assertion: 2 },
  4: { makeCredentialOptions: 5, getAssertionOptions: 6, credentialAttestation: 4, assertion: 3 },
  5: { makeCredentialOptions: 5, getAssertionOptions: 6, credentialAttestation: 4, assertion: 3 },
  6: { makeCredentialOptions: 6, getAssertionOptions: 6, credentialAttestation: 5, assertion: 4 },
  7: { makeCredentialOptions: 7, getAssertionOptions: 7, credentialAttestation: 6, assertion: 5 },
  8: { makeCredentialOptions: 8, getAssertionOptions: 8, credentialAttestation: 7, assertion: 5 },
  9: { makeCredentialOptions: 9, getAssertionOptions: 9, credentialAttestation: 8, assertion: 6 },
};

/** The newest API version whose structs this binding knows. */
export const WEBAUTHN_API_MAX_KNOWN = 9;

/**
 * Struct versions to send for a running API version. A DLL newer than this
 * binding gets the newest versions we know (Windows accepts older struct
 * versions; that is what dwVersion is for).
 */
export function structVersionsFor(apiVersion: number): StructVersions {
  if (!Number.isInteger(apiVersion) || apiVersion < 1) throw new RangeError(`webauthn.dll reported API version ${apiVersion}`);
  return BY_API[Math.min(apiVersion, WEBAUTHN_API_MAX_KNOWN)]!;
}

/** Minimum API version per feature (the and webauthn.h's gates). */
export const FEATURE_MIN_API = {
  hmacSecret: 1,
  appid: 1,
  credProtect: 2,
  credBlob: 3,
  minPinLength: 3,
  enterpriseAttestation: 3,
  preferResidentKey: 3,
  largeBlob: 5,
  prf: 6,
  /** Raw hmac-secret salts at get (WEBAUTHN_AUTHENTICATOR_HMAC_SECRET_VALUES_FLAG) travel with PRF. */
  hmacSecretSalts: 6,
  hints: 8,
  prfAtCreate: 8,
} as const;

export type WebAuthnDllFeature = keyof typeof FEATURE_MIN_API;

export function supports(apiVersion: number, feature: WebAuthnDllFeature): boolean {
  return apiVersion >= FEATURE_MIN_API[feature];
}
