/** CBOR member keys and flag values the virtual key reads and writes, as CTAP 2.2 names them. */

export const MC = {
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
} as const;

export const MC_RESPONSE = {
  fmt: 0x01,
  authData: 0x02,
  attStmt: 0x03,
  epAtt: 0x04,
  largeBlobKey: 0x05,
} as const;

export const GA = {
  rpId: 0x01,
  clientDataHash: 0x02,
  allowList: 0x03,
  extensions: 0x04,
  options: 0x05,
  pinUvAuthParam: 0x06,
  pinUvAuthProtocol: 0x07,
} as const;

export const GA_RESPONSE = {
  credential: 0x01,
  authData: 0x02,
  signature: 0x03,
  user: 0x04,
  numberOfCredentials: 0x05,
  userSelected: 0x06,
  largeBlobKey: 0x07,
} as const;

export const CLIENT_PIN = {
  pinUvAuthProtocol: 0x01,
  subCommand: 0x02,
  keyAgreement: 0x03,
  pinUvAuthParam: 0x04,
  newPinEnc: 0x05,
  pinHashEnc: 0x06,
  permissions: 0x09,
  rpId: 0x0a,
} as const;

export const CLIENT_PIN_RESPONSE = {
  keyAgreement: 0x01,
  pinUvAuthToken: 0x02,
  pinRetries: 0x03,
  powerCycleState: 0x04,
  uvRetries: 0x05,
} as const;

export const CLIENT_PIN_SUB = {
  getPINRetries: 0x01,
  getKeyAgreement: 0x02,
  setPIN: 0x03,
  changePIN: 0x04,
  getPinToken: 0x05,
  getPinUvAuthTokenUsingUvWithPermissions: 0x06,
  getUVRetries: 0x07,
  getPinUvAuthTokenUsingPinWithPermissions: 0x09,
} as const;

export const PERMISSION = {
  mc: 0x01,
  ga: 0x02,
  cm: 0x04,
  be: 0x08,
  lbw: 0x10,
  acfg: 0x20,
} as const;

export const CRED_MGMT = {
  subCommand: 0x01,
  subCommandParams: 0x02,
  pinUvAuthProtocol: 0x03,
  pinUvAuthParam: 0x04,
} as const;

export const CRED_MGMT_SUB = {
  getCredsMetadata: 0x01,
  enumerateRPsBegin: 0x02,
  enumerateRPsGetNextRP: 0x03,
  enumerateCredentialsBegin: 0x04,
  enumerateCredentialsGetNextCredential: 0x05,
  deleteCredential: 0x06,
  updateUserInformation: 0x07,
} as const;

export const CRED_MGMT_PARAM = {
  rpIDHash: 0x01,
  credentialID: 0x02,
  user: 0x03,
} as const;

export const CRED_MGMT_RESPONSE = {
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
} as const;

export const LARGE_BLOBS = {
  get: 0x01,
  set: 0x02,
  offset: 0x03,
  length: 0x04,
  pinUvAuthParam: 0x05,
  pinUvAuthProtocol: 0x06,
} as const;

export const LARGE_BLOBS_RESPONSE = { config: 0x01 } as const;

export const CONFIG = {
  subCommand: 0x01,
  subCommandParams: 0x02,
  pinUvAuthProtocol: 0x03,
  pinUvAuthParam: 0x04,
} as const;

export const CONFIG_SUB = {
  enableEnterpriseAttestation: 0x01,
  toggleAlwaysUv: 0x02,
  setMinPINLength: 0x03,
  vendorPrototype: 0xff,
} as const;

export const SET_MIN_PIN_LENGTH = {
  newMinPINLength: 0x01,
  minPinLengthRPIDs: 0x02,
  forceChangePin: 0x03,
} as const;

/** authenticatorData flags (WebAuthn §6.1). */
export const AUTH_DATA_FLAG = {
  UP: 0x01,
  UV: 0x04,
  BE: 0x08,
  BS: 0x10,
  AT: 0x40,
  ED: 0x80,
} as const;

/** COSE algorithm identifiers the virtual key signs with. */
export const COSE_ALG = {
  ES256: -7,
  EdDSA: -8,
} as const;

/** credProtect levels (CTAP 2.2 §12.1). */
export const CRED_PROTECT = {
  userVerificationOptional: 1,
  userVerificationOptionalWithCredentialIDList: 2,
  userVerificationRequired: 3,
} as const;

export const EXTENSION = {
  credProtect: 'credProtect',
  hmacSecret: 'hmac-secret',
  hmacSecretMc: 'hmac-secret-mc',
  credBlob: 'credBlob',
  largeBlobKey: 'largeBlobKey',
  minPinLength: 'minPinLength',
} as const;

/** hmac-secret input map keys. */
export const HMAC_SECRET = {
  keyAgreement: 0x01,
  saltEnc: 0x02,
  saltAuth: 0x03,
  pinUvAuthProtocol: 0x04,
} as const;
