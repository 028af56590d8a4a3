import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseListenAddress, parsePresence, parseUv, serveVirtualFromCliOptions, VirtualOptionError, virtualOptionsFromCli } from '../../src/virtual/index.js';
import { CtapHidChannel } from '../../src/ctaphid/channel.js';
import { Ctap2Session } from '../../src/ctap2/session.js';
import { openUdpPort } from '../../src/hid/udp.js';

test('option strings map to authenticator options; bad values name their flag', async () => {
  assert.deepEqual(parseListenAddress('127.0.0.1:8111'), { host: '127.0.0.1', port: 8111 });
  assert.deepEqual(parseListenAddress('[::1]:0'), { host: '::1', port: 0 });
  assert.throws(() => parseListenAddress('8111'), (e: unknown) => e instanceof VirtualOptionError && e.flag === '--udp');
  assert.deepEqual(parsePresence('250ms'), { delayMs: 250 });
  assert.equal(parsePresence('deny'), 'deny');
  assert.throws(() => parsePresence('prompt'), VirtualOptionError);
  assert.throws(() => parsePresence('maybe'), VirtualOptionError);
  assert.equal(parseUv('auto'), 'auto');
  assert.throws(() => parseUv('yes'), (e: unknown) => e instanceof VirtualOptionError && e.flag === '--uv');
  await assert.rejects(virtualOptionsFromCli({ capacity: 'lots' }), (e: unknown) => e instanceof VirtualOptionError && e.flag === '--capacity');
  await assert.rejects(virtualOptionsFromCli({ aaguid: 'xyz' }), (e: unknown) => e instanceof VirtualOptionError && e.flag === '--aaguid');
  const o = await virtualOptionsFromCli({ capacity: '2500', uv: 'auto', presence: 'auto', u2fOnly: false });
  assert.equal(o.capacity, 2500);
  assert.equal(o.faults, undefined);
  // --fault goes to faults.ts's parser; its errors come back naming the flag.
  const f = await virtualOptionsFromCli({ fault: ['drop:p=0.5,seed=7'] });
  assert.equal(typeof f.faults?.onOutgoing, 'function');
  await assert.rejects(virtualOptionsFromCli({ fault: 'no-such-fault' }), (e: unknown) => e instanceof VirtualOptionError && e.flag === '--fault');
  // --reset-window-ms (test bench): a whole number of ms, passed through as resetWindowMs.
  assert.equal((await virtualOptionsFromCli({ resetWindowMs: '86400000' })).resetWindowMs, 86_400_000);
  assert.equal((await virtualOptionsFromCli({})).resetWindowMs, undefined);
  for (const bad of ['-1', '1.5', 'soon', '2147483648']) {
    await assert.rejects(virtualOptionsFromCli({ resetWindowMs: bad }), (e: unknown) => e instanceof VirtualOptionError && e.flag === '--reset-window-ms', bad);
  }
});

test('serveVirtualFromCliOptions listens on UDP with the given PIN and AAGUID', async () => {
  const { authenticator, server } = await serveVirtualFromCliOptions({ udp: '127.0.0.1:0', pin: '4321', aaguid: '0123456789abcdef0123456789abcdef' });
  try {
    const port = await openUdpPort(`udp:127.0.0.1:${server.port}?local=0`);
    const channel = await CtapHidChannel.open(port);
    const info = await new Ctap2Session(channel).getInfo();
    assert.equal(info.options.clientPin, true);
    assert.equal(Buffer.from(info.aaguid).toString('hex'), '0123456789abcdef0123456789abcdef');
    await channel.close();
  } finally {
    await server.close();
    await authenticator.close();
  }
});
