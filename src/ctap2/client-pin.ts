/**
 * authenticatorClientPIN (0x06, CTAP 2.2 §6.5): every subcommand of CTAP 2.1,
 * PIN/UV auth protocols 1 and 2, and the PinUvAuthToken the other command
 * families are handed.
 *
 * Errors: a wrong PIN (CTAP2_ERR_PIN_INVALID) comes back with `retriesLeft`
 * (fetched once with getPINRetries right after the failure) and
 * `powerCycleRequired`; PIN_AUTH_BLOCKED sets `powerCycleRequired`;
 * PIN_BLOCKED says the key must be reset. UV_INVALID carries the UV retries.
 * PINs, PIN hashes, shared secrets and tokens are zeroed after use and never
 * reach a message.
 */
import { asMap, CborError, CborMapReader, type CborValue } from '../cbor/index.js';
import { sha256 } from '../crypto/hashes.js';
import type { P256Point } from '../crypto/primitives.js';
import type { TransactOptions } from '../ctaphid/transport.js';
import { zeroize } from '../util/bytes.js';
import { CTAP2_CMD } from './commands.js';
import { checkedPin, type PinInput } from './pin-input.js';
import { padPin, pinProtocol, type PinUvAuthProtocol, type PinUvAuthProtocolVersion } from './pin-protocol.js';
import {
  choosePinProtocol,
  infoOption,
  permissionMask,
  permissionNames,
  UnsupportedFeatureError,
  type FeatureInfo,
  type PermissionName,
} from './permissions.js';
import type { Ctap2Session } from './session.js';
import { CTAP2_STATUS, CtapError } from './status.js';

export const CLIENT_PIN_SUBCOMMAND = {
  getPINRetries: 0x01,
  getKeyAgreement: 0x02,
  setPIN: 0x03,
  changePIN: 0x04,
  getPinToken: 0x05,
  getPinUvAuthTokenUsingUvWithPermissions: 0x06,
  getUVRetries: 0x07,
  getPinUvAuthTokenUsingPinWithPermissions: 0x09,
} as const;

/** Request parameter keys. */
export const CLIENT_PIN_PARAM = {
  pinUvAuthProtocol: 0x01,
  subCommand: 0x02,
  keyAgreement: 0x03,
  pinUvAuthParam: 0x04,
  newPinEnc: 0x05,
  pinHashEnc: 0x06,
  permissions: 0x09,
  rpId: 0x0a,
} as const;

/** Response member keys. */
export const CLIENT_PIN_RESPONSE = {
  keyAgreement: 0x01,
  pinUvAuthToken: 0x02,
  pinRetries: 0x03,
  powerCycleState: 0x04,
  uvRetries: 0x05,
} as const;

/** COSE_Key labels and values of the key-agreement key (RFC 9053; CTAP 2.2 §6.5.6). */
export const COSE_KEY_AGREEMENT = {
  kty: 1,
  alg: 3,
  crv: -1,
  x: -2,
  y: -3,
  ktyEC2: 2,
  /** ECDH-ES+HKDF-256: what CTAP mandates here, whatever the real KDF. */
  algEcdhEsHkdf256: -25,
  crvP256: 1,
} as const;

export function encodeKeyAgreement(point: P256Point): Map<number, CborValue> {
  const K = COSE_KEY_AGREEMENT;
  return new Map<number, CborValue>([
    [K.kty, K.ktyEC2],
    [K.alg, K.algEcdhEsHkdf256],
    [K.crv, K.crvP256],
    [K.x, point.x],
    [K.y, point.y],
  ]);
}

/** The authenticator's key-agreement key: an EC2 P-256 COSE_Key (alg is not checked: keys send -25 or omit it). */
export function decodeKeyAgreement(value: unknown, context = 'keyAgreement'): P256Point {
  const K = COSE_KEY_AGREEMENT;
  const r = CborMapReader.from(value, context);
  const kty = r.int(K.kty, 'kty');
  if (kty !== K.ktyEC2) throw new CborError('CBOR_TYPE', `kty ${kty} is not EC2`, context);
  const crv = r.int(K.crv, 'crv');
  if (crv !== K.crvP256) throw new CborError('CBOR_TYPE', `curve ${crv} is not P-256`, context);
  const x = r.bytes(K.x, 'x');
  const y = r.bytes(K.y, 'y');
  if (x.length !== 32 || y.length !== 32) throw new CborError('CBOR_TYPE', 'coordinates must be 32 bytes each', context);
  return { x, y };
}

export interface ClientPinRequest {
  pinUvAuthProtocol?: number | undefined;
  subCommand: number;
  keyAgreement?: P256Point | undefined;
  pinUvAuthParam?: Uint8Array | undefined;
  newPinEnc?: Uint8Array | undefined;
  pinHashEnc?: Uint8Array | undefined;
  permissions?: number | undefined;
  rpId?: string | undefined;
}

export function encodeClientPinRequest(req: ClientPinRequest): Map<number, CborValue> {
  const P = CLIENT_PIN_PARAM;
  const m = new Map<number, CborValue>();
  if (req.pinUvAuthProtocol !== undefined) m.set(P.pinUvAuthProtocol, req.pinUvAuthProtocol);
  m.set(P.subCommand, req.subCommand);
  if (req.keyAgreement) m.set(P.keyAgreement, encodeKeyAgreement(req.keyAgreement));
  if (req.pinUvAuthParam) m.set(P.pinUvAuthParam, req.pinUvAuthParam);
  if (req.newPinEnc) m.set(P.newPinEnc, req.newPinEnc);
  if (req.pinHashEnc) m.set(P.pinHashEnc, req.pinHashEnc);
  if (req.permissions !== undefined) m.set(P.permissions, req.permissions);
  if (req.rpId !== undefined) m.set(P.rpId, req.rpId);
  return m;
}

export interface ClientPinResponse {
  keyAgreement?: P256Point | undefined;
  /** Encrypted pinUvAuthToken as the key sent it. */
  pinUvAuthToken?: Uint8Array | undefined;
  pinRetries?: number | undefined;
  powerCycleState?: boolean | undefined;
  uvRetries?: number | undefined;
}

/** Decode a clientPIN reply; an empty reply (setPIN, changePIN) is `{}`. */
export function decodeClientPinResponse(value: unknown): ClientPinResponse {
  if (value === undefined) return {};
  const R = CLIENT_PIN_RESPONSE;
  const r = CborMapReader.from(value, 'clientPin response');
  const out: ClientPinResponse = {};
  if (r.has(R.keyAgreement)) out.keyAgreement = decodeKeyAgreement(asMap(r.raw(R.keyAgreement), r.path(R.keyAgreement, 'keyAgreement')), r.path(R.keyAgreement, 'keyAgreement'));
  out.pinUvAuthToken = r.optionalBytes(R.pinUvAuthToken, 'pinUvAuthToken', 1024);
  out.pinRetries = r.optionalUint(R.pinRetries, 'pinRetries');
  out.powerCycleState = r.optionalBool(R.powerCycleState, 'powerCycleState');
  out.uvRetries = r.optionalUint(R.uvRetries, 'uvRetries');
  return out;
}

const INSPECT = Symbol.for('nodejs.util.inspect.custom');

/**
 * A pinUvAuthToken with what it may do. `authenticate` makes a
 * pinUvAuthParam; `destroy` zeroes the token (do it when done). The bytes
 * live in a private field: console.log / util.inspect / JSON.stringify and
 * an error's `cause` chain show only the protocol, permissions and rpId.
 */
export class PinUvAuthToken {
  readonly protocol: PinUvAuthProtocol;
  readonly #token: Uint8Array;
  /** Permission bits; 0 for a legacy getPinToken token (no explicit permissions: the key decides). */
  readonly permissions: number;
  readonly rpId: string | undefined;
  #destroyed = false;

  constructor(protocol: PinUvAuthProtocol, token: Uint8Array, permissions: number, rpId?: string) {
    this.protocol = protocol;
    this.#token = token;
    this.permissions = permissions;
    this.rpId = rpId;
  }

  get protocolVersion(): PinUvAuthProtocolVersion {
    return this.protocol.version;
  }

  get destroyed(): boolean {
    return this.#destroyed;
  }

  /** True when the token was granted `name`; a legacy token (permissions 0) is not restricted by the client. */
  has(name: PermissionName): boolean {
    if (this.permissions === 0) return true;
    return permissionNames(this.permissions).includes(name);
  }

  get legacy(): boolean {
    return this.permissions === 0;
  }

  authenticate(message: Uint8Array): Uint8Array {
    if (this.#destroyed) throw new TypeError('this pinUvAuthToken was destroyed');
    return this.protocol.authenticate(this.#token, message);
  }

  /**
   * The live token bytes, not a copy (zeroed by destroy()). Only for code
   * that must hand the token to another PIN/UV implementation, and for tests;
   * never log or keep them.
   */
  unsafeBytes(): Uint8Array {
    return this.#token;
  }

  destroy(): void {
    this.#token.fill(0);
    this.#destroyed = true;
  }

  /** Never print the token. */
  toJSON(): Record<string, unknown> {
    return { protocol: this.protocol.version, permissions: permissionNames(this.permissions), rpId: this.rpId, token: '(redacted)' };
  }

  [INSPECT](): string {
    const rp = this.rpId === undefined ? '' : `, rpId: ${JSON.stringify(this.rpId)}`;
    return `PinUvAuthToken { protocol: ${this.protocol.version}, permissions: [${permissionNames(this.permissions).join(', ')}]${rp}, token: (redacted)${this.#destroyed ? ', destroyed' : ''} }`;
  }
}

/**
 * A shared secret for one exchange with the key (also used by hmac-secret).
 * The secret is a private field (read it through `secret`, never log it);
 * inspect / JSON show only the protocol. `destroy()` zeroes it.
 */
export class SharedSecret {
  readonly protocol: PinUvAuthProtocol;
  /** Our ephemeral public key, sent as keyAgreement. */
  readonly keyAgreement: P256Point;
  readonly #secret: Uint8Array;

  constructor(protocol: PinUvAuthProtocol, keyAgreement: P256Point, secret: Uint8Array) {
    this.protocol = protocol;
    this.keyAgreement = keyAgreement;
    this.#secret = secret;
  }

  /** The live secret bytes (not a copy): pass them to the protocol's encrypt/decrypt/authenticate only. */
  get secret(): Uint8Array {
    return this.#secret;
  }

  /** Zero the secret (do it when the exchange is over). */
  destroy(): void {
    this.#secret.fill(0);
  }

  toJSON(): Record<string, unknown> {
    return { protocol: this.protocol.version, secret: '(redacted)' };
  }

  [INSPECT](): string {
    return `SharedSecret { protocol: ${this.protocol.version}, secret: (redacted) }`;
  }
}

export interface PinRetries {
  pinRetries: number;
  /** The key must be re-plugged before another PIN attempt. */
  powerCycleState: boolean | undefined;
}

export interface TokenRequest {
  permissions: number | readonly PermissionName[];
  rpId?: string | undefined;
}

/**
 * The clientPIN command family for one session. The protocol is chosen from
 * getInfo (2 preferred) unless `protocol` is given.
 */
export class ClientPin {
  readonly session: Ctap2Session;
  readonly #prefer: PinUvAuthProtocolVersion | undefined;

  constructor(session: Ctap2Session, options?: { protocol?: PinUvAuthProtocolVersion }) {
    this.session = session;
    this.#prefer = options?.protocol;
  }

  /** Does this key speak clientPIN at all (getInfo options.clientPin present)? */
  static isSupported(info: FeatureInfo): boolean {
    return infoOption(info, 'clientPin') !== undefined;
  }

  /** The key's getInfo, checked for clientPIN support. */
  async info(opts?: TransactOptions): Promise<FeatureInfo> {
    const info: FeatureInfo = await this.session.getInfo(opts);
    if (!ClientPin.isSupported(info)) {
      throw new UnsupportedFeatureError('clientPin', 'this key does not support a PIN (getInfo lists no clientPin option)', { command: CTAP2_CMD.clientPin });
    }
    return info;
  }

  async protocol(opts?: TransactOptions): Promise<PinUvAuthProtocol> {
    return pinProtocol(choosePinProtocol(await this.info(opts), this.#prefer));
  }

  async #call(req: ClientPinRequest, opts?: TransactOptions): Promise<ClientPinResponse> {
    const { value } = await this.session.send(CTAP2_CMD.clientPin, encodeClientPinRequest(req), opts);
    return decodeClientPinResponse(value);
  }

  /** getPINRetries: retries left and (CTAP 2.1) whether a power cycle is needed first. */
  async getPinRetries(opts?: TransactOptions): Promise<PinRetries> {
    const protocol = await this.protocol(opts);
    const r = await this.#call({ pinUvAuthProtocol: protocol.version, subCommand: CLIENT_PIN_SUBCOMMAND.getPINRetries }, opts);
    if (r.pinRetries === undefined) throw missing('pinRetries');
    return { pinRetries: r.pinRetries, powerCycleState: r.powerCycleState };
  }

  /** getUVRetries: built-in UV attempts left. */
  async getUvRetries(opts?: TransactOptions): Promise<number> {
    const info = await this.session.getInfo(opts);
    if (infoOption(info, 'uv') === undefined) {
      throw new UnsupportedFeatureError('uv', 'this key has no built-in user verification (getInfo lists no uv option)', { command: CTAP2_CMD.clientPin });
    }
    const r = await this.#call({ subCommand: CLIENT_PIN_SUBCOMMAND.getUVRetries }, opts);
    if (r.uvRetries === undefined) throw missing('uvRetries');
    return r.uvRetries;
  }

  /** getKeyAgreement: the key's current ECDH public key. */
  async getKeyAgreement(protocol: PinUvAuthProtocol, opts?: TransactOptions): Promise<P256Point> {
    const r = await this.#call({ pinUvAuthProtocol: protocol.version, subCommand: CLIENT_PIN_SUBCOMMAND.getKeyAgreement }, opts);
    if (!r.keyAgreement) throw missing('keyAgreement');
    return r.keyAgreement;
  }

  /** A fresh shared secret with the key (getKeyAgreement + our ephemeral ECDH + the protocol's KDF). */
  async sharedSecret(opts?: TransactOptions & { protocol?: PinUvAuthProtocol }): Promise<SharedSecret> {
    const protocol = opts?.protocol ?? (await this.protocol(opts));
    const peer = await this.getKeyAgreement(protocol, opts);
    let enc;
    try {
      enc = protocol.encapsulate(peer);
    } catch (e) {
      throw new CtapError(CTAP2_STATUS.CTAP1_ERR_OTHER, { command: CTAP2_CMD.clientPin, message: 'the key sent a key-agreement point that is not on P-256', cause: e });
    }
    return new SharedSecret(protocol, enc.keyAgreement, enc.sharedSecret);
  }

  /** setPIN: only when no PIN is set (getInfo clientPin false). */
  async setPin(newPin: PinInput, opts?: TransactOptions): Promise<void> {
    const info = await this.info(opts);
    if (infoOption(info, 'clientPin') === true) {
      throw new CtapError(CTAP2_STATUS.CTAP2_ERR_NOT_ALLOWED, { command: CTAP2_CMD.clientPin, message: 'a PIN is already set on this key: change it instead' });
    }
    const pin = checkedPin(newPin, info.minPINLength);
    const padded = padPin(pin);
    zeroize(pin);
    let ss: SharedSecret | undefined;
    try {
      ss = await this.sharedSecret(opts);
      const newPinEnc = ss.protocol.encrypt(ss.secret, padded);
      const pinUvAuthParam = ss.protocol.authenticate(ss.secret, newPinEnc);
      await this.#call(
        { pinUvAuthProtocol: ss.protocol.version, subCommand: CLIENT_PIN_SUBCOMMAND.setPIN, keyAgreement: ss.keyAgreement, newPinEnc, pinUvAuthParam },
        opts,
      );
    } catch (e) {
      throw await this.#pinError(e, opts);
    } finally {
      zeroize(padded, ss?.secret);
    }
    this.session.invalidateInfo();
  }

  /** changePIN: proves the current PIN and sets a new one. */
  async changePin(currentPin: PinInput, newPin: PinInput, opts?: TransactOptions): Promise<void> {
    const info = await this.info(opts);
    if (infoOption(info, 'clientPin') === false) {
      throw new CtapError(CTAP2_STATUS.CTAP2_ERR_PIN_NOT_SET, { command: CTAP2_CMD.clientPin, message: 'no PIN is set on this key: set one instead' });
    }
    const cur = checkedPin(currentPin, 4);
    let next: Uint8Array;
    try {
      next = checkedPin(newPin, info.minPINLength);
    } catch (e) {
      zeroize(cur); // the new PIN was refused: the current one must not stay in memory either
      throw e;
    }
    const padded = padPin(next);
    zeroize(next);
    const hash = pinHash(cur);
    zeroize(cur);
    let ss: SharedSecret | undefined;
    try {
      ss = await this.sharedSecret(opts);
      const pinHashEnc = ss.protocol.encrypt(ss.secret, hash);
      const newPinEnc = ss.protocol.encrypt(ss.secret, padded);
      const message = new Uint8Array(newPinEnc.length + pinHashEnc.length);
      message.set(newPinEnc, 0);
      message.set(pinHashEnc, newPinEnc.length);
      const pinUvAuthParam = ss.protocol.authenticate(ss.secret, message);
      await this.#call(
        { pinUvAuthProtocol: ss.protocol.version, subCommand: CLIENT_PIN_SUBCOMMAND.changePIN, keyAgreement: ss.keyAgreement, pinHashEnc, newPinEnc, pinUvAuthParam },
        opts,
      );
    } catch (e) {
      throw await this.#pinError(e, opts);
    } finally {
      zeroize(padded, hash, ss?.secret);
    }
    this.session.invalidateInfo();
  }

  /**
   * A token for the given permissions: getPinUvAuthTokenUsingPinWithPermissions
   * when the key supports pinUvAuthToken; otherwise (CTAP 2.0 and
   * FIDO_2_1_PRE keys) the legacy getPinToken, whose token the key accepts
   * for everything it can do (the preview credential management and bio
   * commands included), so `permissions` is then 0.
   */
  async getPinUvAuthTokenUsingPin(pin: PinInput, request: TokenRequest, opts?: TransactOptions): Promise<PinUvAuthToken> {
    const info = await this.info(opts);
    const permissions = permissionMask(request.permissions);
    if (infoOption(info, 'pinUvAuthToken') !== true) return this.getPinToken(pin, opts);
    return this.#tokenWithPin(CLIENT_PIN_SUBCOMMAND.getPinUvAuthTokenUsingPinWithPermissions, pin, permissions, request.rpId, opts);
  }

  /** getPinToken (CTAP 2.0 / legacy): a token with no explicit permissions. */
  async getPinToken(pin: PinInput, opts?: TransactOptions): Promise<PinUvAuthToken> {
    await this.info(opts);
    return this.#tokenWithPin(CLIENT_PIN_SUBCOMMAND.getPinToken, pin, 0, undefined, opts);
  }

  /** getPinUvAuthTokenUsingPinWithPermissions, strictly (no fallback). */
  async getPinUvAuthTokenUsingPinWithPermissions(pin: PinInput, request: TokenRequest, opts?: TransactOptions): Promise<PinUvAuthToken> {
    const info = await this.info(opts);
    if (infoOption(info, 'pinUvAuthToken') !== true) {
      throw new UnsupportedFeatureError('pinUvAuthToken', 'this key does not support getPinUvAuthTokenUsingPinWithPermissions (getInfo lacks pinUvAuthToken)', { command: CTAP2_CMD.clientPin });
    }
    return this.#tokenWithPin(CLIENT_PIN_SUBCOMMAND.getPinUvAuthTokenUsingPinWithPermissions, pin, permissionMask(request.permissions), request.rpId, opts);
  }

  /** getPinUvAuthTokenUsingUvWithPermissions: the key verifies the user itself (fingerprint, ...). */
  async getPinUvAuthTokenUsingUvWithPermissions(request: TokenRequest, opts?: TransactOptions): Promise<PinUvAuthToken> {
    const info: FeatureInfo = await this.session.getInfo(opts);
    if (infoOption(info, 'pinUvAuthToken') !== true || infoOption(info, 'uv') !== true) {
      throw new UnsupportedFeatureError('uv', 'this key cannot issue a token through built-in user verification (getInfo needs pinUvAuthToken and uv true)', { command: CTAP2_CMD.clientPin });
    }
    const permissions = permissionMask(request.permissions);
    const protocol = pinProtocol(choosePinProtocol(info, this.#prefer));
    const ss = await this.sharedSecret({ ...opts, protocol });
    try {
      const r = await this.#call(
        { pinUvAuthProtocol: protocol.version, subCommand: CLIENT_PIN_SUBCOMMAND.getPinUvAuthTokenUsingUvWithPermissions, keyAgreement: ss.keyAgreement, permissions, rpId: request.rpId },
        opts,
      );
      return this.#token(ss, r, permissions, request.rpId);
    } catch (e) {
      throw await this.#uvError(e, opts);
    } finally {
      zeroize(ss.secret);
    }
  }

  async #tokenWithPin(subCommand: number, pinInput: PinInput, permissions: number, rpId: string | undefined, opts?: TransactOptions): Promise<PinUvAuthToken> {
    const pin = checkedPin(pinInput, 4);
    const hash = pinHash(pin);
    zeroize(pin);
    let ss: SharedSecret | undefined;
    try {
      ss = await this.sharedSecret(opts);
      const pinHashEnc = ss.protocol.encrypt(ss.secret, hash);
      const withPerms = subCommand === CLIENT_PIN_SUBCOMMAND.getPinUvAuthTokenUsingPinWithPermissions;
      const r = await this.#call(
        {
          pinUvAuthProtocol: ss.protocol.version,
          subCommand,
          keyAgreement: ss.keyAgreement,
          pinHashEnc,
          permissions: withPerms ? permissions : undefined,
          rpId: withPerms ? rpId : undefined,
        },
        opts,
      );
      return this.#token(ss, r, permissions, rpId);
    } catch (e) {
      throw await this.#pinError(e, opts);
    } finally {
      zeroize(hash, ss?.secret);
    }
  }

  #token(ss: SharedSecret, r: ClientPinResponse, permissions: number, rpId: string | undefined): PinUvAuthToken {
    if (!r.pinUvAuthToken) throw missing('pinUvAuthToken');
    let token: Uint8Array;
    try {
      token = ss.protocol.decrypt(ss.secret, r.pinUvAuthToken);
    } catch (e) {
      throw new CtapError(CTAP2_STATUS.CTAP1_ERR_OTHER, { command: CTAP2_CMD.clientPin, message: 'the key sent an encrypted pinUvAuthToken of an impossible length', cause: e });
    } finally {
      zeroize(r.pinUvAuthToken);
    }
    if (token.length !== 16 && token.length !== 32) {
      const n = token.length;
      zeroize(token);
      throw new CtapError(CTAP2_STATUS.CTAP1_ERR_OTHER, { command: CTAP2_CMD.clientPin, message: `the key sent a pinUvAuthToken of ${n} bytes (expected 16 or 32)` });
    }
    return new PinUvAuthToken(ss.protocol, token, permissions, rpId);
  }

  /** Adds retries / power-cycle facts to PIN errors (one getPINRetries after a wrong PIN). */
  async #pinError(e: unknown, opts?: TransactOptions): Promise<unknown> {
    if (!(e instanceof CtapError) || e instanceof UnsupportedFeatureError) return e;
    const S = CTAP2_STATUS;
    if (e.status === S.CTAP2_ERR_PIN_INVALID) {
      let retries: PinRetries | undefined;
      try {
        retries = await this.getPinRetries(opts);
      } catch {
        retries = undefined; // the PIN error is what matters; the count is a courtesy
      }
      const err = new CtapError(S.CTAP2_ERR_PIN_INVALID, {
        command: CTAP2_CMD.clientPin,
        cause: e,
        message: retries
          ? `the PIN was wrong: ${retries.pinRetries} ${retries.pinRetries === 1 ? 'try' : 'tries'} left before the key locks${retries.powerCycleState ? '; remove and re-insert the key before trying again' : ''}`
          : 'the PIN was wrong',
      });
      err.retriesLeft = retries?.pinRetries;
      err.powerCycleRequired = retries?.powerCycleState;
      return err;
    }
    if (e.status === S.CTAP2_ERR_PIN_AUTH_BLOCKED) {
      e.powerCycleRequired = true;
      return e;
    }
    if (e.status === S.CTAP2_ERR_PIN_BLOCKED) {
      e.retriesLeft = 0;
      return e;
    }
    return e;
  }

  async #uvError(e: unknown, opts?: TransactOptions): Promise<unknown> {
    if (!(e instanceof CtapError) || e.status !== CTAP2_STATUS.CTAP2_ERR_UV_INVALID) return e;
    let uv: number | undefined;
    try {
      uv = await this.getUvRetries(opts);
    } catch {
      uv = undefined;
    }
    const err = new CtapError(e.status, { command: CTAP2_CMD.clientPin, cause: e, message: uv === undefined ? 'user verification failed' : `user verification failed: ${uv} attempts left` });
    err.retriesLeft = uv;
    return err;
  }
}

/** LEFT(SHA-256(pin), 16), as getPinToken and changePIN send it. */
export function pinHash(pin: Uint8Array): Uint8Array {
  const full = sha256(pin);
  const out = full.slice(0, 16);
  zeroize(full);
  return out;
}

function missing(name: string): CborError {
  return new CborError('CBOR_MISSING_KEY', `the key's reply lacks ${name}`, 'clientPin response');
}
