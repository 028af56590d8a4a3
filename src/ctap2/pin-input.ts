/**
 * PINs as they enter the library: a string or UTF-8 bytes, NFC-normalised
 * (CTAP 2.2 §6.5.1), checked for length, returned as a fresh buffer the
 * caller zeroes. The PIN itself never appears in an error message.
 */
import { utf8Decode, utf8Encode } from '../util/bytes.js';

export type PinInput = string | Uint8Array;

/** Longest PIN in UTF-8 bytes (the padded block is 64 bytes with a terminating zero). */
export const MAX_PIN_BYTES = 63;
/** The spec's floor for minPINLength. */
export const MIN_PIN_CODE_POINTS = 4;

/** Unicode code points in valid UTF-8 bytes (no string is built). */
export function codePointCount(utf8: Uint8Array): number {
  let n = 0;
  for (const b of utf8) if ((b & 0xc0) !== 0x80) n++;
  return n;
}

/**
 * NFC-normalised UTF-8 of a PIN, as a new buffer (the input is not kept or
 * modified). ASCII input is copied byte for byte (ASCII is always NFC), so
 * no JavaScript string holding the PIN is created for it.
 */
export function normalizePin(pin: PinInput): Uint8Array {
  let out: Uint8Array;
  if (typeof pin === 'string') {
    out = utf8Encode(pin.normalize('NFC'));
  } else if (pin instanceof Uint8Array) {
    let ascii = true;
    for (const b of pin) if (b >= 0x80) { ascii = false; break; }
    if (ascii) out = new Uint8Array(pin);
    else {
      let s: string;
      try {
        s = utf8Decode(pin);
      } catch {
        throw new TypeError('the PIN is not valid UTF-8');
      }
      out = utf8Encode(s.normalize('NFC'));
    }
  } else {
    throw new TypeError('a PIN is a string or a Uint8Array of UTF-8');
  }
  if (out.includes(0)) {
    out.fill(0);
    throw new RangeError('a PIN cannot contain a NUL character');
  }
  return out;
}

/**
 * Normalise and check a PIN: at least `minLength` code points (the key's
 * minPINLength, never below 4) and at most 63 bytes. Throws RangeError
 * (which names the limit, not the PIN).
 */
export function checkedPin(pin: PinInput, minLength = MIN_PIN_CODE_POINTS): Uint8Array {
  const bytes = normalizePin(pin);
  const min = Math.max(MIN_PIN_CODE_POINTS, minLength);
  const points = codePointCount(bytes);
  if (points < min) {
    bytes.fill(0);
    throw new RangeError(`the PIN is too short: this key needs at least ${min} characters`);
  }
  if (bytes.length > MAX_PIN_BYTES) {
    bytes.fill(0);
    throw new RangeError(`the PIN is too long: at most ${MAX_PIN_BYTES} bytes of UTF-8`);
  }
  return bytes;
}
