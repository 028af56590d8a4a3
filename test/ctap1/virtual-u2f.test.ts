/**
 * Ctap1Session against the in-process virtual key: a U2F-only key (no CBOR
 * capability) and a CTAP2 key that also speaks U2F_V2, through the real
 * CTAPHID channel.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sha256 } from '../../src/crypto/hashes.js';
import { p256Verify } from '../../src/crypto/primitives.js';
import { CtapHidChannel } from '../../src/ctaphid/channel.js';
import { Ctap1Error, Ctap1Session, pointFromU2fPublicKey, u2fAuthenticateSignedData } from '../../src/ctap1/index.js';
import { decodeAttestationObject, verifyAttestation } from '../../src/ctap2/attestation.js';
import { getAssertion } from '../../src/ctap2/get-assertion.js';
import { Ctap2Session } from '../../src/ctap2/session.js';
import { concatBytes, utf8Encode } from '../../src/util/bytes.js';
import { TimeoutError } from '../../src/util/errors.js';
import { VirtualAuthenticator, type VirtualAuthenticatorOptions } from '../../src/virtual/index.js';

async function open(options: VirtualAuthenticatorOptions): Promise<{ va: VirtualAuthenticator; channel: CtapHidChannel; close(): Promise<void> }> {
  const va = await VirtualAuthenticator.create(options);
  const channel = await CtapHidChannel.open(va.port());
  return {
    va,
    channel,
    async close() {
      await channel.close();
      await va.close();
    },
  };
}

test('U2F-only virtual key: no CBOR; VERSION, REGISTER, check-only, AUTHENTICATE; CTAP2-shaped results verify', async () => {
  const k = await open({ u2fOnly: true });
  try {
    assert.equal(k.channel.init.capabilities.cbor, false, 'a U2F-only key does not offer CTAPHID_CBOR');
    const u2f = new Ctap1Session(k.channel);
    assert.equal(await u2f.getVersion(), 'U2F_V2');
    const clientDataHash = sha256(utf8Encode('{"type":"webauthn.create"}'));
    const reg = await u2f.makeCredential(clientDataHash, 'u2f.example');
    const att = decodeAttestationObject(reg.attestationObject);
    assert.equal(att.fmt, 'fido-u2f');
    const verdict = verifyAttestation(att, clientDataHash);
    assert.equal(verdict.valid, true, verdict.problems.join('; '));
    const kh = reg.authData.attestedCredentialData!.credentialId;
    const appParam = sha256(utf8Encode('u2f.example'));
    assert.equal(await u2f.isKeyHandleValid(appParam, kh), true);
    assert.equal(await u2f.isKeyHandleValid(sha256(utf8Encode('other.example')), kh), false, 'handles are bound to the app');

    const cdh = sha256(utf8Encode('{"type":"webauthn.get"}'));
    const ga = await u2f.getAssertion(cdh, 'u2f.example', [new Uint8Array(40).fill(7), kh]);
    assert.deepEqual(ga.credential!.id, kh);
    assert.equal(ga.authData.up, true);
    const key = reg.authData.attestedCredentialData!.credentialPublicKey;
    assert.ok(p256Verify({ x: key.x!, y: key.y! }, concatBytes(ga.authData.bytes, cdh), ga.signature), 'the assertion signature covers authData || clientDataHash');
    const again = await u2f.authenticate(cdh, appParam, kh);
    assert.ok(again.counter > ga.authData.signCount, 'the counter moves forward');
    assert.ok(p256Verify(pointFromU2fPublicKey(concatBytes(Uint8Array.of(4), key.x!, key.y!)), u2fAuthenticateSignedData(appParam, cdh, again), again.signature));
    await assert.rejects(u2f.authenticate(cdh, appParam, new Uint8Array(40).fill(7)), (e: Ctap1Error) => e.code === 'SW_WRONG_DATA');
  } finally {
    await k.close();
  }
});

test('U2F on a key whose user never touches it: polling ends at the deadline with TimeoutError', async () => {
  const k = await open({ u2fOnly: true, presence: 'deny' });
  try {
    const u2f = new Ctap1Session(k.channel);
    await assert.rejects(u2f.register(new Uint8Array(32), new Uint8Array(32), { timeoutMs: 400 }), (e: unknown) => e instanceof TimeoutError && /not touched/.test(e.message));
  } finally {
    await k.close();
  }
});

test('a CTAP2 key that also speaks U2F: a U2F registration signs in through CTAP2 getAssertion', async () => {
  const k = await open({});
  try {
    const u2f = new Ctap1Session(k.channel);
    const reg = await u2f.makeCredential(new Uint8Array(32).fill(3), 'both.example');
    const kh = reg.authData.attestedCredentialData!.credentialId;
    const cdh = new Uint8Array(32).fill(4);
    const ga = await getAssertion(new Ctap2Session(k.channel), { rpId: 'both.example', clientDataHash: cdh, allowList: [{ type: 'public-key', id: kh }] });
    const key = reg.authData.attestedCredentialData!.credentialPublicKey;
    assert.ok(p256Verify({ x: key.x!, y: key.y! }, concatBytes(ga.authData.bytes, cdh), ga.signature));
  } finally {
    await k.close();
  }
});
