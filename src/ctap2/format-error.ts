import { CtapBridgeError } from '../util/errors.js';

export type CtapFormatErrorCode =
  | 'AUTHDATA_TRUNCATED'
  | 'AUTHDATA_TRAILING_BYTES'
  | 'AUTHDATA_INVALID'
  | 'COSE_KEY_INVALID'
  | 'COSE_KEY_UNSUPPORTED'
  | 'ATTESTATION_INVALID'
  | 'ATTESTATION_UNSUPPORTED'
  | 'RESPONSE_INVALID';

/**
 * Bytes from the authenticator that are well-formed CBOR (or not CBOR at all,
 * like authenticatorData) but break the CTAP/WebAuthn structure: truncated
 * authData, a COSE key with the wrong coordinate length, an attestation
 * statement that does not verify. CBOR-level faults stay CborError.
 */
export class CtapFormatError extends CtapBridgeError {
  declare readonly code: CtapFormatErrorCode;
  constructor(code: CtapFormatErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}
