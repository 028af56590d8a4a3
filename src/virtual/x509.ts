/**
 * A minimal DER / X.509 v3 certificate builder (RFC 5280) for the virtual
 * key's attestation chain: a self-signed CA and a batch certificate that
 * meets WebAuthn's packed-attestation requirements (§8.2.1: subject
 * C/O/OU="Authenticator Attestation"/CN, basicConstraints CA:false, the
 * id-fido-gen-ce-aaguid extension). Signatures are ECDSA P-256 / SHA-256.
 * node:crypto parses certificates but cannot create them, hence this file.
 */
import { p256Sign, type P256Point } from '../crypto/primitives.js';
import { sha256 } from '../crypto/hashes.js';
import { concatBytes, utf8Encode } from '../util/bytes.js';

const TAG = {
  BOOLEAN: 0x01,
  INTEGER: 0x02,
  BIT_STRING: 0x03,
  OCTET_STRING: 0x04,
  OID: 0x06,
  UTF8_STRING: 0x0c,
  PRINTABLE_STRING: 0x13,
  UTC_TIME: 0x17,
  GENERALIZED_TIME: 0x18,
  SEQUENCE: 0x30,
  SET: 0x31,
} as const;

export const OID = {
  ecPublicKey: '1.2.840.10045.2.1',
  prime256v1: '1.2.840.10045.3.1.7',
  ecdsaWithSHA256: '1.2.840.10045.4.3.2',
  countryName: '2.5.4.6',
  organizationName: '2.5.4.10',
  organizationalUnitName: '2.5.4.11',
  commonName: '2.5.4.3',
  basicConstraints: '2.5.29.19',
  keyUsage: '2.5.29.15',
  subjectKeyIdentifier: '2.5.29.14',
  authorityKeyIdentifier: '2.5.29.35',
  fidoGenCeAaguid: '1.3.6.1.4.1.45724.1.1.4',
} as const;

export function derLength(n: number): Uint8Array {
  if (n < 0x80) return Uint8Array.of(n);
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
  return Uint8Array.of(0x80 | bytes.length, ...bytes);
}

export function tlv(tag: number, ...content: Uint8Array[]): Uint8Array {
  const body = concatBytes(...content);
  return concatBytes(Uint8Array.of(tag), derLength(body.length), body);
}

export const sequence = (...items: Uint8Array[]): Uint8Array => tlv(TAG.SEQUENCE, ...items);
const set = (...items: Uint8Array[]): Uint8Array => tlv(TAG.SET, ...items);

/** A non-negative INTEGER from big-endian magnitude bytes. */
export function derUnsignedInteger(magnitude: Uint8Array): Uint8Array {
  let i = 0;
  while (i < magnitude.length - 1 && magnitude[i] === 0) i++;
  let m = magnitude.subarray(i);
  if (m.length === 0) m = Uint8Array.of(0);
  if (m[0]! & 0x80) m = concatBytes(Uint8Array.of(0), m);
  return tlv(TAG.INTEGER, m);
}

export function derOid(oid: string): Uint8Array {
  const parts = oid.split('.').map(Number);
  const out: number[] = [parts[0]! * 40 + parts[1]!];
  for (const p of parts.slice(2)) {
    const chunk: number[] = [p & 0x7f];
    for (let v = Math.floor(p / 128); v > 0; v = Math.floor(v / 128)) chunk.unshift(0x80 | (v & 0x7f));
    out.push(...chunk);
  }
  return tlv(TAG.OID, Uint8Array.from(out));
}

const bitString = (bytes: Uint8Array): Uint8Array => tlv(TAG.BIT_STRING, Uint8Array.of(0), bytes);
const octetString = (bytes: Uint8Array): Uint8Array => tlv(TAG.OCTET_STRING, bytes);
const explicit = (n: number, inner: Uint8Array): Uint8Array => tlv(0xa0 | n, inner);

function time(d: Date): Uint8Array {
  const y = d.getUTCFullYear();
  const two = (n: number): string => String(n).padStart(2, '0');
  const rest = `${two(d.getUTCMonth() + 1)}${two(d.getUTCDate())}${two(d.getUTCHours())}${two(d.getUTCMinutes())}${two(d.getUTCSeconds())}Z`;
  // RFC 5280 §4.1.2.5: UTCTime through 2049, GeneralizedTime from 2050.
  if (y >= 1950 && y < 2050) return tlv(TAG.UTC_TIME, utf8Encode(`${two(y % 100)}${rest}`));
  return tlv(TAG.GENERALIZED_TIME, utf8Encode(`${String(y).padStart(4, '0')}${rest}`));
}

export interface DistinguishedName {
  C?: string;
  O?: string;
  OU?: string;
  CN: string;
}

function name(dn: DistinguishedName): Uint8Array {
  const rdn = (oid: string, value: string, printable: boolean): Uint8Array =>
    set(sequence(derOid(oid), tlv(printable ? TAG.PRINTABLE_STRING : TAG.UTF8_STRING, utf8Encode(value))));
  const rdns: Uint8Array[] = [];
  if (dn.C) rdns.push(rdn(OID.countryName, dn.C, true));
  if (dn.O) rdns.push(rdn(OID.organizationName, dn.O, false));
  if (dn.OU) rdns.push(rdn(OID.organizationalUnitName, dn.OU, false));
  rdns.push(rdn(OID.commonName, dn.CN, false));
  return sequence(...rdns);
}

/** SubjectPublicKeyInfo for a P-256 key. */
export function p256Spki(pub: P256Point): Uint8Array {
  return sequence(sequence(derOid(OID.ecPublicKey), derOid(OID.prime256v1)), bitString(concatBytes(Uint8Array.of(4), pub.x, pub.y)));
}

function extension(oid: string, critical: boolean, value: Uint8Array): Uint8Array {
  return critical ? sequence(derOid(oid), tlv(TAG.BOOLEAN, Uint8Array.of(0xff)), octetString(value)) : sequence(derOid(oid), octetString(value));
}

function keyId(pub: P256Point): Uint8Array {
  return sha256(concatBytes(Uint8Array.of(4), pub.x, pub.y)).slice(0, 20);
}

export interface CertificateRequest {
  serial: Uint8Array;
  subject: DistinguishedName;
  issuer: DistinguishedName;
  subjectKey: P256Point;
  issuerKey: P256Point;
  /** The issuer's private scalar (signs the certificate). */
  issuerPrivateKey: Uint8Array;
  notBefore: Date;
  notAfter: Date;
  ca: boolean;
  /** Adds id-fido-gen-ce-aaguid (WebAuthn §8.2.1). */
  aaguid?: Uint8Array | undefined;
}

/** A DER-encoded X.509 v3 certificate. */
export function createCertificate(req: CertificateRequest): Uint8Array {
  const sigAlg = sequence(derOid(OID.ecdsaWithSHA256));
  const exts: Uint8Array[] = [
    extension(OID.basicConstraints, true, req.ca ? sequence(tlv(TAG.BOOLEAN, Uint8Array.of(0xff))) : sequence()),
    // keyUsage: keyCertSign|cRLSign (bits 5,6) for the CA, digitalSignature (bit 0) for the batch key.
    extension(OID.keyUsage, true, req.ca ? tlv(TAG.BIT_STRING, Uint8Array.of(1, 0x06)) : tlv(TAG.BIT_STRING, Uint8Array.of(7, 0x80))),
    extension(OID.subjectKeyIdentifier, false, octetString(keyId(req.subjectKey))),
    extension(OID.authorityKeyIdentifier, false, sequence(tlv(0x80, keyId(req.issuerKey)))),
  ];
  if (req.aaguid) exts.push(extension(OID.fidoGenCeAaguid, false, octetString(req.aaguid)));
  const tbs = sequence(
    explicit(0, derUnsignedInteger(Uint8Array.of(2))),
    derUnsignedInteger(req.serial),
    sigAlg,
    name(req.issuer),
    sequence(time(req.notBefore), time(req.notAfter)),
    name(req.subject),
    p256Spki(req.subjectKey),
    explicit(3, sequence(...exts)),
  );
  const signature = p256Sign(req.issuerPrivateKey, tbs);
  return sequence(tbs, sigAlg, bitString(signature));
}
