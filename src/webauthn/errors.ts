/**
 * The webauthn layer's error and the ONE mapping from every lower-layer error
 * to the DOMException-style name a browser would reject with.
 */
import { CtapBridgeError, AbortedError, TimeoutError } from '../util/errors.js';
import { CtapError } from '../ctap2/status.js';
import { CtapHidError } from '../ctaphid/errors.js';
import { HidError } from '../hid/errors.js';
import { CborError } from '../cbor/index.js';
import { Ctap1Error } from '../ctap1/apdu.js';

export const WEBAUTHN_ERROR_NAMES = [
  'NotAllowedError',
  'InvalidStateError',
  'NotSupportedError',
  'SecurityError',
  'AbortError',
  'ConstraintError',
  'UnknownError',
  'TypeError',
  'EncodingError',
  'SyntaxError',
] as const;

export type WebAuthnErrorName = (typeof WEBAUTHN_ERROR_NAMES)[number];

/** Browsers' messages, kept word for word where the reference recorded them (05-errors.json). */
export const BROWSER_MESSAGES = {
  NotAllowedError:
    'The operation either timed out or was not allowed. See: https://www.w3.org/TR/webauthn-2/#sctn-privacy-considerations-client.',
  InvalidStateError:
    'The user attempted to register an authenticator that contains one of the credentials already registered with the relying party.',
  SecurityError: 'The relying party ID is not a registrable domain suffix of, nor equal to the current domain.',
  AbortError: 'The operation was aborted.',
} as const;

/**
 * What create()/get() reject with. `name` is the DOMException name (what web
 * code switches on); `code` the stable library code (`WEBAUTHN_<NAME>`);
 * `ctap` the CTAP spec name of the underlying status when there is one
 * (e.g. CTAP2_ERR_PIN_INVALID); `cause` the lower-layer error.
 */
export class WebAuthnError extends CtapBridgeError {
  declare name: WebAuthnErrorName;
  readonly ctap: string | undefined;
  /** For a PIN failure (e.g. CTAP2_ERR_PIN_INVALID): the PIN retries the key has left, when known. */
  readonly retriesLeft: number | undefined;
  constructor(name: WebAuthnErrorName, message: string, options?: { cause?: unknown; ctap?: string | undefined; retriesLeft?: number | undefined }) {
    super(`WEBAUTHN_${name.replace(/Error$/, '').replace(/([a-z])([A-Z])/g, '$1_$2').toUpperCase()}`, message, options);
    this.name = name;
    this.ctap = options?.ctap;
    this.retriesLeft = options?.retriesLeft;
  }

  /** `{"error":{"name","ctap","message"}}` as the CLI prints it with --json. */
  toJSON(): { name: WebAuthnErrorName; ctap?: string; message: string } {
    return this.ctap ? { name: this.name, ctap: this.ctap, message: this.message } : { name: this.name, message: this.message };
  }
}

export function webAuthnError(name: WebAuthnErrorName, message?: string, options?: { cause?: unknown; ctap?: string }): WebAuthnError {
  return new WebAuthnError(name, message ?? (BROWSER_MESSAGES as Record<string, string>)[name] ?? name, options);
}

/** CTAP status names → WebAuthn names. Anything not listed is NotAllowedError (WebAuthn §6.3.2/§6.3.3: "any other error"). */
const CTAP_TO_WEBAUTHN: Readonly<Record<string, WebAuthnErrorName>> = {
  CTAP2_ERR_CREDENTIAL_EXCLUDED: 'InvalidStateError',
  CTAP2_ERR_KEY_STORE_FULL: 'ConstraintError',
  CTAP2_ERR_LARGE_BLOB_STORAGE_FULL: 'ConstraintError',
  CTAP2_ERR_UNSUPPORTED_ALGORITHM: 'NotAllowedError',
  CTAP2_ERR_UNSUPPORTED_OPTION: 'ConstraintError',
  CTAP2_ERR_KEEPALIVE_CANCEL: 'AbortError',
  CTAP2_ERR_PIN_NOT_SET: 'NotAllowedError',
  CTAP2_ERR_REQUEST_TOO_LARGE: 'UnknownError',
  CTAP2_ERR_INVALID_CBOR: 'UnknownError',
  CTAP2_ERR_CBOR_UNEXPECTED_TYPE: 'UnknownError',
  CTAP2_ERR_MISSING_PARAMETER: 'UnknownError',
  CTAP1_ERR_INVALID_PARAMETER: 'UnknownError',
  CTAP1_ERR_INVALID_LENGTH: 'UnknownError',
  CTAP1_ERR_INVALID_COMMAND: 'NotSupportedError',
  CTAP2_ERR_UNSUPPORTED_EXTENSION: 'NotSupportedError',
  // The key broke the protocol (e.g. left out which credential it used).
  CTAP1_ERR_OTHER: 'UnknownError',
};

/**
 * The one mapping from any error thrown below webauthn/ to a WebAuthnError.
 * WebAuthnErrors pass through; TypeErrors from argument checks stay TypeError.
 */
export function toWebAuthnError(e: unknown): WebAuthnError {
  if (e instanceof WebAuthnError) return e;
  if (e instanceof CtapError) {
    const ctap = e.specName;
    const name = CTAP_TO_WEBAUTHN[ctap] ?? 'NotAllowedError';
    const message = name === 'InvalidStateError' ? BROWSER_MESSAGES.InvalidStateError : e.message;
    return new WebAuthnError(name, message, { cause: e, ctap });
  }
  if (e instanceof AbortedError) return new WebAuthnError('AbortError', e.message, { cause: e });
  if (e instanceof TimeoutError) return new WebAuthnError('NotAllowedError', `${e.message}. ${BROWSER_MESSAGES.NotAllowedError}`, { cause: e });
  if (e instanceof CtapHidError) {
    return new WebAuthnError('NotAllowedError', `The key's CTAPHID channel failed: ${e.message}`, {
      cause: e,
      ctap: e.specName ?? `CTAPHID_${e.code}`,
    });
  }
  if (e instanceof HidError) {
    // A key pulled out mid-ceremony, a permission problem, a busy device: the ceremony cannot finish.
    return new WebAuthnError('NotAllowedError', e.message, { cause: e });
  }
  if (e instanceof Ctap1Error) {
    // U2F status words: wrong data (not this key's handle), conditions not satisfied (no touch), ...
    return new WebAuthnError('NotAllowedError', e.message, { cause: e, ctap: e.code });
  }
  if (e instanceof CborError) return new WebAuthnError('UnknownError', `The key sent malformed data: ${e.message}`, { cause: e });
  if (e instanceof CtapBridgeError) return new WebAuthnError('UnknownError', e.message, { cause: e });
  if (e instanceof TypeError) return new WebAuthnError('TypeError', e.message, { cause: e });
  if (e instanceof Error && e.name === 'AbortError') return new WebAuthnError('AbortError', e.message, { cause: e });
  return new WebAuthnError('UnknownError', e instanceof Error ? e.message : 'An unknown error occurred', { cause: e });
}
