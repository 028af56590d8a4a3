/**
 * Every command family of this layer against the in-process virtual key,
 * through the real CTAPHID channel and framing, with both PIN/UV auth
 * protocols, including the unhappy paths a real key produces.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { encodeCbor } from '../../src/cbor/index.js';
import { sha256 } from '../../src/crypto/hashes.js';
import { randomBytes } from '../../src/crypto/primitives.js';
import { CtapHidChannel } from '../../src/ctaphid/channel.js';
import { getFingerprintSensorInfo, FingerprintEnrollment } from '../../src/ctap2/bio-enrollment.js';
import { ClientPin, type PinUvAuthToken } from '../../src/ctap2/client-pin.js';
import { CTAP2_CMD } from '../../src/ctap2/commands.js';
import { AuthenticatorConfig, CONFIG_SUBCOMMAND, configAuthMessage, encodeConfigRequest } from '../../src/ctap2/config.js';
import {
  CREDENTIAL_MANAGEMENT_SUBCOMMAND,
  CredentialManagement,
  credentialManagementAuthMessage,
  encodeCredentialManagementRequest,
} from '../../src/ctap2/credential-management.js';
import { OperationContext, prepareExtensions, processExtensions } from '../../src/ctap2/extensions/index.js';
import { getAssertion } from '../../src/ctap2/get-assertion.js';
import { LargeBlobs } from '../../src/ctap2/large-blobs.js';
import { makeCredential, type MakeCredentialResponse } from '../../src/ctap2/make-credential.js';
import { UnsupportedFeatureError } from '../../src/ctap2/permissions.js';
import { Ctap2Session } from '../../src/ctap2/session.js';
import { CtapError } from '../../src/ctap2/status.js';
import { utf8Encode } from '../../src/util/bytes.js';
import { VirtualAuthenticator, type VirtualAuthenticatorOptions } from '../../src/virtual/index.js';

interface Rig {
  va: VirtualAuthenticator;
  session: Ctap2Session;
  close(): Promise<void>;
}

async function rig(options: VirtualAuthenticatorOptions = {}): Promise<Rig> {
  const va = await VirtualAuthenticator.create({ resetWindowMs: Infinity, ...options });
  const channel = await CtapHidChannel.open(va.port());
  const session = new Ctap2Session(channel);
  return {
    va,
    session,
    async close() {
      await channel.close();
      await va.close();
    },
  };
}

const PIN = '1234';
const PROTOCOLS = [1, 2] as const;

async function residentCredential(r: Rig, cp: ClientPin, rpId: string, userName: string, extensions?: Map<string, unknown>): Promise<MakeCredentialResponse> {
  const token = await cp.getPinUvAuthTokenUsingPin(PIN, { permissions: ['mc'], rpId });
  const clientDataHash = sha256(utf8Encode(`client data for ${rpId}`));
  try {
    return await makeCredential(r.session, {
      clientDataHash,
      rp: { id: rpId, name: rpId },
      user: { id: utf8Encode(userName), name: userName, displayName: userName.toUpperCase() },
      pubKeyCredParams: [{ type: 'public-key', alg: -7 }],
      options: { rk: true },
      extensions: extensions as Map<string, never> | undefined,
      pinUvAuthParam: token.authenticate(clientDataHash),
      pinUvAuthProtocol: token.protocolVersion,
    });
  } finally {
    token.destroy();
  }
}

for (const protocol of PROTOCOLS) {
  test(`virtual key, protocol ${protocol}: PIN set/change, retries, PIN_AUTH_BLOCKED, power cycle, PIN_BLOCKED`, async () => {
    const r = await rig({ pinUvAuthProtocols: [protocol] });
    try {
      const cp = new ClientPin(r.session);
      assert.equal((await cp.protocol()).version, protocol);
      await cp.setPin(PIN);
      assert.equal((await r.session.getInfo()).options.clientPin, true, 'getInfo is refreshed after setPIN');
      assert.deepEqual((await cp.getPinRetries()).pinRetries, 8);
      let err = await cp.getPinUvAuthTokenUsingPin('9999', { permissions: ['cm'] }).catch((e: unknown) => e);
      assert.ok(err instanceof CtapError, String(err));
      assert.equal(err.specName, 'CTAP2_ERR_PIN_INVALID');
      assert.equal(err.retriesLeft, 7);
      assert.match(err.message, /7 tries left/);
      await cp.getPinToken('9999').catch(() => undefined);
      err = await cp.getPinToken('9999').catch((e: unknown) => e);
      assert.equal((err as CtapError).specName, 'CTAP2_ERR_PIN_AUTH_BLOCKED');
      assert.equal((err as CtapError).powerCycleRequired, true);
      err = await cp.getPinToken(PIN).catch((e: unknown) => e);
      assert.equal((err as CtapError).specName, 'CTAP2_ERR_PIN_AUTH_BLOCKED', 'even the right PIN waits for a power cycle');
      r.va.powerCycle();
      const t = await cp.getPinToken(PIN);
      assert.equal(t.protocolVersion, protocol);
      assert.equal((await cp.getPinRetries()).pinRetries, 8, 'a right PIN restores the count');
      await cp.changePin(PIN, '56789');
      await assert.rejects(cp.getPinToken(PIN), (e: CtapError) => e.specName === 'CTAP2_ERR_PIN_INVALID' && e.retriesLeft === 7);
      (await cp.getPinToken('56789')).destroy();
      // eight wrong in total (power cycles between every three) block the PIN
      let last: unknown;
      for (let i = 0; i < 8; i++) {
        if (i % 3 === 0) r.va.powerCycle();
        last = await cp.getPinToken('00000').catch((e: unknown) => e);
      }
      assert.equal((last as CtapError).specName, 'CTAP2_ERR_PIN_BLOCKED');
      assert.match((last as CtapError).message, /reset/);
    } finally {
      await r.close();
    }
  });

  test(`virtual key, protocol ${protocol}: credential management over three RPs: list, delete, update; missing permission`, async () => {
    const r = await rig({ pin: PIN, pinUvAuthProtocols: [protocol] });
    try {
      const cp = new ClientPin(r.session);
      const made = [];
      for (const [rp, user] of [['a.example', 'alice'], ['b.example', 'bob'], ['c.example', 'carol']] as const) made.push(await residentCredential(r, cp, rp, user));
      const token = await cp.getPinUvAuthTokenUsingPin(PIN, { permissions: ['cm'] });
      const cm = await CredentialManagement.open(r.session, token);
      const meta = await cm.getCredsMetadata();
      assert.equal(meta.existingResidentCredentialsCount, 3);
      const rps = await cm.enumerateRps();
      assert.deepEqual(rps.map((x) => x.rp.id).sort(), ['a.example', 'b.example', 'c.example']);
      const b = rps.find((x) => x.rp.id === 'b.example')!;
      const creds = await cm.enumerateCredentials(b.rpIDHash);
      assert.equal(creds.length, 1);
      assert.equal(creds[0]!.user.name, 'bob');
      assert.deepEqual(creds[0]!.credentialID.id, made[1]!.authData.attestedCredentialData!.credentialId);
      await cm.updateUserInformation(creds[0]!.credentialID, { id: utf8Encode('bob'), name: 'robert', displayName: 'Robert' });
      assert.equal((await cm.enumerateCredentials(b.rpIDHash))[0]!.user.name, 'robert');
      await cm.deleteCredential(creds[0]!.credentialID);
      assert.deepEqual((await cm.enumerateRps()).map((x) => x.rp.id).sort(), ['a.example', 'c.example']);
      assert.equal((await cm.getCredsMetadata()).existingResidentCredentialsCount, 2);
      assert.deepEqual(await cm.enumerateCredentials(b.rpIDHash), []);

      // a token without cm: the key itself answers CTAP2_ERR_UNAUTHORIZED_PERMISSION
      const mcToken = await cp.getPinUvAuthTokenUsingPin(PIN, { permissions: ['mc'], rpId: 'a.example' });
      const sub = CREDENTIAL_MANAGEMENT_SUBCOMMAND.getCredsMetadata;
      const req = encodeCredentialManagementRequest({ subCommand: sub, pinUvAuthProtocol: protocol, pinUvAuthParam: mcToken.authenticate(credentialManagementAuthMessage(sub)) });
      await assert.rejects(r.session.send(CTAP2_CMD.credentialManagement, req), (e: CtapError) => e.specName === 'CTAP2_ERR_UNAUTHORIZED_PERMISSION');
      // a permission the key cannot grant (it has no biometrics)
      await assert.rejects(cp.getPinUvAuthTokenUsingPin(PIN, { permissions: ['be'] }), (e: CtapError) => e.specName === 'CTAP2_ERR_UNAUTHORIZED_PERMISSION');
      // a stale token (a newer one was issued) is rejected by the key
      await assert.rejects(cm.getCredsMetadata(), (e: CtapError) => e.specName === 'CTAP2_ERR_PIN_AUTH_INVALID');
    } finally {
      await r.close();
    }
  });

  test(`virtual key, protocol ${protocol}: large blobs with a credential's largeBlobKey`, async () => {
    const r = await rig({ pin: PIN, pinUvAuthProtocols: [protocol] });
    try {
      const cp = new ClientPin(r.session);
      const info = await r.session.getInfo();
      const ctx = new OperationContext(info, (o) => cp.sharedSecret(o));
      const ext = await prepareExtensions('create', { largeBlobKey: true }, ctx);
      const mc = await residentCredential(r, cp, 'blob.example', 'dana', ext as Map<string, unknown>);
      const out = await processExtensions('create', ext!.keys(), mc.authData.extensions, { largeBlobKey: mc.largeBlobKey }, ctx);
      const lbk = out['largeBlobKey'] as Uint8Array;
      assert.equal(lbk.length, 32);
      const token = await cp.getPinUvAuthTokenUsingPin(PIN, { permissions: ['lbw'] });
      const lb = await LargeBlobs.open(r.session, token);
      const data = randomBytes(1500); // incompressible, several fragments
      await lb.setBlob(lbk, data);
      const other = randomBytes(32);
      await lb.setBlob(other, utf8Encode('another credential'));
      assert.deepEqual(await lb.getBlob(lbk), data);
      assert.deepEqual(await lb.getBlob(other), utf8Encode('another credential'));
      assert.equal((await lb.readArray()).valid, true);
      assert.equal(await lb.deleteBlob(lbk), true);
      assert.equal(await lb.getBlob(lbk), undefined);
      // writing without a token on a PIN-protected key is refused by the key
      const noToken = await LargeBlobs.open(r.session);
      await assert.rejects(noToken.setBlob(lbk, data), (e: CtapError) => e.specName === 'CTAP2_ERR_PUAT_REQUIRED');
      // and the key's size limit is enforced before sending
      await assert.rejects(lb.setBlob(lbk, randomBytes(info.maxSerializedLargeBlobArray ?? 1024)), (e: CtapError) => e.specName === 'CTAP2_ERR_LARGE_BLOB_STORAGE_FULL');
    } finally {
      await r.close();
    }
  });

  test(`virtual key, protocol ${protocol}: authenticatorConfig: alwaysUv, minimum PIN length with forced change`, async () => {
    const r = await rig({ pin: PIN, pinUvAuthProtocols: [protocol] });
    try {
      const cp = new ClientPin(r.session);
      let token: PinUvAuthToken = await cp.getPinUvAuthTokenUsingPin(PIN, { permissions: ['acfg'] });
      let cfg = await AuthenticatorConfig.open(r.session, token);
      const before = (await r.session.getInfo()).options.alwaysUv;
      await cfg.toggleAlwaysUv();
      assert.equal((await r.session.getInfo()).options.alwaysUv, !before);
      cfg = await AuthenticatorConfig.open(r.session, token);
      await cfg.setMinPINLength({ newMinPINLength: 6, forceChangePin: true });
      const info = await r.session.getInfo();
      assert.equal(info.minPINLength, 6);
      assert.equal(info.forcePINChange, true);
      // the old 4-digit PIN must now be changed, to one of at least 6
      await assert.rejects(cp.changePin(PIN, '5678'), /at least 6/);
      await cp.changePin(PIN, '567890');
      token = await cp.getPinUvAuthTokenUsingPin('567890', { permissions: ['acfg'] });
      cfg = await AuthenticatorConfig.open(r.session, token);
      await assert.rejects(cfg.setMinPINLength({ newMinPINLength: 4 }), /can only be raised/);
      // a token without acfg, sent anyway: the key refuses
      const cmToken = await cp.getPinUvAuthTokenUsingPin('567890', { permissions: ['cm'] });
      assert.throws(() => new AuthenticatorConfig(r.session, info, cmToken), /lacks the acfg/);
      const sub = CONFIG_SUBCOMMAND.toggleAlwaysUv;
      const req = encodeConfigRequest({ subCommand: sub, pinUvAuthProtocol: protocol, pinUvAuthParam: cmToken.authenticate(configAuthMessage(sub)) });
      await assert.rejects(r.session.send(CTAP2_CMD.config, req), (e: CtapError) => e.specName === 'CTAP2_ERR_UNAUTHORIZED_PERMISSION');
    } finally {
      await r.close();
    }
  });

  test(`virtual key, protocol ${protocol}: extensions end to end: hmac-secret, credProtect, credBlob, minPinLength`, async () => {
    const r = await rig({ pin: PIN, pinUvAuthProtocols: [protocol] });
    try {
      const cp = new ClientPin(r.session);
      const info = await r.session.getInfo();
      const cctx = new OperationContext(info, (o) => cp.sharedSecret(o));
      const blob = utf8Encode('small secret');
      const inputs = { 'hmac-secret': true, credProtect: { credentialProtectionPolicy: 'userVerificationOptionalWithCredentialIDList' as const }, credBlob: blob, minPinLength: true };
      const ext = await prepareExtensions('create', inputs, cctx);
      const mc = await residentCredential(r, cp, 'ext.example', 'erin', ext as Map<string, unknown>);
      const created = await processExtensions('create', ext!.keys(), mc.authData.extensions, {}, cctx);
      cctx.destroy();
      assert.equal(created['hmac-secret'], true);
      assert.equal(created['credProtect'], 2);
      assert.equal(created['credBlob'], true);
      // minPinLength is only reported to RPs on the key's list; absent here is correct
      assert.ok(created['minPinLength'] === undefined || typeof created['minPinLength'] === 'number');

      const credId = mc.authData.attestedCredentialData!.credentialId;
      const salt1 = new Uint8Array(32).fill(1);
      const salt2 = new Uint8Array(32).fill(2);
      const outputs = [];
      for (const salts of [{ salt1, salt2 }, { salt1 }, { salt1: salt2 }]) {
        const gctx = new OperationContext(info, (o) => cp.sharedSecret(o));
        const gext = await prepareExtensions('get', { 'hmac-secret': salts, credBlob: true }, gctx);
        const token = await cp.getPinUvAuthTokenUsingPin(PIN, { permissions: ['ga'], rpId: 'ext.example' });
        const cdh = randomBytes(32);
        const ga = await getAssertion(r.session, {
          rpId: 'ext.example',
          clientDataHash: cdh,
          allowList: [{ type: 'public-key', id: credId }],
          extensions: gext,
          pinUvAuthParam: token.authenticate(cdh),
          pinUvAuthProtocol: token.protocolVersion,
        });
        const got = await processExtensions('get', gext!.keys(), ga.authData.extensions, {}, gctx);
        gctx.destroy();
        assert.deepEqual(got['credBlob'], blob);
        outputs.push(got['hmac-secret'] as { output1: Uint8Array; output2?: Uint8Array });
      }
      assert.equal(outputs[0]!.output1.length, 32);
      assert.deepEqual(outputs[1]!.output1, outputs[0]!.output1, 'same salt, same secret (fresh key agreement each time)');
      assert.equal(outputs[1]!.output2, undefined);
      assert.deepEqual(outputs[2]!.output1, outputs[0]!.output2, 'salt2 as salt1 gives the former output2');
      assert.notDeepEqual(outputs[0]!.output1, outputs[0]!.output2);
    } finally {
      await r.close();
    }
  });
}

test('virtual key without the features: each family says plainly what the key lacks', async () => {
  const r = await rig({ features: { clientPin: false, credMgmt: false, largeBlobs: false, config: false, hmacSecret: false } });
  try {
    const info = await r.session.getInfo();
    await assert.rejects(new ClientPin(r.session).getPinRetries(), (e: UnsupportedFeatureError) => e instanceof UnsupportedFeatureError && /does not support a PIN/.test(e.message));
    assert.throws(() => new LargeBlobs(r.session, info), /does not support large blobs/);
    assert.throws(() => new AuthenticatorConfig(r.session, info), /does not support authenticatorConfig/);
    await assert.rejects(getFingerprintSensorInfo(r.session), /does not support biometric enrollment/);
    const ctx = new OperationContext(info, () => Promise.reject(new Error('unused')));
    await assert.rejects(prepareExtensions('get', { 'hmac-secret': { salt1: new Uint8Array(32) } }, ctx), /does not support the hmac-secret extension/);
    // credential management needs a token first; the family check comes before any command is sent
    const fake = { permissions: 0x04, protocolVersion: 2 } as unknown as PinUvAuthToken;
    assert.throws(() => new CredentialManagement(r.session, fake, info), /does not support credential management/);
    assert.throws(() => new FingerprintEnrollment(r.session, fake, info), /does not support biometric enrollment/);
    // and what the key answers when asked anyway
    await assert.rejects(r.session.send(CTAP2_CMD.credentialManagement, new Map([[1, 1]])), (e: CtapError) => e.specName === 'CTAP1_ERR_INVALID_COMMAND');
    assert.equal(encodeCbor(new Map([[1, 1]])).length, 3);
  } finally {
    await r.close();
  }
});
