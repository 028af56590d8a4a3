/**
 * How `ctap` fails: an exit code per kind of failure (documented in
 * `ctap --help`), one human line that says what to do next, and with --json
 * `{"error":{"name","ctap","message"}}` on stderr. The WebAuthn name comes
 * from the webauthn layer's single mapping (toWebAuthnError).
 */
import { CborError } from '../cbor/index.js';
import { CtapError } from '../ctap2/status.js';
import { CtapHidError } from '../ctaphid/errors.js';
import { HidError } from '../hid/errors.js';
import { AbortedError, CtapBridgeError, TimeoutError } from '../util/errors.js';
import { toWebAuthnError, WebAuthnError } from '../webauthn/errors.js';

export const EXIT = {
  OK: 0,
  FAILURE: 1,
  USAGE: 2,
  NO_DEVICE: 3,
  REFUSED: 4,
  PIN: 5,
  TIMEOUT: 6,
  BAD_DATA: 7,
  UNSUPPORTED: 8,
} as const;

export const EXIT_CODE_HELP = `Exit codes:
  0  success
  1  failure not covered below
  2  usage error (unknown command or flag, bad value)
  3  no key found, or the key could not be opened (permissions, backend)
  4  the key refused the request (CTAP status error)
  5  PIN problem: wrong, blocked, not set, or needed and not given
  6  timed out or cancelled (no touch, no answer)
  7  malformed data (input to decode, or bytes from the key)
  8  the key does not support this feature`;

/** Bad command line: exit 2, with the usage hint. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** A failure the CLI itself detects (not a library error), with its exit code. */
export class CliError extends Error {
  readonly exitCode: number;
  readonly ctap: string | undefined;
  constructor(message: string, exitCode: number = EXIT.FAILURE, ctap?: string) {
    super(message);
    this.name = 'CliError';
    this.exitCode = exitCode;
    this.ctap = ctap;
  }
}

const PIN_STATUSES = new Set([
  'CTAP2_ERR_PIN_INVALID',
  'CTAP2_ERR_PIN_BLOCKED',
  'CTAP2_ERR_PIN_AUTH_BLOCKED',
  'CTAP2_ERR_PIN_NOT_SET',
  'CTAP2_ERR_PIN_POLICY_VIOLATION',
  'CTAP2_ERR_PUAT_REQUIRED',
  'CTAP2_ERR_PIN_AUTH_INVALID',
  'CTAP2_ERR_PIN_TOKEN_EXPIRED',
  'CTAP2_ERR_UV_BLOCKED',
  'CTAP2_ERR_UV_INVALID',
]);
const TIMEOUT_STATUSES = new Set(['CTAP2_ERR_KEEPALIVE_CANCEL', 'CTAP2_ERR_USER_ACTION_TIMEOUT', 'CTAP2_ERR_ACTION_TIMEOUT', 'CTAP1_ERR_TIMEOUT']);
const UNSUPPORTED_STATUSES = new Set(['CTAP1_ERR_INVALID_COMMAND', 'CTAP2_ERR_UNSUPPORTED_OPTION', 'CTAP2_ERR_UNSUPPORTED_ALGORITHM', 'CTAP2_ERR_UNSUPPORTED_EXTENSION', 'CTAP2_ERR_INVALID_SUBCOMMAND']);

/** webauthn.dll HRESULTs for "the user cancelled the Windows dialog" / "it timed out" (ERROR_CANCELLED, NTE_USER_CANCELLED, ERROR_TIMEOUT). */
const DLL_CANCEL_OR_TIMEOUT: ReadonlySet<number> = new Set([0x8007_04c7, 0x8009_0036, 0x8007_05b4]);

/** The CtapError in an error's cause chain, if any. */
export function findCause<T>(e: unknown, cls: abstract new (...args: never[]) => T): T | undefined {
  for (let x: unknown = e, depth = 0; x && depth < 8; depth++) {
    if (x instanceof cls) return x;
    x = x instanceof Error ? x.cause : undefined;
  }
  return undefined;
}

export function exitCodeFor(e: unknown): number {
  // the CLI's own errors may come back wrapped (thrown from an interaction handler inside a ceremony)
  if (findCause(e, UsageError)) return EXIT.USAGE;
  const cli = findCause(e, CliError);
  if (cli) return cli.exitCode;
  if (e instanceof RangeError || e instanceof TypeError) return EXIT.USAGE;
  const ctap = findCause(e, CtapError);
  if (ctap) {
    if (PIN_STATUSES.has(ctap.specName)) return EXIT.PIN;
    if (TIMEOUT_STATUSES.has(ctap.specName)) return EXIT.TIMEOUT;
    if (UNSUPPORTED_STATUSES.has(ctap.specName)) return EXIT.UNSUPPORTED;
    return EXIT.REFUSED;
  }
  if (findCause(e, TimeoutError) || findCause(e, AbortedError)) return EXIT.TIMEOUT;
  const web = findCause(e, WebAuthnError);
  if (web) {
    // a PIN refusal the library decided without a key status (a PIN too short for this key, no PIN set)
    if (web.ctap !== undefined && PIN_STATUSES.has(web.ctap)) return EXIT.PIN;
    // The webauthn.dll route reports WebAuthn names (with the HRESULT Windows returned) instead of CTAP statuses.
    if (web.name === 'AbortError') return EXIT.TIMEOUT;
    const hr = (web as { hresult?: unknown }).hresult;
    if (typeof hr === 'number') {
      if (DLL_CANCEL_OR_TIMEOUT.has(hr)) return EXIT.TIMEOUT;
      if (web.name === 'InvalidStateError' || web.name === 'ConstraintError' || web.name === 'NotAllowedError') return EXIT.REFUSED;
    }
  }
  const hid = findCause(e, HidError);
  if (hid) return hid.code === 'INVALID_SPEC' ? EXIT.USAGE : EXIT.NO_DEVICE;
  const hidProto = findCause(e, CtapHidError);
  if (hidProto) return hidProto.code === 'UNSUPPORTED' ? EXIT.UNSUPPORTED : EXIT.BAD_DATA;
  if (findCause(e, CborError)) return EXIT.BAD_DATA;
  if (findCause(e, CtapBridgeError)?.code === 'STATE_LOCKED') return EXIT.NO_DEVICE; // virtual:FILE in use by another process
  if (e instanceof CtapBridgeError && /UNSUPPORTED|NOT_SUPPORTED/.test(e.code)) return EXIT.UNSUPPORTED;
  return EXIT.FAILURE;
}

/** What to do next, for the failures a user can act on. */
function nextStep(e: unknown): string | undefined {
  const ctap = findCause(e, CtapError);
  if (ctap) {
    if (ctap.command === 0x07) return undefined; // reset: the library's message already says what to do
    const left = ctap.retriesLeft;
    switch (ctap.specName) {
      case 'CTAP2_ERR_PIN_INVALID':
        return left !== undefined
          ? `Wrong PIN: ${left} ${left === 1 ? 'try' : 'tries'} left before the key locks${left <= 3 ? ' (then only a reset helps)' : ''}.`
          : 'Wrong PIN: check it and try again (`ctap pin status` shows the tries left).';
      case 'CTAP2_ERR_PIN_AUTH_BLOCKED':
        return 'Too many wrong PINs in a row: remove the key, plug it back in, then try again.';
      case 'CTAP2_ERR_PIN_BLOCKED':
        return 'The PIN is blocked after too many wrong tries: only `ctap reset` (which erases every credential) makes the key usable again.';
      case 'CTAP2_ERR_PIN_NOT_SET':
        return 'No PIN is set on this key: set one with `ctap pin set`.';
      case 'CTAP2_ERR_PUAT_REQUIRED':
        return 'This needs the key\'s PIN: give it with --pin-stdin, CTAP_PIN, or at the prompt.';
      case 'CTAP2_ERR_PIN_POLICY_VIOLATION':
        return 'The PIN does not meet the key\'s rules: if `ctap pin status` says it must be changed, run `ctap pin change`; a new PIN needs at least minPINLength characters.';
      case 'CTAP2_ERR_KEEPALIVE_CANCEL':
        return 'The operation was cancelled.';
      case 'CTAP2_ERR_USER_ACTION_TIMEOUT':
      case 'CTAP2_ERR_ACTION_TIMEOUT':
        return 'The key was not touched in time: run the command again and touch the key when it blinks.';
      case 'CTAP2_ERR_NO_CREDENTIALS':
        return 'The key holds no credential for this request.';
      default:
        return undefined;
    }
  }
  if (findCause(e, TimeoutError)) return 'No answer in time: check the key is plugged in (and touch it when it blinks), or raise --timeout.';
  return undefined;
}

export interface ErrorReport {
  name: string;
  ctap?: string;
  message: string;
  /** webauthn.dll route: "0x800704C7" */
  hresult?: string;
}

/** The `{"error":…}` body: WebAuthn name, CTAP spec name, message. */
export function errorReport(e: unknown): ErrorReport {
  if (e instanceof UsageError) return { name: 'TypeError', message: e.message };
  if (e instanceof CliError) return e.ctap ? { name: 'NotAllowedError', ctap: e.ctap, message: e.message } : { name: 'UnknownError', message: e.message };
  const w = toWebAuthnError(e);
  const ctapErr = findCause(e, CtapError);
  const ctap = w.ctap ?? ctapErr?.specName;
  const message = humanMessage(e);
  const report: ErrorReport = ctap ? { name: w.name, ctap, message } : { name: w.name, message };
  // webauthn.dll route: the HRESULT Windows returned, as WebAuthnDllError.toJSON() gives it
  const hresult = (w.toJSON() as { hresult?: unknown }).hresult;
  if (typeof hresult === 'string') report.hresult = hresult;
  return report;
}

/** One line for a human: what happened and what to do next. */
export function humanMessage(e: unknown): string {
  if (!(e instanceof Error)) return String(e);
  const step = nextStep(e);
  if (!step) return e.message;
  const ctap = findCause(e, CtapError);
  return ctap ? `${step} (${ctap.specName})` : `${e.message}${/[.?!]$/.test(e.message) ? '' : '.'} ${step}`;
}
