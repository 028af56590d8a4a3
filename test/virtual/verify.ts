/** Test-side checks of what the virtual key returns: authData parsing, attestation and assertion signatures. */
import { X509Certificate } from 'node:crypto';
import assert from 'node:assert/strict';
import { CborMapReader, decodeCborPrefix } from '../../src/cbor/index.js';
import { sha256 } from '../../src/crypto/hashes.js';
import { ed25519Verify, p256Verify, verifyWithSpki } from '../../src/crypto/primitives.js';
import { concatBytes, readUint32BE, utf8Encode } from '../../src/util/bytes.js';

export interface ParsedAuthData {
  rpIdHash: Uint8Array;
  flags: number;
  signCount: number;
  aaguid?: Uint8Array;
  credentialId?: Uint8Array;
  publicKey?: CborMapReader;
  extensions?: CborMapReader;
}

export function parseAuthData(a: Uint8Array): ParsedAuthData {
  const out: ParsedAuthData = { rpIdHash: a.slice(0, 32), flags: a[32]!, signCount: readUint32BE(a, 33) };
  let off = 37;
  if (out.flags & 0x40) {
    out.aaguid = a.slice(off, off + 16);
    const len = (a[off + 16]! << 8) | a[off + 17]!;
    out.credentialId = a.slice(off + 18, off + 18 + len);
    off += 18 + len;
    const k = decodeCborPrefix(a, off);
    out.publicKey = CborMapReader.from(k.value, 'cose');
    off += k.length;
  }
  if (out.flags & 0x80) {
    const e = decodeCborPrefix(a, off);
    out.extensions = CborMapReader.from(e.value, 'ext');
    off += e.length;
  }
  assert.equal(off, a.length, 'no trailing bytes in authData');
  return out;
}

export function verifyCose(key: CborMapReader, data: Uint8Array, sig: Uint8Array): boolean {
  const alg = key.int(3);
  if (alg === -7) return p256Verify({ x: key.bytes(-2), y: key.bytes(-3) }, data, sig);
  if (alg === -8) return ed25519Verify(key.bytes(-2), data, sig);
  throw new Error(`alg ${alg}`);
}

/** Checks a makeCredential response; returns the parsed authData. */
export function checkAttestation(value: unknown, rpId: string, clientDataHash: Uint8Array): ParsedAuthData & { x5c?: Uint8Array[] } {
  const r = CborMapReader.from(value, 'mc');
  assert.equal(r.text(1), 'packed');
  const authData = r.bytes(2);
  const ad = parseAuthData(authData);
  assert.deepEqual(ad.rpIdHash, sha256(utf8Encode(rpId)));
  assert.ok(ad.flags & 0x01, 'UP flag');
  const st = r.reader(3);
  const signed = concatBytes(authData, clientDataHash);
  const x5c = st.optionalArray('x5c') as Uint8Array[] | undefined;
  if (x5c) {
    assert.equal(st.int('alg'), -7);
    const leaf = new X509Certificate(x5c[0]!);
    const ca = new X509Certificate(x5c[1]!);
    assert.ok(leaf.verify(ca.publicKey), 'batch certificate signed by the CA');
    assert.ok(ca.verify(ca.publicKey), 'CA self-signed');
    assert.ok(leaf.subject.includes('OU=Authenticator Attestation'));
    const spki = new Uint8Array(leaf.publicKey.export({ type: 'spki', format: 'der' }));
    assert.ok(verifyWithSpki(spki, 'sha256', signed, st.bytes('sig')), 'attestation signature');
  } else {
    assert.equal(st.int('alg'), ad.publicKey!.int(3));
    assert.ok(verifyCose(ad.publicKey!, signed, st.bytes('sig')), 'self attestation signature');
  }
  return { ...ad, ...(x5c ? { x5c } : {}) };
}

export function checkAssertion(value: unknown, publicKey: CborMapReader, rpId: string, clientDataHash: Uint8Array): ParsedAuthData & { id: Uint8Array; user?: CborMapReader; numberOfCredentials?: number } {
  const r = CborMapReader.from(value, 'ga');
  const authData = r.bytes(2);
  const ad = parseAuthData(authData);
  assert.deepEqual(ad.rpIdHash, sha256(utf8Encode(rpId)));
  assert.ok(verifyCose(publicKey, concatBytes(authData, clientDataHash), r.bytes(3)), 'assertion signature');
  const user = r.optionalReader(4);
  const n = r.optionalUint(5);
  return { ...ad, id: r.reader(1).bytes('id'), ...(user ? { user } : {}), ...(n !== undefined ? { numberOfCredentials: n } : {}) };
}
