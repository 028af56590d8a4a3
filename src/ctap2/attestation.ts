/**
 * Attestation objects (WebAuthn L3 §6.5: text keys fmt / attStmt / authData)
 * and attestation statement verification for the formats a security key
 * produces: packed (x5c and self), fido-u2f and none. tpm, android-key,
 * android-safetynet and apple are decoded and reported as not verified here.
 * Trust (chaining x5c to a root from the FIDO MDS) is the relying party's
 * job: `trustPath` hands the certificates on.
 */
import { X509Certificate } from 'node:crypto';
import { CborMapReader, asArray, asBytes, asMap, decodeCbor, encodeCbor, type CborValue } from '../cbor/index.js';
import { bytesEqual, concatBytes } from '../util/bytes.js';
import { parseAuthenticatorData, type AuthenticatorData, type ParseAuthenticatorDataOptions } from './authenticator-data.js';
import { COSE_ALG, COSE_CRV, COSE_KTY, coseAlgName, verifyCoseSignature, verifySpkiSignature } from './cose-key.js';
import { CtapFormatError } from './format-error.js';

export const ATTESTATION_OBJECT = { fmt: 'fmt', attStmt: 'attStmt', authData: 'authData' } as const;

export const ATTESTATION_FORMAT = {
  packed: 'packed',
  fidoU2f: 'fido-u2f',
  none: 'none',
  tpm: 'tpm',
  androidKey: 'android-key',
  androidSafetynet: 'android-safetynet',
  apple: 'apple',
} as const;

export interface AttestationObject {
  fmt: string;
  attStmt: Map<unknown, unknown>;
  authData: AuthenticatorData;
  /** Where the object's CBOR departs from canonical form (accepted, reported). */
  nonCanonical: string[];
}

/** Bounds for untrusted attestation statements. */
const MAX_CERTS = 16;
const MAX_CERT_LENGTH = 8192;

export function decodeAttestationObject(bytes: Uint8Array, opts?: ParseAuthenticatorDataOptions): AttestationObject {
  const d = decodeCbor(bytes, { context: 'attestationObject' });
  const r = CborMapReader.from(d.value, 'attestationObject');
  const fmt = r.text(ATTESTATION_OBJECT.fmt, 'fmt', 32);
  const attStmt = asMap(r.raw(ATTESTATION_OBJECT.attStmt) ?? (fmt === 'none' ? new Map() : undefined), r.path(ATTESTATION_OBJECT.attStmt));
  const authData = parseAuthenticatorData(r.bytes(ATTESTATION_OBJECT.authData, 'authData'), opts);
  return { fmt, attStmt, authData, nonCanonical: d.nonCanonical };
}

/** Build an attestation object (text keys, canonical order) from a makeCredential result. */
export function encodeAttestationObject(fmt: string, attStmt: Map<unknown, unknown>, authData: Uint8Array): Uint8Array {
  return encodeCbor(
    new Map<string, CborValue>([
      ['fmt', fmt],
      ['attStmt', attStmt as unknown as CborValue],
      ['authData', authData],
    ]),
  );
}

export type AttestationType = 'basic' | 'self' | 'attca' | 'anonca' | 'none' | 'unverified';

export interface AttestationResult {
  fmt: string;
  type: AttestationType;
  /** true: the statement verifies; false: it does not (see `problems`); undefined: format not verified here. */
  valid: boolean | undefined;
  /** The attestation certificate chain (x5c), leaf first; empty for self/none. */
  trustPath: Uint8Array[];
  /** Why it did not verify, or which requirement failed. */
  problems: string[];
  alg?: number | undefined;
}

function certs(attStmt: Map<unknown, unknown>): Uint8Array[] {
  const raw = attStmt.get('x5c');
  if (raw === undefined) return [];
  const list = asArray(raw, 'attStmt x5c');
  if (list.length === 0 || list.length > MAX_CERTS) throw new CtapFormatError('ATTESTATION_INVALID', `attStmt x5c has ${list.length} certificates`);
  return list.map((c, i) => asBytes(c, `attStmt x5c[${i}]`, MAX_CERT_LENGTH));
}

function parseCert(der: Uint8Array): X509Certificate {
  try {
    return new X509Certificate(der);
  } catch (e) {
    throw new CtapFormatError('ATTESTATION_INVALID', 'an x5c certificate is not valid DER X.509', { cause: e });
  }
}

function spkiOf(cert: X509Certificate): Uint8Array {
  const b = cert.publicKey.export({ type: 'spki', format: 'der' });
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength).slice();
}

/** id-fido-gen-ce-aaguid 1.3.6.1.4.1.45724.1.1.4 */
const AAGUID_OID = Uint8Array.of(0x06, 0x0b, 0x2b, 0x06, 0x01, 0x04, 0x01, 0x82, 0xe5, 0x1c, 0x01, 0x01, 0x04);

function indexOf(hay: Uint8Array, needle: Uint8Array): number {
  outer: for (let i = 0; i + needle.length <= hay.length; i++) {
    for (let j = 0; j < needle.length; j++) if (hay[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}

/** The AAGUID in the certificate's id-fido-gen-ce-aaguid extension, if any. */
export function certificateAaguid(der: Uint8Array): Uint8Array | undefined {
  const at = indexOf(der, AAGUID_OID);
  if (at < 0) return undefined;
  let p = at + AAGUID_OID.length;
  if (der[p] === 0x01 && der[p + 1] === 0x01) p += 3; // critical BOOLEAN
  // extnValue OCTET STRING { OCTET STRING (16) }
  if (der[p] === 0x04 && der[p + 1] === 0x12 && der[p + 2] === 0x04 && der[p + 3] === 0x10) return der.slice(p + 4, p + 20);
  return undefined;
}

/** WebAuthn L3 §8.2.1 packed attestation certificate requirements. */
function packedCertProblems(cert: X509Certificate, der: Uint8Array, aaguid: Uint8Array): string[] {
  const problems: string[] = [];
  const subject = cert.subject.split('\n');
  if (!subject.includes('OU=Authenticator Attestation')) problems.push('certificate subject OU is not "Authenticator Attestation"');
  if (!subject.some((s) => s.startsWith('C='))) problems.push('certificate subject has no C');
  if (!subject.some((s) => s.startsWith('O='))) problems.push('certificate subject has no O');
  if (!subject.some((s) => s.startsWith('CN='))) problems.push('certificate subject has no CN');
  if (cert.ca) problems.push('certificate is a CA certificate (basicConstraints CA must be false)');
  const certAaguid = certificateAaguid(der);
  if (certAaguid && !bytesEqual(certAaguid, aaguid)) problems.push('certificate id-fido-gen-ce-aaguid does not match the authData AAGUID');
  return problems;
}

function verifyPacked(attStmt: Map<unknown, unknown>, authData: AuthenticatorData, clientDataHash: Uint8Array): AttestationResult {
  const r = new CborMapReader(attStmt, 'packed attStmt');
  const alg = r.int('alg', 'alg');
  const sig = r.bytes('sig', 'sig', 8192);
  const x5c = certs(attStmt);
  const signed = concatBytes(authData.bytes, clientDataHash);
  const acd = authData.attestedCredentialData!;
  if (x5c.length) {
    const leaf = parseCert(x5c[0]!);
    const problems = packedCertProblems(leaf, x5c[0]!, acd.aaguid);
    let ok = false;
    try {
      ok = verifySpkiSignature(spkiOf(leaf), alg, signed, sig);
    } catch (e) {
      problems.push((e as Error).message);
    }
    if (!ok) problems.unshift(`the attestation signature (${coseAlgName(alg) ?? alg}) does not verify with the x5c certificate`);
    return { fmt: 'packed', type: 'basic', valid: problems.length === 0, trustPath: x5c, problems, alg };
  }
  if (attStmt.has('ecdaaKeyId')) return { fmt: 'packed', type: 'unverified', valid: undefined, trustPath: [], problems: ['ECDAA is not supported'], alg };
  // self attestation: alg must be the credential key's alg, signature by the credential key
  const key = acd.credentialPublicKey;
  const problems: string[] = [];
  if (key.alg !== alg) problems.push(`self attestation alg ${alg} does not match the credential key alg ${String(key.alg)}`);
  let ok = false;
  try {
    ok = problems.length === 0 && verifyCoseSignature(key, signed, sig, alg);
  } catch (e) {
    return { fmt: 'packed', type: 'self', valid: undefined, trustPath: [], problems: [(e as Error).message], alg };
  }
  if (!ok && problems.length === 0) problems.push('the self-attestation signature does not verify with the credential key');
  return { fmt: 'packed', type: 'self', valid: problems.length === 0, trustPath: [], problems, alg };
}

function verifyFidoU2f(attStmt: Map<unknown, unknown>, authData: AuthenticatorData, clientDataHash: Uint8Array): AttestationResult {
  const x5c = certs(attStmt);
  const sig = asBytes(attStmt.get('sig'), 'fido-u2f attStmt sig', 1024);
  const problems: string[] = [];
  if (x5c.length !== 1) problems.push(`fido-u2f needs exactly one certificate, got ${x5c.length}`);
  const key = authData.attestedCredentialData!.credentialPublicKey;
  if (key.kty !== COSE_KTY.EC2 || key.crv !== COSE_CRV.P256 || !key.x || !key.y) problems.push('fido-u2f credential key must be EC2 P-256');
  if (problems.length) return { fmt: 'fido-u2f', type: 'basic', valid: false, trustPath: x5c, problems };
  const cert = parseCert(x5c[0]!);
  const spki = spkiOf(cert);
  // the certificate key must be P-256 (SPKI of an uncompressed P-256 point is 91 bytes with the P-256 OID)
  if (spki.length !== 91 || indexOf(spki, Uint8Array.of(0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07)) < 0) {
    return { fmt: 'fido-u2f', type: 'basic', valid: false, trustPath: x5c, problems: ['fido-u2f certificate key must be EC P-256'] };
  }
  const acd = authData.attestedCredentialData!;
  const verificationData = concatBytes(Uint8Array.of(0), authData.rpIdHash, clientDataHash, acd.credentialId, Uint8Array.of(4), key.x!, key.y!);
  const ok = verifySpkiSignature(spki, COSE_ALG.ES256, verificationData, sig);
  return { fmt: 'fido-u2f', type: 'basic', valid: ok, trustPath: x5c, problems: ok ? [] : ['the fido-u2f signature does not verify with the certificate'], alg: COSE_ALG.ES256 };
}

/**
 * Verify an attestation statement over authData || clientDataHash. Does not
 * chain certificates to a root (no trust anchors here) and does not check
 * certificate validity dates (keys ship certificates that have expired).
 */
export function verifyAttestation(att: Pick<AttestationObject, 'fmt' | 'attStmt' | 'authData'>, clientDataHash: Uint8Array): AttestationResult {
  if (clientDataHash.length !== 32) throw new RangeError('clientDataHash must be 32 bytes');
  if (!att.authData.attestedCredentialData) {
    return { fmt: att.fmt, type: 'unverified', valid: false, trustPath: [], problems: ['authData has no attested credential data'] };
  }
  switch (att.fmt) {
    case ATTESTATION_FORMAT.none:
      return att.attStmt.size === 0
        ? { fmt: 'none', type: 'none', valid: true, trustPath: [], problems: [] }
        : { fmt: 'none', type: 'none', valid: false, trustPath: [], problems: ['attStmt must be empty for fmt none'] };
    case ATTESTATION_FORMAT.packed:
      return verifyPacked(att.attStmt, att.authData, clientDataHash);
    case ATTESTATION_FORMAT.fidoU2f:
      return verifyFidoU2f(att.attStmt, att.authData, clientDataHash);
    default: {
      let trustPath: Uint8Array[] = [];
      try {
        trustPath = certs(att.attStmt);
      } catch {
        /* format-specific layout; reported as unverified either way */
      }
      return { fmt: att.fmt, type: 'unverified', valid: undefined, trustPath, problems: [`attestation format ${att.fmt} is decoded but not verified here`] };
    }
  }
}

/** Summary of an attestation statement's members (for describe / --json). */
export function summarizeAttStmt(attStmt: Map<unknown, unknown>): { alg?: number; sig?: Uint8Array; x5c?: Uint8Array[]; ver?: string } {
  const out: { alg?: number; sig?: Uint8Array; x5c?: Uint8Array[]; ver?: string } = {};
  const alg = attStmt.get('alg');
  if (typeof alg === 'number') out.alg = alg;
  const sig = attStmt.get('sig');
  if (sig instanceof Uint8Array) out.sig = sig;
  const x5c = attStmt.get('x5c');
  if (Array.isArray(x5c) && x5c.every((c) => c instanceof Uint8Array)) out.x5c = x5c as Uint8Array[];
  const ver = attStmt.get('ver');
  if (typeof ver === 'string') out.ver = ver;
  return out;
}

