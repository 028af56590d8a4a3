/** Child process for state.test.ts: acknowledges two credentials, then is SIGKILLed between the temp write and the rename of the third. */
import { randomBytes } from '../../src/crypto/primitives.js';
import { CTAP2_CMD } from '../../src/ctap2/commands.js';
import { utf8Encode } from '../../src/util/bytes.js';
import type { CborValue } from '../../src/cbor/index.js';
import { VirtualAuthenticator } from '../../src/virtual/index.js';
import { TestCtapHidHost } from '../helpers/virtual-driver.js';

const path = process.argv[2]!;
let kill = false;
const key = await VirtualAuthenticator.create({
  statePath: path,
  stateFileHooks: {
    beforeRename: () => {
      if (kill) process.kill(process.pid, 'SIGKILL');
    },
  },
});
const host = await TestCtapHidHost.open(key.port());
for (const user of ['first', 'second', 'killed-mid-write']) {
  if (user === 'killed-mid-write') kill = true;
  const r = await host.cbor(
    CTAP2_CMD.makeCredential,
    new Map<number, CborValue>([
      [1, randomBytes(32)],
      [2, { id: 'example.com' }],
      [3, { id: utf8Encode(user), name: user }],
      [4, [{ alg: -7, type: 'public-key' }]],
      [7, { rk: true }],
    ]),
  );
  if (r.status === 0) process.stdout.write(`acked ${user}\n`);
}
