import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Arena } from '../../../src/platform/windows/arena.js';
import { decodeAssertion, decodeCredentialAttestation, MAX_FIELD_BYTES, transportNames, type MemoryReader } from '../../../src/platform/windows/decode.js';
import { encodeGetAssertion, encodeMakeCredential, transportBits, uvRequirement } from '../../../src/platform/windows/encode.js';
import { layoutOf, WEBAUTHN_ASSERTION, WEBAUTHN_AUTHENTICATOR_GET_ASSERTION_OPTIONS, WEBAUTHN_AUTHENTICATOR_MAKE_CREDENTIAL_OPTIONS, WEBAUTHN_CREDENTIAL_ATTESTATION, WEBAUTHN_CREDENTIAL_LIST, WEBAUTHN_CREDENTIAL_EX } from '../../../src/platform/windows/layout.js';
import { structVersionsFor } from '../../../src/platform/windows/api-versions.js';
import { WebAuthnDllError } from '../../../src/platform/windows/errors.js';

/** Memory made of exact regions; any byte outside them throws (an over-read). */
class RegionMemory implements MemoryReader {
  readonly pointerSize = 8 as const;
  readonly regions: Array<{ at: bigint; bytes: Uint8Array }> = [];
  add(at: bigint, bytes: Uint8Array): void {
    this.regions.push({ at, bytes });
  }
  #slice(addr: bigint, len: number): DataView {
    for (const r of this.regions) {
      if (addr >= r.at && addr + BigInt(len) <= r.at + BigInt(r.bytes.length)) {
        return new DataView(r.bytes.buffer, r.bytes.byteOffset + Number(addr - r.at), len);
      }
    }
    throw new RangeError(`over-read: ${len} bytes at 0x${addr.toString(16)}`);
  }
  u32(a: bigint): number {
    return this.#slice(a, 4).getUint32(0, true);
  }
  i32(a: bigint): number {
    return this.#slice(a, 4).getInt32(0, true);
  }
  ptr(a: bigint): bigint {
    return this.#slice(a, 8).getBigUint64(0, true);
  }
  bytes(a: bigint, len: number): Uint8Array {
    const v = this.#slice(a, len);
    return new Uint8Array(v.buffer.slice(v.byteOffset, v.byteOffset + len));
  }
  utf16z(a: bigint, max: number): string {
    let s = '';
    for (let i = 0; i < max; i++) {
      const c = this.#slice(a + BigInt(i * 2), 2).getUint16(0, true);
      if (c === 0) break;
      s += String.fromCharCode(c);
    }
    return s;
  }
}

const RESULT_AT = 0x7000_0000n;
const DATA_AT = 0x1000_0000n;

/** An assertion struct of `version`, exactly sizeForVersion(version) long, data in its own region. */
function assertionAt(mem: RegionMemory, version: number, opts: { cbSignature?: number } = {}): bigint {
  const l = layoutOf(WEBAUTHN_ASSERTION, 8);
  const data = new Arena(8);
  const authData = data.bytes(new Uint8Array(37).fill(1));
  const sig = data.bytes(new Uint8Array(70).fill(2));
  const id = data.bytes(new Uint8Array(16).fill(3));
  const finished = data.finish(DATA_AT);
  mem.add(DATA_AT, finished);
  const struct = new Uint8Array(l.sizeForVersion(version));
  const v = new DataView(struct.buffer);
  v.setUint32(0, version, true);
  v.setUint32(l.offset('cbAuthenticatorData'), 37, true);
  v.setBigUint64(l.offset('pbAuthenticatorData'), DATA_AT + BigInt(authData), true);
  v.setUint32(l.offset('cbSignature'), opts.cbSignature ?? 70, true);
  v.setBigUint64(l.offset('pbSignature'), DATA_AT + BigInt(sig), true);
  const cred = l.offset('Credential');
  v.setUint32(cred, 1, true);
  v.setUint32(cred + 4, 16, true);
  v.setBigUint64(cred + 8, DATA_AT + BigInt(id), true);
  mem.add(RESULT_AT, struct);
  return RESULT_AT;
}

test('decodeAssertion reads each struct version only up to its own end', () => {
  for (let version = 1; version <= 6; version++) {
    const mem = new RegionMemory();
    const at = assertionAt(mem, version);
    const r = decodeAssertion(mem, at, {
      apiVersion: 9,
      clientDataJSON: new Uint8Array([0x7b, 0x7d]),
      // Everything requested: the decoder must still not look past dwVersion.
      requested: { appid: true, getCredBlob: true, largeBlobRead: true, prf: true },
      appIdUsed: false,
      ignoredExtensions: [],
    });
    assert.equal(r.structVersion, version);
    assert.deepEqual(r.signature, new Uint8Array(70).fill(2));
    assert.deepEqual(r.credentialId, new Uint8Array(16).fill(3));
    assert.equal(r.userHandle, null);
  }
});

test('a struct newer than we know is read up to what we know', () => {
  const mem = new RegionMemory();
  const at = assertionAt(mem, 6);
  new DataView(mem.regions[1]!.bytes.buffer).setUint32(0, 42, true);
  const r = decodeAssertion(mem, at, { apiVersion: 42, clientDataJSON: new Uint8Array(0), requested: {}, appIdUsed: undefined, ignoredExtensions: [] });
  assert.equal(r.structVersion, 6);
});

test('the reader over-read detector works (the test above would catch a decoder that reads too far)', () => {
  const mem = new RegionMemory();
  const at = assertionAt(mem, 1);
  const l = layoutOf(WEBAUTHN_ASSERTION, 8);
  assert.throws(() => mem.u32(at + BigInt(l.offset('dwCredLargeBlobStatus'))), /over-read/);
});

test('hostile lengths and versions are errors, not huge copies', () => {
  const mem = new RegionMemory();
  const at = assertionAt(mem, 1, { cbSignature: MAX_FIELD_BYTES + 1 });
  assert.throws(
    () => decodeAssertion(mem, at, { apiVersion: 1, clientDataJSON: new Uint8Array(0), requested: {}, appIdUsed: undefined, ignoredExtensions: [] }),
    (e: unknown) => e instanceof WebAuthnDllError && e.name === 'UnknownError' && /limit/.test(e.message),
  );
  const zero = new RegionMemory();
  zero.add(RESULT_AT, new Uint8Array(layoutOf(WEBAUTHN_CREDENTIAL_ATTESTATION, 8).size));
  assert.throws(
    () => decodeCredentialAttestation(zero, RESULT_AT, { apiVersion: 1, clientDataJSON: new Uint8Array(0), requested: {}, ignoredExtensions: [] }),
    /dwVersion 0/,
  );
  assert.throws(
    () => decodeCredentialAttestation(zero, 0n, { apiVersion: 1, clientDataJSON: new Uint8Array(0), requested: {}, ignoredExtensions: [] }),
    /returned no/,
  );
});

const creation = {
  clientDataJSON: new Uint8Array([1, 2, 3]),
  rp: { id: 'example.org', name: 'Example' },
  user: { id: new Uint8Array([9]), name: 'a', displayName: 'A' },
  pubKeyCredParams: [{ type: 'public-key', alg: -7 }],
  extensions: { prf: {}, largeBlob: { support: 'required' as const }, credBlob: new Uint8Array([1]) },
  hints: ['security-key'],
};

test('the options struct carries the version of the running API and nothing past it', () => {
  for (let api = 1; api <= 9; api++) {
    for (const [kind, def, enc] of [
      ['makeCredential', WEBAUTHN_AUTHENTICATOR_MAKE_CREDENTIAL_OPTIONS, encodeMakeCredential(creation, api, 8, 1000)],
      ['getAssertion', WEBAUTHN_AUTHENTICATOR_GET_ASSERTION_OPTIONS, encodeGetAssertion({ clientDataJSON: new Uint8Array([1]), rpId: 'x', extensions: { prf: { eval: { first: new Uint8Array(32) } }, largeBlob: { read: true } }, hints: ['hybrid'] }, api, 8, 1000)],
    ] as const) {
      const l = layoutOf(def, 8);
      const bytes = enc.arena.finish(0x5000n);
      const v = new DataView(bytes.buffer);
      const version = v.getUint32(enc.options, true);
      const sv = structVersionsFor(api);
      assert.equal(version, kind === 'makeCredential' ? sv.makeCredentialOptions : sv.getAssertionOptions, `${kind} at API ${api}`);
      const end = l.sizeForVersion(version);
      const tail = bytes.subarray(enc.options + end, enc.options + l.size);
      assert.ok(tail.every((b) => b === 0), `${kind} at API ${api}: fields past v${version} are zero`);
    }
  }
});

test('credential lists are CREDENTIAL_EX pointers with transport bits', () => {
  const enc = encodeGetAssertion(
    {
      clientDataJSON: new Uint8Array([1]),
      rpId: 'x',
      allowCredentials: [
        { type: 'public-key', id: new Uint8Array([0xaa, 0xbb]), transports: ['usb', 'ble', 'bogus'] },
        { type: 'not-a-key', id: new Uint8Array([1]) },
      ],
    },
    9,
    8,
    1000,
  );
  const base = 0x9000n;
  const bytes = enc.arena.finish(base);
  const v = new DataView(bytes.buffer);
  const optL = layoutOf(WEBAUTHN_AUTHENTICATOR_GET_ASSERTION_OPTIONS, 8);
  const listAt = Number(v.getBigUint64(enc.options + optL.offset('pAllowCredentialList'), true) - base);
  const listL = layoutOf(WEBAUTHN_CREDENTIAL_LIST, 8);
  assert.equal(v.getUint32(listAt + listL.offset('cCredentials'), true), 1, 'only public-key descriptors');
  const ptrs = Number(v.getBigUint64(listAt + listL.offset('ppCredentials'), true) - base);
  const ex = Number(v.getBigUint64(ptrs, true) - base);
  const exL = layoutOf(WEBAUTHN_CREDENTIAL_EX, 8);
  assert.equal(v.getUint32(ex + exL.offset('cbId'), true), 2);
  const idAt = Number(v.getBigUint64(ex + exL.offset('pbId'), true) - base);
  assert.deepEqual(bytes.subarray(idAt, idAt + 2), new Uint8Array([0xaa, 0xbb]));
  assert.equal(v.getUint32(ex + exL.offset('dwTransports'), true), 0x01 | 0x04);
});

test('mapping helpers', () => {
  assert.equal(uvRequirement(undefined), 2);
  assert.equal(uvRequirement('required'), 1);
  assert.equal(uvRequirement('discouraged'), 3);
  assert.equal(uvRequirement('bogus'), 2);
  assert.equal(transportBits(['usb', 'nfc', 'ble', 'smart-card', 'hybrid', 'internal']), 0x7f & ~0x08);
  assert.deepEqual(transportNames(0x01 | 0x20), ['usb', 'hybrid']);
  assert.deepEqual(transportNames(0x08), [], 'TEST transport has no WebAuthn name');
});

test('Arena: pointers become absolute against any base; blocks stay aligned', () => {
  fc.assert(
    fc.property(fc.array(fc.uint8Array({ maxLength: 40 }), { maxLength: 12 }), fc.bigInt({ min: 1n, max: (1n << 47n) - 1n }), (chunks, rawBase) => {
      const base = rawBase & ~7n;
      const a = new Arena(8);
      const slots = chunks.map((c) => {
        const slot = a.reserve(8, 8);
        const at = a.bytes(c);
        a.ptr(slot, at);
        return [slot, at, c] as const;
      });
      const out = a.finish(base);
      const v = new DataView(out.buffer);
      for (const [slot, at, c] of slots) {
        assert.equal(slot % 8, 0);
        assert.equal(v.getBigUint64(slot, true), base + BigInt(at));
        assert.deepEqual(out.subarray(at, at + c.length), c);
      }
    }),
  );
});
