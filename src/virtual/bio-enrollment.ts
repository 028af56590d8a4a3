/**
 * The virtual key's simulated fingerprint sensor: authenticatorBioEnrollment
 * (0x09, CTAP 2.1 §6.7) and its FIDO_2_1_PRE preview (0x40), plus the glue
 * that keeps the sensor's settings and templates in the persistent state.
 *
 * A "finger touch" is the key's presence callback (options.presence): an
 * approved touch is a sample judged by bio.sampleStatus (FP_GOOD by
 * default); a denied one is a sample with CTAP2_ENROLL_FEEDBACK_NO_USER_ACTIVITY
 * that does not count; no touch within the sample timeout is
 * CTAP2_ERR_USER_ACTION_TIMEOUT. Built-in UV (core.performBuiltInUv) matches
 * against the enrolled templates: options.uv 'auto' matches, 'deny' misses.
 */
import { asMap, CborMapReader, encodeCbor, type CborValue } from '../cbor/index.js';
import { randomBytes } from '../crypto/primitives.js';
import {
  BIO_ENROLLMENT_PARAM,
  BIO_ENROLLMENT_RESPONSE,
  BIO_ENROLLMENT_SUBCOMMAND,
  BIO_ENROLLMENT_SUBCOMMAND_PARAM,
  BIO_MODALITY,
  ENROLL_FEEDBACK,
  FINGERPRINT_KIND,
  TEMPLATE_INFO,
} from '../ctap2/bio-enrollment.js';
import { PERMISSION } from '../ctap2/permissions.js';
import { CTAP2_STATUS, CtapError } from '../ctap2/status.js';
import { concatBytes, utf8Encode } from '../util/bytes.js';
import type { CommandContext, CommandHandler } from './core.js';
import { bytesEq, fail, requireParams } from './common.js';
import { defaultVersions, type ResolvedBioOptions, type ResolvedOptions, type VirtualAuthenticatorOptions } from './options.js';
import type { BioStoredState, BioTemplate, PersistentState } from './state.js';

/** getInfo uvModality bit for a built-in fingerprint sensor (FIDO Registry USER_VERIFY_FINGERPRINT_INTERNAL). */
export const USER_VERIFY_FINGERPRINT_INTERNAL = 0x02;
/** getInfo preferredPlatformUvAttempts of the simulated sensor (what a YubiKey Bio reports). */
export const PREFERRED_PLATFORM_UV_ATTEMPTS = 3;
/** Longest per-sample timeout a request may ask for. */
const MAX_SAMPLE_TIMEOUT_MS = 300_000;

/** An enrollment between enrollBegin and its last sample (volatile: a power cycle drops it). */
export interface BioEnrollmentInProgress {
  templateId: Uint8Array;
  remaining: number;
  attempts: number;
}

/**
 * Reconcile the options with the state (at start): a key created with `bio`
 * stores the sensor's settings; a key reopened from its file without `bio`
 * (virtual:FILE) gets the stored sensor back, with uv 'auto' and the stored
 * preview flag unless those were given. Returns true when the state changed.
 */
export function syncBioState(options: ResolvedOptions, o: VirtualAuthenticatorOptions, state: PersistentState): boolean {
  if (options.bio === undefined) {
    const stored = state.bio;
    if (!stored || o.bio === false) return false;
    options.bio = {
      samplesRequired: stored.samplesRequired,
      maxTemplates: stored.maxTemplates,
      maxTemplateFriendlyName: stored.maxTemplateFriendlyName,
      sampleStatus: undefined,
    };
    if (o.uv === undefined) options.uv = 'auto';
    if (o.preview === undefined && stored.preview) {
      options.preview = true;
      if (o.versions === undefined) options.versions = defaultVersions(options.u2fOnly, true);
    }
    return false;
  }
  const b = options.bio;
  const before = state.bio;
  const next: BioStoredState = {
    samplesRequired: b.samplesRequired,
    maxTemplates: b.maxTemplates,
    maxTemplateFriendlyName: b.maxTemplateFriendlyName,
    preview: options.preview,
    templates: before?.templates ?? [],
  };
  state.bio = next;
  return (
    !before ||
    before.samplesRequired !== next.samplesRequired ||
    before.maxTemplates !== next.maxTemplates ||
    before.maxTemplateFriendlyName !== next.maxTemplateFriendlyName ||
    before.preview !== next.preview
  );
}

/** Enrolled templates (none on a key without a sensor). */
export function bioTemplateCount(state: PersistentState): number {
  return state.bio?.templates.length ?? 0;
}

const AUTHENTICATED: readonly number[] = [
  BIO_ENROLLMENT_SUBCOMMAND.enrollBegin,
  BIO_ENROLLMENT_SUBCOMMAND.enrollCaptureNextSample,
  BIO_ENROLLMENT_SUBCOMMAND.enumerateEnrollments,
  BIO_ENROLLMENT_SUBCOMMAND.setFriendlyName,
  BIO_ENROLLMENT_SUBCOMMAND.removeEnrollment,
];

export const bioEnrollment: CommandHandler = async (ctx, params) => {
  const bio = ctx.options.bio;
  const store = ctx.state.bio;
  if (!bio || !store) fail(CTAP2_STATUS.CTAP1_ERR_INVALID_COMMAND);
  const P = BIO_ENROLLMENT_PARAM;
  const p = requireParams(params);
  if (p.optionalBool(P.getModality, 'getModality') === true) {
    return new Map<number, CborValue>([[BIO_ENROLLMENT_RESPONSE.modality, BIO_MODALITY.fingerprint]]);
  }
  const modality = p.optionalUint(P.modality, 'modality');
  const sub = p.optionalUint(P.subCommand, 'subCommand');
  if (modality === undefined || sub === undefined) fail(CTAP2_STATUS.CTAP2_ERR_MISSING_PARAMETER);
  if (modality !== BIO_MODALITY.fingerprint) fail(CTAP2_STATUS.CTAP2_ERR_UNSUPPORTED_OPTION);
  if (!(Object.values(BIO_ENROLLMENT_SUBCOMMAND) as number[]).includes(sub)) fail(CTAP2_STATUS.CTAP2_ERR_INVALID_SUBCOMMAND);
  const subParamsRaw = p.raw(P.subCommandParams);
  const sp = subParamsRaw === undefined ? undefined : new CborMapReader(asMap(subParamsRaw, 'bioEnrollment subCommandParams'), 'bioEnrollment subCommandParams');

  if (sub === BIO_ENROLLMENT_SUBCOMMAND.getFingerprintSensorInfo) {
    const R = BIO_ENROLLMENT_RESPONSE;
    return new Map<number, CborValue>([
      [R.modality, BIO_MODALITY.fingerprint],
      [R.fingerprintKind, FINGERPRINT_KIND.touch],
      [R.maxCaptureSamplesRequiredForEnroll, bio.samplesRequired],
      [R.maxTemplateFriendlyName, bio.maxTemplateFriendlyName],
    ]);
  }
  if (sub === BIO_ENROLLMENT_SUBCOMMAND.cancelCurrentEnrollment) {
    // Unauthenticated (§6.7.5): drops the half-made template, if any.
    ctx.volatile.bioEnrollment = undefined;
    return undefined;
  }
  if (AUTHENTICATED.includes(sub)) {
    const param = p.optionalBytes(P.pinUvAuthParam, 'pinUvAuthParam');
    const protocol = p.optionalUint(P.pinUvAuthProtocol, 'pinUvAuthProtocol');
    if (param === undefined) fail(CTAP2_STATUS.CTAP2_ERR_PUAT_REQUIRED);
    if (protocol === undefined) fail(CTAP2_STATUS.CTAP2_ERR_MISSING_PARAMETER);
    const tail = subParamsRaw === undefined ? new Uint8Array(0) : encodeCbor(subParamsRaw as CborValue);
    ctx.core.verifyToken(param, protocol, concatBytes(Uint8Array.of(modality, sub), tail), PERMISSION.be, undefined);
  }

  const SP = BIO_ENROLLMENT_SUBCOMMAND_PARAM;
  switch (sub) {
    case BIO_ENROLLMENT_SUBCOMMAND.enrollBegin: {
      if (store.templates.length >= bio.maxTemplates) fail(CTAP2_STATUS.CTAP2_ERR_FP_DATABASE_FULL);
      const timeoutMs = sampleTimeout(sp);
      const e: BioEnrollmentInProgress = { templateId: newTemplateId(store.templates), remaining: bio.samplesRequired, attempts: 0 };
      ctx.volatile.bioEnrollment = e;
      let status: number;
      try {
        status = await captureSample(ctx, bio, e, timeoutMs);
      } catch (err) {
        // Nothing was begun that the platform could continue.
        if (ctx.volatile.bioEnrollment === e) ctx.volatile.bioEnrollment = undefined;
        throw err;
      }
      return sampleResponse(e, status, true);
    }
    case BIO_ENROLLMENT_SUBCOMMAND.enrollCaptureNextSample: {
      const templateId = sp?.optionalBytes(SP.templateId, 'templateId');
      if (!templateId) fail(CTAP2_STATUS.CTAP2_ERR_MISSING_PARAMETER);
      const e = ctx.volatile.bioEnrollment;
      if (!e) fail(CTAP2_STATUS.CTAP2_ERR_NOT_ALLOWED);
      if (!bytesEq(e.templateId, templateId)) fail(CTAP2_STATUS.CTAP1_ERR_INVALID_PARAMETER);
      const status = await captureSample(ctx, bio, e, sampleTimeout(sp));
      return sampleResponse(e, status, false);
    }
    case BIO_ENROLLMENT_SUBCOMMAND.enumerateEnrollments: {
      // No templates is CTAP2_ERR_INVALID_OPTION (§6.7.6).
      if (store.templates.length === 0) fail(CTAP2_STATUS.CTAP2_ERR_INVALID_OPTION);
      const infos = store.templates.map((t) => {
        const m = new Map<number, CborValue>([[TEMPLATE_INFO.templateId, t.templateId]]);
        if (t.friendlyName !== undefined) m.set(TEMPLATE_INFO.templateFriendlyName, t.friendlyName);
        return m;
      });
      return new Map<number, CborValue>([[BIO_ENROLLMENT_RESPONSE.templateInfos, infos]]);
    }
    case BIO_ENROLLMENT_SUBCOMMAND.setFriendlyName: {
      const templateId = sp?.optionalBytes(SP.templateId, 'templateId');
      const name = sp?.optionalText(SP.templateFriendlyName, 'templateFriendlyName', 1024);
      if (!templateId || name === undefined) fail(CTAP2_STATUS.CTAP2_ERR_MISSING_PARAMETER);
      const t = store.templates.find((x) => bytesEq(x.templateId, templateId));
      if (!t) fail(CTAP2_STATUS.CTAP2_ERR_INVALID_OPTION);
      if (utf8Encode(name).length > bio.maxTemplateFriendlyName) fail(CTAP2_STATUS.CTAP1_ERR_INVALID_LENGTH);
      t.friendlyName = name;
      await ctx.persist();
      return undefined;
    }
    case BIO_ENROLLMENT_SUBCOMMAND.removeEnrollment: {
      const templateId = sp?.optionalBytes(SP.templateId, 'templateId');
      if (!templateId) fail(CTAP2_STATUS.CTAP2_ERR_MISSING_PARAMETER);
      const index = store.templates.findIndex((x) => bytesEq(x.templateId, templateId));
      if (index < 0) fail(CTAP2_STATUS.CTAP2_ERR_INVALID_OPTION);
      store.templates.splice(index, 1);
      await ctx.persist();
      return undefined;
    }
    default:
      fail(CTAP2_STATUS.CTAP2_ERR_INVALID_SUBCOMMAND);
  }
};

function sampleTimeout(sp: CborMapReader | undefined): number | undefined {
  const ms = sp?.optionalUint(BIO_ENROLLMENT_SUBCOMMAND_PARAM.timeoutMilliseconds, 'timeoutMilliseconds');
  if (ms === undefined) return undefined;
  if (ms === 0) fail(CTAP2_STATUS.CTAP1_ERR_INVALID_PARAMETER);
  return Math.min(ms, MAX_SAMPLE_TIMEOUT_MS);
}

function newTemplateId(existing: BioTemplate[]): Uint8Array {
  for (;;) {
    const id = randomBytes(2);
    if (!existing.some((t) => bytesEq(t.templateId, id))) return id;
  }
}

/**
 * One sample: wait for the finger (the presence callback) within the
 * sample timeout; judge it; a good one counts down, and the last good one
 * stores the template (durably) and ends the enrollment.
 */
async function captureSample(ctx: CommandContext, bio: ResolvedBioOptions, e: BioEnrollmentInProgress, timeoutMs: number | undefined): Promise<number> {
  e.attempts++;
  let status: number;
  try {
    await ctx.requestUserPresence(undefined, timeoutMs);
    status = bio.sampleStatus?.({ templateId: e.templateId.slice(), attempt: e.attempts, remainingSamples: e.remaining }) ?? ENROLL_FEEDBACK.CTAP2_ENROLL_FEEDBACK_FP_GOOD;
    if (!Number.isInteger(status) || status < 0 || status > 0xff) throw new CtapError(CTAP2_STATUS.CTAP1_ERR_OTHER, { message: 'bio.sampleStatus returned a value that is not a status byte' });
  } catch (err) {
    // A refused touch is a sample with no finger on it; timeouts and cancels end the request.
    if (!(err instanceof CtapError) || err.status !== CTAP2_STATUS.CTAP2_ERR_OPERATION_DENIED) throw err;
    status = ENROLL_FEEDBACK.CTAP2_ENROLL_FEEDBACK_NO_USER_ACTIVITY;
  }
  if (status === ENROLL_FEEDBACK.CTAP2_ENROLL_FEEDBACK_FP_GOOD) e.remaining--;
  if (e.remaining === 0) {
    const store = ctx.state.bio!;
    store.templates.push({ templateId: e.templateId.slice() });
    try {
      await ctx.persist();
    } catch (err) {
      store.templates.pop();
      e.remaining++;
      throw err;
    }
    ctx.volatile.bioEnrollment = undefined;
  }
  return status;
}

function sampleResponse(e: BioEnrollmentInProgress, status: number, withTemplateId: boolean): Map<number, CborValue> {
  const R = BIO_ENROLLMENT_RESPONSE;
  const m = new Map<number, CborValue>();
  if (withTemplateId) m.set(R.templateId, e.templateId);
  m.set(R.lastEnrollSampleStatus, status);
  m.set(R.remainingSamples, e.remaining);
  return m;
}
