/** Platform-side PIN/UV helpers for the virtual key tests (using src/ctap2/pin-protocol.ts, the client half). */
import { CborMapReader, type CborValue } from '../../src/cbor/index.js';
import { sha256 } from '../../src/crypto/hashes.js';
import { CTAP2_CMD } from '../../src/ctap2/commands.js';
import { pinProtocol, type PinUvAuthProtocol } from '../../src/ctap2/pin-protocol.js';
import { concatBytes, utf8Encode } from '../../src/util/bytes.js';
import type { TestCtapHidHost } from '../helpers/virtual-driver.js';

/** Pads like padPin but lets a test send a PIN the key must refuse (too short). */
function pad(pin: string): Uint8Array {
  const out = new Uint8Array(64);
  out.set(utf8Encode(pin));
  return out;
}

export interface PinSession {
  proto: PinUvAuthProtocol;
  shared: Uint8Array;
  keyAgreement: Map<number, CborValue>;
}

export async function keyAgreement(host: TestCtapHidHost, version: 1 | 2): Promise<PinSession> {
  const proto = pinProtocol(version);
  const r = await host.cbor(CTAP2_CMD.clientPin, new Map<number, CborValue>([[1, version], [2, 2]]));
  if (r.status !== 0) throw new Error(`getKeyAgreement failed: 0x${r.status.toString(16)}`);
  const ka = CborMapReader.from(r.value, 'ka').reader(1);
  const peer = { x: ka.bytes(-2), y: ka.bytes(-3) };
  const { keyAgreement: mine, sharedSecret } = proto.encapsulate(peer);
  return {
    proto,
    shared: sharedSecret,
    keyAgreement: new Map<number, CborValue>([[1, 2], [3, -25], [-1, 1], [-2, mine.x], [-3, mine.y]]),
  };
}

export async function setPin(host: TestCtapHidHost, version: 1 | 2, pin: string): Promise<number> {
  const s = await keyAgreement(host, version);
  const newPinEnc = s.proto.encrypt(s.shared, pad(pin));
  const param = s.proto.authenticate(s.shared, newPinEnc);
  const r = await host.cbor(CTAP2_CMD.clientPin, new Map<number, CborValue>([[1, version], [2, 3], [3, s.keyAgreement], [4, param], [5, newPinEnc]]));
  return r.status;
}

export async function changePin(host: TestCtapHidHost, version: 1 | 2, oldPin: string, newPin: string): Promise<number> {
  const s = await keyAgreement(host, version);
  const pinHashEnc = s.proto.encrypt(s.shared, sha256(utf8Encode(oldPin)).slice(0, 16));
  const newPinEnc = s.proto.encrypt(s.shared, pad(newPin));
  const param = s.proto.authenticate(s.shared, concatBytes(newPinEnc, pinHashEnc));
  const r = await host.cbor(CTAP2_CMD.clientPin, new Map<number, CborValue>([[1, version], [2, 4], [3, s.keyAgreement], [4, param], [5, newPinEnc], [6, pinHashEnc]]));
  return r.status;
}

/** getPinToken (permissions undefined) or getPinUvAuthTokenUsingPinWithPermissions. */
export async function pinToken(
  host: TestCtapHidHost,
  version: 1 | 2,
  pin: string,
  permissions?: number,
  rpId?: string,
): Promise<{ status: number; token?: Uint8Array; proto: PinUvAuthProtocol }> {
  const s = await keyAgreement(host, version);
  const pinHashEnc = s.proto.encrypt(s.shared, sha256(utf8Encode(pin)).slice(0, 16));
  const req = new Map<number, CborValue>([[1, version], [2, permissions === undefined ? 5 : 9], [3, s.keyAgreement], [6, pinHashEnc]]);
  if (permissions !== undefined) req.set(9, permissions);
  if (rpId !== undefined) req.set(10, rpId);
  const r = await host.cbor(CTAP2_CMD.clientPin, req);
  if (r.status !== 0) return { status: r.status, proto: s.proto };
  const enc = CborMapReader.from(r.value, 'token').bytes(2);
  return { status: 0, token: s.proto.decrypt(s.shared, enc), proto: s.proto };
}

export async function pinRetries(host: TestCtapHidHost): Promise<{ retries: number; powerCycle: boolean | undefined }> {
  const r = await host.cbor(CTAP2_CMD.clientPin, new Map<number, CborValue>([[1, 2], [2, 1]]));
  const m = CborMapReader.from(r.value, 'retries');
  return { retries: m.uint(3), powerCycle: m.optionalBool(4) };
}
