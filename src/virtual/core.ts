/**
 * The authenticator's working parts shared by every command handler: options,
 * persistent and power-cycle state, user presence / verification, the PIN/UV
 * auth token and its checks, and durable saves. Handlers get a
 * CommandContext (one per request) wrapping this core.
 */
import { sha256 } from '../crypto/hashes.js';
import { p256Generate, randomBytes, type P256KeyPair } from '../crypto/primitives.js';
import { KEEPALIVE_STATUS } from '../ctaphid/constants.js';
import { pinProtocol, type PinUvAuthProtocol } from '../ctap2/pin-protocol.js';
import { CtapError } from '../ctap2/status.js';
import { timingSafeEqual, utf8Encode, zeroize } from '../util/bytes.js';
import type { CborMapReader, CborValue } from '../cbor/index.js';
import { COSE_ALG, PERMISSION } from './constants.js';
import { createInitialState, parseState, serializeState, StateFile, type PersistentState } from './state.js';

export type PresenceMode = 'auto' | 'deny' | { delayMs: number } | ((req: PresenceRequest) => Promise<boolean>);
export type UvMode = 'none' | 'auto' | 'deny';

export interface PresenceRequest {
  /** The RP the touch is for, when the command names one. */
  rpId?: string | undefined;
  /** Which command asks. */
  command: string;
  /** Fires when the host cancels. */
  signal: AbortSignal;
}

/** Features a real key may lack; all true by default. Turn one off to simulate an older or smaller key. */
export interface VirtualFeatures {
  clientPin: boolean;
  credMgmt: boolean;
  largeBlobs: boolean;
  config: boolean;
  enterpriseAttestation: boolean;
  hmacSecret: boolean;
  hmacSecretMc: boolean;
  credProtect: boolean;
  credBlob: boolean;
  largeBlobKey: boolean;
  minPinLength: boolean;
  makeCredUvNotRqd: boolean;
  selection: boolean;
}

export interface VirtualAuthenticatorOptions {
  /** 16 bytes; random on first start (and then kept in the state file). */
  aaguid?: Uint8Array | string | undefined;
  /** Set this PIN on a fresh key (ignored when the state file already has one). */
  pin?: string | undefined;
  presence?: PresenceMode | undefined;
  uv?: UvMode | undefined;
  /** Resident credential slots (default 100). */
  capacity?: number | undefined;
  /** Persist state to this file (JSON, atomic writes, 0600). */
  statePath?: string | undefined;
  /** Alias of statePath (the device-spec opener passes this name). */
  stateFile?: string | undefined;
  /** Behave like a U2F-only key: no CBOR capability. */
  u2fOnly?: boolean | undefined;
  versions?: string[] | undefined;
  maxMsgSize?: number | undefined;
  /** COSE algorithms offered, in preference order (default ES256, EdDSA). */
  algorithms?: number[] | undefined;
  /** PIN/UV auth protocols offered (default [2, 1]). */
  pinUvAuthProtocols?: number[] | undefined;
  features?: Partial<VirtualFeatures> | undefined;
  /** 'packed' with the batch certificate (default) or 'self'. */
  attestation?: 'batch' | 'self' | undefined;
  /** Milliseconds after power-up during which reset is allowed (default 10000; Infinity for tests). */
  resetWindowMs?: number | undefined;
  firmwareVersion?: number | undefined;
  /** How long the key waits for a touch before CTAP2_ERR_USER_ACTION_TIMEOUT (default 30000, as real keys). */
  userPresenceTimeoutMs?: number | undefined;
  maxCredBlobLength?: number | undefined;
  maxSerializedLargeBlobArray?: number | undefined;
  /** Longest allowList/excludeList the key takes (default 16); longer lists get CTAP2_ERR_LIMIT_EXCEEDED. */
  maxCredentialCountInList?: number | undefined;
  /** Clock (ms since epoch), for tests. */
  now?: (() => number) | undefined;
  /** Hooks around the state file's atomic write (crash tests). */
  stateFileHooks?: import('./state.js').StateFileHooks | undefined;
}

export interface ResolvedOptions {
  presence: PresenceMode;
  uv: UvMode;
  capacity: number;
  u2fOnly: boolean;
  versions: string[];
  maxMsgSize: number;
  algorithms: number[];
  pinUvAuthProtocols: number[];
  features: VirtualFeatures;
  attestation: 'batch' | 'self';
  resetWindowMs: number;
  firmwareVersion: number;
  userPresenceTimeoutMs: number;
  maxCredBlobLength: number;
  maxSerializedLargeBlobArray: number;
  maxCredentialCountInList: number;
  maxCredentialIdLength: number;
  now: () => number;
}

export const DEFAULT_FEATURES: VirtualFeatures = {
  clientPin: true,
  credMgmt: true,
  largeBlobs: true,
  config: true,
  enterpriseAttestation: true,
  hmacSecret: true,
  hmacSecretMc: true,
  credProtect: true,
  credBlob: true,
  largeBlobKey: true,
  minPinLength: true,
  makeCredUvNotRqd: true,
  selection: true,
};

export function resolveOptions(o: VirtualAuthenticatorOptions): ResolvedOptions {
  const capacity = o.capacity ?? 100;
  if (!Number.isSafeInteger(capacity) || capacity < 0 || capacity > 1_000_000) throw new RangeError('capacity must be an integer from 0 to 1000000');
  const maxMsgSize = o.maxMsgSize ?? 1200;
  if (!Number.isSafeInteger(maxMsgSize) || maxMsgSize < 1024 || maxMsgSize > 7609) throw new RangeError('maxMsgSize must be from 1024 to 7609');
  const algorithms = o.algorithms ?? [COSE_ALG.ES256, COSE_ALG.EdDSA];
  if (!algorithms.length || algorithms.some((a) => a !== COSE_ALG.ES256 && a !== COSE_ALG.EdDSA)) throw new RangeError('algorithms: the virtual key signs with ES256 (-7) and EdDSA (-8)');
  const protocols = o.pinUvAuthProtocols ?? [2, 1];
  if (protocols.some((p) => p !== 1 && p !== 2)) throw new RangeError('pinUvAuthProtocols: 1 and 2 are supported');
  const maxList = o.maxCredentialCountInList ?? 16;
  if (!Number.isSafeInteger(maxList) || maxList < 1 || maxList > 1024) throw new RangeError('maxCredentialCountInList must be from 1 to 1024');
  const features = { ...DEFAULT_FEATURES, ...o.features };
  if (o.u2fOnly) features.clientPin = false;
  return {
    presence: o.presence ?? 'auto',
    uv: o.uv ?? 'none',
    capacity,
    u2fOnly: o.u2fOnly ?? false,
    versions: o.versions ?? (o.u2fOnly ? ['U2F_V2'] : ['U2F_V2', 'FIDO_2_0', 'FIDO_2_1']),
    maxMsgSize,
    algorithms,
    pinUvAuthProtocols: protocols,
    features,
    attestation: o.attestation ?? 'batch',
    resetWindowMs: o.resetWindowMs ?? 10_000,
    firmwareVersion: o.firmwareVersion ?? 0x010000,
    userPresenceTimeoutMs: o.userPresenceTimeoutMs ?? 30_000,
    maxCredBlobLength: o.maxCredBlobLength ?? 32,
    maxSerializedLargeBlobArray: o.maxSerializedLargeBlobArray ?? 4096,
    maxCredentialCountInList: maxList,
    maxCredentialIdLength: 128,
    now: o.now ?? Date.now,
  };
}

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
  uvFailuresSincePowerUp: number;
  /** getNextAssertion / credentialManagement enumeration state. */
  pending: PendingOperation | undefined;
}

export type PendingOperation = {
  kind: 'getNextAssertion' | 'enumerateRPs' | 'enumerateCredentials';
  /** Produces the response for the next item; undefined when exhausted. */
  next: () => Promise<CborValue | undefined>;
  remaining: number;
  expiresAt: number;
};

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
    let state = file ? await file.load() : undefined;
    let fresh = false;
    if (!state) {
      state = createInitialState(parseAaguid(o.aaguid), new Date(options.now()));
      fresh = true;
    }
    if (fresh && o.pin !== undefined) {
      const pin = utf8Encode(o.pin);
      if (pin.length < state.minPinLength || pin.length > 63) throw new RangeError(`pin must be ${state.minPinLength} to 63 bytes of UTF-8`);
      state.pinHash = sha256(pin).slice(0, 16);
      zeroize(pin);
    }
    const core = new AuthenticatorCore(options, state, file);
    if (fresh && file) await core.persist();
    return core;
  }

  #freshVolatile(): VolatileState {
    return {
      powerUpAt: this.options.now(),
      keyAgreement: p256Generate(),
      pinUvAuthToken: randomBytes(32),
      token: undefined,
      pinFailuresSincePowerUp: 0,
      uvFailuresSincePowerUp: 0,
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
      throw new CtapError(0x7f, { message: 'the virtual key could not save its state', cause: e });
    }
    this.#lastSaved = text;
  }

  get pinSet(): boolean {
    return this.state.pinHash !== undefined;
  }

  get uvSupported(): boolean {
    return this.options.uv !== 'none';
  }

  protocol(version: number | undefined): PinUvAuthProtocol {
    if (version === undefined || !this.options.pinUvAuthProtocols.includes(version)) throw new CtapError(0x02, { message: 'unsupported PIN/UV auth protocol' });
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
      throw new CtapError(0x33); // PIN_AUTH_INVALID
    }
    if ((token.permissions & permission) === 0) throw new CtapError(0x40); // UNAUTHORIZED_PERMISSION
    if (rpId !== undefined && token.rpId !== undefined && token.rpId !== rpId) throw new CtapError(0x40);
    if (rpId !== undefined && token.rpId === undefined && (permission === PERMISSION.mc || permission === PERMISSION.ga)) token.rpId = rpId;
    token.used = true;
    return token;
  }

  checkPinHash(pinHash: Uint8Array): boolean {
    return this.state.pinHash !== undefined && timingSafeEqual(this.state.pinHash, pinHash);
  }
}

export function parseAaguid(a: Uint8Array | string | undefined): Uint8Array {
  if (a === undefined) return randomBytes(16);
  if (a instanceof Uint8Array) {
    if (a.length !== 16) throw new RangeError('aaguid must be 16 bytes');
    return a.slice();
  }
  const hex = a.replace(/-/g, '');
  if (!/^[0-9a-fA-F]{32}$/.test(hex)) throw new RangeError('aaguid must be a UUID (8-4-4-4-12 hex digits)');
  return Uint8Array.from(hex.match(/../g)!.map((h) => parseInt(h, 16)));
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
    if (this.signal.aborted) throw new CtapError(0x2d);
  }

  /**
   * Wait for a touch, sending KEEPALIVE UPNEEDED meanwhile. Throws
   * OPERATION_DENIED (denied), KEEPALIVE_CANCEL (host cancelled).
   */
  async requestUserPresence(rpId?: string): Promise<void> {
    this.checkCancelled();
    const mode = this.options.presence;
    if (mode === 'auto') return;
    if (mode === 'deny') throw new CtapError(0x27);
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
        reject(new CtapError(0x2f)); // USER_ACTION_TIMEOUT
      }, this.options.userPresenceTimeoutMs);
    });
    timeout.catch(() => undefined);
    try {
      if (typeof mode === 'function') {
        const approved = await raceAbort(Promise.race([mode({ rpId, command: this.command, signal: waiting.signal }), timeout]), this.signal);
        if (!approved) throw new CtapError(0x27);
      } else {
        await raceAbort(Promise.race([new Promise<void>((resolve) => (delay = setTimeout(resolve, mode.delayMs))), timeout]), this.signal);
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
    if (uv === 'none') throw new CtapError(0x2c); // INVALID_OPTION
    if (this.state.uvRetries === 0) throw new CtapError(0x3c); // UV_BLOCKED
    await this.requestUserPresence(rpId);
    if (uv === 'deny') {
      this.state.uvRetries--;
      await this.persist();
      throw new CtapError(this.state.uvRetries === 0 ? 0x3c : 0x3f);
    }
    if (this.state.uvRetries !== 8) {
      this.state.uvRetries = 8;
      await this.persist();
    }
  }
}

function raceAbort<T>(p: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(new CtapError(0x2d));
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(new CtapError(0x2d));
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(e);
      },
    );
  });
}

export type CommandHandler = (ctx: CommandContext, params: CborMapReader | undefined) => Promise<CborValue | undefined>;
