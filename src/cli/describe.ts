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
    default:
      throw new CliError(`decode ${kind} is not available in this build yet`, EXIT.UNSUPPORTED);
  }
}
