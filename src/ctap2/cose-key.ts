/**
 * COSE_Key (RFC 9052/9053, as CTAP and WebAuthn use it): decode EC2
 * P-256/384/521, OKP Ed25519/X25519, RSA, keep anything else as raw; convert
 * to SubjectPublicKeyInfo DER (WebAuthn getPublicKey()); verify signatures.
 */
import { CborMapReader, decodeCbor, encodeCbor, type CborKey } from '../cbor/index.js';
import { rsaPssVerifyWithSpki, verifyWithSpki, type P256Point } from '../crypto/primitives.js';
import { concatBytes } from '../util/bytes.js';
import { CtapFormatError } from './format-error.js';

/** Common COSE_Key parameters (RFC 9052 §7.1). */
export const COSE_KEY_PARAM = { kty: 1, kid: 2, alg: 3, keyOps: 4, baseIv: 5 } as const;
/** EC2 parameters (RFC 9053 §7.1.1). */
export const COSE_EC2 = { crv: -1, x: -2, y: -3 } as const;
/** OKP parameters (RFC 9053 §7.2). */
export const COSE_OKP = { crv: -1, x: -2 } as const;
/** RSA parameters (RFC 8230 §4). */
export const COSE_RSA = { n: -1, e: -2 } as const;
/** AKP (ML-DSA) parameters (draft-ietf-cose-dilithium). */
export const COSE_AKP = { pub: -1 } as const;

export const COSE_KTY = { OKP: 1, EC2: 2, RSA: 3, Symmetric: 4, AKP: 7 } as const;

/** COSE algorithm identifiers used by FIDO authenticators (IANA COSE registry). */
export const COSE_ALG = {
  ES256: -7,
  EdDSA: -8,
  ESP256: -9,
  Ed25519: -19,
  ECDH_ES_HKDF_256: -25,
  ES384: -35,
  ES512: -36,
  PS256: -37,
  PS384: -38,
  PS512: -39,
  ES256K: -47,
  ML_DSA_44: -48,
  ML_DSA_65: -49,
  ML_DSA_87: -50,
  ESP384: -51,
  ESP512: -52,
  RS256: -257,
  RS384: -258,
  RS512: -259,
  RS1: -65535,
} as const;

export const COSE_CRV = { P256: 1, P384: 2, P521: 3, X25519: 4, X448: 5, Ed25519: 6, Ed448: 7, secp256k1: 8 } as const;

const ALG_NAMES: Readonly<Record<number, string>> = {
  [-7]: 'ES256',
  [-8]: 'EdDSA',
  [-9]: 'ESP256',
  [-19]: 'Ed25519',
  [-25]: 'ECDH-ES+HKDF-256',
  [-35]: 'ES384',
  [-36]: 'ES512',
  [-37]: 'PS256',
  [-38]: 'PS384',
  [-39]: 'PS512',
  [-47]: 'ES256K',
  [-48]: 'ML-DSA-44',
  [-49]: 'ML-DSA-65',
  [-50]: 'ML-DSA-87',
  [-51]: 'ESP384',
  [-52]: 'ESP512',
  [-257]: 'RS256',
  [-258]: 'RS384',
  [-259]: 'RS512',
  [-65535]: 'RS1',
};
const KTY_NAMES: Readonly<Record<number, string>> = { 1: 'OKP', 2: 'EC2', 3: 'RSA', 4: 'Symmetric', 7: 'AKP' };
const CRV_NAMES: Readonly<Record<number, string>> = { 1: 'P-256', 2: 'P-384', 3: 'P-521', 4: 'X25519', 5: 'X448', 6: 'Ed25519', 7: 'Ed448', 8: 'secp256k1' };

export function coseAlgName(alg: number): string | undefined {
  return ALG_NAMES[alg];
}
export function coseKtyName(kty: number): string | undefined {
  return KTY_NAMES[kty];
}
export function coseCrvName(crv: number): string | undefined {
  return CRV_NAMES[crv];
}

/** Coordinate length of each curve (bytes). */
const EC2_COORD: Readonly<Record<number, number>> = { 1: 32, 2: 48, 3: 66, 8: 32 };
const OKP_KEY: Readonly<Record<number, number>> = { 4: 32, 5: 56, 6: 32, 7: 57 };

export interface CoseKey {
  kty: number;
  alg: number | undefined;
  crv?: number | undefined;
  x?: Uint8Array | undefined;
  y?: Uint8Array | undefined;
  n?: Uint8Array | undefined;
  e?: Uint8Array | undefined;
  /** AKP (ML-DSA) public key. */
  pub?: Uint8Array | undefined;
  /** The decoded map as the key sent it (every parameter, known or not). */
  raw: Map<unknown, unknown>;
}

const MAX_RSA_MODULUS = 1024; // 8192-bit

/** Decode a COSE_Key from an already-decoded CBOR map. Throws CborError / CtapFormatError naming the fault. */
export function decodeCoseKey(value: unknown, context = 'COSE_Key'): CoseKey {
  const r = CborMapReader.from(value, context);
  const kty = r.int(COSE_KEY_PARAM.kty, 'kty');
  const alg = r.optionalInt(COSE_KEY_PARAM.alg, 'alg');
  const key: CoseKey = { kty, alg, raw: r.map };
  if (kty === COSE_KTY.EC2) {
    const crv = r.int(COSE_EC2.crv, 'crv');
    const size = EC2_COORD[crv];
    const x = r.bytes(COSE_EC2.x, 'x');
    const yRaw = r.raw(COSE_EC2.y);
    if (typeof yRaw === 'boolean') throw new CtapFormatError('COSE_KEY_UNSUPPORTED', `${context}: compressed EC points are not used in CTAP`);
    const y = r.bytes(COSE_EC2.y, 'y');
    if (size !== undefined && (x.length !== size || y.length !== size)) {
      throw new CtapFormatError('COSE_KEY_INVALID', `${context}: ${coseCrvName(crv)} coordinates must be ${size} bytes, got x ${x.length}, y ${y.length}`);
    }
    if (size === undefined && (x.length > 66 || y.length > 66)) throw new CtapFormatError('COSE_KEY_INVALID', `${context}: EC coordinates too long`);
    Object.assign(key, { crv, x, y });
  } else if (kty === COSE_KTY.OKP) {
    const crv = r.int(COSE_OKP.crv, 'crv');
    const x = r.bytes(COSE_OKP.x, 'x');
    const size = OKP_KEY[crv];
    if (size !== undefined && x.length !== size) throw new CtapFormatError('COSE_KEY_INVALID', `${context}: ${coseCrvName(crv)} key must be ${size} bytes, got ${x.length}`);
    if (size === undefined && x.length > 64) throw new CtapFormatError('COSE_KEY_INVALID', `${context}: OKP key too long`);
    Object.assign(key, { crv, x });
  } else if (kty === COSE_KTY.RSA) {
    const n = r.bytes(COSE_RSA.n, 'n', MAX_RSA_MODULUS);
    const e = r.bytes(COSE_RSA.e, 'e', 16);
    if (n.length < 64 || n[0] === 0) throw new CtapFormatError('COSE_KEY_INVALID', `${context}: RSA modulus of ${n.length} bytes is not a valid key`);
    if (e.length === 0) throw new CtapFormatError('COSE_KEY_INVALID', `${context}: RSA exponent is empty`);
    Object.assign(key, { n, e });
  } else if (kty === COSE_KTY.AKP) {
    Object.assign(key, { pub: r.optionalBytes(COSE_AKP.pub, 'pub', 8192) });
  }
  return key;
}

export interface ParsedCoseKey {
  key: CoseKey;
  /** Where the encoding departs from CTAP2 canonical CBOR (empty when canonical). */
  nonCanonical: string[];
}

/** Decode COSE_Key bytes (exactly one CBOR map, nothing after it). */
export function parseCoseKey(bytes: Uint8Array, context = 'COSE_Key'): ParsedCoseKey {
  const d = decodeCbor(bytes, { context });
  return { key: decodeCoseKey(d.value, context), nonCanonical: d.nonCanonical };
}

/** Canonical COSE_Key bytes for an EC2 key (kty, alg, crv, x, y). */
export function encodeEc2CoseKey(alg: number, crv: number, x: Uint8Array, y: Uint8Array): Uint8Array {
  return encodeCbor(
    new Map<CborKey, Uint8Array | number>([
      [COSE_KEY_PARAM.kty, COSE_KTY.EC2],
      [COSE_KEY_PARAM.alg, alg],
      [COSE_EC2.crv, crv],
      [COSE_EC2.x, x],
      [COSE_EC2.y, y],
    ]),
  );
}

/** COSE_Key bytes for an ES256 credential key (or, with alg -25, a PIN protocol key-agreement key). */
export function coseFromP256Point(point: P256Point, alg: number = COSE_ALG.ES256): Uint8Array {
  if (point.x.length !== 32 || point.y.length !== 32) throw new RangeError('coseFromP256Point: x and y must be 32 bytes');
  return encodeEc2CoseKey(alg, COSE_CRV.P256, point.x, point.y);
}

/** The COSE_Key map value (for embedding in a larger CBOR structure, e.g. keyAgreement). */
export function coseMapFromP256Point(point: P256Point, alg: number = COSE_ALG.ES256): Map<CborKey, Uint8Array | number> {
  return new Map<CborKey, Uint8Array | number>([
    [COSE_KEY_PARAM.kty, COSE_KTY.EC2],
    [COSE_KEY_PARAM.alg, alg],
    [COSE_EC2.crv, COSE_CRV.P256],
    [COSE_EC2.x, point.x],
    [COSE_EC2.y, point.y],
  ]);
}

/** The P-256 point of an EC2 COSE key (ES256 or ECDH-ES+HKDF-256). Throws when it is another kind of key or not on the curve. */
export function coseToP256Point(key: CoseKey): P256Point {
  if (key.kty !== COSE_KTY.EC2 || key.crv !== COSE_CRV.P256 || !key.x || !key.y) {
    throw new CtapFormatError('COSE_KEY_INVALID', `expected an EC2 P-256 key, got kty ${key.kty} crv ${String(key.crv)}`);
  }
  const point = { x: key.x, y: key.y };
  if (!isOnCurve(COSE_CRV.P256, point.x, point.y)) throw new CtapFormatError('COSE_KEY_INVALID', 'the P-256 point is not on the curve');
  return point;
}

/** COSE_Key bytes for an Ed25519 (EdDSA) credential key. */
export function coseFromEd25519(publicKey: Uint8Array, alg: number = COSE_ALG.EdDSA): Uint8Array {
  if (publicKey.length !== 32) throw new RangeError('coseFromEd25519: the key must be 32 bytes');
  return encodeCbor(
    new Map<CborKey, Uint8Array | number>([
      [COSE_KEY_PARAM.kty, COSE_KTY.OKP],
      [COSE_KEY_PARAM.alg, alg],
      [COSE_OKP.crv, COSE_CRV.Ed25519],
      [COSE_OKP.x, publicKey],
    ]),
  );
}

// ---- curve check (pure BigInt; short Weierstrass y^2 = x^3 - 3x + b) ----

const CURVES: Readonly<Record<number, { p: bigint; b: bigint }>> = {
  1: {
    p: 0xffffffff00000001000000000000000000000000ffffffffffffffffffffffffn,
    b: 0x5ac635d8aa3a93e7b3ebbd55769886bc651d06b0cc53b0f63bce3c3e27d2604bn,
  },
  2: {
    p: 0xfffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffeffffffff0000000000000000ffffffffn,
    b: 0xb3312fa7e23ee7e4988e056be3f82d19181d9c6efe8141120314088f5013875ac656398d8a2ed19d2a85c8edd3ec2aefn,
  },
  3: {
    p: (1n << 521n) - 1n,
    b: 0x0051953eb9618e1c9a1f929a21a0b68540eea2da725b99b315f3b8b489918ef109e156193951ec7e937b1652c0bd3bb1bf073573df883d2c34f1ef451fd46b503f00n,
  },
};

function toBig(b: Uint8Array): bigint {
  let v = 0n;
  for (const x of b) v = (v << 8n) | BigInt(x);
  return v;
}

/** Whether (x, y) is a point on the NIST curve `crv` (COSE crv 1, 2, 3). */
export function isOnCurve(crv: number, x: Uint8Array, y: Uint8Array): boolean {
  const c = CURVES[crv];
  if (!c) return false;
  const X = toBig(x);
  const Y = toBig(y);
  if (X >= c.p || Y >= c.p) return false;
  const lhs = (Y * Y) % c.p;
  const rhs = (((X * X * X - 3n * X + c.b) % c.p) + c.p) % c.p;
  return lhs === rhs;
}

// ---- SubjectPublicKeyInfo DER ----

function derLength(n: number): Uint8Array {
  if (n < 0x80) return Uint8Array.of(n);
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
  return Uint8Array.of(0x80 | bytes.length, ...bytes);
}
function der(tag: number, ...content: Uint8Array[]): Uint8Array {
  const body = concatBytes(...content);
  return concatBytes(Uint8Array.of(tag), derLength(body.length), body);
}
function derUint(b: Uint8Array): Uint8Array {
  let i = 0;
  while (i < b.length - 1 && b[i] === 0) i++;
  const v = b.subarray(i);
  return der(0x02, (v[0] ?? 0) & 0x80 ? concatBytes(Uint8Array.of(0), v) : v);
}
const bitString = (b: Uint8Array): Uint8Array => der(0x03, Uint8Array.of(0), b);

const OID = {
  ecPublicKey: Uint8Array.of(0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01),
  P256: Uint8Array.of(0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07),
  P384: Uint8Array.of(0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x22),
  P521: Uint8Array.of(0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x23),
  secp256k1: Uint8Array.of(0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x0a),
  rsaEncryption: Uint8Array.of(0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01),
  X25519: Uint8Array.of(0x06, 0x03, 0x2b, 0x65, 0x6e),
  X448: Uint8Array.of(0x06, 0x03, 0x2b, 0x65, 0x6f),
  Ed25519: Uint8Array.of(0x06, 0x03, 0x2b, 0x65, 0x70),
  Ed448: Uint8Array.of(0x06, 0x03, 0x2b, 0x65, 0x71),
} as const;
const EC_CURVE_OID: Readonly<Record<number, Uint8Array>> = { 1: OID.P256, 2: OID.P384, 3: OID.P521, 8: OID.secp256k1 };
const OKP_OID: Readonly<Record<number, Uint8Array>> = { 4: OID.X25519, 5: OID.X448, 6: OID.Ed25519, 7: OID.Ed448 };

/** SubjectPublicKeyInfo DER (what WebAuthn's getPublicKey() returns); undefined for keys without a standard SPKI here (AKP, symmetric). */
export function coseKeyToSpki(key: CoseKey): Uint8Array | undefined {
  if (key.kty === COSE_KTY.EC2 && key.x && key.y && key.crv !== undefined) {
    const curve = EC_CURVE_OID[key.crv];
    if (!curve) return undefined;
    return der(0x30, der(0x30, OID.ecPublicKey, curve), bitString(concatBytes(Uint8Array.of(4), key.x, key.y)));
  }
  if (key.kty === COSE_KTY.OKP && key.x && key.crv !== undefined) {
    const oid = OKP_OID[key.crv];
    if (!oid) return undefined;
    return der(0x30, der(0x30, oid), bitString(key.x));
  }
  if (key.kty === COSE_KTY.RSA && key.n && key.e) {
    return der(0x30, der(0x30, OID.rsaEncryption, Uint8Array.of(0x05, 0x00)), bitString(der(0x30, derUint(key.n), derUint(key.e))));
  }
  return undefined;
}

const HASH_OF: Readonly<Record<number, 'sha256' | 'sha384' | 'sha512' | null>> = {
  [-7]: 'sha256',
  [-9]: 'sha256',
  [-35]: 'sha384',
  [-51]: 'sha384',
  [-36]: 'sha512',
  [-52]: 'sha512',
  [-47]: 'sha256',
  [-257]: 'sha256',
  [-258]: 'sha384',
  [-259]: 'sha512',
  [-37]: 'sha256',
  [-38]: 'sha384',
  [-39]: 'sha512',
  [-8]: null,
  [-19]: null,
};

/** RSASSA-PSS algorithms (RFC 8230 §2): MGF1 with the same hash, salt length = hash length. */
const RSA_PSS_ALGS: ReadonlySet<number> = new Set([-37, -38, -39]);

function verifyBySpki(spki: Uint8Array, alg: number, data: Uint8Array, signature: Uint8Array): boolean {
  const hash = HASH_OF[alg]!;
  if (RSA_PSS_ALGS.has(alg)) return rsaPssVerifyWithSpki(spki, hash as 'sha256' | 'sha384' | 'sha512', data, signature);
  return verifyWithSpki(spki, hash, data, signature);
}

/** The curve each fully-specified algorithm requires (RFC 9053, RFC 9864). */
const ALG_CURVE: Readonly<Record<number, number>> = { [-7]: 1, [-9]: 1, [-35]: 2, [-51]: 2, [-36]: 3, [-52]: 3, [-47]: 8, [-19]: 6 };

/**
 * Verify `signature` over `data` with a credential's COSE key, using `alg`
 * (defaults to the key's own alg). ECDSA signatures are DER (as WebAuthn
 * carries them). Returns false for a bad signature; throws CtapFormatError
 * when the algorithm is not supported here (ML-DSA, RS1).
 */
export function verifyCoseSignature(key: CoseKey, data: Uint8Array, signature: Uint8Array, alg: number | undefined = key.alg): boolean {
  if (alg === undefined) throw new CtapFormatError('COSE_KEY_UNSUPPORTED', 'the COSE key has no alg and none was given');
  if (!(alg in HASH_OF)) throw new CtapFormatError('COSE_KEY_UNSUPPORTED', `signature algorithm ${coseAlgName(alg) ?? alg} is not supported for verification`);
  const expectKty = alg === -8 || alg === -19 ? COSE_KTY.OKP : alg === -257 || alg === -258 || alg === -259 || RSA_PSS_ALGS.has(alg) ? COSE_KTY.RSA : COSE_KTY.EC2;
  if (key.kty !== expectKty) throw new CtapFormatError('COSE_KEY_INVALID', `a ${coseKtyName(key.kty) ?? key.kty} key cannot verify ${coseAlgName(alg)}`);
  const curve = ALG_CURVE[alg];
  if (curve !== undefined && key.crv !== curve) {
    throw new CtapFormatError('COSE_KEY_INVALID', `${coseAlgName(alg)} needs a ${coseCrvName(curve)} key, this one is ${coseCrvName(key.crv ?? 0) ?? String(key.crv)}`);
  }
  if (key.kty === COSE_KTY.EC2 && key.crv !== undefined && key.x && key.y && !isOnCurve(key.crv, key.x, key.y) && key.crv !== COSE_CRV.secp256k1) return false;
  const spki = coseKeyToSpki(key);
  if (!spki) throw new CtapFormatError('COSE_KEY_UNSUPPORTED', 'no SubjectPublicKeyInfo for this key');
  try {
    return verifyBySpki(spki, alg, data, signature);
  } catch {
    // node rejects malformed DER signatures and unusable keys by throwing: that is a failed verification
    return false;
  }
}

/** Verify with a raw SubjectPublicKeyInfo (e.g. an attestation certificate's key). */
export function verifySpkiSignature(spki: Uint8Array, alg: number, data: Uint8Array, signature: Uint8Array): boolean {
  if (!(alg in HASH_OF)) throw new CtapFormatError('COSE_KEY_UNSUPPORTED', `signature algorithm ${coseAlgName(alg) ?? alg} is not supported for verification`);
  try {
    return verifyBySpki(spki, alg, data, signature);
  } catch {
    return false;
  }
}

