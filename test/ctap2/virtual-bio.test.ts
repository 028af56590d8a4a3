/**
 * The bioEnrollment client (src/ctap2/bio-enrollment.ts) and built-in UV
 * against the virtual key's simulated fingerprint sensor, through the real
 * CTAPHID framing, with both PIN/UV auth protocols; the FIDO_2_1_PRE preview
 * commands 0x40 / 0x41 on a `preview` key; a WebAuthn ceremony with
 * userVerification required verified by @simplewebauthn/server.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sha256 } from '../../src/crypto/hashes.js';
import { CtapHidChannel } from '../../src/ctaphid/channel.js';
import {
  bioEnrollmentAuthMessage,
  BIO_ENROLLMENT_SUBCOMMAND,
  BIO_MODALITY,
  encodeBioEnrollmentRequest,
  ENROLL_FEEDBACK,
  FingerprintEnrollment,
  FINGERPRINT_KIND,
  getFingerprintSensorInfo,
  getModality,
  type EnrollProgress,
} from '../../src/ctap2/bio-enrollment.js';
import { ClientPin } from '../../src/ctap2/client-pin.js';
import { CTAP2_CMD } from '../../src/ctap2/commands.js';
import { CredentialManagement } from '../../src/ctap2/credential-management.js';
import { makeCredential } from '../../src/ctap2/make-credential.js';
import { infoOption } from '../../src/ctap2/permissions.js';
import { Ctap2Session } from '../../src/ctap2/session.js';
import { CtapError } from '../../src/ctap2/status.js';
import { utf8Encode } from '../../src/util/bytes.js';
import { VirtualAuthenticator, type VirtualAuthenticatorOptions } from '../../src/virtual/index.js';
import { WebAuthnError } from '../../src/webauthn/errors.js';
import { bench, creationOptions, rpVerifyAuthentication, rpVerifyRegistration, RP_ID, challenge } from '../webauthn/harness.js';

const PIN = '1234';
const PROTOCOLS = [1, 2] as const;

interface Rig {
  va: VirtualAuthenticator;
  session: Ctap2Session;
  close(): Promise<void>;
}

async function rig(options: VirtualAuthenticatorOptions = {}): Promise<Rig> {
  const va = await VirtualAuthenticator.create({ resetWindowMs: Infinity, pin: PIN, ...options });
  return attach(va);
}

async function attach(va: VirtualAuthenticator): Promise<Rig> {
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

const status = (name: string) => (e: unknown) => e instanceof CtapError && e.specName === name;

async function enrollment(r: Rig, protocol: 1 | 2): Promise<FingerprintEnrollment> {
  const token = await new ClientPin(r.session, { protocol }).getPinUvAuthTokenUsingPin(PIN, { permissions: ['be'] });
  return FingerprintEnrollment.open(r.session, token);
}

for (const protocol of PROTOCOLS) {
  test(`bio, protocol ${protocol}: modality, sensor info, enroll with progress (a bad sample does not count), enumerate, rename, remove`, async () => {
    // The second sample of every enrollment is "too high": it must not count down.
    const r = await rig({ pinUvAuthProtocols: [protocol], bio: { samplesRequired: 3, sampleStatus: (a) => (a.attempt === 2 ? ENROLL_FEEDBACK.CTAP2_ENROLL_FEEDBACK_FP_TOO_HIGH : 0) } });
    try {
      let info = await r.session.getInfo();
      assert.equal(infoOption(info, 'bioEnroll'), false, 'a sensor with no finger: bioEnroll present, false');
      assert.equal(infoOption(info, 'uv'), false, 'built-in UV exists but is not set up');
      assert.equal(info.uvModality, 0x02);
      assert.ok(info.versions.includes('FIDO_2_1'));
      assert.equal(await getModality(r.session), BIO_MODALITY.fingerprint);
      assert.deepEqual(await getFingerprintSensorInfo(r.session), { fingerprintKind: FINGERPRINT_KIND.touch, maxCaptureSamplesRequiredForEnroll: 3, maxTemplateFriendlyName: 64 });

      const fe = await enrollment(r, protocol);
      assert.equal(fe.command, CTAP2_CMD.bioEnrollment);
      assert.deepEqual(await fe.enumerateEnrollments(), [], 'no templates (the key answers INVALID_OPTION)');
      const seen: EnrollProgress[] = [];
      const id = await fe.enroll({ onProgress: (p) => seen.push(p) });
      assert.deepEqual(
        seen.map((p) => [p.feedback, p.remainingSamples]),
        [
          ['CTAP2_ENROLL_FEEDBACK_FP_GOOD', 2],
          ['CTAP2_ENROLL_FEEDBACK_FP_TOO_HIGH', 2],
          ['CTAP2_ENROLL_FEEDBACK_FP_GOOD', 1],
          ['CTAP2_ENROLL_FEEDBACK_FP_GOOD', 0],
        ],
      );
      assert.ok(seen.every((p) => Buffer.from(p.templateId).equals(Buffer.from(id))));
      r.session.invalidateInfo();
      info = await r.session.getInfo();
      assert.equal(infoOption(info, 'bioEnroll'), true);
      assert.equal(infoOption(info, 'uv'), true);

      await fe.setFriendlyName(id, 'thumb');
      const second = await fe.enroll();
      assert.notDeepEqual(second, id);
      let list = await fe.enumerateEnrollments();
      assert.deepEqual(
        list.map((t) => [Buffer.from(t.templateId).toString('hex'), t.templateFriendlyName]),
        [
          [Buffer.from(id).toString('hex'), 'thumb'],
          [Buffer.from(second).toString('hex'), undefined],
        ],
      );
      await assert.rejects(fe.setFriendlyName(id, 'x'.repeat(65)), status('CTAP1_ERR_INVALID_LENGTH'));
      await assert.rejects(fe.setFriendlyName(Uint8Array.of(0xde, 0xad, 0xbe), 'ghost'), status('CTAP2_ERR_INVALID_OPTION'));
      await fe.removeEnrollment(id);
      await assert.rejects(fe.removeEnrollment(id), status('CTAP2_ERR_INVALID_OPTION'), 'already gone');
      list = await fe.enumerateEnrollments();
      assert.deepEqual(list.map((t) => Buffer.from(t.templateId).toString('hex')), [Buffer.from(second).toString('hex')]);
      await fe.removeEnrollment(second);
      info = await r.session.getInfo();
      assert.equal(infoOption(info, 'bioEnroll'), false, 'the last finger removed');
      assert.equal(infoOption(info, 'uv'), false);
    } finally {
      await r.close();
    }
  });

  test(`bio, protocol ${protocol}: missing be permission, no pinUvAuthParam, a full sensor, cancel mid-enroll, a denied touch, a sample timeout`, async () => {
    const r = await rig({ pinUvAuthProtocols: [protocol], bio: { samplesRequired: 2, maxTemplates: 1 } });
    try {
      const cp = new ClientPin(r.session, { protocol });
      const info = await r.session.getInfo();
      // A token without be, by the client's class (a legacy getPinToken token is not checked client-side) …
      const legacy = await cp.getPinToken(PIN);
      await assert.rejects(new FingerprintEnrollment(r.session, legacy, info).enumerateEnrollments(), status('CTAP2_ERR_UNAUTHORIZED_PERMISSION'));
      // … and by hand with a cm token.
      const cm = await cp.getPinUvAuthTokenUsingPin(PIN, { permissions: ['cm'] });
      const sub = BIO_ENROLLMENT_SUBCOMMAND.enumerateEnrollments;
      const req = { modality: BIO_MODALITY.fingerprint, subCommand: sub, pinUvAuthProtocol: protocol, pinUvAuthParam: cm.authenticate(bioEnrollmentAuthMessage(BIO_MODALITY.fingerprint, sub)) };
      await assert.rejects(r.session.send(CTAP2_CMD.bioEnrollment, encodeBioEnrollmentRequest(req)), status('CTAP2_ERR_UNAUTHORIZED_PERMISSION'));
      await assert.rejects(r.session.send(CTAP2_CMD.bioEnrollment, encodeBioEnrollmentRequest({ modality: 1, subCommand: sub })), status('CTAP2_ERR_PUAT_REQUIRED'));
      await assert.rejects(r.session.send(CTAP2_CMD.bioEnrollment, encodeBioEnrollmentRequest({ modality: 1, subCommand: 0x7f })), status('CTAP2_ERR_INVALID_SUBCOMMAND'));
      // a be token that signs the wrong message
      const be = await cp.getPinUvAuthTokenUsingPin(PIN, { permissions: ['be'] });
      const bad = { ...req, pinUvAuthParam: be.authenticate(bioEnrollmentAuthMessage(BIO_MODALITY.fingerprint, BIO_ENROLLMENT_SUBCOMMAND.removeEnrollment)) };
      await assert.rejects(r.session.send(CTAP2_CMD.bioEnrollment, encodeBioEnrollmentRequest(bad)), status('CTAP2_ERR_PIN_AUTH_INVALID'));

      const fe = await FingerprintEnrollment.open(r.session, be);
      // cancel mid-enroll: the half-made template is dropped and cannot be continued
      const begun = await fe.enrollBegin();
      assert.equal(begun.remainingSamples, 1);
      await fe.cancelCurrentEnrollment();
      await assert.rejects(fe.enrollCaptureNextSample(begun.templateId), status('CTAP2_ERR_NOT_ALLOWED'));
      assert.deepEqual(await fe.enumerateEnrollments(), []);
      // an aborted enroll() tells the key to cancel
      const ac = new AbortController();
      await assert.rejects(fe.enroll({ signal: ac.signal, onProgress: () => ac.abort() }));
      assert.deepEqual(await fe.enumerateEnrollments(), []);
      // a denied touch is a sample with no finger: it does not count
      r.va.presence = 'deny';
      const denied = await fe.enrollBegin();
      assert.equal(denied.feedback, 'CTAP2_ENROLL_FEEDBACK_NO_USER_ACTIVITY');
      assert.equal(denied.remainingSamples, 2);
      // no finger within the sample timeout
      r.va.presence = () => new Promise<boolean>(() => undefined);
      await assert.rejects(fe.enrollCaptureNextSample(denied.templateId, { sampleTimeoutMs: 30 }), status('CTAP2_ERR_USER_ACTION_TIMEOUT'));
      r.va.presence = 'auto';
      const more = await fe.enrollCaptureNextSample(denied.templateId);
      assert.equal(more.remainingSamples, 1, 'the enrollment survived the timeout');
      assert.equal((await fe.enrollCaptureNextSample(denied.templateId)).remainingSamples, 0);
      assert.equal((await fe.enumerateEnrollments()).length, 1);
      // maxTemplates 1: the sensor is full
      await assert.rejects(fe.enrollBegin(), status('CTAP2_ERR_FP_DATABASE_FULL'));
    } finally {
      await r.close();
    }
  });

  test(`bio, protocol ${protocol}: built-in UV through the sensor: no finger → NOT_ALLOWED, a miss counts down to UV_BLOCKED, the right PIN unblocks it`, async () => {
    const r = await rig({ pinUvAuthProtocols: [protocol], bio: true });
    try {
      const cp = new ClientPin(r.session, { protocol });
      // getInfo says uv false: the client does not even ask (the key's own NOT_ALLOWED is in test/virtual/bio-enrollment.test.ts)
      await assert.rejects(cp.getPinUvAuthTokenUsingUvWithPermissions({ permissions: ['mc'], rpId: RP_ID }), /built-in user verification/);
      const fe = await enrollment(r, protocol);
      await fe.enroll();
      r.session.invalidateInfo();
      const token = await cp.getPinUvAuthTokenUsingUvWithPermissions({ permissions: ['mc'], rpId: RP_ID });
      const clientDataHash = sha256(utf8Encode('bio'));
      const made = await makeCredential(r.session, {
        clientDataHash,
        rp: { id: RP_ID },
        user: { id: utf8Encode('u1'), name: 'u1' },
        pubKeyCredParams: [{ type: 'public-key', alg: -7 }],
        pinUvAuthParam: token.authenticate(clientDataHash),
        pinUvAuthProtocol: token.protocolVersion,
      });
      assert.equal(made.authData.uv, true);
      // the `uv` option (no token) matches against the sensor as well
      const direct = await makeCredential(r.session, { clientDataHash, rp: { id: RP_ID }, user: { id: utf8Encode('u2') }, pubKeyCredParams: [{ type: 'public-key', alg: -7 }], options: { uv: true } });
      assert.equal(direct.authData.uv, true);

      r.va.uv = 'deny';
      for (let left = 7; left > 0; left--) {
        await assert.rejects(cp.getPinUvAuthTokenUsingUvWithPermissions({ permissions: ['ga'], rpId: RP_ID }), (e: unknown) => status('CTAP2_ERR_UV_INVALID')(e) && (e as CtapError).retriesLeft === left);
      }
      await assert.rejects(cp.getPinUvAuthTokenUsingUvWithPermissions({ permissions: ['ga'], rpId: RP_ID }), status('CTAP2_ERR_UV_BLOCKED'));
      r.va.uv = 'auto';
      await assert.rejects(cp.getPinUvAuthTokenUsingUvWithPermissions({ permissions: ['ga'], rpId: RP_ID }), status('CTAP2_ERR_UV_BLOCKED'), 'blocked even for the right finger');
      assert.equal(await cp.getUvRetries(), 0);
      (await cp.getPinUvAuthTokenUsingPin(PIN, { permissions: ['ga'], rpId: RP_ID })).destroy();
      assert.equal(await cp.getUvRetries(), 8, 'the right PIN restores the UV retries');
      (await cp.getPinUvAuthTokenUsingUvWithPermissions({ permissions: ['ga'], rpId: RP_ID })).destroy();
    } finally {
      await r.close();
    }
  });
}

test('bio: reset wipes the templates but keeps the sensor; templates survive a restart from the state file', async () => {
  const { mkdtempSync, rmSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const dir = mkdtempSync(join(tmpdir(), 'ctap-bio-'));
  try {
    const file = join(dir, 'bio.json');
    let r = await attach(await VirtualAuthenticator.create({ statePath: file, pin: PIN, bio: { samplesRequired: 2 }, resetWindowMs: Infinity }));
    const fe = await enrollment(r, 2);
    const id = await fe.enroll();
    await fe.setFriendlyName(id, 'index');
    await r.close();
    // reopened without `bio`: the stored sensor comes back (this is what `--device virtual:FILE` does)
    r = await attach(await VirtualAuthenticator.create({ stateFile: file, resetWindowMs: Infinity }));
    let info = await r.session.getInfo();
    assert.equal(infoOption(info, 'bioEnroll'), true);
    assert.equal(infoOption(info, 'uv'), true);
    assert.equal((await getFingerprintSensorInfo(r.session)).maxCaptureSamplesRequiredForEnroll, 2);
    const list = await (await enrollment(r, 1)).enumerateEnrollments();
    assert.deepEqual(list.map((t) => [Buffer.from(t.templateId).toString('hex'), t.templateFriendlyName]), [[Buffer.from(id).toString('hex'), 'index']]);
    await r.session.send(CTAP2_CMD.reset, undefined);
    r.session.invalidateInfo();
    info = await r.session.getInfo();
    assert.equal(infoOption(info, 'bioEnroll'), false, 'no templates after reset');
    assert.equal(infoOption(info, 'uv'), false);
    assert.equal(await getModality(r.session), BIO_MODALITY.fingerprint, 'the sensor is still there');
    await r.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

for (const protocol of PROTOCOLS) {
  test(`preview key (FIDO_2_1_PRE), protocol ${protocol}: bioEnrollment 0x40 and credentialManagement 0x41 end to end; 0x09 / 0x0A refused`, async () => {
    const r = await rig({ pinUvAuthProtocols: [protocol], bio: true, preview: true });
    try {
      const info = await r.session.getInfo();
      assert.ok(info.versions.includes('FIDO_2_1_PRE'));
      assert.ok(!info.versions.includes('FIDO_2_1'));
      assert.equal(infoOption(info, 'userVerificationMgmtPreview'), false);
      assert.equal(infoOption(info, 'credentialMgmtPreview'), true);
      assert.equal(infoOption(info, 'bioEnroll'), undefined);
      assert.equal(infoOption(info, 'credMgmt'), undefined);
      await assert.rejects(r.session.send(CTAP2_CMD.bioEnrollment, encodeBioEnrollmentRequest({ getModality: true })), status('CTAP1_ERR_INVALID_COMMAND'));
      await assert.rejects(r.session.send(CTAP2_CMD.credentialManagement, new Map([[1, 1]])), status('CTAP1_ERR_INVALID_COMMAND'));

      assert.equal(await getModality(r.session), BIO_MODALITY.fingerprint);
      const fe = await enrollment(r, protocol);
      assert.equal(fe.command, CTAP2_CMD.bioEnrollmentPreview);
      const id = await fe.enroll();
      await fe.setFriendlyName(id, 'thumb');
      assert.deepEqual((await fe.enumerateEnrollments()).map((t) => t.templateFriendlyName), ['thumb']);
      r.session.invalidateInfo();
      assert.equal(infoOption(await r.session.getInfo(), 'userVerificationMgmtPreview'), true);

      // a discoverable credential made with UV from the sensor, then managed through 0x41
      const cp = new ClientPin(r.session, { protocol });
      const mc = await cp.getPinUvAuthTokenUsingUvWithPermissions({ permissions: ['mc'], rpId: 'preview.example' });
      const clientDataHash = sha256(utf8Encode('preview'));
      await makeCredential(r.session, {
        clientDataHash,
        rp: { id: 'preview.example' },
        user: { id: utf8Encode('p'), name: 'pat' },
        pubKeyCredParams: [{ type: 'public-key', alg: -7 }],
        options: { rk: true },
        pinUvAuthParam: mc.authenticate(clientDataHash),
        pinUvAuthProtocol: mc.protocolVersion,
      });
      const cmToken = await cp.getPinUvAuthTokenUsingPin(PIN, { permissions: ['cm'] });
      const cm = await CredentialManagement.open(r.session, cmToken);
      assert.equal(cm.command, CTAP2_CMD.credentialManagementPreview);
      const rps = await cm.enumerateRps();
      assert.deepEqual(rps.map((x) => x.rp.id), ['preview.example']);
      const creds = await cm.enumerateCredentials(rps[0]!.rpIDHash);
      assert.equal(creds[0]?.user.name, 'pat');
      await cm.deleteCredential(creds[0]!.credentialID);
      assert.equal(r.va.credentials().length, 0);
      // every grant replaces the key's token: the first be token is dead now
      await assert.rejects(fe.removeEnrollment(id), status('CTAP2_ERR_PIN_AUTH_INVALID'));
      const fe2 = await enrollment(r, protocol);
      await fe2.removeEnrollment(id);
      assert.deepEqual(await fe2.enumerateEnrollments(), []);
    } finally {
      await r.close();
    }
  });
}

async function enrollFinger(va: VirtualAuthenticator): Promise<void> {
  const channel = await CtapHidChannel.open(va.port());
  try {
    const session = new Ctap2Session(channel);
    const token = await new ClientPin(session).getPinUvAuthTokenUsingPin(PIN, { permissions: ['be'] });
    await (await FingerprintEnrollment.open(session, token)).enroll();
  } finally {
    await channel.close();
  }
}

test('WebAuthn create/get with userVerification required: UV from the sensor, uv-retry on a miss, the PIN after UV_BLOCKED; the RP verifies', async () => {
  let retries = 0;
  let pinAsked = 0;
  const b = await bench(
    { pin: PIN, bio: true },
    {
      'uv-retry': () => {
        retries++;
        return true;
      },
      'pin-required': () => {
        pinAsked++;
        return PIN;
      },
    },
  );
  try {
    await enrollFinger(b.key);
    const ch = challenge();
    const created = await b.client.create(creationOptions({ challenge: ch, authenticatorSelection: { userVerification: 'required', residentKey: 'required' } }));
    const reg = await rpVerifyRegistration(created, ch, true);
    assert.equal(pinAsked, 0, 'UV came from the sensor, not the PIN');

    // a miss: the app is asked (uv-retry) and retries; the next touch matches
    // (the key decides match/miss before the touch, so the first touch turns the next one into a match)
    b.key.uv = 'deny';
    const realPresence = b.key.presence;
    b.key.presence = async () => {
      b.key.uv = 'auto';
      return true;
    };
    const ch2 = challenge();
    const got = await b.client.get({ challenge: ch2, rpId: RP_ID, userVerification: 'required', allowCredentials: [{ type: 'public-key', id: created.rawId }] });
    await rpVerifyAuthentication(got, ch2, reg.credential, true);
    assert.equal(retries, 1);
    const retryEvent = b.events.find((e) => e.type === 'uv-retry') as { retriesLeft?: number } | undefined;
    assert.equal(retryEvent?.retriesLeft, 7);
    assert.equal(pinAsked, 0);
    b.key.presence = realPresence;

    // every touch misses: after UV_BLOCKED the client falls back to the PIN
    b.key.uv = 'deny';
    const ch3 = challenge();
    const viaPin = await b.client.get({ challenge: ch3, rpId: RP_ID, userVerification: 'required', allowCredentials: [{ type: 'public-key', id: created.rawId }] });
    await rpVerifyAuthentication(viaPin, ch3, reg.credential, true);
    assert.equal(pinAsked, 1);
    assert.ok(b.events.some((e) => e.type === 'pin-required' && (e as { reason?: string }).reason === 'uv-blocked'));
  } finally {
    await b.close();
  }
});

test('WebAuthn on a bio key with no finger enrolled and no PIN: userVerification required is refused plainly', async () => {
  const b = await bench({ bio: true });
  try {
    await assert.rejects(b.client.create(creationOptions({ authenticatorSelection: { userVerification: 'required' } })), (e: unknown) => e instanceof WebAuthnError && e.name === 'NotAllowedError' && /no PIN set/.test(e.message));
  } finally {
    await b.close();
  }
  const noPin = await bench({ bio: true, features: { clientPin: false } });
  try {
    await assert.rejects(noPin.client.create(creationOptions({ authenticatorSelection: { userVerification: 'required' } })), (e: unknown) => e instanceof WebAuthnError && e.name === 'NotAllowedError' && /no fingerprint enrolled/.test(e.message));
  } finally {
    await noPin.close();
  }
});
