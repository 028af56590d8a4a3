/**
 * U2F (CTAP1) over CTAPHID_MSG for the virtual key (FIDO U2F Raw Message
 * Formats v1.2): VERSION, REGISTER and AUTHENTICATE (check-only, enforce,
 * dont-enforce), in short and extended APDU encodings.
 *
 * Key handles are the same sealed, RP-bound handles CTAP2 uses for
 * non-resident credentials (credentials.ts), with appParam as the rpIdHash:
 * a U2F registration works with CTAP2 getAssertion when rpIdHash = appParam,
 * and an ES256 CTAP2 credential works with U2F AUTHENTICATE, as on real keys.
 *
 * U2F has no KEEPALIVE: while a touch is awaited the key answers
 * SW_CONDITIONS_NOT_SATISFIED (0x6985) at once and the host polls. The first
 * such request starts the presence check (the key's presence mode) in the
 * background; a touch that arrives is consumed by the next REGISTER or
 * enforce-AUTHENTICATE within TOUCH_VALID_MS.
 */
import { p256Generate, p256Sign } from '../crypto/primitives.js';
import { concatBytes, writeUint32BE, zeroize, utf8Encode } from '../util/bytes.js';
import type { VirtualAuthenticator } from './authenticator.js';
import { SW, U2F_AUTH_P1, U2F_INS } from '../ctap1/apdu.js';
import { CommandContext } from './core.js';
import { COSE_ALG } from '../ctap2/cose-key.js';
import { CRED_PROTECT } from '../ctap2/extensions/cred-protect.js';
import { findCredential } from './common.js';
import { sealHandle } from './credentials.js';

/**
 * ISO 7816-4 status words the virtual key answers beyond U2F's own (ctap1/apdu.ts SW);
 * the host side names them by number (SW_0x6a86, SW_0x6f00).
 */
const ISO_SW = {
  /** "incorrect P1/P2": an AUTHENTICATE control byte U2F does not define. */
  SW_INCORRECT_P1P2: 0x6a86,
  /** "no precise diagnosis": the key failed internally (e.g. could not save its counter). */
  SW_UNKNOWN: 0x6f00,
} as const;

/** How long a touch stays valid for the next request that needs one (the host polls every 100-250 ms). */
export const TOUCH_VALID_MS = 5_000;

const U2F_VERSION = utf8Encode('U2F_V2');

/** A parsed command APDU. */
export interface ParsedApdu {
  cla: number;
  ins: number;
  p1: number;
  p2: number;
  data: Uint8Array;
}

/**
 * Parse a command APDU in any ISO 7816-4 case, short or extended:
 * CLA INS P1 P2 [Lc data] [Le]. Returns undefined when the lengths do not add up.
 */
export function parseApdu(apdu: Uint8Array): ParsedApdu | undefined {
  if (apdu.length < 4) return undefined;
  const head = { cla: apdu[0]!, ins: apdu[1]!, p1: apdu[2]!, p2: apdu[3]! };
  const body = apdu.subarray(4);
  const empty = new Uint8Array(0);
  if (body.length === 0) return { ...head, data: empty }; // case 1
  if (body[0] !== 0) {
    // Short: Lc (1..255) data [Le(1)], or a lone Le.
    if (body.length === 1) return { ...head, data: empty };
    const lc = body[0]!;
    if (body.length === 1 + lc || body.length === 2 + lc) return { ...head, data: body.slice(1, 1 + lc) };
    return undefined;
  }
  // body[0] === 0: a short Le of 0 (256), or extended.
  if (body.length === 1) return { ...head, data: empty };
  if (body.length === 3) return { ...head, data: empty }; // extended Le only
  if (body.length < 3) return undefined;
  const lc = (body[1]! << 8) | body[2]!;
  // Lc = 0 is not ISO, but python-fido2 0.9 sends VERSION as 00 03 00 00 | 00 00 00 | 00 00 and real keys accept it.
  if (lc === 0) return body.length === 5 ? { ...head, data: empty } : undefined;
  if (body.length === 3 + lc || body.length === 5 + lc) return { ...head, data: body.slice(3, 3 + lc) };
  return undefined;
}

function sw(code: number, data?: Uint8Array): Uint8Array {
  const out = new Uint8Array((data?.length ?? 0) + 2);
  if (data) out.set(data, 0);
  out[out.length - 2] = code >> 8;
  out[out.length - 1] = code & 0xff;
  return out;
}

interface TouchState {
  /** The power-cycle state this touch belongs to: a re-plug forgets touches. */
  volatile: object;
  /** A presence check running in the background. */
  pending: Promise<void> | undefined;
  abort: AbortController | undefined;
  /** When the last touch arrived (not yet consumed). */
  touchedAt: number | undefined;
}

const touches = new WeakMap<VirtualAuthenticator, TouchState>();

function touchState(auth: VirtualAuthenticator): TouchState {
  let t = touches.get(auth);
  if (!t || t.volatile !== auth.core.volatile) {
    t?.abort?.abort(); // a touch (or a wait for one) does not survive a power cycle
    t = { volatile: auth.core.volatile, pending: undefined, abort: undefined, touchedAt: undefined };
    touches.set(auth, t);
  }
  return t;
}

/**
 * True when a touch is available (and consumes it); otherwise makes sure a
 * presence check is running and returns false (the caller answers 0x6985).
 */
function takeTouch(auth: VirtualAuthenticator, command: string): boolean {
  const opts = auth.core.options;
  if (opts.presence === 'auto') return true;
  const t = touchState(auth);
  const now = opts.now();
  if (t.touchedAt !== undefined) {
    const fresh = now - t.touchedAt <= TOUCH_VALID_MS;
    t.touchedAt = undefined;
    if (fresh) return true;
  }
  if (!t.pending) {
    const abort = new AbortController();
    // No KEEPALIVE in U2F: the background context's keepalive goes nowhere.
    const ctx = new CommandContext(auth.core, command, abort.signal, () => undefined);
    t.abort = abort;
    const state = t;
    state.pending = ctx
      .requestUserPresence(undefined)
      .then(
        () => {
          if (!abort.signal.aborted) state.touchedAt = auth.core.options.now();
        },
        () => undefined, // denied or cancelled: the next request asks again
      )
      .finally(() => {
        state.pending = undefined;
        state.abort = undefined;
      });
  }
  return false;
}

/** Stop a background presence check and forget an unused touch (e.g. before closing the key). */
export function cancelU2fPresence(auth: VirtualAuthenticator): void {
  const t = touches.get(auth);
  if (!t) return;
  t.abort?.abort();
  t.touchedAt = undefined;
}

/** The U2F handler; attachU2f() installs it on a VirtualAuthenticator. */
export async function handleU2fApdu(auth: VirtualAuthenticator, apdu: Uint8Array, ctx: CommandContext): Promise<Uint8Array> {
  if (apdu.length >= 1 && apdu[0] !== 0x00) return sw(SW.SW_CLA_NOT_SUPPORTED);
  // U2F cannot verify the user: with alwaysUv on, a CTAP 2.1 key turns U2F off (CTAP 2.1 §6.11.2).
  if (ctx.state.alwaysUv) return sw(SW.SW_INS_NOT_SUPPORTED);
  const a = parseApdu(apdu);
  if (!a) return sw(SW.SW_WRONG_LENGTH);
  try {
    switch (a.ins) {
      case U2F_INS.VERSION:
        if (a.data.length !== 0) return sw(SW.SW_WRONG_LENGTH);
        return sw(SW.SW_NO_ERROR, U2F_VERSION);
      case U2F_INS.REGISTER:
        return await register(auth, a, ctx);
      case U2F_INS.AUTHENTICATE:
        return await authenticate(auth, a, ctx);
      default:
        return sw(SW.SW_INS_NOT_SUPPORTED);
    }
  } catch {
    return sw(ISO_SW.SW_UNKNOWN);
  }
}

/** REGISTER: 0x05 || public key (65) || L || key handle || batch certificate || signature. P1 (0x03 from some hosts) is ignored. */
async function register(auth: VirtualAuthenticator, a: ParsedApdu, ctx: CommandContext): Promise<Uint8Array> {
  if (a.data.length !== 64) return sw(SW.SW_WRONG_LENGTH);
  const challengeParam = a.data.subarray(0, 32);
  const appParam = a.data.subarray(32, 64);
  if (!takeTouch(auth, 'u2f register')) return sw(SW.SW_CONDITIONS_NOT_SATISFIED);
  const state = ctx.state;
  const pair = p256Generate();
  const keyHandle = sealHandle(state.masterSecret, appParam, {
    alg: COSE_ALG.ES256,
    privateKey: pair.privateKey,
    resident: false,
    hmacSecret: false,
    credProtect: CRED_PROTECT.userVerificationOptional,
  });
  zeroize(pair.privateKey);
  const publicKey = concatBytes(Uint8Array.of(0x04), pair.publicKey.x, pair.publicKey.y);
  const signed = concatBytes(Uint8Array.of(0x00), appParam, challengeParam, keyHandle, publicKey);
  const signature = p256Sign(state.attestation.privateKey, signed);
  return sw(SW.SW_NO_ERROR, concatBytes(Uint8Array.of(0x05), publicKey, Uint8Array.of(keyHandle.length), keyHandle, state.attestation.certificate, signature));
}

/** AUTHENTICATE: data = challengeParam (32) || appParam (32) || L || key handle. */
async function authenticate(auth: VirtualAuthenticator, a: ParsedApdu, ctx: CommandContext): Promise<Uint8Array> {
  if (a.data.length < 65) return sw(SW.SW_WRONG_LENGTH);
  const l = a.data[64]!;
  if (l === 0 || a.data.length !== 65 + l) return sw(SW.SW_WRONG_LENGTH);
  const challengeParam = a.data.subarray(0, 32);
  const appParam = a.data.subarray(32, 64);
  const keyHandle = a.data.slice(65, 65 + l);
  if (a.p1 !== U2F_AUTH_P1.CHECK_ONLY && a.p1 !== U2F_AUTH_P1.ENFORCE_USER_PRESENCE_AND_SIGN && a.p1 !== U2F_AUTH_P1.DONT_ENFORCE_USER_PRESENCE_AND_SIGN) return sw(ISO_SW.SW_INCORRECT_P1P2);

  const found = findCredential(ctx, appParam, keyHandle);
  // U2F signs with P-256 only; a credential that needs UV cannot be used without it (credProtect level 3).
  const usable = found !== undefined && found.handle.alg === COSE_ALG.ES256 && found.handle.credProtect !== CRED_PROTECT.userVerificationRequired;
  if (!usable) {
    if (found) zeroize(found.handle.privateKey);
    return sw(SW.SW_WRONG_DATA);
  }
  if (a.p1 === U2F_AUTH_P1.CHECK_ONLY) {
    zeroize(found.handle.privateKey);
    return sw(SW.SW_CONDITIONS_NOT_SATISFIED); // "yes, it is mine" (U2F's odd convention)
  }
  let userPresence = 0x00;
  if (a.p1 === U2F_AUTH_P1.ENFORCE_USER_PRESENCE_AND_SIGN) {
    if (!takeTouch(auth, 'u2f authenticate')) {
      zeroize(found.handle.privateKey);
      return sw(SW.SW_CONDITIONS_NOT_SATISFIED);
    }
    userPresence = 0x01;
  }
  let counter: number;
  if (found.resident) counter = ++found.resident.signCount;
  else counter = ++ctx.state.globalSignCount;
  const mid = new Uint8Array(5);
  mid[0] = userPresence;
  writeUint32BE(mid, 1, counter >>> 0);
  const signature = p256Sign(found.handle.privateKey, concatBytes(appParam, mid, challengeParam));
  zeroize(found.handle.privateKey);
  await ctx.persist(); // the counter is durable before the signature leaves
  return sw(SW.SW_NO_ERROR, concatBytes(mid, signature));
}

/** Install the U2F handler (VirtualAuthenticator.create calls this when the module is present). */
export function attachU2f(auth: VirtualAuthenticator): void {
  auth.u2f = handleU2fApdu;
  auth.u2fCancel = cancelU2fPresence;
}
