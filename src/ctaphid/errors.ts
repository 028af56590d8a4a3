import { CtapBridgeError } from '../util/errors.js';
import { CTAPHID_ERROR_NAMES } from './constants.js';

export type CtapHidErrorCode =
  /** The device answered with CTAPHID_ERROR; `hidError` holds its code. */
  | 'CTAPHID_ERROR'
  /** The device broke the framing rules (bad SEQ, length beyond data, ...). */
  | 'PROTOCOL'
  /** The device stayed busy (CHANNEL_BUSY) until the deadline. */
  | 'BUSY'
  /** INIT failed or the device does not speak CTAPHID. */
  | 'INIT_FAILED'
  /** A message too long for CTAPHID (7609 bytes) was asked for. */
  | 'MESSAGE_TOO_LONG'
  /** The device lacks a capability (CBOR, WINK, MSG). */
  | 'UNSUPPORTED';

export class CtapHidError extends CtapBridgeError {
  declare readonly code: CtapHidErrorCode;
  /** The CTAPHID_ERROR code byte when code is CTAPHID_ERROR. */
  readonly hidError: number | undefined;
  constructor(code: CtapHidErrorCode, message: string, options?: { cause?: unknown; hidError?: number }) {
    super(code, message, options);
    this.hidError = options?.hidError;
  }

  /** The spec name of the CTAPHID_ERROR code, e.g. ERR_CHANNEL_BUSY. */
  get specName(): string | undefined {
    if (this.hidError === undefined) return undefined;
    return CTAPHID_ERROR_NAMES[this.hidError] ?? `ERR_0x${this.hidError.toString(16).padStart(2, '0')}`;
  }
}
