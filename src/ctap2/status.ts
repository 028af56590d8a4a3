/** CTAP 2.2 §8.2 status codes, and the error for a non-zero status. */
import { CtapBridgeError } from '../util/errors.js';

export const CTAP2_STATUS = {
  CTAP2_OK: 0x00,
  CTAP1_ERR_INVALID_COMMAND: 0x01,
  CTAP1_ERR_INVALID_PARAMETER: 0x02,
  CTAP1_ERR_INVALID_LENGTH: 0x03,
  CTAP1_ERR_INVALID_SEQ: 0x04,
  CTAP1_ERR_TIMEOUT: 0x05,
  CTAP1_ERR_CHANNEL_BUSY: 0x06,
  CTAP1_ERR_LOCK_REQUIRED: 0x0a,
  CTAP1_ERR_INVALID_CHANNEL: 0x0b,
  CTAP2_ERR_CBOR_UNEXPECTED_TYPE: 0x11,
  CTAP2_ERR_INVALID_CBOR: 0x12,
  CTAP2_ERR_MISSING_PARAMETER: 0x14,
  CTAP2_ERR_LIMIT_EXCEEDED: 0x15,
  CTAP2_ERR_UNSUPPORTED_EXTENSION: 0x16,
  CTAP2_ERR_FP_DATABASE_FULL: 0x17,
  CTAP2_ERR_LARGE_BLOB_STORAGE_FULL: 0x18,
  CTAP2_ERR_CREDENTIAL_EXCLUDED: 0x19,
  CTAP2_ERR_PROCESSING: 0x21,
  CTAP2_ERR_INVALID_CREDENTIAL: 0x22,
  CTAP2_ERR_USER_ACTION_PENDING: 0x23,
  CTAP2_ERR_OPERATION_PENDING: 0x24,
  CTAP2_ERR_NO_OPERATIONS: 0x25,
  CTAP2_ERR_UNSUPPORTED_ALGORITHM: 0x26,
  CTAP2_ERR_OPERATION_DENIED: 0x27,
  CTAP2_ERR_KEY_STORE_FULL: 0x28,
  CTAP2_ERR_NOT_BUSY: 0x29,
  CTAP2_ERR_NO_OPERATION_PENDING: 0x2a,
  CTAP2_ERR_UNSUPPORTED_OPTION: 0x2b,
  CTAP2_ERR_INVALID_OPTION: 0x2c,
  CTAP2_ERR_KEEPALIVE_CANCEL: 0x2d,
  CTAP2_ERR_NO_CREDENTIALS: 0x2e,
  CTAP2_ERR_USER_ACTION_TIMEOUT: 0x2f,
  CTAP2_ERR_NOT_ALLOWED: 0x30,
  CTAP2_ERR_PIN_INVALID: 0x31,
  CTAP2_ERR_PIN_BLOCKED: 0x32,
  CTAP2_ERR_PIN_AUTH_INVALID: 0x33,
  CTAP2_ERR_PIN_AUTH_BLOCKED: 0x34,
  CTAP2_ERR_PIN_NOT_SET: 0x35,
  CTAP2_ERR_PUAT_REQUIRED: 0x36,
  CTAP2_ERR_PIN_POLICY_VIOLATION: 0x37,
  CTAP2_ERR_PIN_TOKEN_EXPIRED: 0x38,
  CTAP2_ERR_REQUEST_TOO_LARGE: 0x39,
  CTAP2_ERR_ACTION_TIMEOUT: 0x3a,
  CTAP2_ERR_UP_REQUIRED: 0x3b,
  CTAP2_ERR_UV_BLOCKED: 0x3c,
  CTAP2_ERR_INTEGRITY_FAILURE: 0x3d,
  CTAP2_ERR_INVALID_SUBCOMMAND: 0x3e,
  CTAP2_ERR_UV_INVALID: 0x3f,
  CTAP2_ERR_UNAUTHORIZED_PERMISSION: 0x40,
  CTAP1_ERR_OTHER: 0x7f,
  CTAP2_ERR_SPEC_LAST: 0xdf,
  CTAP2_ERR_EXTENSION_FIRST: 0xe0,
  CTAP2_ERR_EXTENSION_LAST: 0xef,
  CTAP2_ERR_VENDOR_FIRST: 0xf0,
  CTAP2_ERR_VENDOR_LAST: 0xff,
} as const;

export type Ctap2StatusName = keyof typeof CTAP2_STATUS;

const NAMES = new Map<number, string>();
for (const [name, code] of Object.entries(CTAP2_STATUS)) if (!NAMES.has(code)) NAMES.set(code, name);

/** The spec name of a status byte; unknown codes keep their number (`CTAP2_ERR_0x5a`). */
export function statusName(status: number): string {
  const n = NAMES.get(status);
  if (n && !n.endsWith('_FIRST') && !n.endsWith('_LAST')) return n;
  if (status >= 0xe0 && status <= 0xef) return `CTAP2_ERR_EXTENSION_0x${status.toString(16)}`;
  if (status >= 0xf0) return `CTAP2_ERR_VENDOR_0x${status.toString(16)}`;
  return `CTAP2_ERR_0x${status.toString(16).padStart(2, '0')}`;
}

const DESCRIPTIONS: Partial<Record<number, string>> = {
  0x01: 'the key does not support this command',
  0x19: 'a credential for this account is already on the key',
  0x26: 'the key supports none of the requested algorithms',
  0x27: 'the request was denied',
  0x28: 'the key has no room for more discoverable credentials',
  0x2b: 'the key does not support a requested option',
  0x2d: 'the operation was cancelled',
  0x2e: 'no matching credential is on the key',
  0x2f: 'the key was not touched in time',
  0x31: 'the PIN was wrong',
  0x32: 'the PIN is blocked: the key must be reset',
  0x33: 'the PIN/UV auth parameter was rejected',
  0x34: 'too many wrong PINs: remove and re-insert the key, then try again',
  0x35: 'no PIN is set on the key',
  0x36: 'a PIN or user verification is required',
  0x37: 'the new PIN does not meet the key\'s PIN policy (length)',
  0x38: 'the PIN token has expired',
  0x39: 'the request is too large for the key',
  0x3b: 'user presence (a touch) is required',
  0x3c: 'built-in user verification is blocked: use the PIN',
  0x3f: 'user verification failed',
  0x40: 'the PIN token lacks the permission for this command',
};

/** The authenticator returned a non-zero status. */
export class CtapError extends CtapBridgeError {
  readonly status: number;
  /** The command byte that failed, when known. */
  readonly command: number | undefined;
  /** For PIN errors: retries left, when fetched. */
  retriesLeft: number | undefined;
  /** For PIN_AUTH_BLOCKED or powerCycleState: the key must be re-plugged. */
  powerCycleRequired: boolean | undefined;

  constructor(status: number, options?: { command?: number; message?: string; cause?: unknown }) {
    const name = statusName(status);
    const detail = options?.message ?? DESCRIPTIONS[status];
    super(name, detail ? `${name}: ${detail}` : name, options);
    this.status = status;
    this.command = options?.command;
    this.retriesLeft = undefined;
    this.powerCycleRequired = undefined;
  }

  /** The spec name, e.g. CTAP2_ERR_PIN_INVALID. */
  get specName(): string {
    return statusName(this.status);
  }
}
