/**
 * Errors of the webauthn.dll route. They are WebAuthnErrors (same `name`s as
 * the HID route: NotAllowedError, InvalidStateError, NotSupportedError, …)
 * that also keep the HRESULT Windows returned.
 */
import { WEBAUTHN_ERROR_NAMES, WebAuthnError, type WebAuthnErrorName } from '../../webauthn/errors.js';
import { hresultHex } from './constants.js';

export class WebAuthnDllError extends WebAuthnError {
  /** The HRESULT as an unsigned 32-bit number, when Windows returned one. */
  readonly hresult: number | undefined;
  /** What WebAuthNGetErrorName said, verbatim. */
  readonly windowsName: string | undefined;
  constructor(
    name: WebAuthnErrorName,
    message: string,
    options?: { cause?: unknown; hresult?: number | undefined; windowsName?: string | undefined },
  ) {
    super(name, message, { cause: options?.cause });
    this.hresult = options?.hresult === undefined ? undefined : options.hresult >>> 0;
    this.windowsName = options?.windowsName;
  }

  override toJSON(): { name: WebAuthnErrorName; ctap?: string; message: string } & { hresult?: string } {
    const base = super.toJSON();
    return this.hresult === undefined ? base : { ...base, hresult: hresultHex(this.hresult) };
  }
}

function isWebAuthnName(s: string): s is WebAuthnErrorName {
  return (WEBAUTHN_ERROR_NAMES as readonly string[]).includes(s);
}

/**
 * An HRESULT and the name WebAuthNGetErrorName gave it → the error create()/
 * get() reject with. Names Windows may add later map to UnknownError, and
 * "Success" with a failing HRESULT cannot happen but would too.
 */
export function errorFromHresult(hr: number, windowsName: string | undefined, what: string): WebAuthnDllError {
  const name: WebAuthnErrorName = windowsName !== undefined && isWebAuthnName(windowsName) ? windowsName : 'UnknownError';
  const message = `${what} failed in webauthn.dll: ${windowsName ?? 'no error name'} (HRESULT ${hresultHex(hr)})${HINTS[name] ?? ''}`;
  return new WebAuthnDllError(name, message, { hresult: hr, windowsName });
}

const HINTS: Partial<Record<WebAuthnErrorName, string>> = {
  NotAllowedError: '. The request was cancelled, timed out, or no matching security key was used.',
  InvalidStateError: '. This security key already holds a credential for this account (excludeCredentials).',
  NotSupportedError: '. Windows rejected a parameter of this request.',
  ConstraintError: '. The security key cannot satisfy this request (for example it has no room for another discoverable credential).',
};
