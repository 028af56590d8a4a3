import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { HidDeviceInfo } from '../../src/hid/port.js';
import { watchHidDevices, type HidDeviceEvent } from '../../src/hid/watch.js';
import { HidError } from '../../src/hid/errors.js';

const T = { timeout: 10_000 };
const key = (n: number): HidDeviceInfo => ({ path: `/dev/hidraw${n}`, transport: 'usb', product: `key ${n}` });
const timers = (): number => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;

test('added/removed events from successive enumerations; nothing left running after abort', T, async () => {
  const snapshots = [[key(1)], [key(1), key(2)], [key(2)], [key(2)], [], [key(3)]];
  let calls = 0;
  const ctl = new AbortController();
  const events: string[] = [];
  const before = timers();
  await watchHidDevices(
    {
      intervalMs: 1,
      signal: ctl.signal,
      list: async () => {
        const s = snapshots[Math.min(calls++, snapshots.length - 1)]!;
        if (calls > snapshots.length) queueMicrotask(() => ctl.abort());
        return s;
      },
    },
    (e: HidDeviceEvent) => events.push(`${e.type} ${e.device.path}`),
  );
  assert.deepEqual(events, ['added /dev/hidraw1', 'added /dev/hidraw2', 'removed /dev/hidraw1', 'removed /dev/hidraw2', 'added /dev/hidraw3']);
  assert.equal(timers(), before, 'no timer left behind');
});

test('initial: false skips the keys already present; abort during the pause stops at once', T, async () => {
  const ctl = new AbortController();
  const events: HidDeviceEvent[] = [];
  const before = timers();
  let calls = 0;
  // The watcher is in its pause once it listens for 'abort' on the signal (right after arming the 60 s timer).
  const pausing = new Promise<void>((resolve) => {
    const add = ctl.signal.addEventListener.bind(ctl.signal);
    ctl.signal.addEventListener = ((...args: Parameters<AbortSignal['addEventListener']>) => {
      add(...args);
      if (args[0] === 'abort') resolve();
    }) as typeof ctl.signal.addEventListener;
  });
  const done = watchHidDevices({ intervalMs: 60_000, signal: ctl.signal, initial: false, list: async () => (calls++, [key(1)]) }, (e) => events.push(e));
  await pausing;
  assert.equal(timers(), before + 1, 'the pause timer is armed');
  ctl.abort();
  await done;
  assert.equal(calls, 1);
  assert.deepEqual(events, []);
  assert.equal(timers(), before);
});

test('an enumeration failure rejects (after stopping)', T, async () => {
  const failure = new HidError('BACKEND_UNAVAILABLE', 'node-hid could not load');
  await assert.rejects(
    watchHidDevices({ intervalMs: 1, list: async () => Promise.reject(failure) }, () => {}),
    (e: unknown) => e === failure,
  );
});
