/**
 * What the webauthn.dll route takes and gives back. The inputs mirror
 * WebAuthn's PublicKeyCredentialCreationOptions / RequestOptions (BufferSource
 * fields, already validated by the WebAuthn client) plus the full
 * clientDataJSON the client built: Windows hashes it itself, so it must get
 * the exact bytes that go back to the relying party.
 */
import type { AttestationConveyance, CredentialProtectionPolicy, ResidentKeyRequirement, UserVerificationRequirement } from '../../webauthn/options.js';

export type BufferSourceLike = ArrayBuffer | ArrayBufferView;

export type AuthenticatorTransportName = 'usb' | 'nfc' | 'ble' | 'smart-card' | 'hybrid' | 'internal' | (string & {});

export interface DllCredentialDescriptor {
  type: 'public-key' | (string & {});
  id: BufferSourceLike;
  transports?: readonly AuthenticatorTransportName[] | undefined;
}

// The WebAuthn enumerations, as the WebAuthn client defines them.
export type { AttestationConveyance, CredentialProtectionPolicy, ResidentKeyRequirement, UserVerificationRequirement };

export interface PrfValues {
  first: BufferSourceLike;
  second?: BufferSourceLike | undefined;
}

export interface DllCreationExtensions {
  credProps?: boolean | undefined;
  credentialProtectionPolicy?: CredentialProtectionPolicy | undefined;
  enforceCredentialProtectionPolicy?: boolean | undefined;
  credBlob?: BufferSourceLike | undefined;
  minPinLength?: boolean | undefined;
  largeBlob?: { support?: 'required' | 'preferred' | undefined } | undefined;
  prf?: { eval?: PrfValues | undefined } | undefined;
  /** CTAP hmac-secret at create (Chrome's `hmacCreateSecret`). */
  hmacCreateSecret?: boolean | undefined;
}

export interface DllRequestExtensions {
  appid?: string | undefined;
  getCredBlob?: boolean | undefined;
  largeBlob?: { read?: boolean | undefined; write?: BufferSourceLike | undefined } | undefined;
  prf?:
    | {
        eval?: PrfValues | undefined;
        /** Keys are base64url credential ids (decoded by the caller into `evalByCredentialRaw`). */
        evalByCredentialRaw?: ReadonlyArray<{ id: BufferSourceLike; values: PrfValues }> | undefined;
      }
    | undefined;
  /** Raw CTAP hmac-secret salts (32 bytes each), not PRF inputs: sent with HMAC_SECRET_VALUES_FLAG. */
  hmacGetSecret?: { salt1: BufferSourceLike; salt2?: BufferSourceLike | undefined } | undefined;
}

export interface DllCreationOptions {
  /** The full clientDataJSON (UTF-8), type "webauthn.create". */
  clientDataJSON: Uint8Array;
  rp: { id: string; name: string; icon?: string | undefined };
  user: { id: BufferSourceLike; name: string; displayName: string; icon?: string | undefined };
  pubKeyCredParams: ReadonlyArray<{ type: 'public-key' | (string & {}); alg: number }>;
  timeout?: number | undefined;
  excludeCredentials?: readonly DllCredentialDescriptor[] | undefined;
  authenticatorSelection?:
    | {
        authenticatorAttachment?: 'platform' | 'cross-platform' | undefined;
        residentKey?: ResidentKeyRequirement | undefined;
        requireResidentKey?: boolean | undefined;
        userVerification?: UserVerificationRequirement | undefined;
      }
    | undefined;
  attestation?: AttestationConveyance | undefined;
  /**
   * With attestation "enterprise": the client approved this RP ID for enterprise
   * attestation (its platform-managed list) → WEBAUTHN_ENTERPRISE_ATTESTATION_PLATFORM_MANAGED;
   * otherwise only the key's own vendor list can allow it (VENDOR_FACILITATED), as Chromium does.
   */
  enterpriseAttestationApproved?: boolean | undefined;
  hints?: readonly string[] | undefined;
  extensions?: DllCreationExtensions | undefined;
}

export interface DllRequestOptions {
  /** The full clientDataJSON (UTF-8), type "webauthn.get". */
  clientDataJSON: Uint8Array;
  rpId: string;
  timeout?: number | undefined;
  allowCredentials?: readonly DllCredentialDescriptor[] | undefined;
  userVerification?: UserVerificationRequirement | undefined;
  hints?: readonly string[] | undefined;
  extensions?: DllRequestExtensions | undefined;
}

export interface DllCreationExtensionResults {
  credProps?: { rk: boolean };
  credProtect?: number;
  credBlob?: boolean;
  minPinLength?: number;
  largeBlob?: { supported: boolean };
  prf?: { enabled: boolean; results?: { first: Uint8Array; second?: Uint8Array } };
  hmacCreateSecret?: boolean;
}

export interface DllRequestExtensionResults {
  appid?: boolean;
  getCredBlob?: Uint8Array;
  largeBlob?: { blob?: Uint8Array; written?: boolean };
  prf?: { results?: { first: Uint8Array; second?: Uint8Array } };
  hmacGetSecret?: { output1: Uint8Array; output2?: Uint8Array };
}

/** What came back from WebAuthNAuthenticatorMakeCredential, as WebAuthn names it. */
export interface DllAttestationResult {
  credentialId: Uint8Array;
  clientDataJSON: Uint8Array;
  attestationObject: Uint8Array;
  authenticatorData: Uint8Array;
  /** Attestation statement format ("packed", "fido-u2f", "none", "tpm", …). */
  fmt: string;
  /** Transports the authenticator supports (struct v8+), else the one used. */
  transports: AuthenticatorTransportName[];
  usedTransport: AuthenticatorTransportName | undefined;
  authenticatorAttachment: 'cross-platform' | 'platform';
  clientExtensionResults: DllCreationExtensionResults;
  /** Enterprise attestation was returned (struct v4+). */
  epAtt: boolean | undefined;
  apiVersion: number;
  /** dwVersion of the struct webauthn.dll returned. */
  structVersion: number;
  /** Extensions requested that this API version cannot carry (ignored, as WebAuthn clients do). */
  ignoredExtensions: string[];
}

/** What came back from WebAuthNAuthenticatorGetAssertion. */
export interface DllAssertionResult {
  credentialId: Uint8Array;
  clientDataJSON: Uint8Array;
  authenticatorData: Uint8Array;
  signature: Uint8Array;
  userHandle: Uint8Array | null;
  usedTransport: AuthenticatorTransportName | undefined;
  authenticatorAttachment: 'cross-platform' | 'platform';
  clientExtensionResults: DllRequestExtensionResults;
  apiVersion: number;
  structVersion: number;
  ignoredExtensions: string[];
}
