import { CtapBridgeError } from '../util/errors.js';

export type CborErrorCode =
  | 'CBOR_MALFORMED'
  | 'CBOR_TRAILING_BYTES'
  | 'CBOR_UNSUPPORTED'
  | 'CBOR_TOO_DEEP'
  | 'CBOR_DUPLICATE_KEY'
  | 'CBOR_TYPE'
  | 'CBOR_MISSING_KEY'
  | 'CBOR_ENCODE';

/** Malformed, non-strict or wrongly typed CBOR. `path` names where, e.g. `getInfo[0x03] aaguid`. */
export class CborError extends CtapBridgeError {
  declare readonly code: CborErrorCode;
  readonly path: string | undefined;
  constructor(code: CborErrorCode, message: string, path?: string, options?: { cause?: unknown }) {
    super(code, path ? `${path}: ${message}` : message, options);
    this.path = path;
  }
}
