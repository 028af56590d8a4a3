/**
 * Ctap1Session: U2F over CTAPHID_MSG for keys that predate CTAP2 (and CTAP2
 * keys that also speak U2F_V2). A touch is awaited the U2F way: the key
 * answers SW_CONDITIONS_NOT_SATISFIED (0x6985) until it is touched, and
 * the request is repeated until then or until the one deadline of the call.
 */
import { sha256 } from '../crypto/hashes.js';
import type { TransactOptions } from '../ctaphid/transport.js';
import type { CtapTransport } from '../ctaphid/transport.js';
import type { GetAssertionResponse } from '../ctap2/get-assertion.js';
import { concatBytes, utf8Encode } from '../util/bytes.js';
import { Deadline, sleep } from '../util/deadline.js';
import { TimeoutError } from '../util/errors.js';
import { Ctap1Error, encodeApdu, splitResponse, SW, U2F_AUTH_P1, U2F_INS, type CommandApdu } from './apdu.js';
import {
  authenticationToCtap2,
  decodeAuthenticateResponse,
  decodeRegisterResponse,
  decodeVersionResponse,
  registrationToCtap2,
  type U2fAuthentication,
  type U2fRegistration,
  type U2fRegistrationAsCtap2,
} from './u2f.js';

/** How long to wait between repeats while the key waits for a touch (python-fido2 and libfido2 use 100-250 ms). */
export const U2F_POLL_INTERVAL_MS = 100;
export const U2F_DEFAULT_TIMEOUT_MS = 30_000;

export type U2fAuthenticateMode = 'enforce' | 'check-only' | 'dont-enforce';

const MODE_P1: Record<U2fAuthenticateMode, number> = {
  enforce: U2F_AUTH_P1.ENFORCE_USER_PRESENCE_AND_SIGN,
  'check-only': U2F_AUTH_P1.CHECK_ONLY,
  'dont-enforce': U2F_AUTH_P1.DONT_ENFORCE_USER_PRESENCE_AND_SIGN,
};

function check32(b: Uint8Array, name: string): void {
  if (!(b instanceof Uint8Array) || b.length !== 32) throw new TypeError(`${name} must be 32 bytes`);
}

export class Ctap1Session {
  readonly transport: CtapTransport;

  constructor(transport: CtapTransport) {
    this.transport = transport;
  }

  /** One APDU, one reply: { data, sw } (no retry). */
  async sendApdu(apdu: CommandApdu, opts?: TransactOptions): Promise<{ data: Uint8Array; sw: number }> {
    const reply = await this.transport.msg(encodeApdu(apdu), opts);
    return splitResponse(reply);
  }

  /** Send until the key stops answering 0x6985 (touch needed), within one deadline. */
  async #untilTouched(apdu: CommandApdu, opts?: TransactOptions): Promise<Uint8Array> {
    const deadline = new Deadline(opts ?? {}, U2F_DEFAULT_TIMEOUT_MS);
    let told = false;
    for (;;) {
      deadline.check('U2F request');
      const { data, sw } = await this.sendApdu(apdu, { signal: opts?.signal, timeoutMs: Math.max(1, deadline.remaining()), onKeepalive: opts?.onKeepalive });
      if (sw === SW.SW_NO_ERROR) return data;
      if (sw !== SW.SW_CONDITIONS_NOT_SATISFIED) throw new Ctap1Error(sw);
      if (!told) {
        opts?.onKeepalive?.('up-needed');
        told = true;
      }
      if (deadline.remaining() <= U2F_POLL_INTERVAL_MS) throw new TimeoutError('The key was not touched in time');
      await sleep(U2F_POLL_INTERVAL_MS, opts?.signal);
    }
  }

  /** U2F_VERSION: "U2F_V2" on every U2F key. */
  async getVersion(opts?: TransactOptions): Promise<string> {
    const { data, sw } = await this.sendApdu({ ins: U2F_INS.VERSION }, opts);
    if (sw !== SW.SW_NO_ERROR) throw new Ctap1Error(sw);
    return decodeVersionResponse(data);
  }

  /** U2F_REGISTER: waits for a touch. */
  async register(clientParam: Uint8Array, appParam: Uint8Array, opts?: TransactOptions): Promise<U2fRegistration> {
    check32(clientParam, 'clientParam');
    check32(appParam, 'appParam');
    const data = await this.#untilTouched({ ins: U2F_INS.REGISTER, data: concatBytes(clientParam, appParam) }, opts);
    return decodeRegisterResponse(data);
  }

  /** U2F_AUTHENTICATE with enforce (waits for a touch) or dont-enforce. For check-only use isKeyHandleValid(). */
  async authenticate(
    clientParam: Uint8Array,
    appParam: Uint8Array,
    keyHandle: Uint8Array,
    opts?: TransactOptions & { mode?: Exclude<U2fAuthenticateMode, 'check-only'> },
  ): Promise<U2fAuthentication> {
    const apdu = authApdu(clientParam, appParam, keyHandle, opts?.mode ?? 'enforce');
    const data = opts?.mode === 'dont-enforce' ? await this.#once(apdu, opts) : await this.#untilTouched(apdu, opts);
    return decodeAuthenticateResponse(data);
  }

  async #once(apdu: CommandApdu, opts?: TransactOptions): Promise<Uint8Array> {
    const { data, sw } = await this.sendApdu(apdu, opts);
    if (sw !== SW.SW_NO_ERROR) throw new Ctap1Error(sw);
    return data;
  }

  /**
   * check-only: does this key own the key handle for this appParam? The key
   * answers 0x6985 for yes and 0x6a80 for no (no touch is needed).
   */
  async isKeyHandleValid(appParam: Uint8Array, keyHandle: Uint8Array, opts?: TransactOptions): Promise<boolean> {
    const { sw } = await this.sendApdu(authApdu(new Uint8Array(32), appParam, keyHandle, 'check-only'), opts);
    if (sw === SW.SW_CONDITIONS_NOT_SATISFIED) return true;
    if (sw === SW.SW_WRONG_DATA) return false;
    throw new Ctap1Error(sw);
  }

  /** REGISTER, converted to a makeCredential-shaped result for `rpId` (appParam = SHA-256(rpId)). */
  async makeCredential(clientDataHash: Uint8Array, rpId: string, opts?: TransactOptions): Promise<U2fRegistrationAsCtap2> {
    const appParam = sha256(utf8Encode(rpId));
    return registrationToCtap2(await this.register(clientDataHash, appParam, opts), appParam);
  }

  /**
   * AUTHENTICATE against each key handle in turn (check-only first, as
   * browsers do, so only a handle the key owns asks for a touch), converted
   * to a getAssertion-shaped result. Throws Ctap1Error SW_WRONG_DATA when
   * the key owns none of them.
   */
  async getAssertion(clientDataHash: Uint8Array, rpIdOrAppParam: string | Uint8Array, keyHandles: readonly Uint8Array[], opts?: TransactOptions): Promise<GetAssertionResponse> {
    const appParam = typeof rpIdOrAppParam === 'string' ? sha256(utf8Encode(rpIdOrAppParam)) : rpIdOrAppParam;
    check32(appParam, 'appParam');
    for (const kh of keyHandles) {
      if (kh.length === 0 || kh.length > 255) continue; // U2F key handles are 1..255 bytes
      if (!(await this.isKeyHandleValid(appParam, kh, opts))) continue;
      const auth = await this.authenticate(clientDataHash, appParam, kh, opts);
      return authenticationToCtap2(auth, appParam, kh);
    }
    throw new Ctap1Error(SW.SW_WRONG_DATA, { message: 'none of the credentials belongs to this key' });
  }
}

function authApdu(clientParam: Uint8Array, appParam: Uint8Array, keyHandle: Uint8Array, mode: U2fAuthenticateMode): CommandApdu {
  check32(clientParam, 'clientParam');
  check32(appParam, 'appParam');
  if (!(keyHandle instanceof Uint8Array) || keyHandle.length === 0 || keyHandle.length > 255) throw new TypeError('a U2F key handle is 1 to 255 bytes');
  return { ins: U2F_INS.AUTHENTICATE, p1: MODE_P1[mode], data: concatBytes(clientParam, appParam, Uint8Array.of(keyHandle.length), keyHandle) };
}
