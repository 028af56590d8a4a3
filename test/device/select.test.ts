import { test } from 'node:test';
import assert from 'node:assert/strict';
import { VirtualAuthenticator } from '../../src/virtual/authenticator.js';
import type { VirtualAuthenticatorOptions } from '../../src/virtual/core.js';
import { CtapHidChannel } from '../../src/ctaphid/channel.js';
import type { HidDeviceInfo } from '../../src/hid/port.js';
import type { HidDeviceEvent } from '../../src/hid/watch.js';
import { selectDevice, TouchToSelect, type DeviceSource } from '../../src/device/select.js';
import { observeInteraction } from '../../src/device/interaction.js';
import type { InteractionEvent } from '../../src/webauthn/interaction.js';
import { WebAuthnClient } from '../../src/webauthn/client.js';
import { AbortedError } from '../../src/util/errors.js';

interface Rig {
  keys: Map<string, VirtualAuthenticator>;
  source: DeviceSource;
  /** Keys whose touch wait was cancelled (the host sent CANCEL / gave up). */
  cancelled: string[];
  plugIn(name: string, options?: VirtualAuthenticatorOptions): Promise<void>;
  unplug(name: string): void;
  openCount: Map<string, number>;
  /** Resolves when a selection starts watching for keys being plugged in. */
  watching: Promise<void>;
  closeAll(): Promise<void>;
}

/** Keys currently waiting for a touch. */
const waiting = new Set<string>();

async function until(cond: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !cond(); i++) await new Promise((res) => setTimeout(res, 10));
  assert.ok(cond(), 'condition reached in time');
}

/** A U2F key that is never touched: each presence check says no (U2F has no CANCEL; the host stops polling). */
const neverTouched = (name: string) => () => {
  waiting.add(name);
  return new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 50));
};

/** A presence mode that waits until the host cancels, and records it. */
const untilCancelled = (name: string, cancelled: string[]) => (req: { signal: AbortSignal }) =>
  new Promise<boolean>((resolve) => {
    waiting.add(name);
    const done = () => {
      cancelled.push(name);
      resolve(false);
    };
    if (req.signal.aborted) done();
    else req.signal.addEventListener('abort', done, { once: true });
  });

async function rig(initial: [string, VirtualAuthenticatorOptions][]): Promise<Rig> {
  waiting.clear();
  const keys = new Map<string, VirtualAuthenticator>();
  const infos = new Map<string, HidDeviceInfo>();
  const listeners = new Set<(e: HidDeviceEvent) => void>();
  const cancelled: string[] = [];
  const openCount = new Map<string, number>();
  const channels: CtapHidChannel[] = [];
  let watchStarted!: () => void;
  const watching = new Promise<void>((resolve) => (watchStarted = resolve));
  const add = async (name: string, options: VirtualAuthenticatorOptions = {}) => {
    const key = await VirtualAuthenticator.create({ resetWindowMs: Infinity, ...options });
    keys.set(name, key);
    const info: HidDeviceInfo = { path: name, transport: 'virtual', product: `Virtual ${name}` };
    infos.set(name, info);
    return info;
  };
  for (const [name, o] of initial) await add(name, o);
  const source: DeviceSource = {
    list: async () => [...infos.values()],
    async open(device, opts) {
      openCount.set(device.path, (openCount.get(device.path) ?? 0) + 1);
      const channel = await CtapHidChannel.open(keys.get(device.path)!.port(device.path), opts);
      channels.push(channel);
      return { transport: channel, close: () => channel.close() };
    },
    watch(onEvent, signal) {
      listeners.add(onEvent);
      signal.addEventListener('abort', () => listeners.delete(onEvent), { once: true });
      watchStarted();
    },
  };
  return {
    keys,
    source,
    cancelled,
    openCount,
    watching,
    async plugIn(name, options) {
      const info = await add(name, options);
      for (const l of listeners) l({ type: 'added', device: info });
    },
    unplug(name) {
      const info = infos.get(name)!;
      infos.delete(name);
      for (const l of listeners) l({ type: 'removed', device: info });
    },
    async closeAll() {
      for (const c of channels) await c.close().catch(() => undefined);
      for (const k of keys.values()) await k.close();
    },
  };
}

function ctx(events: InteractionEvent[] = [], signal = new AbortController().signal) {
  return { signal, timeoutMs: 10_000, interaction: observeInteraction({ 'select-device': () => undefined, removed: () => undefined }, (e) => events.push(e)) };
}

test('several keys: the first touched wins, the others are cancelled (CTAP 2.1 selection, 2.0 dummy makeCredential, U2F)', async () => {
  const cancelled: string[] = [];
  const r = await rig([
    ['ctap21', { presence: untilCancelled('ctap21', cancelled) }],
    ['ctap20', { presence: { delayMs: 30 }, versions: ['U2F_V2', 'FIDO_2_0'], features: { selection: false } }],
    ['u2f', { u2fOnly: true, presence: neverTouched('u2f') }],
  ]);
  try {
    const events: InteractionEvent[] = [];
    const { handle, key } = await selectDevice(r.source, ctx(events));
    assert.equal(handle.summary.path, 'ctap20');
    assert.equal(events[0]?.type, 'select-device');
    assert.deepEqual((events[0] as { devices: { path: string }[] }).devices.map((d) => d.path), ['ctap21', 'ctap20', 'u2f']);
    // the CTAP 2.1 loser got CANCEL: its presence wait ended
    await until(() => cancelled.includes('ctap21'));
    await key.close();
  } finally {
    await r.closeAll();
  }
});

test('a U2F-only key can win by its touch', async () => {
  const cancelled: string[] = [];
  const r = await rig([
    ['a', { presence: untilCancelled('a', cancelled) }],
    ['u2f', { u2fOnly: true, presence: { delayMs: 20 } }],
  ]);
  try {
    const { handle, key } = await selectDevice(r.source, ctx());
    assert.equal(handle.summary.path, 'u2f');
    assert.equal(handle.session, undefined, 'a U2F-only key has no CTAP2 session');
    await key.close();
  } finally {
    await r.closeAll();
  }
});

test('a key plugged in while waiting joins, and can win; a removed key is reported', async () => {
  const cancelled: string[] = [];
  const r = await rig([
    ['a', { presence: untilCancelled('a', cancelled) }],
    ['b', { presence: untilCancelled('b', cancelled) }],
  ]);
  try {
    const events: InteractionEvent[] = [];
    const pending = selectDevice(r.source, ctx(events));
    await until(() => waiting.has('a') && waiting.has('b'));
    r.unplug('b');
    await r.plugIn('c', { presence: { delayMs: 10 } });
    const { handle, key } = await pending;
    assert.equal(handle.summary.path, 'c');
    assert.ok(events.some((e) => e.type === 'removed' && e.device?.path === 'b'));
    await key.close();
  } finally {
    await r.closeAll();
  }
});

test('one key: used at once, no selection touch; no key and no hot-plug: NotAllowedError', async () => {
  const r = await rig([['only', { presence: 'deny' }]]);
  try {
    const events: InteractionEvent[] = [];
    const { handle, key } = await selectDevice(r.source, ctx(events));
    assert.equal(handle.summary.path, 'only');
    assert.equal(events.length, 0);
    await key.close();
  } finally {
    await r.closeAll();
  }
  await assert.rejects(selectDevice({ list: async () => [], open: async () => { throw new Error('unused'); } }, ctx()), (e: unknown) => (e as Error).name === 'NotAllowedError');
});

test('no key yet: the first one plugged in is used', async () => {
  const r = await rig([]);
  try {
    const pending = selectDevice(r.source, ctx());
    await r.watching; // selection found no key and is now waiting for hot-plug events
    await r.plugIn('late', { presence: 'deny' });
    const { handle, key } = await pending;
    assert.equal(handle.summary.path, 'late');
    await key.close();
  } finally {
    await r.closeAll();
  }
});

test('aborting the selection cancels every key', async () => {
  const cancelled: string[] = [];
  const r = await rig([
    ['a', { presence: untilCancelled('a', cancelled) }],
    ['b', { presence: untilCancelled('b', cancelled) }],
  ]);
  try {
    const ac = new AbortController();
    waiting.clear();
    const pending = selectDevice(r.source, ctx([], ac.signal));
    await until(() => waiting.has('a') && waiting.has('b'));
    ac.abort();
    await assert.rejects(pending, AbortedError);
    await until(() => cancelled.length >= 2);
    assert.deepEqual([...cancelled].sort(), ['a', 'b']);
  } finally {
    await r.closeAll();
  }
});

test('WebAuthnClient over TouchToSelect: the credential is made on the key that was touched', async () => {
  const cancelled: string[] = [];
  const r = await rig([
    ['a', { presence: untilCancelled('a', cancelled) }],
    ['b', { presence: { delayMs: 20 } }],
  ]);
  const provider = new TouchToSelect(r.source);
  const client = new WebAuthnClient({ origin: 'https://example.com', device: provider });
  try {
    const cred = await client.create({
      rp: { id: 'example.com', name: 'Ex' },
      user: { id: new Uint8Array([1]), name: 'u', displayName: 'U' },
      challenge: new Uint8Array(32),
      pubKeyCredParams: [{ type: 'public-key', alg: -7 }],
    });
    assert.equal(cred.type, 'public-key');
    // Only b can answer for its credential (a's touch never comes): a silent probe on b finds it.
    const b = await CtapHidChannel.open(r.keys.get('b')!.port('probe'));
    const { Ctap2Session } = await import('../../src/ctap2/session.js');
    const { getAssertion } = await import('../../src/ctap2/get-assertion.js');
    const res = await getAssertion(new Ctap2Session(b), { rpId: 'example.com', clientDataHash: new Uint8Array(32), allowList: [{ type: 'public-key', id: new Uint8Array(cred.rawId) }], options: { up: false } });
    assert.ok(res.credential);
    await b.close();
  } finally {
    await client.close();
    await r.closeAll();
  }
});
