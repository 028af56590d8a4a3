/**
 * The decoders behind `ctap decode`: each KIND maps to the library's own
 * decoder; this file only picks one and hands back JSON (byte strings as
 * lowercase hex, spec member names) plus warnings.
 */
import { decodeCbor } from '../cbor/index.js';
import { parseAuthenticatorData } from '../ctap2/authenticator-data.js';
import type { Ctap2CommandName } from '../ctap2/commands.js';
import { parseCoseKey } from '../ctap2/cose-key.js';
import { decodeGetInfo } from '../ctap2/get-info.js';
import { toJson, type JsonValue } from '../ctap2/json.js';
import { CtapError, statusName } from '../ctap2/status.js';
import { CliError, EXIT } from './errors.js';

/** The command names `decode ctap2 --command` takes (the vectors' names). */
export const CTAP2_DECODE_COMMANDS = [
  'getInfo',
  'makeCredential',
  'getAssertion',
  'getNextAssertion',
  'clientPin',
  'credentialManagement',
  'bioEnrollment',
  'largeBlobs',
  'config',
  'selection',
  'reset',
] as const satisfies readonly Ctap2CommandName[];

export interface Described {
  json: JsonValue;
  warnings: string[];
}

/**
 * A CTAP2 response, with or without its status byte. A leading 0x00 followed
 * by a CBOR map is the status; a body that starts with a map header (0xa0..0xbf)
 * is the map alone. A non-zero status is reported as the CtapError it is.
 */
export function describeCtap2(command: Ctap2CommandName, bytes: Uint8Array): Described {
  let body = bytes;
  let status: number | undefined;
  const first = bytes[0]!;
  if (!(first >= 0xa0 && first <= 0xbf)) {
    status = first;
    if (status !== 0) throw new CtapError(status, { message: `the response carries status ${statusName(status)}` });
    body = bytes.subarray(1);
  }
  const head: { [k: string]: JsonValue } = status === undefined ? {} : { status, statusName: statusName(status) };
  if (body.length === 0) return { json: { ...head, command }, warnings: [] };
  const d = decodeCbor(body, { context: `${command} response` });
  const warnings = d.nonCanonical.map((w) => `not canonical CBOR: ${w}`);
  let decoded: JsonValue;
  switch (command) {
    case 'getInfo':
      decoded = toJson(decodeGetInfo(d.value));
      break;
    default:
      decoded = toJson(d.value);
  }
  return { json: { ...head, command, ...(decoded && typeof decoded === 'object' && !Array.isArray(decoded) ? decoded : { value: decoded }) }, warnings };
}

export type BytesKind = 'authdata' | 'attestation' | 'cose' | 'u2f-register' | 'u2f-authenticate';

export function describeKind(kind: BytesKind, bytes: Uint8Array): Described {
  switch (kind) {
    case 'authdata': {
      const a = parseAuthenticatorData(bytes, { allowNonCanonicalKeyOrder: true });
      const { bytes: _b, nonCanonical, ...rest } = a;
      return { json: toJson(rest), warnings: nonCanonical };
    }
    case 'cose': {
      const { key, nonCanonical } = parseCoseKey(bytes);
      const { raw, ...rest } = key;
      return { json: toJson({ ...rest, raw }), warnings: nonCanonical };
    }
    default:
      throw new CliError(`decode ${kind} is not available in this build yet`, EXIT.UNSUPPORTED);
  }
}
