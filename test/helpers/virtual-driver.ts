/**
 * A minimal test-only CTAPHID host over a HidPort, built on the real framing
 * code (src/ctaphid/framing.ts). Used by test/virtual/** until the
 * transport's CtapHidChannel is available, and for raw packet tests that a
 * well-behaved channel would never produce.
 */
import { BROADCAST_CID, CTAPHID, CTAPHID_ERR } from '../../src/ctaphid/constants.js';
import { encodeMessage, Reassembler, readCid, type CtapHidMessage } from '../../src/ctaphid/framing.js';
import type { HidPort } from '../../src/hid/port.js';
import { randomBytes } from '../../src/crypto/primitives.js';
import { bytesEqual } from '../../src/util/bytes.js';
import { decodeCbor, encodeCbor, type CborValue } from '../../src/cbor/index.js';

export class TestCtapHidHost {
  readonly port: HidPort;
  cid = BROADCAST_CID;
  keepalives: number[] = [];

  constructor(port: HidPort) {
    this.port = port;
  }

  static async open(port: HidPort): Promise<TestCtapHidHost> {
    const h = new TestCtapHidHost(port);
    await h.init();
    return h;
  }

  async init(): Promise<Uint8Array> {
    const nonce = randomBytes(8);
    const reply = await this.transact(CTAPHID.INIT, nonce, BROADCAST_CID);
    if (!bytesEqual(reply.payload.subarray(0, 8), nonce)) throw new Error('INIT nonce mismatch');
    this.cid = readCid(reply.payload.subarray(8, 12));
    return reply.payload;
  }

  async writeMessage(cmd: number, payload: Uint8Array, cid = this.cid): Promise<void> {
    for (const p of encodeMessage(cid, cmd, payload)) await this.port.write(p);
  }

  /** Read one complete message on `cid` (skipping other channels), keepalives included. */
  async readMessage(cid = this.cid, timeoutMs = 5000): Promise<CtapHidMessage> {
    const r = new Reassembler(cid);
    const until = Date.now() + timeoutMs;
    for (;;) {
      const left = until - Date.now();
      if (left <= 0) throw new Error('timed out waiting for the virtual key');
      const packet = await this.port.read(left);
      if (!packet) throw new Error('timed out waiting for the virtual key');
      if (readCid(packet) !== cid) continue;
      const m = r.push(packet);
      if (m) return m;
    }
  }

  /** Send a request and read the reply, collecting KEEPALIVE statuses. */
  async transact(cmd: number, payload: Uint8Array, cid = this.cid, onKeepalive?: (status: number) => void): Promise<CtapHidMessage> {
    await this.writeMessage(cmd, payload, cid);
    for (;;) {
      const m = await this.readMessage(cid);
      if (m.cmd === CTAPHID.KEEPALIVE) {
        this.keepalives.push(m.payload[0]!);
        onKeepalive?.(m.payload[0]!);
        continue;
      }
      return m;
    }
  }

  /** CTAPHID_CBOR: returns status byte + body. Throws on CTAPHID_ERROR. */
  async cborRaw(request: Uint8Array, onKeepalive?: (status: number) => void): Promise<Uint8Array> {
    const m = await this.transact(CTAPHID.CBOR, request, this.cid, onKeepalive);
    if (m.cmd === CTAPHID.ERROR) throw new HidErrorReply(m.payload[0]!);
    if (m.cmd !== CTAPHID.CBOR) throw new Error(`unexpected reply command 0x${m.cmd.toString(16)}`);
    return m.payload;
  }

  /** Send a CTAP2 command; resolves { status, value }. */
  async cbor(command: number, params?: CborValue, onKeepalive?: (status: number) => void): Promise<{ status: number; value: unknown }> {
    const body = params === undefined ? new Uint8Array(0) : encodeCbor(params);
    const req = new Uint8Array(1 + body.length);
    req[0] = command;
    req.set(body, 1);
    const reply = await this.cborRaw(req, onKeepalive);
    const status = reply[0]!;
    const value = reply.length > 1 ? decodeCbor(reply.subarray(1)).value : undefined;
    if (reply.length > 1) {
      // The key must answer in CTAP2 canonical CBOR.
      const { nonCanonical } = decodeCbor(reply.subarray(1));
      if (nonCanonical.length) throw new Error(`non-canonical reply: ${nonCanonical.join('; ')}`);
    }
    return { status, value };
  }
}

export class HidErrorReply extends Error {
  readonly hidError: number;
  constructor(code: number) {
    super(`CTAPHID_ERROR 0x${code.toString(16)}`);
    this.hidError = code;
  }
}

export { CTAPHID_ERR };
