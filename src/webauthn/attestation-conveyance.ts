/**
 * Attestation conveyance (WebAuthn L3 §5.4.7, §5.1.3 step "attestation"):
 * what the client does to the authenticator's attestation before the RP sees it.
 *
 * - none: the statement is replaced by fmt "none" and an empty attStmt, and
 *   the AAGUID in the attested credential data is zeroed. Zeroing is what
 *   Chromium 156 does (02-create-none-noext.json: aaguid 00000000-…); L3 lets
 *   the client replace the AAGUID ("MAY replace the aaguid and attestation
 *   statement ... with meaningless client-generated values"), so this keeps
 *   the key model private as browsers do. The one exception the spec names is
 *   kept as is: packed self attestation (zero AAGUID, no x5c) reveals nothing.
 *   Zeroing the AAGUID breaks no signature: only the dropped attStmt signed it.
 * - indirect: passed through unchanged (no anonymisation CA; Chromium does
 *   the same — "indirect is not anonymised").
 * - direct: passed through unchanged.
 * - enterprise: passed through; the enterpriseAttestation request parameter
 *   is only sent when the application allowed the RP ID (client option
 *   `enterpriseAttestationRpIds`) and the key lists the "ep" option;
 *   otherwise the key gives its ordinary attestation, i.e. as direct.
 */
import { encodeCbor, type CborValue } from '../cbor/index.js';
import type { AttestationConveyance } from './options.js';

/** Offset of the AAGUID inside authenticatorData: rpIdHash(32) | flags(1) | signCount(4). */
export const AAGUID_OFFSET = 37;

export interface RawAttestation {
  fmt: string;
  attStmt: ReadonlyMap<unknown, unknown>;
  /** authenticatorData bytes as the key sent them (AT flag set). */
  authData: Uint8Array;
}

export interface ConveyedAttestation {
  fmt: string;
  attStmt: ReadonlyMap<unknown, unknown>;
  authData: Uint8Array;
  /** The CBOR attestationObject {fmt, attStmt, authData}. */
  attestationObject: Uint8Array;
}

function isZero(b: Uint8Array): boolean {
  return b.every((x) => x === 0);
}

/** §5.1.3: packed self attestation needs no anonymising. */
export function isSelfAttestation(a: RawAttestation): boolean {
  return a.fmt === 'packed' && !a.attStmt.has('x5c') && isZero(a.authData.subarray(AAGUID_OFFSET, AAGUID_OFFSET + 16));
}

export function encodeAttestationObject(fmt: string, attStmt: ReadonlyMap<unknown, unknown>, authData: Uint8Array): Uint8Array {
  return encodeCbor(new Map<string, CborValue>([
    ['fmt', fmt],
    ['attStmt', attStmt as ReadonlyMap<string, CborValue>],
    ['authData', authData],
  ]));
}

export function conveyAttestation(conveyance: AttestationConveyance, raw: RawAttestation): ConveyedAttestation {
  if (conveyance === 'none' && raw.fmt !== 'none' && !isSelfAttestation(raw)) {
    const authData = raw.authData.slice();
    authData.fill(0, AAGUID_OFFSET, AAGUID_OFFSET + 16);
    const attStmt = new Map();
    return { fmt: 'none', attStmt, authData, attestationObject: encodeAttestationObject('none', attStmt, authData) };
  }
  if (conveyance === 'none' && raw.fmt === 'none') {
    // Already "none" — still zero the AAGUID, as Chromium does.
    const authData = raw.authData.slice();
    authData.fill(0, AAGUID_OFFSET, AAGUID_OFFSET + 16);
    return { fmt: 'none', attStmt: new Map(), authData, attestationObject: encodeAttestationObject('none', new Map(), authData) };
  }
  return { ...raw, attestationObject: encodeAttestationObject(raw.fmt, raw.attStmt, raw.authData) };
}
