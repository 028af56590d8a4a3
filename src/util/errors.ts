/**
 * The root of every error ctap-bridge throws. Each layer has its own subclass
 * (HidError, CtapHidError, CborError, CtapError, ...) with a stable `code`;
 * `cause` keeps the lower-layer error. Messages never carry secrets.
 */
export class CtapBridgeError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

/** The caller's AbortSignal fired. */
export class AbortedError extends CtapBridgeError {
  constructor(message = 'The operation was aborted', options?: { cause?: unknown }) {
    super('ABORTED', message, options);
  }
}

/** The transaction's single deadline passed. */
export class TimeoutError extends CtapBridgeError {
  constructor(message = 'The operation timed out', options?: { cause?: unknown }) {
    super('TIMEOUT', message, options);
  }
}
