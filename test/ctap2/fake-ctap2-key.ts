/**
 * A message-level fake key for the command-family unit tests (a CtapTransport,
 * as libfido2's fido_dev_transport_t mocks): getInfo from a map the test
 * controls, a real clientPIN authenticator side built on the shared PIN/UV
 * protocol code (both protocols, retries, power-cycle block, permissions),
 * and per-command handlers a test plugs in. Every request is recorded.
 * Handlers throw FakeStatus(code) for a non-zero status.
 */
import fc from 'fast-check';
import { CborMapReader, decodeCbor, encodeCbor, type CborValue } from '../../src/cbor/index.js';
import { sha256 } from '../../src/crypto/hashes.js';
import { p256Generate, randomBytes, type P256KeyPair } from '../../src/crypto/primitives.js';
import type { CtapHidInitInfo, CtapTransport, TransactOptions } from '../../src/ctaphid/transport.js';
import type { HidDeviceInfo } from '../../src/hid/port.js';
import { CTAP2_CMD } from '../../src/ctap2/commands.js';
import { decodeKeyAgreement, encodeKeyAgreement } from '../../src/ctap2/client-pin.js';
import { pinProtocol, type PinUvAuthProtocol } from '../../src/ctap2/pin-protocol.js';
import { Ctap2Session } from '../../src/ctap2/session.js';
import { bytesEqual } from '../../src/util/bytes.js';

export class FakeStatus extends Error {
  constructor(readonly status: number) {
    super(`status 0x${status.toString(16)}`);
  }
}

export type Handler = (params: CborMapReader | undefined, key: FakeKey) => CborValue | undefined | Promise<CborValue | undefined>;

export interface FakeKeyOptions {
  options?: Record<string, boolean>;
  extensions?: string[];
  pinUvAuthProtocols?: number[];
  maxMsgSize?: number;
  minPINLength?: number;
  versions?: string[];
  extraInfo?: [number, CborValue][];
  pin?: string;
}

export interface RecordedRequest {
  command: number;
  bytes: Uint8Array;
  params: Map<unknown, unknown> | undefined;
}

export class FakeKey implements CtapTransport {
  readonly info: HidDeviceInfo = { path: 'fake', transport: 'fake' };
  readonly init: CtapHidInitInfo = { cid: 1, protocolVersion: 2, deviceVersion: { major: 1, minor: 0, build: 0 }, capabilities: { wink: true, cbor: true, nmsg: false, raw: 0x05 } };
  readonly handlers = new Map<number, Handler>();
  readonly requests: RecordedRequest[] = [];
  msgHandler: ((apdu: Uint8Array) => Uint8Array) | undefined;
  readonly apdus: Uint8Array[] = [];
  opts: FakeKeyOptions;
  pin: Uint8Array | undefined;
  pinRetries = 8;
  consecutiveFailures = 0;
  powerCycleNeeded = false;
  uvRetries = 3;
  keyAgreement: P256KeyPair = p256Generate();
  token: Uint8Array = randomBytes(32);
  tokenPermissions = 0;
  tokenRpId: string | undefined;
  tokenProtocol: PinUvAuthProtocol | undefined;

  constructor(opts: FakeKeyOptions = {}) {
    this.opts = opts;
    if (opts.pin) this.pin = new TextEncoder().encode(opts.pin);
    this.handlers.set(CTAP2_CMD.getInfo, () => this.getInfoValue());
    this.handlers.set(CTAP2_CMD.clientPin, (p) => this.clientPin(p!));
  }

  session(): Ctap2Session {
    return new Ctap2Session(this);
  }

  getInfoValue(): CborValue {
    const o = this.opts;
    const options = { ...(o.options ?? { clientPin: this.pin !== undefined, pinUvAuthToken: true }) };
    if ('clientPin' in options) options.clientPin = this.pin !== undefined;
    const m = new Map<number, CborValue>([
      [0x01, o.versions ?? ['FIDO_2_0', 'FIDO_2_1']],
      [0x03, new Uint8Array(16)],
      [0x04, new Map(Object.entries(options))],
    ]);
    if (o.extensions) m.set(0x02, o.extensions);
    m.set(0x05, o.maxMsgSize ?? 1200);
    m.set(0x06, o.pinUvAuthProtocols ?? [2, 1]);
    if (o.minPINLength !== undefined) m.set(0x0d, o.minPINLength);
    for (const [k, v] of o.extraInfo ?? []) m.set(k, v);
    return m;
  }

  powerCycle(): void {
    this.powerCycleNeeded = false;
    this.consecutiveFailures = 0;
  }

  async cbor(request: Uint8Array, _opts?: TransactOptions): Promise<Uint8Array> {
    const command = request[0]!;
    const body = request.slice(1);
    const params = body.length ? (decodeCbor(body).value as Map<unknown, unknown>) : undefined;
    this.requests.push({ command, bytes: request.slice(), params });
    const h = this.handlers.get(command);
    if (!h) return Uint8Array.of(0x01);
    try {
      const v = await h(params ? new CborMapReader(params, 'request') : undefined, this);
      if (v === undefined) return Uint8Array.of(0x00);
      const enc = encodeCbor(v);
      const out = new Uint8Array(1 + enc.length);
      out.set(enc, 1);
      return out;
    } catch (e) {
      if (e instanceof FakeStatus) return Uint8Array.of(e.status);
      throw e;
    }
  }

  async msg(apdu: Uint8Array): Promise<Uint8Array> {
    this.apdus.push(apdu.slice());
    if (!this.msgHandler) return Uint8Array.of(0x6d, 0x00);
    return this.msgHandler(apdu);
  }

  async ping(data: Uint8Array): Promise<Uint8Array> {
    return data;
  }
  async wink(): Promise<void> {}
  async lock(): Promise<void> {}
  async close(): Promise<void> {}

  /** The last request with this command byte. */
  last(command: number): RecordedRequest {
    for (let i = this.requests.length - 1; i >= 0; i--) if (this.requests[i]!.command === command) return this.requests[i]!;
    throw new Error(`no request 0x${command.toString(16)}`);
  }

  /** Authenticator-side check of pinUvAuthParam with the current token (0x33 / 0x40 as a real key). */
  verifyToken(protocolVersion: unknown, message: Uint8Array, param: unknown, permission: number): void {
    if (typeof protocolVersion !== 'number' || !(param instanceof Uint8Array)) throw new FakeStatus(0x14);
    const p = this.tokenProtocol;
    if (!p || p.version !== protocolVersion || !p.verify(this.token, message, param)) throw new FakeStatus(0x33);
    if (this.tokenPermissions !== 0 && (this.tokenPermissions & permission) === 0) throw new FakeStatus(0x40);
  }

  #shared(r: CborMapReader, protocol: PinUvAuthProtocol): Uint8Array {
    const peer = decodeKeyAgreement(r.raw(0x03));
    return protocol.decapsulate(this.keyAgreement.privateKey, peer);
  }

  #checkPin(r: CborMapReader, protocol: PinUvAuthProtocol, shared: Uint8Array): void {
    if (this.pinRetries === 0) throw new FakeStatus(0x32);
    if (this.powerCycleNeeded) throw new FakeStatus(0x34);
    const hash = protocol.decrypt(shared, r.bytes(0x06));
    if (!this.pin || !bytesEqual(hash, sha256(this.pin).slice(0, 16))) {
      this.pinRetries--;
      this.consecutiveFailures++;
      this.keyAgreement = p256Generate();
      if (this.pinRetries === 0) throw new FakeStatus(0x32);
      if (this.consecutiveFailures >= 3) {
        this.powerCycleNeeded = true;
        throw new FakeStatus(0x34);
      }
      throw new FakeStatus(0x31);
    }
    this.pinRetries = 8;
    this.consecutiveFailures = 0;
  }

  #newPin(protocol: PinUvAuthProtocol, shared: Uint8Array, enc: Uint8Array): Uint8Array {
    const padded = protocol.decrypt(shared, enc);
    if (padded.length !== 64) throw new FakeStatus(0x37);
    const end = padded.indexOf(0);
    const pin = padded.slice(0, end < 0 ? 64 : end);
    let points = 0;
    for (const b of pin) if ((b & 0xc0) !== 0x80) points++;
    if (points < (this.opts.minPINLength ?? 4) || pin.length > 63) throw new FakeStatus(0x37);
    return pin;
  }

  clientPin(r: CborMapReader): CborValue | undefined {
    const sub = r.uint(0x02);
    const protocol = r.has(0x01) ? pinProtocol(r.uint(0x01)) : undefined;
    switch (sub) {
      case 0x01:
        return new Map<number, CborValue>([
          [0x03, this.pinRetries],
          [0x04, this.powerCycleNeeded],
        ]);
      case 0x02:
        return new Map<number, CborValue>([[0x01, encodeKeyAgreement(this.keyAgreement.publicKey)]]);
      case 0x03: {
        if (this.pin) throw new FakeStatus(0x30);
        const shared = this.#shared(r, protocol!);
        if (!protocol!.verify(shared, r.bytes(0x05), r.bytes(0x04))) throw new FakeStatus(0x33);
        this.pin = this.#newPin(protocol!, shared, r.bytes(0x05));
        return undefined;
      }
      case 0x04: {
        const shared = this.#shared(r, protocol!);
        const msg = new Uint8Array([...r.bytes(0x05), ...r.bytes(0x06)]);
        if (!protocol!.verify(shared, msg, r.bytes(0x04))) throw new FakeStatus(0x33);
        this.#checkPin(r, protocol!, shared);
        this.pin = this.#newPin(protocol!, shared, r.bytes(0x05));
        return undefined;
      }
      case 0x05:
      case 0x09: {
        const shared = this.#shared(r, protocol!);
        this.#checkPin(r, protocol!, shared);
        if (sub === 0x09) {
          const perms = r.uint(0x09);
          if (perms === 0) throw new FakeStatus(0x02);
          this.tokenPermissions = perms;
          this.tokenRpId = r.optionalText(0x0a);
        } else {
          this.tokenPermissions = 0x03;
          this.tokenRpId = undefined;
        }
        this.token = randomBytes(32);
        this.tokenProtocol = protocol;
        return new Map<number, CborValue>([[0x02, protocol!.encrypt(shared, this.token)]]);
      }
      case 0x06: {
        if (this.uvRetries === 0) throw new FakeStatus(0x3c);
        const shared = this.#shared(r, protocol!);
        this.tokenPermissions = r.uint(0x09);
        this.tokenRpId = r.optionalText(0x0a);
        this.token = randomBytes(32);
        this.tokenProtocol = protocol;
        return new Map<number, CborValue>([[0x02, protocol!.encrypt(shared, this.token)]]);
      }
      case 0x07:
        return new Map<number, CborValue>([[0x05, this.uvRetries]]);
      default:
        throw new FakeStatus(0x3e);
    }
  }
}

/** fast-check arbitrary for the CBOR values a hostile key could send (maps with small integer keys, as CTAP replies use). */
export function arbitraryCtapReply(): fc.Arbitrary<Map<number, unknown>> {
  const { value } = fc.letrec((tie) => ({
    value: fc.oneof(
      { depthSize: 'small', withCrossShrink: true },
      fc.nat({ max: 70000 }),
      fc.integer({ min: -30, max: -1 }),
      fc.uint8Array({ maxLength: 80 }),
      fc.string({ maxLength: 12 }),
      fc.boolean(),
      fc.array(tie('value'), { maxLength: 4 }),
      fc.array(fc.tuple(fc.oneof(fc.integer({ min: -4, max: 12 }), fc.constantFrom('id', 'name', 'type', 'displayName')), tie('value')), { maxLength: 5 }).map((e) => new Map(e)),
    ),
  }));
  return fc.array(fc.tuple(fc.integer({ min: 1, max: 12 }), value), { maxLength: 8 }).map((e) => new Map(e));
}
