/**
 * The decoders behind `ctap decode`: each KIND maps to the library's own
 * describe function (src/ctap2/describe.ts); this file only picks one.
 */
import {
  CTAP2_DECODE_COMMANDS,
  describeAttestationObject,
  describeAuthenticatorData,
  describeCoseKey,
  describeCtap2Response,
  type Ctap2DecodeCommand,
} from '../ctap2/describe.js';
import type { JsonValue } from '../ctap2/json.js';
import { statusWordName } from '../ctap1/apdu.js';
import { decodeAuthenticateResponse, decodeRegisterResponse, derElementLength } from '../ctap1/u2f.js';
import { toHex } from '../util/bytes.js';
import { CliError, EXIT } from './errors.js';

export { CTAP2_DECODE_COMMANDS, type Ctap2DecodeCommand };

export interface Described {
  json: JsonValue;
  warnings: string[];
}

/** A CTAP2 response, with or without its status byte. */
export function describeCtap2(command: Ctap2DecodeCommand, bytes: Uint8Array): Described {
  const d = describeCtap2Response(command, bytes);
  return { json: { ...d }, warnings: d.nonCanonical.map((w) => `not canonical CBOR: ${w}`) };
}

export type BytesKind = 'authdata' | 'attestation' | 'cose' | 'u2f-register' | 'u2f-authenticate';

export function describeKind(kind: BytesKind, bytes: Uint8Array): Described {
  switch (kind) {
    case 'authdata':
      return { json: describeAuthenticatorData(bytes), warnings: [] };
    case 'attestation':
      return { json: describeAttestationObject(bytes), warnings: [] };
    case 'cose':
      return { json: describeCoseKey(bytes), warnings: [] };
    case 'u2f-register':
    case 'u2f-authenticate':
      return describeU2f(kind, bytes);
    default:
      throw new CliError(`unknown KIND ${String(kind)}`, EXIT.USAGE);
  }
}

/**
 * U2F responses end in a DER ECDSA signature, so a trailing status word is
 * exactly the two bytes past the signature's DER length; a 2-byte input is a
 * status word alone (an error reply).
 */
function describeU2f(kind: 'u2f-register' | 'u2f-authenticate', bytes: Uint8Array): Described {
  if (bytes.length === 2) {
    const sw = (bytes[0]! << 8) | bytes[1]!;
    return { json: { type: 'status word only', statusWord: toHex(bytes), statusName: statusWordName(sw) }, warnings: [] };
  }
  const sigStart = (data: Uint8Array): number => {
    if (kind === 'u2f-authenticate') return 5;
    const kh = data[66] ?? 0;
    return 67 + kh + derElementLength(data, 67 + kh);
  };
  let data = bytes;
  let statusWord: string | null = null;
  try {
    const at = sigStart(bytes);
    if (at < bytes.length && bytes[at] === 0x30 && derElementLength(bytes, at) === bytes.length - at - 2) {
      statusWord = toHex(bytes.subarray(bytes.length - 2));
      data = bytes.subarray(0, bytes.length - 2);
    }
  } catch {
    // malformed: the strict decoder below says what is wrong
  }
  if (statusWord !== null && statusWord !== '9000') {
    const sw = (bytes[bytes.length - 2]! << 8) | bytes[bytes.length - 1]!;
    return { json: { type: 'status word only', statusWord, statusName: statusWordName(sw) }, warnings: [] };
  }
  if (kind === 'u2f-register') {
    const r = decodeRegisterResponse(data);
    return {
      json: {
        type: 'U2F_REGISTER response',
        statusWord,
        reserved: data[0]!,
        publicKey: toHex(r.publicKey),
        keyHandleLength: r.keyHandle.length,
        keyHandle: toHex(r.keyHandle),
        attestationCertificate: toHex(r.certificate),
        signature: toHex(r.signature),
      },
      warnings: [],
    };
  }
  const a = decodeAuthenticateResponse(data);
  return {
    json: { type: 'U2F_AUTHENTICATE response', statusWord, userPresence: a.userPresence, counter: a.counter, signature: toHex(a.signature) },
    warnings: [],
  };
}
