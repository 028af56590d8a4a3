/*
 * The webauthn.h structs (microsoft/webauthn, API version 9), transcribed
 * with fixed-width types so they compile anywhere: DWORD = uint32_t,
 * BOOL/LONG/HRESULT = int32_t, PCWSTR = const uint16_t * (UTF-16), GUID = 16
 * bytes. Natural alignment, as MSVC and mingw lay them out on x64.
 * Used by the stand-in library (stub.c) and the offset dump (offsets.c).
 */
#ifndef CTAP_BRIDGE_WEBAUTHN_TYPES_H
#define CTAP_BRIDGE_WEBAUTHN_TYPES_H
#include <stdint.h>

typedef uint32_t DWORD;
typedef int32_t BOOL;
typedef int32_t LONG;
typedef int32_t HRESULT;
typedef uint8_t *PBYTE;
typedef const uint16_t *PCWSTR;
typedef void *PVOID;
typedef void *HWND;
typedef struct { uint8_t b[16]; } GUID;

typedef struct { DWORD dwVersion; PCWSTR pwszId; PCWSTR pwszName; PCWSTR pwszIcon; } WEBAUTHN_RP_ENTITY_INFORMATION;
typedef struct { DWORD dwVersion; DWORD cbId; PBYTE pbId; PCWSTR pwszName; PCWSTR pwszIcon; PCWSTR pwszDisplayName; } WEBAUTHN_USER_ENTITY_INFORMATION;
typedef struct { DWORD dwVersion; DWORD cbClientDataJSON; PBYTE pbClientDataJSON; PCWSTR pwszHashAlgId; } WEBAUTHN_CLIENT_DATA;
typedef struct { DWORD dwVersion; PCWSTR pwszCredentialType; LONG lAlg; } WEBAUTHN_COSE_CREDENTIAL_PARAMETER;
typedef struct { DWORD cCredentialParameters; WEBAUTHN_COSE_CREDENTIAL_PARAMETER *pCredentialParameters; } WEBAUTHN_COSE_CREDENTIAL_PARAMETERS;
typedef struct { DWORD dwVersion; DWORD cbId; PBYTE pbId; PCWSTR pwszCredentialType; } WEBAUTHN_CREDENTIAL;
typedef struct { DWORD cCredentials; WEBAUTHN_CREDENTIAL *pCredentials; } WEBAUTHN_CREDENTIALS;
typedef struct { DWORD dwVersion; DWORD cbId; PBYTE pbId; PCWSTR pwszCredentialType; DWORD dwTransports; } WEBAUTHN_CREDENTIAL_EX;
typedef struct { DWORD cCredentials; WEBAUTHN_CREDENTIAL_EX **ppCredentials; } WEBAUTHN_CREDENTIAL_LIST;
typedef struct { DWORD cbFirst; PBYTE pbFirst; DWORD cbSecond; PBYTE pbSecond; } WEBAUTHN_HMAC_SECRET_SALT;
typedef struct { DWORD cbCredID; PBYTE pbCredID; WEBAUTHN_HMAC_SECRET_SALT *pHmacSecretSalt; } WEBAUTHN_CRED_WITH_HMAC_SECRET_SALT;
typedef struct { WEBAUTHN_HMAC_SECRET_SALT *pGlobalHmacSalt; DWORD cCredWithHmacSecretSaltList; WEBAUTHN_CRED_WITH_HMAC_SECRET_SALT *pCredWithHmacSecretSaltList; } WEBAUTHN_HMAC_SECRET_SALT_VALUES;
typedef struct { DWORD dwCredProtect; BOOL bRequireCredProtect; } WEBAUTHN_CRED_PROTECT_EXTENSION_IN;
typedef struct { DWORD cbCredBlob; PBYTE pbCredBlob; } WEBAUTHN_CRED_BLOB_EXTENSION;
typedef struct { PCWSTR pwszExtensionIdentifier; DWORD cbExtension; PVOID pvExtension; } WEBAUTHN_EXTENSION;
typedef struct { DWORD cExtensions; WEBAUTHN_EXTENSION *pExtensions; } WEBAUTHN_EXTENSIONS;

typedef struct {
  DWORD dwVersion; DWORD dwTimeoutMilliseconds; WEBAUTHN_CREDENTIALS CredentialList; WEBAUTHN_EXTENSIONS Extensions;
  DWORD dwAuthenticatorAttachment; BOOL bRequireResidentKey; DWORD dwUserVerificationRequirement;
  DWORD dwAttestationConveyancePreference; DWORD dwFlags;
  GUID *pCancellationId;                                   /* v2 */
  WEBAUTHN_CREDENTIAL_LIST *pExcludeCredentialList;        /* v3 */
  DWORD dwEnterpriseAttestation; DWORD dwLargeBlobSupport; BOOL bPreferResidentKey; /* v4 */
  BOOL bBrowserInPrivateMode;                              /* v5 */
  BOOL bEnablePrf;                                         /* v6 */
  PVOID pLinkedDevice; DWORD cbJsonExt; PBYTE pbJsonExt;  /* v7 */
  WEBAUTHN_HMAC_SECRET_SALT *pPRFGlobalEval; DWORD cCredentialHints; PCWSTR *ppwszCredentialHints; BOOL bThirdPartyPayment; /* v8 */
  PCWSTR pwszRemoteWebOrigin; DWORD cbPublicKeyCredentialCreationOptionsJSON; PBYTE pbPublicKeyCredentialCreationOptionsJSON;
  DWORD cbAuthenticatorId; PBYTE pbAuthenticatorId;        /* v9 */
} WEBAUTHN_AUTHENTICATOR_MAKE_CREDENTIAL_OPTIONS;

typedef struct {
  DWORD dwVersion; DWORD dwTimeoutMilliseconds; WEBAUTHN_CREDENTIALS CredentialList; WEBAUTHN_EXTENSIONS Extensions;
  DWORD dwAuthenticatorAttachment; DWORD dwUserVerificationRequirement; DWORD dwFlags;
  PCWSTR pwszU2fAppId; BOOL *pbU2fAppId;                   /* v2 */
  GUID *pCancellationId;                                   /* v3 */
  WEBAUTHN_CREDENTIAL_LIST *pAllowCredentialList;          /* v4 */
  DWORD dwCredLargeBlobOperation; DWORD cbCredLargeBlob; PBYTE pbCredLargeBlob; /* v5 */
  WEBAUTHN_HMAC_SECRET_SALT_VALUES *pHmacSecretSaltValues; BOOL bBrowserInPrivateMode; /* v6 */
  PVOID pLinkedDevice; BOOL bAutoFill; DWORD cbJsonExt; PBYTE pbJsonExt; /* v7 */
  DWORD cCredentialHints; PCWSTR *ppwszCredentialHints;    /* v8 */
  PCWSTR pwszRemoteWebOrigin; DWORD cbPublicKeyCredentialRequestOptionsJSON; PBYTE pbPublicKeyCredentialRequestOptionsJSON;
  DWORD cbAuthenticatorId; PBYTE pbAuthenticatorId;        /* v9 */
} WEBAUTHN_AUTHENTICATOR_GET_ASSERTION_OPTIONS;

typedef struct {
  DWORD dwVersion; PCWSTR pwszFormatType; DWORD cbAuthenticatorData; PBYTE pbAuthenticatorData;
  DWORD cbAttestation; PBYTE pbAttestation; DWORD dwAttestationDecodeType; PVOID pvAttestationDecode;
  DWORD cbAttestationObject; PBYTE pbAttestationObject; DWORD cbCredentialId; PBYTE pbCredentialId;
  WEBAUTHN_EXTENSIONS Extensions;                          /* v2 */
  DWORD dwUsedTransport;                                   /* v3 */
  BOOL bEpAtt; BOOL bLargeBlobSupported; BOOL bResidentKey; /* v4 */
  BOOL bPrfEnabled;                                        /* v5 */
  DWORD cbUnsignedExtensionOutputs; PBYTE pbUnsignedExtensionOutputs; /* v6 */
  WEBAUTHN_HMAC_SECRET_SALT *pHmacSecret; BOOL bThirdPartyPayment; /* v7 */
  DWORD dwTransports; DWORD cbClientDataJSON; PBYTE pbClientDataJSON;
  DWORD cbRegistrationResponseJSON; PBYTE pbRegistrationResponseJSON; /* v8 */
} WEBAUTHN_CREDENTIAL_ATTESTATION;

typedef struct {
  DWORD dwVersion; DWORD cbAuthenticatorData; PBYTE pbAuthenticatorData; DWORD cbSignature; PBYTE pbSignature;
  WEBAUTHN_CREDENTIAL Credential; DWORD cbUserId; PBYTE pbUserId;
  WEBAUTHN_EXTENSIONS Extensions; DWORD cbCredLargeBlob; PBYTE pbCredLargeBlob; DWORD dwCredLargeBlobStatus; /* v2 */
  WEBAUTHN_HMAC_SECRET_SALT *pHmacSecret;                  /* v3 */
  DWORD dwUsedTransport;                                   /* v4 */
  DWORD cbUnsignedExtensionOutputs; PBYTE pbUnsignedExtensionOutputs; /* v5 */
  DWORD cbClientDataJSON; PBYTE pbClientDataJSON; DWORD cbAuthenticationResponseJSON; PBYTE pbAuthenticationResponseJSON; /* v6 */
} WEBAUTHN_ASSERTION;

#endif
