/** appid / appidExclude (WebAuthn §10.1.1, §10.1.2) with credentials registered over U2F under a FIDO AppID. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CtapHidChannel } from '../../src/ctaphid/channel.js';
import { Ctap1Session } from '../../src/ctap1/session.js';
import { sha256 } from '../../src/crypto/hashes.js';
import { utf8Encode } from '../../src/util/bytes.js';
import { WebAuthnError } from '../../src/webauthn/errors.js';
import { bench, challenge, creationOptions, RP_ID } from './harness.js';

const APPID = 'https://example.com/u2f-appid.json';

async function u2fRegisterUnderAppId(key: Awaited<ReturnType<typeof bench>>['key']): Promise<Uint8Array> {
  const channel = await CtapHidChannel.open(key.port('u2f-setup'));
  try {
    const reg = await new Ctap1Session(channel).register(new Uint8Array(32), sha256(utf8Encode(APPID)));
    return reg.keyHandle;
  } finally {
    await channel.close();
  }
}

for (const u2fOnly of [true, false]) {
  test(`${u2fOnly ? 'U2F-only' : 'CTAP2'} key: a credential registered under the AppID is found with appid, and excluded with appidExclude`, async () => {
    const b = await bench({ u2fOnly });
    try {
      const kh = await u2fRegisterUnderAppId(b.key);
      const login = await b.client.get({ challenge: challenge(), rpId: RP_ID, allowCredentials: [{ type: 'public-key', id: kh }], extensions: { appid: APPID } });
      assert.deepEqual(login.getClientExtensionResults(), { appid: true });
      assert.deepEqual(new Uint8Array(login.response.authenticatorData).subarray(0, 32), sha256(utf8Encode(APPID)), 'signed under the AppID');
      await assert.rejects(
        b.client.get({ challenge: challenge(), rpId: RP_ID, allowCredentials: [{ type: 'public-key', id: kh }] }),
        (e: unknown) => e instanceof WebAuthnError && e.name === 'NotAllowedError',
        'without appid the credential is not found',
      );
      await assert.rejects(
        b.client.create(creationOptions({ pubKeyCredParams: [{ type: 'public-key', alg: -7 }], excludeCredentials: [{ type: 'public-key', id: kh }], extensions: { appidExclude: APPID } })),
        (e: unknown) => e instanceof WebAuthnError && e.name === 'InvalidStateError',
      );
      const ok = await b.client.create(creationOptions({ pubKeyCredParams: [{ type: 'public-key', alg: -7 }], excludeCredentials: [{ type: 'public-key', id: kh }] }));
      assert.equal(ok.type, 'public-key', 'without appidExclude the U2F credential does not exclude');
    } finally {
      await b.close();
    }
  });
}

test('an appid of another site is a SecurityError before the key is touched', async () => {
  const b = await bench();
  try {
    await assert.rejects(b.client.get({ challenge: challenge(), rpId: RP_ID, extensions: { appid: 'https://evil.example.net/appid' } }), (e: unknown) => e instanceof WebAuthnError && e.name === 'SecurityError');
    await assert.rejects(b.client.get({ challenge: challenge(), rpId: RP_ID, extensions: { appid: 'http://example.com/appid' } }), (e: unknown) => e instanceof WebAuthnError && e.name === 'SecurityError');
    assert.equal(b.events.length, 0);
  } finally {
    await b.close();
  }
});
