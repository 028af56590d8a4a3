import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CborMapReader, type CborValue } from '../../src/cbor/index.js';
import { CTAP2_CMD } from '../../src/ctap2/commands.js';
import { ClientPin } from '../../src/ctap2/client-pin.js';
import {
  bioEnrollmentAuthMessage,
  BIO_ENROLLMENT_SUBCOMMAND as SUB,
  ENROLL_FEEDBACK,
  enrollFeedbackName,
  FingerprintEnrollment,
  getFingerprintSensorInfo,
  getModality,
  type EnrollProgress,
} from '../../src/ctap2/bio-enrollment.js';
import { PERMISSION, UnsupportedFeatureError } from '../../src/ctap2/permissions.js';
import { toHex } from '../../src/util/bytes.js';
import { AbortedError } from '../../src/util/errors.js';
import { FakeKey, FakeStatus } from './fake-ctap2-key.js';

test('bio pinUvAuthParam message: modality || subCommand || CBOR(params)', () => {
  assert.equal(toHex(bioEnrollmentAuthMessage(1, 4)), '0104');
  assert.equal(toHex(bioEnrollmentAuthMessage(1, 6, new Map<number, CborValue>([[1, Uint8Array.of(0xaa)]]))), '0106a10141aa');
  assert.equal(enrollFeedbackName(ENROLL_FEEDBACK.CTAP2_ENROLL_FEEDBACK_FP_TOO_FAST), 'CTAP2_ENROLL_FEEDBACK_FP_TOO_FAST');
  assert.equal(enrollFeedbackName(0x42), 'CTAP2_ENROLL_FEEDBACK_0x42');
});

/** A fingerprint key: 4 samples per enrollment, one "too fast" retry. */
function bioKey(command: number, option: string): { key: FakeKey; templates: Map<string, string>; cancels: () => number } {
  const key = new FakeKey({ pin: '1234', options: { clientPin: true, pinUvAuthToken: true, uv: true, [option]: false } });
  const templates = new Map<string, string>();
  let enrolling: { id: Uint8Array; left: number; sample: number } | undefined;
  let cancels = 0;
  key.handlers.set(command, (p) => {
    if (p!.has(6)) return new Map([[1, 1]]);
    const sub = p!.uint(2);
    const params = p!.raw(3) as Map<number, CborValue> | undefined;
    if ([SUB.enrollBegin, SUB.enrollCaptureNextSample, SUB.enumerateEnrollments, SUB.setFriendlyName, SUB.removeEnrollment].includes(sub as 1)) {
      key.verifyToken(p!.raw(4), bioEnrollmentAuthMessage(p!.uint(1), sub, params), p!.raw(5), PERMISSION.be);
    }
    const pr = params ? new CborMapReader(params, 'params') : undefined;
    switch (sub) {
      case SUB.getFingerprintSensorInfo:
        return new Map([[2, 1], [3, 4], [8, 15]]);
      case SUB.enrollBegin:
        enrolling = { id: Uint8Array.of(templates.size + 1), left: 3, sample: 1 };
        return new Map<number, CborValue>([[4, enrolling.id], [5, 0], [6, 3]]);
      case SUB.enrollCaptureNextSample: {
        if (!enrolling || toHex(pr!.bytes(1)) !== toHex(enrolling.id)) throw new FakeStatus(0x02);
        enrolling.sample++;
        const tooFast = enrolling.sample === 2;
        if (!tooFast) enrolling.left--;
        if (enrolling.left === 0) templates.set(toHex(enrolling.id), '');
        return new Map([[5, tooFast ? 5 : 0], [6, enrolling.left]]);
      }
      case SUB.cancelCurrentEnrollment:
        cancels++;
        enrolling = undefined;
        return undefined;
      case SUB.enumerateEnrollments:
        if (!templates.size) throw new FakeStatus(0x2c);
        return new Map<number, CborValue>([[7, [...templates].map(([id, name]) => new Map<number, CborValue>([[1, Uint8Array.from(Buffer.from(id, 'hex'))], ...(name ? [[2, name] as [number, CborValue]] : [])]))]]);
      case SUB.setFriendlyName:
        templates.set(toHex(pr!.bytes(1)), pr!.text(2));
        return undefined;
      case SUB.removeEnrollment:
        if (!templates.delete(toHex(pr!.bytes(1)))) throw new FakeStatus(0x02);
        return undefined;
      default:
        throw new FakeStatus(0x3e);
    }
  });
  return { key, templates, cancels: () => cancels };
}

for (const [label, command, option] of [
  ['bioEnroll (0x09)', CTAP2_CMD.bioEnrollment, 'bioEnroll'],
  ['userVerificationMgmtPreview (0x40)', CTAP2_CMD.bioEnrollmentPreview, 'userVerificationMgmtPreview'],
] as const) {
  for (const protocol of [1, 2] as const) {
    test(`${label}, protocol ${protocol}: modality, sensor info, enroll with progress, list, rename, remove`, async () => {
      const { key, templates } = bioKey(command, option);
      const session = key.session();
      assert.equal(await getModality(session), 1);
      assert.deepEqual(await getFingerprintSensorInfo(session), { fingerprintKind: 1, maxCaptureSamplesRequiredForEnroll: 4, maxTemplateFriendlyName: 15 });
      const token = await new ClientPin(session, { protocol }).getPinUvAuthTokenUsingPin('1234', { permissions: ['be'] });
      const bio = await FingerprintEnrollment.open(session, token);
      assert.equal(bio.command, command);
      assert.deepEqual(await bio.enumerateEnrollments(), [], 'no enrollments (INVALID_OPTION) is an empty list');
      const seen: EnrollProgress[] = [];
      const id = await bio.enroll({ onProgress: (p) => seen.push(p), sampleTimeoutMs: 10_000 });
      assert.deepEqual(seen.map((p) => [p.feedback, p.remainingSamples]), [
        ['CTAP2_ENROLL_FEEDBACK_FP_GOOD', 3],
        ['CTAP2_ENROLL_FEEDBACK_FP_TOO_FAST', 3],
        ['CTAP2_ENROLL_FEEDBACK_FP_GOOD', 2],
        ['CTAP2_ENROLL_FEEDBACK_FP_GOOD', 1],
        ['CTAP2_ENROLL_FEEDBACK_FP_GOOD', 0],
      ]);
      assert.equal(toHex(id), '01');
      const capture = key.last(command).params!;
      assert.deepEqual((capture.get(3) as Map<number, unknown>).get(3), 10_000, 'timeoutMilliseconds sent');
      await bio.setFriendlyName(id, 'left thumb');
      assert.deepEqual(await bio.enumerateEnrollments(), [{ templateId: id, templateFriendlyName: 'left thumb' }]);
      await bio.removeEnrollment(id);
      assert.equal(templates.size, 0);
    });
  }
}

test('enrollment is cancellable: the signal stops it and the key is told cancelCurrentEnrollment', async () => {
  const { key, cancels } = bioKey(CTAP2_CMD.bioEnrollment, 'bioEnroll');
  const session = key.session();
  const token = await new ClientPin(session).getPinUvAuthTokenUsingPin('1234', { permissions: ['be'] });
  const bio = await FingerprintEnrollment.open(session, token);
  const ac = new AbortController();
  const err = await bio.enroll({ signal: ac.signal, onProgress: (p) => p.remainingSamples === 2 && ac.abort() }).catch((e: unknown) => e);
  assert.ok(err instanceof AbortedError);
  assert.equal(cancels(), 1);
  assert.equal(key.last(CTAP2_CMD.bioEnrollment).params!.get(2), SUB.cancelCurrentEnrollment);
});

test('a key without bio enrollment says so; a token without be is refused', async () => {
  const key = new FakeKey({ pin: '1234' });
  const session = key.session();
  await assert.rejects(getModality(session), (e: UnsupportedFeatureError) => e.feature === 'bioEnrollment' && /does not support biometric enrollment/.test(e.message));
  const t = await new ClientPin(session).getPinUvAuthTokenUsingPin('1234', { permissions: ['cm'] });
  await assert.rejects(FingerprintEnrollment.open(session, t), UnsupportedFeatureError);
  const { key: k2 } = bioKey(CTAP2_CMD.bioEnrollment, 'bioEnroll');
  const t2 = await new ClientPin(k2.session()).getPinUvAuthTokenUsingPin('1234', { permissions: ['cm'] });
  await assert.rejects(FingerprintEnrollment.open(k2.session(), t2), /lacks the be/);
});
