/**
 * pinUvAuthToken permissions (CTAP 2.2 §6.5.5.7) and the getInfo feature
 * checks every command family makes before it talks to the key.
 *
 * A feature the key does not advertise is reported locally, before anything
 * is sent, as an UnsupportedFeatureError: a CtapError with the status the key
 * itself would have answered (CTAP1_ERR_INVALID_COMMAND, or
 * CTAP2_ERR_UNSUPPORTED_OPTION / CTAP2_ERR_UNSUPPORTED_EXTENSION where that is
 * what the spec says), so callers that already handle CtapError (and the
 * WebAuthn mapping) need nothing new; `feature` names what is missing and
 * the message says so plainly ("this key does not support credential
 * management").
 */
import { CTAP2_STATUS, CtapError } from './status.js';

export const PERMISSION = {
  /** makeCredential */
  mc: 0x01,
  /** getAssertion */
  ga: 0x02,
  /** credentialManagement */
  cm: 0x04,
  /** bioEnrollment */
  be: 0x08,
  /** largeBlobWrite */
  lbw: 0x10,
  /** authenticatorConfig */
  acfg: 0x20,
  /** persistentCredentialManagementReadOnly (CTAP 2.2) */
  pcmr: 0x40,
} as const;

export type PermissionName = keyof typeof PERMISSION;

/** Permission names in a bit mask, in bit order. */
export function permissionNames(mask: number): PermissionName[] {
  return (Object.keys(PERMISSION) as PermissionName[]).filter((n) => (mask & PERMISSION[n]) !== 0);
}

/** A bit mask from names or a number. */
export function permissionMask(p: number | readonly PermissionName[]): number {
  if (typeof p === 'number') {
    if (!Number.isInteger(p) || p < 1 || p > 0xff) throw new RangeError('permissions must be a non-zero 8-bit mask');
    return p;
  }
  let m = 0;
  for (const n of p) {
    const bit = PERMISSION[n];
    if (bit === undefined) throw new RangeError(`unknown permission ${String(n)}`);
    m |= bit;
  }
  if (m === 0) throw new RangeError('at least one permission is needed');
  return m;
}

/**
 * The getInfo members the command families look at, by their spec names.
 * Structural, so the full AuthenticatorInfo (get-info.ts) fits it; `options`
 * may be a plain record or a Map.
 */
export interface FeatureInfo {
  versions?: readonly string[] | undefined;
  extensions?: readonly string[] | undefined;
  options?: Readonly<Record<string, boolean | undefined>> | ReadonlyMap<string, boolean> | undefined;
  maxMsgSize?: number | undefined;
  pinUvAuthProtocols?: readonly number[] | undefined;
  maxSerializedLargeBlobArray?: number | undefined;
  forcePINChange?: boolean | undefined;
  minPINLength?: number | undefined;
  maxCredBlobLength?: number | undefined;
  maxRPIDsForSetMinPINLength?: number | undefined;
  vendorPrototypeConfigCommands?: readonly (number | bigint)[] | undefined;
}

/** An option's value: true, false, or undefined when the key does not list it. */
export function infoOption(info: FeatureInfo, name: string): boolean | undefined {
  const o = info.options;
  if (!o) return undefined;
  if (o instanceof Map) return o.get(name);
  const v = (o as Readonly<Record<string, boolean | undefined>>)[name];
  return typeof v === 'boolean' ? v : undefined;
}

/**
 * Throws TypeError when token carries explicit permissions and none of the bits in mask
 * (e.g. PERMISSION.lbw). A legacy token (permissions 0) is the key's to judge; no token passes.
 */
export function requirePermission(token: { readonly permissions: number } | undefined, mask: number, what: string): void {
  if (token && token.permissions !== 0 && (token.permissions & mask) === 0) throw new TypeError(`the pinUvAuthToken lacks the ${what} permission`);
}

export function infoHasExtension(info: FeatureInfo, id: string): boolean {
  return info.extensions?.includes(id) ?? false;
}

/** The key lacks a feature; raised locally before anything is sent. */
export class UnsupportedFeatureError extends CtapError {
  /** What is missing, e.g. "credentialManagement", "hmac-secret", "pinUvAuthToken". */
  readonly feature: string;
  constructor(feature: string, message: string, options?: { command?: number; status?: number }) {
    super(options?.status ?? CTAP2_STATUS.CTAP1_ERR_INVALID_COMMAND, { message, ...(options?.command !== undefined ? { command: options.command } : {}) });
    this.feature = feature;
  }
}

/**
 * PIN/UV auth protocol for this key: 2 when offered (it is the stronger
 * one), else 1; a CTAP 2.0 key that lists none but has clientPin speaks 1.
 */
export function choosePinProtocol(info: FeatureInfo, prefer?: 1 | 2): 1 | 2 {
  const offered = info.pinUvAuthProtocols;
  if (!offered || offered.length === 0) {
    if (prefer === 2) throw new UnsupportedFeatureError('pinUvAuthProtocol 2', 'this key does not support PIN/UV auth protocol 2');
    return 1;
  }
  if (prefer !== undefined) {
    if (!offered.includes(prefer)) throw new UnsupportedFeatureError(`pinUvAuthProtocol ${prefer}`, `this key does not support PIN/UV auth protocol ${prefer} (it offers ${offered.join(', ')})`);
    return prefer;
  }
  if (offered.includes(2)) return 2;
  if (offered.includes(1)) return 1;
  throw new UnsupportedFeatureError('pinUvAuthProtocol', `this key offers only PIN/UV auth protocols this client does not know (${offered.join(', ')})`);
}
