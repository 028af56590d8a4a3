/** A message-level CtapTransport for command tests: records each CBOR request, answers from a script. */
import type { CtapTransport, CtapHidInitInfo, TransactOptions } from '../../src/ctaphid/transport.js';
import type { HidDeviceInfo } from '../../src/hid/port.js';

export type Reply = Uint8Array | ((request: Uint8Array) => Uint8Array);

export class FakeTransport implements CtapTransport {
  readonly info = { path: 'fake' } as unknown as HidDeviceInfo;
  readonly init: CtapHidInitInfo = {
    cid: 1,
    protocolVersion: 2,
    deviceVersion: { major: 1, minor: 0, build: 0 },
    capabilities: { wink: true, cbor: true, nmsg: false, raw: 0x05 },
  };
  readonly requests: Uint8Array[] = [];
  readonly replies: Reply[];
  constructor(replies: Reply[]) {
    this.replies = [...replies];
  }
  async cbor(request: Uint8Array, _opts?: TransactOptions): Promise<Uint8Array> {
    this.requests.push(request.slice()); // the session zeroes its buffer afterwards
    const r = this.replies.shift();
    if (!r) throw new Error(`unexpected request 0x${request[0]?.toString(16)}`);
    return typeof r === 'function' ? r(request) : r;
  }
  async msg(): Promise<Uint8Array> {
    throw new Error('not used');
  }
  async ping(data: Uint8Array): Promise<Uint8Array> {
    return data;
  }
  async wink(): Promise<void> {}
  async lock(): Promise<void> {}
  async close(): Promise<void> {}
}
