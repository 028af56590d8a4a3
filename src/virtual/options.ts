/**
 * The virtual key's constructor options, their defaults and validation
 * (RangeError naming the option for a bad value).
 */
import { randomBytes } from '../crypto/primitives.js';
import { COSE_ALG } from '../ctap2/cose-key.js';
import type { FaultInjector } from './fault-types.js';
import type { StateFileHooks } from './state.js';

export type PresenceMode = 'auto' | 'deny' | { delayMs: number } | ((req: PresenceRequest) => Promise<boolean>);
export type UvMode = 'none' | 'auto' | 'deny';

/** What a simulated fingerprint sample is judged on (VirtualBioOptions.sampleStatus). */
export interface BioSampleAttempt {
  /** The template being enrolled. */
  templateId: Uint8Array;
  /** 1 for enrollBegin's sample, then 2, 3, … (bad samples count too). */
  attempt: number;
  /** Good samples still needed before this one. */
  remainingSamples: number;
}

/** The simulated fingerprint sensor (bio-enrollment.ts). */
export interface VirtualBioOptions {
  /** Good samples an enrollment needs (maxCaptureSamplesRequiredForEnroll; default 4). */
  samplesRequired?: number | undefined;
  /** Templates the sensor holds (default 5); one more is CTAP2_ERR_FP_DATABASE_FULL. */
  maxTemplates?: number | undefined;
  /** Longest friendly name in UTF-8 bytes (default 64). */
  maxTemplateFriendlyName?: number | undefined;
  /** lastEnrollSampleStatus of each touched sample (default 0 = FP_GOOD); non-zero samples do not count. */
  sampleStatus?: ((attempt: BioSampleAttempt) => number) | undefined;
}

export interface ResolvedBioOptions {
  samplesRequired: number;
  maxTemplates: number;
  maxTemplateFriendlyName: number;
  sampleStatus: ((attempt: BioSampleAttempt) => number) | undefined;
}

export interface PresenceRequest {
  /** The RP the touch is for, when the command names one. */
  rpId?: string | undefined;
  /** Which command asks. */
  command: string;
  /** Fires when the host cancels. */
  signal: AbortSignal;
}

/** Features a real key may lack; all true by default. Turn one off to simulate an older or smaller key. */
export interface VirtualFeatures {
  clientPin: boolean;
  credMgmt: boolean;
  largeBlobs: boolean;
  config: boolean;
  enterpriseAttestation: boolean;
  hmacSecret: boolean;
  hmacSecretMc: boolean;
  credProtect: boolean;
  credBlob: boolean;
  largeBlobKey: boolean;
  minPinLength: boolean;
  makeCredUvNotRqd: boolean;
  selection: boolean;
}

export interface VirtualAuthenticatorOptions {
  /** 16 bytes; random on first start (and then kept in the state file). */
  aaguid?: Uint8Array | string | undefined;
  /** Set this PIN on a fresh key (ignored when the state file already has one). */
  pin?: string | undefined;
  presence?: PresenceMode | undefined;
  uv?: UvMode | undefined;
  /** Resident credential slots (default 100). */
  capacity?: number | undefined;
  /** Persist state to this file (JSON, atomic writes, 0600). */
  statePath?: string | undefined;
  /** Alias of statePath (the device-spec opener passes this name). */
  stateFile?: string | undefined;
  /** Behave like a U2F-only key: no CBOR capability. */
  u2fOnly?: boolean | undefined;
  versions?: string[] | undefined;
  maxMsgSize?: number | undefined;
  /** COSE algorithms offered, in preference order (default ES256, EdDSA). */
  algorithms?: number[] | undefined;
  /** PIN/UV auth protocols offered (default [2, 1]). */
  pinUvAuthProtocols?: number[] | undefined;
  features?: Partial<VirtualFeatures> | undefined;
  /** 'packed' with the batch certificate (default) or 'self'. */
  attestation?: 'batch' | 'self' | undefined;
  /** Milliseconds after power-up during which reset is allowed (default 10000; Infinity for tests). */
  resetWindowMs?: number | undefined;
  firmwareVersion?: number | undefined;
  /** How long the key waits for a touch before CTAP2_ERR_USER_ACTION_TIMEOUT (default 30000, as real keys). */
  userPresenceTimeoutMs?: number | undefined;
  maxCredBlobLength?: number | undefined;
  maxSerializedLargeBlobArray?: number | undefined;
  /** Longest allowList/excludeList the key takes (default 16); longer lists get CTAP2_ERR_LIMIT_EXCEEDED. */
  maxCredentialCountInList?: number | undefined;
  /** Clock (ms since epoch), for tests. */
  now?: (() => number) | undefined;
  /** Fault injection at the CTAPHID layer (faults.ts FaultPlan, or any FaultInjector). */
  faults?: FaultInjector | undefined;
  /** Hooks around the state file's atomic write (crash tests). */
  stateFileHooks?: StateFileHooks | undefined;
  /**
   * A fingerprint sensor (bioEnrollment, built-in UV against enrolled
   * templates). Off by default; `true` takes the defaults. uv defaults to
   * 'auto' (a touch matches) with it. Kept in the state file, so a key
   * reopened from its file (virtual:FILE) has the sensor again.
   */
  bio?: boolean | VirtualBioOptions | undefined;
  /**
   * FIDO_2_1_PRE instead of FIDO_2_1: credentialMgmtPreview (0x41) and, with
   * bio, userVerificationMgmtPreview (0x40); 0x0A and 0x09 are refused.
   */
  preview?: boolean | undefined;
}

export interface ResolvedOptions {
  presence: PresenceMode;
  uv: UvMode;
  capacity: number;
  u2fOnly: boolean;
  versions: string[];
  maxMsgSize: number;
  algorithms: number[];
  pinUvAuthProtocols: number[];
  features: VirtualFeatures;
  attestation: 'batch' | 'self';
  resetWindowMs: number;
  firmwareVersion: number;
  userPresenceTimeoutMs: number;
  maxCredBlobLength: number;
  maxSerializedLargeBlobArray: number;
  maxCredentialCountInList: number;
  maxCredentialIdLength: number;
  now: () => number;
  /** The fingerprint sensor, or undefined when the key has none. */
  bio: ResolvedBioOptions | undefined;
  preview: boolean;
}

export const DEFAULT_FEATURES: VirtualFeatures = {
  clientPin: true,
  credMgmt: true,
  largeBlobs: true,
  config: true,
  enterpriseAttestation: true,
  hmacSecret: true,
  hmacSecretMc: true,
  credProtect: true,
  credBlob: true,
  largeBlobKey: true,
  minPinLength: true,
  makeCredUvNotRqd: true,
  selection: true,
};

export function resolveOptions(o: VirtualAuthenticatorOptions): ResolvedOptions {
  const capacity = o.capacity ?? 100;
  if (!Number.isSafeInteger(capacity) || capacity < 0 || capacity > 1_000_000) throw new RangeError('capacity must be an integer from 0 to 1000000');
  const maxMsgSize = o.maxMsgSize ?? 1200;
  if (!Number.isSafeInteger(maxMsgSize) || maxMsgSize < 1024 || maxMsgSize > 7609) throw new RangeError('maxMsgSize must be from 1024 to 7609');
  const algorithms = o.algorithms ?? [COSE_ALG.ES256, COSE_ALG.EdDSA];
  if (!algorithms.length || algorithms.some((a) => a !== COSE_ALG.ES256 && a !== COSE_ALG.EdDSA)) throw new RangeError('algorithms: the virtual key signs with ES256 (-7) and EdDSA (-8)');
  const protocols = o.pinUvAuthProtocols ?? [2, 1];
  if (protocols.some((p) => p !== 1 && p !== 2)) throw new RangeError('pinUvAuthProtocols: 1 and 2 are supported');
  const maxList = o.maxCredentialCountInList ?? 16;
  if (!Number.isSafeInteger(maxList) || maxList < 1 || maxList > 1024) throw new RangeError('maxCredentialCountInList must be from 1 to 1024');
  const features = { ...DEFAULT_FEATURES, ...o.features };
  if (o.u2fOnly) features.clientPin = false;
  const bio = resolveBioOptions(o.bio);
  const preview = o.preview ?? false;
  return {
    presence: o.presence ?? 'auto',
    uv: o.uv ?? (bio ? 'auto' : 'none'),
    capacity,
    u2fOnly: o.u2fOnly ?? false,
    versions: o.versions ?? defaultVersions(o.u2fOnly ?? false, preview),
    maxMsgSize,
    algorithms,
    pinUvAuthProtocols: protocols,
    features,
    attestation: o.attestation ?? 'batch',
    resetWindowMs: o.resetWindowMs ?? 10_000,
    firmwareVersion: o.firmwareVersion ?? 0x010000,
    userPresenceTimeoutMs: o.userPresenceTimeoutMs ?? 30_000,
    maxCredBlobLength: o.maxCredBlobLength ?? 32,
    maxSerializedLargeBlobArray: o.maxSerializedLargeBlobArray ?? 4096,
    maxCredentialCountInList: maxList,
    maxCredentialIdLength: 128,
    now: o.now ?? Date.now,
    bio,
    preview,
  };
}

export function defaultVersions(u2fOnly: boolean, preview: boolean): string[] {
  if (u2fOnly) return ['U2F_V2'];
  return ['U2F_V2', 'FIDO_2_0', preview ? 'FIDO_2_1_PRE' : 'FIDO_2_1'];
}

export function resolveBioOptions(b: boolean | VirtualBioOptions | undefined): ResolvedBioOptions | undefined {
  if (b === undefined || b === false) return undefined;
  const o = b === true ? {} : b;
  const int = (v: number | undefined, def: number, min: number, max: number, name: string): number => {
    const n = v ?? def;
    if (!Number.isSafeInteger(n) || n < min || n > max) throw new RangeError(`bio.${name} must be an integer from ${min} to ${max}`);
    return n;
  };
  return {
    samplesRequired: int(o.samplesRequired, 4, 1, 64, 'samplesRequired'),
    maxTemplates: int(o.maxTemplates, 5, 1, 100, 'maxTemplates'),
    maxTemplateFriendlyName: int(o.maxTemplateFriendlyName, 64, 1, 256, 'maxTemplateFriendlyName'),
    sampleStatus: o.sampleStatus,
  };
}

export function parseAaguid(a: Uint8Array | string | undefined): Uint8Array {
  if (a === undefined) return randomBytes(16);
  if (a instanceof Uint8Array) {
    if (a.length !== 16) throw new RangeError('aaguid must be 16 bytes');
    return a.slice();
  }
  const hex = a.replace(/-/g, '');
  if (!/^[0-9a-fA-F]{32}$/.test(hex)) throw new RangeError('aaguid must be a UUID (8-4-4-4-12 hex digits)');
  return Uint8Array.from(hex.match(/../g)!.map((h) => parseInt(h, 16)));
}

