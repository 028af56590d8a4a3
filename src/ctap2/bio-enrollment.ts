/**
 * authenticatorBioEnrollment (0x09, CTAP 2.2 §6.7), and the FIDO_2_1_PRE
 * preview command 0x40 for keys that only advertise
 * `userVerificationMgmtPreview`. Authenticated subcommands carry
 * pinUvAuthParam = authenticate(token, modality || subCommand || subCommandParams).
 */
import { asMap, CborError, CborMapReader, encodeCbor, type CborValue } from '../cbor/index.js';
import type { TransactOptions } from '../ctaphid/transport.js';
import { throwIfAborted } from '../util/deadline.js';
import { CTAP2_CMD } from './commands.js';
import type { PinUvAuthToken } from './client-pin.js';
import { infoOption, PERMISSION, requirePermission, UnsupportedFeatureError, type FeatureInfo } from './permissions.js';
import type { Ctap2Session } from './session.js';
import { CTAP2_STATUS, CtapError } from './status.js';

export const BIO_MODALITY = { fingerprint: 0x01 } as const;

export const BIO_ENROLLMENT_SUBCOMMAND = {
  enrollBegin: 0x01,
  enrollCaptureNextSample: 0x02,
  cancelCurrentEnrollment: 0x03,
  enumerateEnrollments: 0x04,
  setFriendlyName: 0x05,
  removeEnrollment: 0x06,
  getFingerprintSensorInfo: 0x07,
} as const;

export const BIO_ENROLLMENT_PARAM = {
  modality: 0x01,
  subCommand: 0x02,
  subCommandParams: 0x03,
  pinUvAuthProtocol: 0x04,
  pinUvAuthParam: 0x05,
  getModality: 0x06,
} as const;

export const BIO_ENROLLMENT_SUBCOMMAND_PARAM = {
  templateId: 0x01,
  templateFriendlyName: 0x02,
  timeoutMilliseconds: 0x03,
} as const;

export const BIO_ENROLLMENT_RESPONSE = {
  modality: 0x01,
  fingerprintKind: 0x02,
  maxCaptureSamplesRequiredForEnroll: 0x03,
  templateId: 0x04,
  lastEnrollSampleStatus: 0x05,
  remainingSamples: 0x06,
  templateInfos: 0x07,
  maxTemplateFriendlyName: 0x08,
} as const;

export const TEMPLATE_INFO = { templateId: 0x01, templateFriendlyName: 0x02 } as const;

export const FINGERPRINT_KIND = { touch: 0x01, swipe: 0x02 } as const;

/** lastEnrollSampleStatus values (CTAP 2.2 §6.7.3). */
export const ENROLL_FEEDBACK = {
  CTAP2_ENROLL_FEEDBACK_FP_GOOD: 0x00,
  CTAP2_ENROLL_FEEDBACK_FP_TOO_HIGH: 0x01,
  CTAP2_ENROLL_FEEDBACK_FP_TOO_LOW: 0x02,
  CTAP2_ENROLL_FEEDBACK_FP_TOO_LEFT: 0x03,
  CTAP2_ENROLL_FEEDBACK_FP_TOO_RIGHT: 0x04,
  CTAP2_ENROLL_FEEDBACK_FP_TOO_FAST: 0x05,
  CTAP2_ENROLL_FEEDBACK_FP_TOO_SLOW: 0x06,
  CTAP2_ENROLL_FEEDBACK_FP_POOR_QUALITY: 0x07,
  CTAP2_ENROLL_FEEDBACK_FP_TOO_SKEWED: 0x08,
  CTAP2_ENROLL_FEEDBACK_FP_TOO_SHORT: 0x09,
  CTAP2_ENROLL_FEEDBACK_FP_MERGE_FAILURE: 0x0a,
  CTAP2_ENROLL_FEEDBACK_FP_EXISTS: 0x0b,
  CTAP2_ENROLL_FEEDBACK_NO_USER_ACTIVITY: 0x0d,
  CTAP2_ENROLL_FEEDBACK_NO_USER_PRESENCE_TRANSITION: 0x0e,
} as const;

export function enrollFeedbackName(status: number): string {
  for (const [k, v] of Object.entries(ENROLL_FEEDBACK)) if (v === status) return k;
  return `CTAP2_ENROLL_FEEDBACK_0x${status.toString(16).padStart(2, '0')}`;
}

export interface TemplateInfo {
  templateId: Uint8Array;
  templateFriendlyName?: string | undefined;
}

export interface BioEnrollmentResponse {
  modality?: number | undefined;
  fingerprintKind?: number | undefined;
  maxCaptureSamplesRequiredForEnroll?: number | undefined;
  templateId?: Uint8Array | undefined;
  lastEnrollSampleStatus?: number | undefined;
  remainingSamples?: number | undefined;
  templateInfos?: TemplateInfo[] | undefined;
  maxTemplateFriendlyName?: number | undefined;
}

export function decodeBioEnrollmentResponse(value: unknown): BioEnrollmentResponse {
  if (value === undefined) return {};
  const R = BIO_ENROLLMENT_RESPONSE;
  const r = CborMapReader.from(value, 'bioEnrollment response');
  const out: BioEnrollmentResponse = {
    modality: r.optionalUint(R.modality, 'modality'),
    fingerprintKind: r.optionalUint(R.fingerprintKind, 'fingerprintKind'),
    maxCaptureSamplesRequiredForEnroll: r.optionalUint(R.maxCaptureSamplesRequiredForEnroll, 'maxCaptureSamplesRequiredForEnroll'),
    templateId: r.optionalBytes(R.templateId, 'templateId'),
    lastEnrollSampleStatus: r.optionalUint(R.lastEnrollSampleStatus, 'lastEnrollSampleStatus'),
    remainingSamples: r.optionalUint(R.remainingSamples, 'remainingSamples'),
    maxTemplateFriendlyName: r.optionalUint(R.maxTemplateFriendlyName, 'maxTemplateFriendlyName'),
  };
  const infos = r.optionalArray(R.templateInfos, 'templateInfos');
  if (infos) {
    out.templateInfos = infos.map((x, i) => {
      const t = new CborMapReader(asMap(x, `templateInfos[${i}]`), `bioEnrollment templateInfos[${i}]`);
      return { templateId: t.bytes(TEMPLATE_INFO.templateId, 'templateId'), templateFriendlyName: t.optionalText(TEMPLATE_INFO.templateFriendlyName, 'templateFriendlyName') };
    });
  }
  return out;
}

export interface BioEnrollmentRequest {
  modality?: number | undefined;
  subCommand?: number | undefined;
  subCommandParams?: Map<number, CborValue> | undefined;
  pinUvAuthProtocol?: number | undefined;
  pinUvAuthParam?: Uint8Array | undefined;
  getModality?: boolean | undefined;
}

export function encodeBioEnrollmentRequest(req: BioEnrollmentRequest): Map<number, CborValue> {
  const P = BIO_ENROLLMENT_PARAM;
  const m = new Map<number, CborValue>();
  if (req.modality !== undefined) m.set(P.modality, req.modality);
  if (req.subCommand !== undefined) m.set(P.subCommand, req.subCommand);
  if (req.subCommandParams) m.set(P.subCommandParams, req.subCommandParams);
  if (req.pinUvAuthProtocol !== undefined) m.set(P.pinUvAuthProtocol, req.pinUvAuthProtocol);
  if (req.pinUvAuthParam) m.set(P.pinUvAuthParam, req.pinUvAuthParam);
  if (req.getModality !== undefined) m.set(P.getModality, req.getModality);
  return m;
}

/** modality || subCommand || CBOR(subCommandParams) */
export function bioEnrollmentAuthMessage(modality: number, subCommand: number, params?: Map<number, CborValue>): Uint8Array {
  const p = params ? encodeCbor(params) : new Uint8Array(0);
  const out = new Uint8Array(2 + p.length);
  out[0] = modality;
  out[1] = subCommand;
  out.set(p, 2);
  return out;
}

export function bioEnrollmentCommand(info: FeatureInfo): number | undefined {
  if (infoOption(info, 'bioEnroll') !== undefined) return CTAP2_CMD.bioEnrollment;
  if (infoOption(info, 'userVerificationMgmtPreview') !== undefined) return CTAP2_CMD.bioEnrollmentPreview;
  return undefined;
}

export interface FingerprintSensorInfo {
  fingerprintKind: number;
  maxCaptureSamplesRequiredForEnroll: number;
  maxTemplateFriendlyName?: number | undefined;
}

export interface EnrollProgress {
  templateId: Uint8Array;
  lastEnrollSampleStatus: number;
  /** The status's spec name, e.g. CTAP2_ENROLL_FEEDBACK_FP_GOOD. */
  feedback: string;
  remainingSamples: number;
}

export interface EnrollOptions extends TransactOptions {
  /** Per-sample timeout the key applies (timeoutMilliseconds). */
  sampleTimeoutMs?: number | undefined;
  /** Called after every sample (including the first from enrollBegin). */
  onProgress?: ((p: EnrollProgress) => void) | undefined;
  /** Give up after this many samples (a key that never finishes). Default 64. */
  maxSamples?: number | undefined;
}

function unsupported(): UnsupportedFeatureError {
  return new UnsupportedFeatureError('bioEnrollment', 'this key does not support biometric enrollment (getInfo lists neither bioEnroll nor userVerificationMgmtPreview)', {
    command: CTAP2_CMD.bioEnrollment,
  });
}

/** Unauthenticated: which modality the key has (1 = fingerprint). */
export async function getModality(session: Ctap2Session, opts?: TransactOptions): Promise<number> {
  const command = bioEnrollmentCommand(await session.getInfo(opts));
  if (command === undefined) throw unsupported();
  const { value } = await session.send(command, encodeBioEnrollmentRequest({ getModality: true }), opts);
  const r = decodeBioEnrollmentResponse(value);
  if (r.modality === undefined) throw new CborError('CBOR_MISSING_KEY', 'reply lacks modality', 'bioEnrollment response');
  return r.modality;
}

/** Unauthenticated: the fingerprint sensor's kind and samples needed. */
export async function getFingerprintSensorInfo(session: Ctap2Session, opts?: TransactOptions): Promise<FingerprintSensorInfo> {
  const command = bioEnrollmentCommand(await session.getInfo(opts));
  if (command === undefined) throw unsupported();
  const { value } = await session.send(
    command,
    encodeBioEnrollmentRequest({ modality: BIO_MODALITY.fingerprint, subCommand: BIO_ENROLLMENT_SUBCOMMAND.getFingerprintSensorInfo }),
    opts,
  );
  const r = decodeBioEnrollmentResponse(value);
  if (r.fingerprintKind === undefined || r.maxCaptureSamplesRequiredForEnroll === undefined) {
    throw new CborError('CBOR_MISSING_KEY', 'reply lacks fingerprintKind or maxCaptureSamplesRequiredForEnroll', 'bioEnrollment response');
  }
  return { fingerprintKind: r.fingerprintKind, maxCaptureSamplesRequiredForEnroll: r.maxCaptureSamplesRequiredForEnroll, maxTemplateFriendlyName: r.maxTemplateFriendlyName };
}

/** Fingerprint enrollment management with a token holding the `be` permission. */
export class FingerprintEnrollment {
  readonly session: Ctap2Session;
  readonly token: PinUvAuthToken;
  readonly command: number;

  constructor(session: Ctap2Session, token: PinUvAuthToken, info: FeatureInfo) {
    const command = bioEnrollmentCommand(info);
    if (command === undefined) throw unsupported();
    requirePermission(token, PERMISSION.be, 'be (bio enrollment)');
    this.session = session;
    this.token = token;
    this.command = command;
  }

  static async open(session: Ctap2Session, token: PinUvAuthToken, opts?: TransactOptions): Promise<FingerprintEnrollment> {
    return new FingerprintEnrollment(session, token, await session.getInfo(opts));
  }

  static isSupported(info: FeatureInfo): boolean {
    return bioEnrollmentCommand(info) !== undefined;
  }

  async #call(subCommand: number, params: Map<number, CborValue> | undefined, auth: boolean, opts?: TransactOptions): Promise<BioEnrollmentResponse> {
    const modality = BIO_MODALITY.fingerprint;
    const req: BioEnrollmentRequest = { modality, subCommand, subCommandParams: params };
    if (auth) {
      req.pinUvAuthProtocol = this.token.protocolVersion;
      req.pinUvAuthParam = this.token.authenticate(bioEnrollmentAuthMessage(modality, subCommand, params));
    }
    const { value } = await this.session.send(this.command, encodeBioEnrollmentRequest(req), opts);
    return decodeBioEnrollmentResponse(value);
  }

  /** enrollBegin: the first sample. */
  async enrollBegin(opts?: EnrollOptions): Promise<EnrollProgress> {
    const params = timeoutParams(opts?.sampleTimeoutMs);
    const r = await this.#call(BIO_ENROLLMENT_SUBCOMMAND.enrollBegin, params, true, opts);
    if (!r.templateId) throw new CborError('CBOR_MISSING_KEY', 'enrollBegin reply lacks templateId', 'bioEnrollment response');
    return progress(r.templateId, r);
  }

  /** enrollCaptureNextSample for a template begun with enrollBegin. */
  async enrollCaptureNextSample(templateId: Uint8Array, opts?: EnrollOptions): Promise<EnrollProgress> {
    const params = timeoutParams(opts?.sampleTimeoutMs) ?? new Map<number, CborValue>();
    params.set(BIO_ENROLLMENT_SUBCOMMAND_PARAM.templateId, templateId);
    const r = await this.#call(BIO_ENROLLMENT_SUBCOMMAND.enrollCaptureNextSample, params, true, opts);
    return progress(templateId, r);
  }

  async cancelCurrentEnrollment(opts?: TransactOptions): Promise<void> {
    await this.#call(BIO_ENROLLMENT_SUBCOMMAND.cancelCurrentEnrollment, undefined, false, opts);
  }

  /**
   * A whole enrollment: enrollBegin, then capture until remainingSamples is
   * 0. `onProgress` sees every sample; the signal cancels (the key is told
   * with cancelCurrentEnrollment). Returns the new templateId.
   */
  async enroll(opts: EnrollOptions = {}): Promise<Uint8Array> {
    const max = opts.maxSamples ?? 64;
    const { signal, timeoutMs, onKeepalive } = opts;
    const perCall: EnrollOptions = { signal, timeoutMs, onKeepalive, sampleTimeoutMs: opts.sampleTimeoutMs };
    let p = await this.enrollBegin(perCall);
    opts.onProgress?.(p);
    let samples = 1;
    try {
      while (p.remainingSamples > 0) {
        throwIfAborted(signal);
        if (samples >= max) throw new CtapError(CTAP2_STATUS.CTAP2_ERR_USER_ACTION_TIMEOUT, { command: this.command, message: `enrollment did not finish after ${max} samples` });
        p = await this.enrollCaptureNextSample(p.templateId, perCall);
        samples++;
        opts.onProgress?.(p);
      }
    } catch (e) {
      // Aborted, timed out, or refused: tell the key to drop the half-made template.
      try {
        await this.cancelCurrentEnrollment({ timeoutMs: 5000 });
      } catch {
        // the key may have dropped the enrollment already; the original error is what matters
      }
      throw e;
    }
    return p.templateId;
  }

  async enumerateEnrollments(opts?: TransactOptions): Promise<TemplateInfo[]> {
    try {
      const r = await this.#call(BIO_ENROLLMENT_SUBCOMMAND.enumerateEnrollments, undefined, true, opts);
      return r.templateInfos ?? [];
    } catch (e) {
      // CTAP 2.2 §6.7.6: no enrollments is CTAP2_ERR_INVALID_OPTION
      if (e instanceof CtapError && e.status === CTAP2_STATUS.CTAP2_ERR_INVALID_OPTION) return [];
      throw e;
    }
  }

  async setFriendlyName(templateId: Uint8Array, name: string, opts?: TransactOptions): Promise<void> {
    if (typeof name !== 'string' || name.length === 0) throw new TypeError('a friendly name is a non-empty string');
    const P = BIO_ENROLLMENT_SUBCOMMAND_PARAM;
    const params = new Map<number, CborValue>([
      [P.templateId, templateId],
      [P.templateFriendlyName, name],
    ]);
    await this.#call(BIO_ENROLLMENT_SUBCOMMAND.setFriendlyName, params, true, opts);
  }

  async removeEnrollment(templateId: Uint8Array, opts?: TransactOptions): Promise<void> {
    const params = new Map<number, CborValue>([[BIO_ENROLLMENT_SUBCOMMAND_PARAM.templateId, templateId]]);
    await this.#call(BIO_ENROLLMENT_SUBCOMMAND.removeEnrollment, params, true, opts);
    this.session.invalidateInfo(); // bioEnroll may flip to false
  }
}

function timeoutParams(ms: number | undefined): Map<number, CborValue> | undefined {
  if (ms === undefined) return undefined;
  if (!Number.isInteger(ms) || ms <= 0) throw new RangeError('sampleTimeoutMs must be a positive integer');
  return new Map<number, CborValue>([[BIO_ENROLLMENT_SUBCOMMAND_PARAM.timeoutMilliseconds, ms]]);
}

function progress(templateId: Uint8Array, r: BioEnrollmentResponse): EnrollProgress {
  if (r.lastEnrollSampleStatus === undefined || r.remainingSamples === undefined) {
    throw new CborError('CBOR_MISSING_KEY', 'reply lacks lastEnrollSampleStatus or remainingSamples', 'bioEnrollment response');
  }
  return { templateId, lastEnrollSampleStatus: r.lastEnrollSampleStatus, feedback: enrollFeedbackName(r.lastEnrollSampleStatus), remainingSamples: r.remainingSamples };
}

