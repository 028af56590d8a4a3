import { test } from 'node:test';
import assert from 'node:assert/strict';
import { WebAuthnError } from '../../src/webauthn/errors.js';
import { CtapError } from '../../src/ctap2/status.js';
import { needsUv, uvCapabilities } from '../../src/webauthn/user-verification.js';
import type { AuthenticatorInfo } from '../../src/ctap2/get-info.js';
import { bench, creationOptions, rpVerifyRegistration } from './harness.js';

const info = (options: Record<string, boolean>): AuthenticatorInfo => ({ versions: ['FIDO_2_1'], extensions: [], aaguid: new Uint8Array(16), options, pinUvAuthProtocols: [2], unknownKeys: new Map() }) as AuthenticatorInfo;

test('needsUv: what the RP asks and what the key insists on', () => {
  const pinKey = uvCapabilities(info({ clientPin: true, pinUvAuthToken: true, makeCredUvNotRqd: true }));
  const bare = uvCapabilities(info({ clientPin: false }));
  const old = uvCapabilities(info({ clientPin: true })); // CTAP 2.0: no makeCredUvNotRqd
  assert.equal(needsUv(pinKey, { phase: 'get', requirement: 'discouraged', rpId: 'x' }).want, false);
  assert.equal(needsUv(pinKey, { phase: 'get', requirement: 'preferred', rpId: 'x' }).want, true);
  assert.equal(needsUv(pinKey, { phase: 'create', requirement: 'discouraged', rpId: 'x', rk: false }).want, false);
  assert.equal(needsUv(pinKey, { phase: 'create', requirement: 'discouraged', rpId: 'x', rk: true }).want, true, 'a discoverable credential on a protected key needs UV');
  assert.equal(needsUv(old, { phase: 'create', requirement: 'discouraged', rpId: 'x' }).want, true, 'a CTAP 2.0 key with a PIN wants pinAuth for every makeCredential');
  assert.equal(needsUv(bare, { phase: 'get', requirement: 'preferred', rpId: 'x' }).want, false);
  assert.deepEqual(needsUv(bare, { phase: 'get', requirement: 'required', rpId: 'x' }), { want: true, reason: 'uv-required' });
  const always = uvCapabilities(info({ clientPin: true, alwaysUv: true, makeCredUvNotRqd: true }));
  assert.deepEqual(needsUv(always, { phase: 'get', requirement: 'discouraged', rpId: 'x' }), { want: true, reason: 'always-uv' });
});

test('wrong PINs: pin-invalid each time with the retries left, then pin-auth-blocked; nothing retried by the library', async () => {
  let asked = 0;
  const b = await bench({ pin: '1234' }, { 'pin-required': () => { asked++; return '0000'; }, 'pin-invalid': () => { asked++; return '0000'; } });
  try {
    await assert.rejects(
      b.client.create(creationOptions({ authenticatorSelection: { userVerification: 'required' } })),
      (e: unknown) => e instanceof WebAuthnError && e.name === 'NotAllowedError' && e.ctap === 'CTAP2_ERR_PIN_AUTH_BLOCKED',
    );
    const invalid = b.events.filter((e) => e.type === 'pin-invalid').map((e) => (e as { retriesLeft?: number }).retriesLeft);
    assert.deepEqual(invalid, [7, 6]);
    assert.equal(asked, 3, 'one PIN per answer: three answers, three attempts');
    assert.ok(b.events.some((e) => e.type === 'pin-auth-blocked'));
  } finally {
    await b.close();
  }
});

test('cancelling the PIN prompt (null) is NotAllowedError; the prompt is cancelled by the AbortSignal', async () => {
  const b = await bench({ pin: '1234' }, { 'pin-required': () => null });
  try {
    await assert.rejects(b.client.create(creationOptions({ authenticatorSelection: { userVerification: 'required' } })), (e: unknown) => e instanceof WebAuthnError && e.name === 'NotAllowedError');
  } finally {
    await b.close();
  }
  let promptSignal: AbortSignal | undefined;
  const slow = await bench({ pin: '1234' }, { 'pin-required': (_e, ctx) => { promptSignal = ctx.signal; return new Promise<string>(() => undefined); } });
  try {
    const ac = new AbortController();
    const p = slow.client.create(creationOptions({ authenticatorSelection: { userVerification: 'required' } }), { signal: ac.signal });
    for (let i = 0; i < 200 && !promptSignal; i++) await new Promise((r) => setTimeout(r, 10));
    ac.abort();
    await assert.rejects(p, (e: unknown) => e instanceof WebAuthnError && e.name === 'AbortError');
    assert.equal(promptSignal?.aborted, true, 'the app sees its prompt cancelled');
  } finally {
    await slow.close();
  }
});

test('built-in UV failing: uv-retry asks the app; declining ends in NotAllowedError', async () => {
  const b = await bench({ uv: 'deny', pin: '1234' }, { 'uv-retry': () => false });
  try {
    await assert.rejects(b.client.create(creationOptions({ authenticatorSelection: { userVerification: 'required' } })), (e: unknown) => e instanceof WebAuthnError && e.name === 'NotAllowedError');
    const retry = b.events.find((e) => e.type === 'uv-retry');
    assert.ok(retry);
  } finally {
    await b.close();
  }
});

test('built-in UV blocked: the PIN is the fallback (reason uv-blocked)', async () => {
  const b = await bench({ uv: 'deny', pin: '1234' }, { 'uv-retry': () => true, 'pin-required': () => '1234' });
  try {
    const opts = creationOptions({ authenticatorSelection: { userVerification: 'required' } });
    const reg = await b.client.create(opts);
    const req = b.events.find((e) => e.type === 'pin-required');
    assert.equal(req?.type === 'pin-required' && req.reason, 'uv-blocked');
    const info = await rpVerifyRegistration(reg, opts.challenge, true);
    assert.equal(info.userVerified, true);
  } finally {
    await b.close();
  }
});

test('a wrong PIN the app does not answer again is the key\'s verdict (PIN_INVALID, retries left), not a cancellation', async () => {
  // pin-invalid answered null (the CLI in a script), and no pin-invalid handler at all
  for (const declines of [{ 'pin-invalid': () => null }, {}]) {
    const b = await bench({ pin: '1234' }, { 'pin-required': () => '0000', ...declines });
    try {
      await assert.rejects(b.client.create(creationOptions({ authenticatorSelection: { userVerification: 'required' } })), (e: unknown) => {
        assert.ok(e instanceof WebAuthnError);
        assert.equal(e.name, 'NotAllowedError');
        assert.equal(e.ctap, 'CTAP2_ERR_PIN_INVALID');
        assert.equal(e.retriesLeft, 7);
        assert.match(e.message, /Wrong PIN: 7 tries left/);
        assert.doesNotMatch(e.message, /cancel/i);
        assert.ok(e.cause instanceof CtapError && e.cause.retriesLeft === 7, 'the key\'s CtapError is the cause');
        return true;
      });
    } finally {
      await b.close();
    }
  }
});

test('a PIN too short for the key, not answered again: PIN_POLICY_VIOLATION with the reason; nothing sent, no retry used', async () => {
  let pin = '1';
  const b = await bench({ pin: '1234' }, { 'pin-required': () => pin, 'pin-invalid': () => null });
  try {
    await assert.rejects(b.client.create(creationOptions({ authenticatorSelection: { userVerification: 'required' } })), (e: unknown) => {
      assert.ok(e instanceof WebAuthnError);
      assert.equal(e.ctap, 'CTAP2_ERR_PIN_POLICY_VIOLATION');
      assert.match(e.message, /too short/);
      assert.doesNotMatch(e.message, /cancel/i);
      assert.equal(e.retriesLeft, 8);
      return true;
    });
    pin = '1234';
    await b.client.create(creationOptions({ authenticatorSelection: { userVerification: 'required' } }));
    const left = b.events.filter((e) => e.type === 'pin-required').map((e) => (e as { retriesLeft?: number }).retriesLeft);
    assert.deepEqual(left, [8, 8], 'the short PIN never reached the key');
  } finally {
    await b.close();
  }
});

test('cancelling the first PIN prompt stays a cancellation (no CTAP status, no retries count)', async () => {
  const b = await bench({ pin: '1234' }, { 'pin-required': () => null, 'pin-invalid': () => '1234' });
  try {
    await assert.rejects(b.client.create(creationOptions({ authenticatorSelection: { userVerification: 'required' } })), (e: unknown) => {
      assert.ok(e instanceof WebAuthnError);
      assert.equal(e.name, 'NotAllowedError');
      assert.equal(e.ctap, undefined);
      assert.equal(e.retriesLeft, undefined);
      assert.match(e.message, /cancelled/);
      return true;
    });
    assert.ok(!b.events.some((e) => e.type === 'pin-invalid'));
  } finally {
    await b.close();
  }
});
