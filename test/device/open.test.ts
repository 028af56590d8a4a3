/** openDevice / parseDeviceSpec / listDevices / the frame trace, against the virtual key and this machine (no USB key). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { listDevices, openDevice, parseDeviceSpec } from '../../src/device/index.js';
import { HidError } from '../../src/hid/errors.js';
import { ClientPin } from '../../src/ctap2/client-pin.js';
import { toHex } from '../../src/util/bytes.js';
import { VirtualAuthenticator } from '../../src/virtual/index.js';
import { serveVirtualUdp } from '../../src/virtual/udp-server.js';

test('parseDeviceSpec classifies every spec form', () => {
  assert.deepEqual(parseDeviceSpec('auto'), { kind: 'auto' });
  assert.deepEqual(parseDeviceSpec('virtual'), { kind: 'virtual' });
  assert.deepEqual(parseDeviceSpec('virtual:/tmp/k.json'), { kind: 'virtual', file: '/tmp/k.json' });
  assert.deepEqual(parseDeviceSpec('udp:127.0.0.1:8111'), { kind: 'udp', spec: 'udp:127.0.0.1:8111' });
  assert.deepEqual(parseDeviceSpec('/dev/hidraw3'), { kind: 'path', path: '/dev/hidraw3' });
  assert.deepEqual(parseDeviceSpec('IOService:/AppleACPIPlatformExpert/XHC1'), { kind: 'path', path: 'IOService:/AppleACPIPlatformExpert/XHC1' });
  for (const bad of ['', '   ', 'virtual:']) {
    assert.throws(() => parseDeviceSpec(bad), (e: unknown) => e instanceof HidError && e.code === 'INVALID_SPEC');
  }
});

test('listDevices resolves to [] on a machine with no key', async () => {
  const found = await listDevices();
  assert.ok(Array.isArray(found));
  // The build machines have no FIDO key plugged in (CONTRIBUTING/brief); if one is, it must look like one.
  for (const d of found) assert.equal(d.transport, 'usb');
});

test('openDevice("auto") with no key: HidError NOT_FOUND that says what to check', async (t) => {
  if ((await listDevices()).length > 0) return t.skip('a FIDO key is plugged in');
  await assert.rejects(openDevice('auto'), (e: unknown) => {
    assert.ok(e instanceof HidError);
    assert.equal(e.code, 'NOT_FOUND');
    assert.match(e.message, /ctap doctor/);
    return true;
  });
});

test('openDevice of a bad UDP spec is INVALID_SPEC before any I/O', async () => {
  await assert.rejects(openDevice('udp:nohostport'), (e: unknown) => e instanceof HidError && e.code === 'INVALID_SPEC');
});

/** An IPv4 address of this machine that is not loopback (undefined when there is none). */
function lanAddress(): string | undefined {
  for (const list of Object.values(networkInterfaces())) {
    for (const a of list ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  }
  return undefined;
}

test('openDevice("udp:HOST:PORT") with a non-loopback HOST: refused by default, opened with allowRemote', async (t) => {
  const host = lanAddress();
  if (!host) return t.skip('this machine has no non-loopback IPv4 address');
  const key = await VirtualAuthenticator.create({});
  const server = await serveVirtualUdp(key, { host, port: 0 });
  try {
    const spec = `udp:${host}:${server.port}?local=0`;
    await assert.rejects(openDevice(spec, { timeoutMs: 5000 }), (e: unknown) => e instanceof HidError && e.code === 'INVALID_SPEC' && /loopback/.test(e.message));
    const d = await openDevice(spec, { allowRemote: true, timeoutMs: 5000 });
    try {
      assert.ok((await d.session.getInfo()).versions.includes('FIDO_2_1'));
    } finally {
      await d.close();
    }
  } finally {
    await server.close();
    await key.close();
  }
});

test('openDevice("virtual"): the facade has info, CTAPHID INIT data and a CTAP2 session', async () => {
  const d = await openDevice('virtual');
  try {
    assert.equal(d.spec, 'virtual');
    assert.equal(d.info.transport, 'virtual');
    assert.equal(d.init.protocolVersion, 2);
    assert.equal(d.init.capabilities.cbor, true);
    const info = await d.session.getInfo();
    assert.ok(info.versions.includes('FIDO_2_1'));
    assert.equal(info.aaguid.length, 16);
    // the cache is per device
    assert.equal(await d.session.getInfo(), info);
    const echo = await d.channel.ping(Uint8Array.of(1, 2, 3));
    assert.deepEqual([...echo], [1, 2, 3]);
  } finally {
    await d.close();
  }
  await d.close(); // idempotent
});

test('openDevice("virtual:FILE") keeps state across opens', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ctap-open-'));
  const file = join(dir, 'key.json');
  try {
    const a = await openDevice(`virtual:${file}`);
    const aaguid = toHex((await a.session.getInfo()).aaguid);
    await new ClientPin(a.session).setPin('468213');
    await a.close();
    const b = await openDevice(`virtual:${file}`);
    try {
      const info = await b.session.getInfo();
      assert.equal(toHex(info.aaguid), aaguid);
      assert.equal(info.options['clientPin'], true, 'the PIN set through the first open is still set');
    } finally {
      await b.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the frame trace shows every message and redacts clientPin traffic (see test/device/trace.test.ts for the other secrets)', async () => {
  const lines: string[] = [];
  const d = await openDevice('virtual', { trace: (l) => lines.push(l) });
  const pin = '731904';
  try {
    await d.session.getInfo();
    const cp = new ClientPin(d.session);
    await cp.setPin(pin);
    const token = await cp.getPinToken(pin);
    token.destroy();
  } finally {
    await d.close();
  }
  assert.ok(lines.some((l) => /^> ffffffff INIT bcnt=8 /.test(l)), 'INIT is traced with its nonce');
  assert.ok(lines.some((l) => /^> [0-9a-f]{8} CBOR bcnt=1 getInfo\(0x04\)$/.test(l)), 'getInfo request is traced');
  const pinLines = lines.filter((l) => / clientPin\(0x06\)/.test(l));
  // getKeyAgreement + setPIN, getKeyAgreement + getPinToken: 4 requests and 4 replies at least
  assert.ok(pinLines.filter((l) => l.startsWith('>')).length >= 4, lines.join('\n'));
  assert.ok(pinLines.filter((l) => l.startsWith('<')).length >= 4, lines.join('\n'));
  // keyAgreement, pinUvAuthParam, newPinEnc, pinHashEnc and the token never appear, only their sizes
  for (const l of pinLines) assert.doesNotMatch(l, /h'/, `clientPin bytes leaked into the trace: ${l}`);
  assert.ok(pinLines.some((l) => /\{2: <redacted 48 bytes>\}$/.test(l)), 'the encrypted token is redacted');
});
