/**
 * Cross-check of the framing against an independent implementation:
 * python-fido2 0.9.1 (Debian python3-fido2) CtapHidDevice.call() over a
 * recording connection. Its request packets must equal ours byte for byte
 * (including its CTAPHID_CANCEL), and it must reassemble the packets we
 * encode into the same message.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { CTAPHID } from '../../src/ctaphid/constants.js';
import { encodeMessage } from '../../src/ctaphid/framing.js';
import { toHex } from '../../src/util/bytes.js';

const PYTHON = '/usr/bin/python3';
const CID = 0x11223344;
const SIZES = [0, 1, 57, 58, 116, 117, 300, 1024, 7609];

function data(n: number): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = (i * 31 + 7) & 0xff;
  return b;
}

const SCRIPT = String.raw`
import json, struct, sys
from threading import Event
from fido2.hid import CtapHidDevice, CTAPHID
from fido2.hid.base import CtapHidConnection, HidDescriptor

CID = 0x11223344
job = json.load(sys.stdin)

class Conn(CtapHidConnection):
    def __init__(self, replies=None):
        self.writes, self.queue, self.replies = [], [], replies
    def write_packet(self, data):
        data = bytes(data)
        self.writes.append(data)
        if data[4] == 0x86:
            resp = struct.pack('>IBH', 0xffffffff, 0x86, 17) + data[7:15] + struct.pack('>IBBBBB', CID, 2, 1, 2, 3, 5)
            self.queue.append(resp.ljust(64, b'\0'))
        elif self.replies is not None:
            if data[4] & 0x80:
                self.queue.extend(bytes.fromhex(h) for h in self.replies)
        else:
            self.queue.append(data)
    def read_packet(self):
        return self.queue.pop(0)
    def close(self):
        pass

desc = HidDescriptor('recording', 0, 0, 64, 64)
out = {'requests': [], 'reassembled': []}
for case in job['cases']:
    payload = bytes.fromhex(case['data'])
    conn = Conn()
    dev = CtapHidDevice(desc, conn)
    conn.writes.clear()
    dev.call(CTAPHID.PING, payload)
    out['requests'].append([w.hex() for w in conn.writes])
    conn2 = Conn(case['ours'])
    dev2 = CtapHidDevice(desc, conn2)
    out['reassembled'].append(dev2.call(CTAPHID.CBOR, b'\x04').hex())
conn = Conn()
dev = CtapHidDevice(desc, conn)
conn.writes.clear()
ev = Event()
ev.set()
dev.call(CTAPHID.PING, b'\x01', event=ev)
out['cancel'] = conn.writes[-1].hex()
print(json.dumps(out))
`;

test('python-fido2 frames requests exactly as we do and reassembles what we encode', { timeout: 60_000 }, (t) => {
  if (!existsSync(PYTHON)) return t.skip('python3-fido2 is not installed (apt-get install python3-fido2)');
  const probe = spawnSync(PYTHON, ['-c', 'import fido2.hid'], { encoding: 'utf8' });
  if (probe.status !== 0) return t.skip('python3-fido2 is not installed (apt-get install python3-fido2)');
  const cases = SIZES.map((n) => ({ data: toHex(data(n)), ours: encodeMessage(CID, CTAPHID.CBOR, data(n)).map(toHex) }));
  const run = spawnSync(PYTHON, ['-c', SCRIPT], { input: JSON.stringify({ cases }), encoding: 'utf8', maxBuffer: 64 << 20 });
  assert.equal(run.status, 0, run.stderr);
  const out = JSON.parse(run.stdout) as { requests: string[][]; reassembled: string[]; cancel: string };
  SIZES.forEach((n, i) => {
    assert.deepEqual(out.requests[i], encodeMessage(CID, CTAPHID.PING, data(n)).map(toHex), `PING request of ${n} bytes`);
    assert.equal(out.reassembled[i], toHex(data(n)), `python-fido2 reassembles our ${n}-byte message`);
  });
  assert.equal(out.cancel, toHex(encodeMessage(CID, CTAPHID.CANCEL, new Uint8Array(0))[0]!));
  assert.equal(out.cancel, '1122334491' + '00'.repeat(59));
});
