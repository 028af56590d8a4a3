import { CtapBridgeError } from '../util/errors.js';

export type HidErrorCode =
  | 'DEVICE_REMOVED'
  | 'PERMISSION_DENIED'
  | 'DEVICE_BUSY'
  | 'NOT_FOUND'
  | 'OPEN_FAILED'
  | 'IO_ERROR'
  | 'CLOSED'
  | 'BACKEND_UNAVAILABLE'
  | 'INVALID_SPEC';

/** A failure of the HID transport itself (not of the protocol over it). `hint` says what to do. */
export class HidError extends CtapBridgeError {
  declare readonly code: HidErrorCode;
  readonly hint: string | undefined;
  constructor(code: HidErrorCode, message: string, options?: { cause?: unknown; hint?: string }) {
    super(code, options?.hint ? `${message}. ${options.hint}` : message, options);
    this.hint = options?.hint;
  }
}
