/**
 * The authenticator's working parts shared by every command handler: options,
 * persistent and power-cycle state, user presence / verification, the PIN/UV
 * auth token and its checks, and durable saves. Handlers get a
 * CommandContext (one per request) wrapping this core.
 */
import { sha256 } from '../crypto/hashes.js';
import { p256Generate, randomBytes, type P256KeyPair } from '../crypto/primitives.js';
import { KEEPALIVE_STATUS } from '../ctaphid/constants.js';
import { codePointCount } from '../ctap2/pin-input.js';
import { pinProtocol, type PinUvAuthProtocol } from '../ctap2/pin-protocol.js';
import { CTAP2_STATUS, CtapError } from '../ctap2/status.js';
import { timingSafeEqual, utf8Encode, zeroize } from '../util/bytes.js';
import { raceAbort } from '../util/deadline.js';
import type { CborMapReader, CborValue } from '../cbor/index.js';
import { PERMISSION } from '../ctap2/permissions.js';
import { parseAaguid, resolveOptions, type ResolvedOptions, type VirtualAuthenticatorOptions } from './options.js';
import { createInitialState, parseState, serializeState, StateFile, type PersistentState } from './state.js';
import { bioTemplateCount, syncBioState, type BioEnrollmentInProgress } from './bio-enrollment.js';

export interface TokenState {
  protocol: number;
  issuedAt: number;
  /** Set on first successful use (the initial-usage limit no longer applies). */
  used: boolean;
  permissions: number;
  rpId: string | undefined;
  userVerified: boolean;
  userPresent: boolean;
}

/** What lives until the next power cycle. */
export interface VolatileState {
  powerUpAt: number;
  keyAgreement: P256KeyPair;
  pinUvAuthToken: Uint8Array;
  token: TokenState | undefined;
  /** Consecutive wrong PINs since power-up (3 → PIN_AUTH_BLOCKED). */
  pinFailuresSincePowerUp: number;
  /** getNextAssertion / credentialManagement enumeration state. */
  pending: PendingOperation | undefined;
  /** A fingerprint enrollment between enrollBegin and its last sample (bio-enrollment.ts). */
  bioEnrollment?: BioEnrollmentInProgress | undefined;
}

export type PendingOperation = {
  kind: 'getNextAssertion' | 'enumerateRPs' | 'enumerateCredentials';
  /** Produces the response for the next item; undefined when exhausted. */
  next: () => Promise<CborValue | undefined>;
  remaining: number;
  expiresAt: number;
};

export {
  DEFAULT_FEATURES,
  parseAaguid,
  resolveOptions,
  type PresenceMode,
  type PresenceRequest,
  type ResolvedOptions,
  type UvMode,
  type VirtualAuthenticatorOptions,
  type VirtualFeatures,
} from './options.js';

/** A token not used within 30 s of issue expires; none lives past 10 minutes (CTAP 2.2 §6.5.2.1). */
export const TOKEN_INITIAL_USAGE_MS = 30_000;
export const TOKEN_MAX_USAGE_MS = 600_000;

export class AuthenticatorCore {
  readonly options: ResolvedOptions;
  state: PersistentState;
  volatile: VolatileState;
  readonly file: StateFile | undefined;
  /** The last state text that reached the disk (or memory), to roll back a failed save. */
  #lastSaved: string;

  constructor(options: ResolvedOptions, state: PersistentState, file: StateFile | undefined) {
    this.options = options;
    this.state = state;
    this.file = file;
    this.#lastSaved = file ? serializeState(state) : '';
    this.volatile = this.#freshVolatile();
  }

  static async create(o: VirtualAuthenticatorOptions): Promise<AuthenticatorCore> {
    const options = resolveOptions(o);
    const statePath = o.statePath ?? o.stateFile;
    const file = statePath ? new StateFile(statePath, o.stateFileHooks) : undefined;
    // load() locks the file (StateFile.lock); the lock is given back if creating the key fails here.
    let state = file ? await file.load() : undefined;
    try {
      let fresh = false;
      if (!state) {
        state = createInitialState(parseAaguid(o.aaguid), new Date(options.now()));
        fresh = true;
      }
      if (fresh && o.pin !== undefined) {
        const pin = utf8Encode(o.pin);
        if (codePointCount(pin) < state.minPinLength || pin.length > 63) throw new RangeError(`pin must be at least ${state.minPinLength} characters and at most 63 bytes of UTF-8`);
        state.pinHash = sha256(pin).slice(0, 16);
        state.pinCodePoints = codePointCount(pin);
        zeroize(pin);
      }
      const bioChanged = syncBioState(options, o, state);
      const core = new AuthenticatorCore(options, state, file);
      if ((fresh || bioChanged) && file) await core.persist();
      return core;
    } catch (e) {
      file?.release();
      throw e;
    }
  }

  #freshVolatile(): VolatileState {
    return {
      powerUpAt: this.options.now(),
      keyAgreement: p256Generate(),
      pinUvAuthToken: randomBytes(32),
      token: undefined,
      pinFailuresSincePowerUp: 0,
      pending: undefined,
    };
  }

  /** Simulated re-plug: new key agreement key and token, PIN_AUTH_BLOCKED cleared. */
  powerCycle(): void {
    zeroize(this.volatile.keyAgreement.privateKey, this.volatile.pinUvAuthToken);
    this.volatile = this.#freshVolatile();
  }

  /** Regenerate the key agreement key and token (after reset or a PIN change). */
  resetPinUvAuthState(): void {
    zeroize(this.volatile.keyAgreement.privateKey, this.volatile.pinUvAuthToken);
    this.volatile.keyAgreement = p256Generate();
    this.volatile.pinUvAuthToken = randomBytes(32);
    this.volatile.token = undefined;
  }

  /** Write the state durably (before the response leaves). A failure rolls memory back and answers CTAP1_ERR_OTHER. */
  async persist(): Promise<void> {
    // In memory there is nothing that can fail, so nothing to roll back to.
    if (!this.file) return;
    const text = serializeState(this.state);
    try {
      await this.file.save(text);
    } catch (e) {
      this.state = parseState(this.#lastSaved);
      throw new CtapError(CTAP2_STATUS.CTAP1_ERR_OTHER, { message: 'the virtual key could not save its state', cause: e });
    }
    this.#lastSaved = text;
  }

  get pinSet(): boolean {
    return this.state.pinHash !== undefined;
  }

  get uvSupported(): boolean {
    // With a fingerprint sensor, built-in UV exists once a finger is enrolled.
    if (this.options.bio) return this.options.uv !== 'none' && bioTemplateCount(this.state) > 0;
    return this.options.uv !== 'none';
  }

  protocol(version: number | undefined): PinUvAuthProtocol {
    if (version === undefined || !this.options.pinUvAuthProtocols.includes(version)) throw new CtapError(CTAP2_STATUS.CTAP1_ERR_INVALID_PARAMETER, { message: 'unsupported PIN/UV auth protocol' });
    return pinProtocol(version);
  }

  /**
   * Check a pinUvAuthParam made with the current token (CTAP 2.2 §6.5.5.7):
   * signature, permission and RP binding. Binds the token to rpId when it has none.
   */
  verifyToken(param: Uint8Array, protocolVersion: number | undefined, message: Uint8Array, permission: number, rpId: string | undefined): TokenState {
    const proto = this.protocol(protocolVersion);
    let token = this.volatile.token;
    if (token) {
      // The usage timer (CTAP 2.2 §6.5.2.1): unused after the initial limit, or past the maximum period, the token is gone.
      const age = this.options.now() - token.issuedAt;
      if (age > TOKEN_MAX_USAGE_MS || (!token.used && age > TOKEN_INITIAL_USAGE_MS)) {
        this.volatile.token = undefined;
        token = undefined;
      }
    }
    if (!token || token.protocol !== proto.version || !proto.verify(this.volatile.pinUvAuthToken, message, param)) {
      throw new CtapError(CTAP2_STATUS.CTAP2_ERR_PIN_AUTH_INVALID);
    }
    if ((token.permissions & permission) === 0) throw new CtapError(CTAP2_STATUS.CTAP2_ERR_UNAUTHORIZED_PERMISSION);
    if (rpId !== undefined && token.rpId !== undefined && token.rpId !== rpId) throw new CtapError(CTAP2_STATUS.CTAP2_ERR_UNAUTHORIZED_PERMISSION);
    if (rpId !== undefined && token.rpId === undefined && (permission === PERMISSION.mc || permission === PERMISSION.ga)) token.rpId = rpId;
    token.used = true;
    return token;
  }

  checkPinHash(pinHash: Uint8Array): boolean {
    return this.state.pinHash !== undefined && timingSafeEqual(this.state.pinHash, pinHash);
  }
}

/** One request's view of the authenticator. */
export class CommandContext {
  readonly core: AuthenticatorCore;
  readonly signal: AbortSignal;
  readonly keepalive: (status: number) => void;
  readonly command: string;

  constructor(core: AuthenticatorCore, command: string, signal: AbortSignal, keepalive: (status: number) => void) {
    this.core = core;
    this.command = command;
    this.signal = signal;
    this.keepalive = keepalive;
  }

  get state(): PersistentState {
    return this.core.state;
  }

  get volatile(): VolatileState {
    return this.core.volatile;
  }

  get options(): ResolvedOptions {
    return this.core.options;
  }

  now(): number {
    return this.core.options.now();
  }

  persist(): Promise<void> {
    return this.core.persist();
  }

  /**
   * Check a pinUvAuthParam against the current token: signature, permission
   * and RP binding. Throws PIN_AUTH_INVALID / UNAUTHORIZED_PERMISSION.
   */
  verifyPinUvAuth(param: Uint8Array, protocol: number | undefined, message: Uint8Array, permission: number, rpId?: string): TokenState {
    return this.core.verifyToken(param, protocol, message, permission, rpId);
  }

  /** Throw KEEPALIVE_CANCEL if the host cancelled. */
  checkCancelled(): void {
    if (this.signal.aborted) throw new CtapError(CTAP2_STATUS.CTAP2_ERR_KEEPALIVE_CANCEL);
  }

  /**
   * Wait for a touch, sending KEEPALIVE UPNEEDED meanwhile. Throws
   * OPERATION_DENIED (denied), KEEPALIVE_CANCEL (host cancelled).
   */
  async requestUserPresence(rpId?: string, timeoutMs?: number): Promise<void> {
    this.checkCancelled();
    const mode = this.options.presence;
    if (mode === 'auto') return;
    if (mode === 'deny') throw new CtapError(CTAP2_STATUS.CTAP2_ERR_OPERATION_DENIED);
    this.keepalive(KEEPALIVE_STATUS.UPNEEDED);
    // The wait ends with the touch, the host's CANCEL, or USER_ACTION_TIMEOUT; the callback's signal fires on either of the last two.
    const waiting = new AbortController();
    const onHostAbort = (): void => waiting.abort(this.signal.reason);
    this.signal.addEventListener('abort', onHostAbort, { once: true });
    let timer: ReturnType<typeof setTimeout> | undefined;
    let delay: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        waiting.abort();
        reject(new CtapError(CTAP2_STATUS.CTAP2_ERR_USER_ACTION_TIMEOUT));
      }, timeoutMs ?? this.options.userPresenceTimeoutMs);
    });
    timeout.catch(() => undefined);
    try {
      if (typeof mode === 'function') {
        const approved = await cancellable(Promise.race([mode({ rpId, command: this.command, signal: waiting.signal }), timeout]), this.signal);
        if (!approved) throw new CtapError(CTAP2_STATUS.CTAP2_ERR_OPERATION_DENIED);
      } else {
        await cancellable(Promise.race([new Promise<void>((resolve) => (delay = setTimeout(resolve, mode.delayMs))), timeout]), this.signal);
      }
    } finally {
      clearTimeout(timer);
      clearTimeout(delay);
      this.signal.removeEventListener('abort', onHostAbort);
      this.keepalive(KEEPALIVE_STATUS.PROCESSING);
    }
  }

  /** Built-in user verification (the simulated fingerprint). Throws UV_INVALID / UV_BLOCKED / OPERATION_DENIED. */
  async performBuiltInUv(rpId?: string): Promise<void> {
    const uv = this.options.uv;
    if (uv === 'none') throw new CtapError(CTAP2_STATUS.CTAP2_ERR_INVALID_OPTION);
    // A sensor with no finger enrolled has nothing to match against.
    if (this.options.bio && bioTemplateCount(this.state) === 0) throw new CtapError(CTAP2_STATUS.CTAP2_ERR_NOT_ALLOWED);
    if (this.state.uvRetries === 0) throw new CtapError(CTAP2_STATUS.CTAP2_ERR_UV_BLOCKED);
    await this.requestUserPresence(rpId);
    if (uv === 'deny') {
      this.state.uvRetries--;
      await this.persist();
      throw new CtapError(this.state.uvRetries === 0 ? CTAP2_STATUS.CTAP2_ERR_UV_BLOCKED : CTAP2_STATUS.CTAP2_ERR_UV_INVALID);
    }
    if (this.state.uvRetries !== 8) {
      this.state.uvRetries = 8;
      await this.persist();
    }
  }
}

/** p, or CTAP2_ERR_KEEPALIVE_CANCEL as soon as the host cancels. */
function cancellable<T>(p: Promise<T>, signal: AbortSignal): Promise<T> {
  return raceAbort(signal, () => p, () => new CtapError(CTAP2_STATUS.CTAP2_ERR_KEEPALIVE_CANCEL));
}

export type CommandHandler = (ctx: CommandContext, params: CborMapReader | undefined) => Promise<CborValue | undefined>;
