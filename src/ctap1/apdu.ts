/**
 * ISO 7816-4 command APDUs in extended-length form, as U2F over CTAPHID_MSG
 * uses them (FIDO U2F Raw Message Formats §3.1, U2F HID §4.1), and the
 * status words that end every response.
 */
import { CtapBridgeError } from '../util/errors.js';

export const U2F_INS = {
  REGISTER: 0x01,
  AUTHENTICATE: 0x02,
  VERSION: 0x03,
} as const;

/** AUTHENTICATE control byte (P1). */
export const U2F_AUTH_P1 = {
  /** check-only: is the key handle this key's? (answers 0x6985 when yes) */
  CHECK_ONLY: 0x07,
  /** enforce-user-presence-and-sign */
  ENFORCE_USER_PRESENCE_AND_SIGN: 0x03,
  /** dont-enforce-user-presence-and-sign */
  DONT_ENFORCE_USER_PRESENCE_AND_SIGN: 0x08,
} as const;

export const SW = {
  SW_NO_ERROR: 0x9000,
  SW_WRONG_LENGTH: 0x6700,
  SW_SECURITY_STATUS_NOT_SATISFIED: 0x6982,
  SW_CONDITIONS_NOT_SATISFIED: 0x6985,
  SW_WRONG_DATA: 0x6a80,
  SW_INS_NOT_SUPPORTED: 0x6d00,
  SW_CLA_NOT_SUPPORTED: 0x6e00,
} as const;

const SW_NAMES = new Map<number, string>(Object.entries(SW).map(([k, v]) => [v, k]));

export function statusWordName(sw: number): string {
  return SW_NAMES.get(sw) ?? `SW_0x${sw.toString(16).padStart(4, '0')}`;
}

const SW_DESCRIPTIONS: Partial<Record<number, string>> = {
  0x6700: 'the key rejected the request length',
  0x6982: 'the key needs a touch first',
  0x6985: 'the key needs a touch (test of user presence required)',
  0x6a80: 'the key rejected the request data (for AUTHENTICATE: the key handle is not this key\'s)',
  0x6d00: 'the key does not support this U2F instruction',
  0x6e00: 'the key does not support this APDU class',
};

/** A U2F response ended in a status word other than 0x9000. */
export class Ctap1Error extends CtapBridgeError {
  readonly statusWord: number;
  constructor(statusWord: number, options?: { message?: string; cause?: unknown }) {
    const name = statusWordName(statusWord);
    const detail = options?.message ?? SW_DESCRIPTIONS[statusWord];
    super(name, detail ? `${name}: ${detail}` : name, options);
    this.statusWord = statusWord;
  }
}

/** Malformed U2F response bytes. */
export class U2fFormatError extends CtapBridgeError {
  constructor(message: string) {
    super('U2F_RESPONSE_INVALID', message);
  }
}

export interface CommandApdu {
  cla?: number | undefined;
  ins: number;
  p1?: number | undefined;
  p2?: number | undefined;
  data?: Uint8Array | undefined;
}

/** Longest data an extended-length APDU carries. */
export const MAX_APDU_DATA = 0xffff;

/**
 * Extended-length encoding: CLA INS P1 P2, then with data
 * 00 Lc(2) data Le(2 = 0000, up to 65536 bytes), without data 00 Le(2)
 * (ISO 7816-4 case 2E, as Chromium sends VERSION). python-fido2 sends a
 * zero Lc even without data (00 03 00 00 00 00 00 00 00); keys accept both.
 */
export function encodeApdu(c: CommandApdu): Uint8Array {
  const data = c.data ?? new Uint8Array(0);
  if (data.length > MAX_APDU_DATA) throw new RangeError(`APDU data of ${data.length} bytes exceeds ${MAX_APDU_DATA}`);
  const head = [c.cla ?? 0x00, c.ins, c.p1 ?? 0x00, c.p2 ?? 0x00];
  for (const b of head) if (!Number.isInteger(b) || b < 0 || b > 0xff) throw new RangeError('APDU header bytes are 0..255');
  if (data.length === 0) return Uint8Array.from([...head, 0x00, 0x00, 0x00]);
  const out = new Uint8Array(4 + 3 + data.length + 2);
  out.set(head, 0);
  out[4] = 0x00;
  out[5] = data.length >> 8;
  out[6] = data.length & 0xff;
  out.set(data, 7);
  return out; // Le = 00 00 (the trailing two zero bytes)
}

export interface ResponseApdu {
  data: Uint8Array;
  sw: number;
}

/** Split a response into data and status word. */
export function splitResponse(resp: Uint8Array): ResponseApdu {
  if (resp.length < 2) throw new U2fFormatError(`a U2F response is at least the 2-byte status word; got ${resp.length} byte(s)`);
  return { data: resp.subarray(0, resp.length - 2), sw: (resp[resp.length - 2]! << 8) | resp[resp.length - 1]! };
}
