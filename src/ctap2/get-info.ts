// PLACEHOLDER — replaced by the full getInfo decoder (issue 2). Keep the exported names.
import { CborMapReader } from '../cbor/index.js';

export interface AuthenticatorInfo {
  versions: string[];
  aaguid: Uint8Array;
  maxMsgSize?: number | undefined;
}

export function decodeGetInfo(value: unknown): AuthenticatorInfo {
  const r = CborMapReader.from(value, 'getInfo');
  return { versions: r.array(0x01, 'versions').map(String), aaguid: r.bytes(0x03, 'aaguid'), maxMsgSize: r.optionalUint(0x05, 'maxMsgSize') };
}
