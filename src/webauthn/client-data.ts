/**
 * CollectedClientData and its JSON-compatible serialization (WebAuthn L3
 * §5.8.1.1): fixed key order type, challenge, origin, crossOrigin, then
 * topOrigin when present; strings through CCDToString, which — unlike
 * JSON.stringify — writes every code point outside {U+0020, U+0021,
 * U+0023–U+005B, U+005D–U+10FFFF} as `\u` + four lower-case hex digits
 * (so a newline is `\u000a`, not `\n`), and only `"` and `\` get a
 * backslash. U+007F and the C1 controls pass through as UTF-8, as the spec says.
 * A lone surrogate (impossible in an ASCII origin, but a DOMString may hold
 * one) is written as U+FFFD, as UTF-8 encoding a USVString does.
 */
import { sha256 } from '../crypto/hashes.js';
import { utf8Encode } from '../util/bytes.js';
import { base64urlEncode } from './base64url.js';

export type ClientDataType = 'webauthn.create' | 'webauthn.get';

export interface CollectedClientData {
  type: ClientDataType;
  /** base64url of the challenge bytes. */
  challenge: string;
  origin: string;
  crossOrigin?: boolean | undefined;
  topOrigin?: string | undefined;
}

/** CCDToString as a JS string (UTF-16); callers UTF-8 encode the whole result. */
export function ccdToString(value: string): string {
  let out = '"';
  for (const ch of value) {
    const cp = ch.codePointAt(0)!;
    if (cp === 0x22) out += '\\"';
    else if (cp === 0x5c) out += '\\\\';
    else if (cp < 0x20) out += `\\u${cp.toString(16).padStart(4, '0')}`;
    else if (cp >= 0xd800 && cp <= 0xdfff) out += '\ufffd';
    else out += ch;
  }
  return `${out}"`;
}

/** The exact clientDataJSON bytes. */
export function serializeClientData(data: CollectedClientData): Uint8Array {
  let s = `{"type":${ccdToString(data.type)},"challenge":${ccdToString(data.challenge)},"origin":${ccdToString(data.origin)},"crossOrigin":${data.crossOrigin ? 'true' : 'false'}`;
  if (data.topOrigin !== undefined) s += `,"topOrigin":${ccdToString(data.topOrigin)}`;
  s += '}';
  return utf8Encode(s);
}

export interface ClientData {
  json: Uint8Array;
  /** SHA-256(clientDataJSON): what the key signs over. */
  hash: Uint8Array;
}

/** Build clientDataJSON for a ceremony, and its hash. `topOrigin` is written only for a cross-origin call. */
export function buildClientData(
  type: ClientDataType,
  challenge: Uint8Array,
  origin: string,
  topOrigin?: string,
): ClientData {
  const crossOrigin = topOrigin !== undefined && topOrigin !== origin;
  const json = serializeClientData({
    type,
    challenge: base64urlEncode(challenge),
    origin,
    crossOrigin,
    topOrigin: crossOrigin ? topOrigin : undefined,
  });
  return { json, hash: sha256(json) };
}
