/**
 * get() with an allow list (review M9): the key is probed silently (up=false,
 * no token) before the user is asked for a PIN, so a key that holds none of
 * the credentials never asks for one; the appid path verifies the user for
 * the appid (or, on a key without silent probes, expects the UV flag only
 * when it asked for UV).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CtapHidChannel } from '../../src/ctaphid/channel.js';
import { Ctap1Session } from '../../src/ctap1/session.js';
import { decodeCbor } from '../../src/cbor/index.js';
import { sha256 } from '../../src/crypto/hashes.js';
import { randomBytes } from '../../src/crypto/primitives.js';
import { utf8Encode } from '../../src/util/bytes.js';
import { WebAuthnError } from '../../src/webauthn/errors.js';
import type { FaultInjector, FaultTransaction } from '../../src/virtual/fault-types.js';
import { bench, challenge, creationOptions, RP_ID, rpVerifyAuthentication, rpVerifyRegistration, type Bench } from './harness.js';

const APPID = 'https://example.com/u2f-appid.json';
const PIN = '1234';
const CTAPHID_CBOR = 0x10;
const GET_ASSERTION = 0x02;
const CTAP2_ERR_INVALID_OPTION = 0x2c;

/** The `up` option of a getAssertion request (undefined for other requests). */
function getAssertionUp(tx: FaultTransaction): boolean | undefined {
  if (tx.cmd !== CTAPHID_CBOR || tx.payload[0] !== GET_ASSERTION) return undefined;
  const req = decodeCbor(tx.payload.subarray(1)).value as Map<number, unknown>;
  const options = req.get(5) as Map<string, boolean> | undefined;
  return options?.get('up') ?? true;
}

/** Records every getAssertion's `up`; with `refuseSilent`, answers up=false with CTAP2_ERR_INVALID_OPTION (a key without silent probes). */
function recorder(refuseSilent = false): FaultInjector & { ups: boolean[] } {
  const ups: boolean[] = [];
  return {
    ups,
    onTransaction(tx) {
      const up = getAssertionUp(tx);
      if (up !== undefined) ups.push(up);
      return undefined;
    },
    onResponse(tx, payload) {
      return refuseSilent && getAssertionUp(tx) === false ? new Uint8Array([CTAP2_ERR_INVALID_OPTION]) : payload;
    },
  };
}

async function u2fRegisterUnderAppId(b: Bench): Promise<Uint8Array> {
  const channel = await CtapHidChannel.open(b.key.port('u2f-setup'));
  try {
    return (await new Ctap1Session(channel).register(new Uint8Array(32), sha256(utf8Encode(APPID)))).keyHandle;
  } finally {
    await channel.close();
  }
}

const pinAsks = (b: Bench): number => b.events.filter((e) => e.type === 'pin-required').length;
const flags = (authData: ArrayBuffer): number => new Uint8Array(authData)[32]!;
const UV = 0x04;

test('a key holding none of the allowed credentials is not asked for its PIN: silent probe, a touch, NotAllowedError', async () => {
  const faults = recorder();
  // no credProtect on this key: nothing can hide from an unverified probe
  const b = await bench({ pin: PIN, features: { credProtect: false }, faults }, { 'pin-required': () => PIN });
  try {
    for (const userVerification of ['preferred', 'required'] as const) {
      await assert.rejects(
        b.client.get({ challenge: challenge(), rpId: RP_ID, userVerification, allowCredentials: [{ type: 'public-key', id: randomBytes(48) }] }),
        (e: unknown) => e instanceof WebAuthnError && e.name === 'NotAllowedError' && e.ctap === 'CTAP2_ERR_NO_CREDENTIALS',
      );
    }
    assert.equal(pinAsks(b), 0, 'no PIN prompt for a key that holds none of the credentials');
    assert.ok(b.events.some((e) => e.type === 'touch-required'), 'the failure still waits for a touch');
    assert.ok(faults.ups.length > 0 && faults.ups.every((up) => up === false), 'only silent probes reached getAssertion');
  } finally {
    await b.close();
  }
});

test('a key holding an allowed credential: probed silently first, then the PIN, then the assertion (UV set)', async () => {
  const faults = recorder();
  const b = await bench({ pin: PIN, faults }, { 'pin-required': () => PIN });
  try {
    const opts = creationOptions({ authenticatorSelection: { userVerification: 'required' } });
    const reg = await b.client.create(opts);
    const info = await rpVerifyRegistration(reg, opts.challenge, true);
    const before = pinAsks(b);
    faults.ups.length = 0;
    const c = challenge();
    const login = await b.client.get({ challenge: c, rpId: RP_ID, allowCredentials: [{ type: 'public-key', id: randomBytes(40) }, { type: 'public-key', id: reg.rawId }] });
    await rpVerifyAuthentication(login, c, info.credential, true);
    assert.equal(pinAsks(b) - before, 1);
    assert.deepEqual(faults.ups.at(-1), true, 'the assertion itself asks for a touch');
    assert.equal(faults.ups[0], false, 'the first getAssertion is the silent probe');
  } finally {
    await b.close();
  }
});

test('credProtect level 3 is invisible to the silent probe: with UV wanted the key is verified, then looked at again', async () => {
  const b = await bench({ pin: PIN }, { 'pin-required': () => PIN });
  try {
    const opts = creationOptions({ extensions: { credentialProtectionPolicy: 'userVerificationRequired', enforceCredentialProtectionPolicy: true } });
    const reg = await b.client.create(opts);
    const info = await rpVerifyRegistration(reg, opts.challenge);
    const c = challenge();
    const login = await b.client.get({ challenge: c, rpId: RP_ID, userVerification: 'preferred', allowCredentials: [{ type: 'public-key', id: reg.rawId }] });
    await rpVerifyAuthentication(login, c, info.credential, true);
  } finally {
    await b.close();
  }
});

for (const userVerification of ['preferred', 'required'] as const) {
  test(`appid on a CTAP2 key with a PIN (${userVerification}): the U2F credential is found silently and the user verified for the appid`, async () => {
    const b = await bench({ pin: PIN }, { 'pin-required': () => PIN });
    try {
      const kh = await u2fRegisterUnderAppId(b);
      const login = await b.client.get({ challenge: challenge(), rpId: RP_ID, userVerification, allowCredentials: [{ type: 'public-key', id: kh }], extensions: { appid: APPID } });
      assert.deepEqual(login.getClientExtensionResults(), { appid: true });
      const ad = login.response.authenticatorData;
      assert.deepEqual(new Uint8Array(ad).subarray(0, 32), sha256(utf8Encode(APPID)));
      assert.equal(flags(ad) & UV, UV, 'the token was made for the appid and used there');
      assert.equal(pinAsks(b), 1);
    } finally {
      await b.close();
    }
  });
}

test('a key that refuses up=false: UV first (old order); the appid retry expects UV only when it asked for it', async () => {
  for (const userVerification of ['preferred', 'required'] as const) {
    const faults = recorder(true);
    const b = await bench({ pin: PIN, faults }, { 'pin-required': () => PIN });
    try {
      const kh = await u2fRegisterUnderAppId(b);
      const login = await b.client.get({ challenge: challenge(), rpId: RP_ID, userVerification, allowCredentials: [{ type: 'public-key', id: kh }], extensions: { appid: APPID } });
      assert.deepEqual(login.getClientExtensionResults(), { appid: true });
      const uvSet = (flags(login.response.authenticatorData) & UV) === UV;
      if (userVerification === 'required') {
        assert.equal(uvSet, true, 'required: the user is verified again, for the appid');
        assert.equal(pinAsks(b), 2);
      } else {
        assert.equal(uvSet, false, 'preferred: the RP-ID token does not apply to the appid, and UV is not expected');
        assert.equal(pinAsks(b), 1);
      }
    } finally {
      await b.close();
    }
  }
});
