import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { CtapHidChannel } from '../../src/ctaphid/channel.js';
import { HidError } from '../../src/hid/errors.js';
import { createNodeHidBackend, listHidDevices, UDEV_RULES_PATH } from '../../src/hid/node-hid.js';
import { AbortedError, TimeoutError } from '../../src/util/errors.js';
import { fakeNodeHid, fidoDevice, type FakeHIDAsync } from '../helpers/fake-hid-async.js';

const T = { timeout: 10_000 };

function report(...head: number[]): Uint8Array {
  const r = new Uint8Array(64);
  r.set(head);
  return r;
}

test('listHidDevices keeps only usage page 0xF1D0 / usage 0x01 and maps the fields', T, async () => {
  const fake = fakeNodeHid({
    devices: [
      fidoDevice(3, { serialNumber: '12345' }),
      fidoDevice(1, { usagePage: 0x0001, usage: 0x06, product: 'keyboard interface' }), // the same key's OTP keyboard
      fidoDevice(2, { usage: 0x02 }),
      fidoDevice(0, { path: undefined }),
      fidoDevice(4, { manufacturer: '', product: 'Security Key NFC' }),
      fidoDevice(3, { serialNumber: '12345' }), // hidapi can list one path twice
    ],
  });
  const hid = createNodeHidBackend(async () => fake.module, 'linux');
  assert.deepEqual(await hid.listHidDevices(), [
    {
      path: '/dev/hidraw3',
      transport: 'usb',
      vendorId: 0x1050,
      productId: 0x0407,
      manufacturer: 'Yubico',
      product: 'YubiKey OTP+FIDO+CCID',
      serialNumber: '12345',
      release: 0x0527,
    },
    {
      path: '/dev/hidraw4',
      transport: 'usb',
      vendorId: 0x1050,
      productId: 0x0407,
      manufacturer: undefined,
      product: 'Security Key NFC',
      serialNumber: undefined,
      release: 0x0527,
    },
  ]);
});

test('every write is 0x00 + the 64-byte packet (exact bytes)', T, async () => {
  const fake = fakeNodeHid({ devices: [fidoDevice(0)] });
  const hid = createNodeHidBackend(async () => fake.module, 'linux');
  const port = await hid.openHidDevice('/dev/hidraw0');
  assert.deepEqual(fake.openOptions, [{ nonExclusive: true }], 'opened non-exclusively (another process may share the key)');
  assert.equal(port.reportSize, 64);
  assert.equal(port.info.product, 'YubiKey OTP+FIDO+CCID');
  const packet = report(0xff, 0xff, 0xff, 0xff, 0x86, 0x00, 0x08, 1, 2, 3, 4, 5, 6, 7, 8);
  packet[63] = 0xee;
  await port.write(packet);
  const dev = fake.opened[0]!;
  assert.equal(dev.writes.length, 1);
  const expected = Buffer.alloc(65);
  expected[0] = 0x00;
  expected.set(packet, 1);
  assert.deepEqual(dev.writes[0], expected);
  await assert.rejects(port.write(new Uint8Array(65)), RangeError);
  await port.close();
});

test('reads: a report comes back as a 64-byte Uint8Array; a leading report-ID byte is stripped', T, async () => {
  const fake = fakeNodeHid({ devices: [fidoDevice(0)] });
  const hid = createNodeHidBackend(async () => fake.module, 'linux');
  const port = await hid.openHidDevice('/dev/hidraw0');
  const dev = fake.opened[0]!;
  const r = report(0x0a, 0x0b, 0x0c, 0x0d, 0x90, 0x00, 0x01, 0x00);
  dev.deliver(r);
  const got = await port.read(1000);
  assert.ok(got && !Buffer.isBuffer(got), 'a plain Uint8Array, not a Buffer');
  assert.deepEqual(got, r);
  dev.reportIdOnRead = true;
  dev.deliver(r);
  assert.deepEqual(await port.read(1000), r);
  await port.close();
});

test('read timeout (node-hid resolves an empty Buffer) → null; a late report is kept for the next read', T, async () => {
  const fake = fakeNodeHid({ devices: [fidoDevice(0)] });
  const hid = createNodeHidBackend(async () => fake.module, 'linux');
  const port = await hid.openHidDevice('/dev/hidraw0');
  const dev = fake.opened[0]!;
  assert.equal(await port.read(20), null);
  assert.equal(await port.read(0), null);
  // A caller that gives up leaves the native read running; what it brings is not lost.
  const ctl = new AbortController();
  const aborted = port.read(5000, ctl.signal);
  ctl.abort();
  await assert.rejects(aborted, AbortedError);
  dev.deliver(report(1, 2, 3, 4, 0xbb, 0, 1, 2));
  assert.deepEqual(await port.read(1000), report(1, 2, 3, 4, 0xbb, 0, 1, 2));
  await port.close();
  assert.equal(dev.closed, true);
  await assert.rejects(port.read(10), (e: unknown) => e instanceof HidError && e.code === 'CLOSED');
});

test('never two native reads at once, even with overlapping callers', T, async () => {
  const fake = fakeNodeHid({ devices: [fidoDevice(0)] });
  const hid = createNodeHidBackend(async () => fake.module, 'linux');
  const port = await hid.openHidDevice('/dev/hidraw0');
  const dev: FakeHIDAsync = fake.opened[0]!;
  const a = port.read(30);
  const b = port.read(30); // the fake rejects a second concurrent native read
  assert.deepEqual(await Promise.all([a, b]), [null, null]);
  assert.ok(dev.readsStarted >= 1, 'dev.readsStarted >= 1');
  await port.close();
});

test('unplug mid-read → DEVICE_REMOVED, for the pending read and every later call', T, async () => {
  const fake = fakeNodeHid({ devices: [fidoDevice(0)] });
  const hid = createNodeHidBackend(async () => fake.module, 'linux');
  const port = await hid.openHidDevice('/dev/hidraw0');
  const dev = fake.opened[0]!;
  const pending = port.read(5000);
  await new Promise((r) => setImmediate(r));
  dev.unplug();
  await assert.rejects(pending, (e: unknown) => e instanceof HidError && e.code === 'DEVICE_REMOVED');
  await assert.rejects(port.write(new Uint8Array(64)), (e: unknown) => e instanceof HidError && e.code === 'DEVICE_REMOVED');
  await assert.rejects(port.read(10), (e: unknown) => e instanceof HidError && e.code === 'DEVICE_REMOVED');
  await port.close();
});

test("a write failure after open and node-hid's 'error' event also mean DEVICE_REMOVED", T, async () => {
  const fake = fakeNodeHid({ devices: [fidoDevice(0), fidoDevice(1)] });
  const hid = createNodeHidBackend(async () => fake.module, 'linux');
  const a = await hid.openHidDevice('/dev/hidraw0');
  fake.opened[0]!.unplug();
  await assert.rejects(a.write(new Uint8Array(64)), (e: unknown) => e instanceof HidError && e.code === 'DEVICE_REMOVED');
  const b = await hid.openHidDevice('/dev/hidraw1');
  fake.opened[1]!.emit('error', new Error('could not read data from device'));
  await assert.rejects(b.read(10), (e: unknown) => e instanceof HidError && e.code === 'DEVICE_REMOVED');
});

test('EACCES at open → PERMISSION_DENIED whose hint names the fix, per platform', T, async () => {
  const fake = fakeNodeHid({ devices: [fidoDevice(0)], openFailure: () => 'Permission denied' });
  const linux = createNodeHidBackend(async () => fake.module, 'linux');
  await assert.rejects(linux.openHidDevice('/dev/hidraw0'), (e: unknown) => {
    assert.ok(e instanceof HidError, String(e));
    assert.equal(e.code, 'PERMISSION_DENIED');
    assert.match(e.hint!, /70-ctap-bridge\.rules/);
    assert.match(e.hint!, /\/etc\/udev\/rules\.d/);
    assert.match(e.hint!, /udevadm control --reload && sudo udevadm trigger/);
    assert.match(e.hint!, /uaccess/);
    assert.match(e.message, /\/dev\/hidraw0/);
    return true;
  });
  assert.ok(existsSync(UDEV_RULES_PATH), `the hint points at a file that exists: ${UDEV_RULES_PATH}`);
  const windows = createNodeHidBackend(async () => fakeNodeHid({ devices: [fidoDevice(0)], openFailure: () => 'Access is denied.' }).module, 'win32');
  await assert.rejects(windows.openHidDevice('/dev/hidraw0'), (e: unknown) => {
    assert.ok(e instanceof HidError && e.code === 'PERMISSION_DENIED', String(e));
    assert.match(e.hint!, /Administrator/);
    assert.match(e.hint!, /WebAuthn API/);
    return true;
  });
  const mac = createNodeHidBackend(
    async () => fakeNodeHid({ devices: [fidoDevice(0)], openFailure: () => 'IOHIDDeviceOpen failed: (0xE00002C5) exclusive access and device already open' }).module,
    'darwin',
  );
  await assert.rejects(mac.openHidDevice('/dev/hidraw0'), (e: unknown) => e instanceof HidError && e.code === 'DEVICE_BUSY' && /exclusively/.test(e.hint!));
  await assert.rejects(linux.openHidDevice(''), (e: unknown) => e instanceof HidError && e.code === 'INVALID_SPEC');
  const none = createNodeHidBackend(async () => fakeNodeHid().module, 'linux');
  await assert.rejects(none.openHidDevice('/dev/hidraw9'), (e: unknown) => e instanceof HidError && e.code === 'NOT_FOUND');
});

test('node-hid failing to load → BACKEND_UNAVAILABLE naming the library and the package', T, async () => {
  const libusb = new Error('libusb-1.0.so.0: cannot open shared object file: No such file or directory');
  Object.assign(libusb, { code: 'ERR_DLOPEN_FAILED' });
  let attempts = 0;
  const failing = createNodeHidBackend(async () => {
    attempts++;
    throw libusb;
  }, 'linux');
  for (const call of [() => failing.listHidDevices(), () => failing.openHidDevice('/dev/hidraw0')]) {
    await assert.rejects(call(), (e: unknown) => {
      assert.ok(e instanceof HidError, String(e));
      assert.equal(e.code, 'BACKEND_UNAVAILABLE');
      assert.match(e.hint!, /libusb-1\.0\.so\.0/);
      assert.match(e.hint!, /apt-get install libusb-1\.0-0/);
      assert.match(e.hint!, /dnf install libusb1/);
      assert.equal(e.cause, libusb);
      return true;
    });
  }
  assert.equal(attempts, 2, 'a failed load is retried on the next call');

  // node-hid loads its binding lazily: the failure can surface on the first call instead.
  const udev = fakeNodeHid({ bindingError: new Error('libudev.so.1: cannot open shared object file: No such file or directory') });
  const lazy = createNodeHidBackend(async () => udev.module, 'linux');
  await assert.rejects(lazy.listHidDevices(), (e: unknown) => e instanceof HidError && e.code === 'BACKEND_UNAVAILABLE' && /libudev1/.test(e.hint!) && /systemd-libs/.test(e.hint!));
  const missing = Object.assign(new Error("Cannot find package 'node-hid' imported from /app/dist/hid/node-hid.js"), { code: 'ERR_MODULE_NOT_FOUND' });
  await assert.rejects(
    createNodeHidBackend(async () => Promise.reject(missing), 'linux').listHidDevices(),
    (e: unknown) => e instanceof HidError && e.code === 'BACKEND_UNAVAILABLE' && /npm install node-hid/.test(e.hint!),
  );
  const nobuild = fakeNodeHid({ bindingError: new Error('No native build was found for platform=linux arch=riscv64 runtime=node abi=115') });
  await assert.rejects(createNodeHidBackend(async () => nobuild.module, 'linux').openHidDevice('/dev/hidraw0'), (e: unknown) => e instanceof HidError && e.code === 'BACKEND_UNAVAILABLE' && /npm rebuild node-hid/.test(e.hint!));
});

test('the real node-hid loads here and finds no key (none is plugged in)', T, async (t) => {
  let devices;
  try {
    devices = await listHidDevices();
  } catch (e) {
    if (e instanceof HidError && e.code === 'BACKEND_UNAVAILABLE') return t.skip(`node-hid cannot load: ${e.hint}`);
    throw e;
  }
  assert.ok(Array.isArray(devices), 'Array.isArray(devices)');
  for (const d of devices) assert.equal(d.transport, 'usb');
});

test('a CtapHidChannel runs over the adapter (INIT through the fake HIDAsync)', T, async () => {
  const fake = fakeNodeHid({ devices: [fidoDevice(0)] });
  const hid = createNodeHidBackend(async () => fake.module, 'linux');
  const port = await hid.openHidDevice('/dev/hidraw0');
  const dev = fake.opened[0]!;
  dev.onWrite = (data) => {
    assert.equal(data.length, 65);
    assert.equal(data[0], 0x00);
    const packet = data.subarray(1);
    if (packet[4] === 0x86) {
      dev.deliver(report(0xff, 0xff, 0xff, 0xff, 0x86, 0x00, 0x11, ...packet.subarray(7, 15), 0x00, 0x22, 0x00, 0x02, 0x02, 5, 2, 4, 0x05));
    } else if (packet[4] === 0x81) {
      const reply = new Uint8Array(packet);
      dev.deliver(reply);
    }
  };
  const channel = await CtapHidChannel.open(port);
  assert.equal(channel.cid, 0x00220002);
  assert.deepEqual(channel.init.deviceVersion, { major: 5, minor: 2, build: 4 });
  assert.deepEqual(await channel.ping(Uint8Array.of(7, 7)), Uint8Array.of(7, 7));
  await channel.close();
  assert.equal(dev.closed, true);
});

test('a write that outlasts its timeout rejects with TimeoutError (the native write cannot be interrupted)', T, async () => {
  const fake = fakeNodeHid({ devices: [fidoDevice(0)] });
  const hid = createNodeHidBackend(async () => fake.module, 'linux');
  const port = await hid.openHidDevice('/dev/hidraw0');
  const dev = fake.opened[0]!;
  // the fake calls onWrite as each native write completes: wait for the third, whenever the slow one lands
  const allThree = new Promise<void>((resolve) => {
    dev.onWrite = () => {
      if (dev.writes.length === 3) resolve();
    };
  });
  dev.writeDelayMs = 200;
  await assert.rejects(port.write(new Uint8Array(64), { timeoutMs: 10 }), TimeoutError);
  dev.writeDelayMs = 0;
  await port.write(new Uint8Array(64), { timeoutMs: 1000 });
  await port.write(new Uint8Array(64));
  await allThree;
  assert.equal(dev.writes.length, 3, 'the slow write did complete in the background');
  await port.close();
});
