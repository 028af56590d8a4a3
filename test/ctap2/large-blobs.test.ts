import { test } from 'node:test';
import assert from 'node:assert/strict';
import { deflateRawSync } from 'node:zlib';
import { CborError, decodeCbor, encodeCbor, type CborValue } from '../../src/cbor/index.js';
import { sha256 } from '../../src/crypto/hashes.js';
import { aes256GcmEncrypt, randomBytes } from '../../src/crypto/primitives.js';
import { CTAP2_CMD } from '../../src/ctap2/commands.js';
import { ClientPin } from '../../src/ctap2/client-pin.js';
import {
  decodeLargeBlobsResponse,
  decodeSerializedLargeBlobArray,
  decryptLargeBlob,
  encodeSerializedLargeBlobArray,
  encryptLargeBlob,
  INITIAL_SERIALIZED_LARGE_BLOB_ARRAY,
  LARGE_BLOB_ARRAY_CEILING,
  LARGE_BLOB_ORIG_SIZE_CEILING,
  largeBlobsAuthMessage,
  LargeBlobs,
} from '../../src/ctap2/large-blobs.js';
import { PERMISSION, UnsupportedFeatureError } from '../../src/ctap2/permissions.js';
import { CtapError } from '../../src/ctap2/status.js';
import { bytesEqual, concatBytes, fromHex, toHex, utf8Encode } from '../../src/util/bytes.js';
import { loadVectors } from '../helpers/vectors.js';
import { FakeKey, FakeStatus } from './fake-ctap2-key.js';

test('the initial serialized array is 0x80 || LEFT(SHA-256(0x80), 16) (CTAP 2.2 §6.10.2)', () => {
  assert.equal(toHex(INITIAL_SERIALIZED_LARGE_BLOB_ARRAY), '8076be8b528d0075f7aae98d6fa57a6d3c');
  assert.deepEqual(decodeSerializedLargeBlobArray(INITIAL_SERIALIZED_LARGE_BLOB_ARRAY), { items: [], valid: true });
});

test('libfido2 recorded largeBlobs get: the typed decoder returns config, the hash checks, the entry decodes', () => {
  const v = loadVectors('ctap2-responses').find((x) => x.id === 'libfido2-largeblobs-get')!;
  const bytes = fromHex(v.input);
  assert.equal(bytes[0], 0);
  const { config } = decodeLargeBlobsResponse(decodeCbor(bytes.subarray(1)).value);
  assert.equal(toHex(config!), (v.expected as { decoded: { config: string } }).decoded.config);
  const arr = decodeSerializedLargeBlobArray(config!);
  assert.equal(arr.valid, true);
  assert.equal(arr.items.length, 1);
  const e = arr.items[0]!.entry!;
  assert.equal(e.nonce.length, 12);
  assert.equal(e.ciphertext.length, 0x1b8);
  // the item's raw bytes re-serialize to exactly what the key stored
  assert.deepEqual(encodeSerializedLargeBlobArray(arr.items), config);
  // a flipped bit in the hash: treated as the initial (empty) array
  const bad = config!.slice();
  bad[bad.length - 1]! ^= 1;
  assert.deepEqual(decodeSerializedLargeBlobArray(bad), { items: [], valid: false });
});

test('per-credential blob: DEFLATE + AES-256-GCM round trip, bound to key and origSize', () => {
  const key = randomBytes(32);
  const data = utf8Encode('a certificate or any opaque data '.repeat(20));
  const item = encryptLargeBlob(key, data, new Uint8Array(12).fill(9));
  assert.deepEqual(decryptLargeBlob(key, item.entry!), data);
  assert.equal(decryptLargeBlob(randomBytes(32), item.entry!), undefined, 'another credential\'s key does not open it');
  assert.equal(decryptLargeBlob(key, { ...item.entry!, origSize: data.length + 1 }), undefined, 'origSize is in the associated data');
  // the entry map is {1: ciphertext, 2: nonce, 3: origSize}
  const m = decodeCbor(item.raw).value as Map<number, unknown>;
  assert.deepEqual([...m.keys()], [1, 2, 3]);
  assert.equal(m.get(3), data.length);
  // known answer: AAD = "blob" || uint64LE(origSize), over raw DEFLATE
  const expectCt = aes256GcmEncrypt(key, new Uint8Array(12).fill(9), new Uint8Array(deflateRawSync(data)), concatBytes(utf8Encode('blob'), Uint8Array.of(data.length & 0xff, data.length >> 8, 0, 0, 0, 0, 0, 0)));
  assert.deepEqual(m.get(1), expectCt);
});

test('a blob that inflates past its origSize is rejected (bounded inflation)', () => {
  const key = randomBytes(32);
  const big = new Uint8Array(100_000);
  const nonce = randomBytes(12);
  const claimed = 10;
  const aad = concatBytes(utf8Encode('blob'), Uint8Array.of(claimed, 0, 0, 0, 0, 0, 0, 0));
  const ciphertext = aes256GcmEncrypt(key, nonce, new Uint8Array(deflateRawSync(big)), aad);
  assert.throws(() => decryptLargeBlob(key, { ciphertext, nonce, origSize: claimed }), /origSize/);
});

test('the write pinUvAuthParam message is 32×0xff || 0x0c 0x00 || uint32LE(offset) || SHA-256(fragment)', () => {
  const frag = utf8Encode('fragment');
  const m = largeBlobsAuthMessage(0x01020304, frag);
  assert.equal(toHex(m), 'ff'.repeat(32) + '0c00' + '04030201' + toHex(sha256(frag)));
});

/** largeBlobs storage behind the fake key, as a key implements §6.10. */
function blobKey(maxMsgSize: number, maxArray: number, withPin: boolean): { key: FakeKey; stored: () => Uint8Array } {
  const key = new FakeKey({
    pin: withPin ? '1234' : undefined,
    maxMsgSize,
    options: { clientPin: withPin, pinUvAuthToken: true, largeBlobs: true },
    extraInfo: [[0x0b, maxArray]],
  });
  let stored: Uint8Array = INITIAL_SERIALIZED_LARGE_BLOB_ARRAY.slice();
  let pending: { buf: Uint8Array; expected: number; at: number } | undefined;
  key.handlers.set(CTAP2_CMD.largeBlobs, (p) => {
    const offset = p!.uint(3);
    if (p!.has(1)) {
      const n = p!.uint(1);
      if (n > maxMsgSize - 64) throw new FakeStatus(0x03);
      return new Map<number, CborValue>([[1, stored.slice(offset, offset + n)]]);
    }
    const frag = p!.bytes(2);
    if (frag.length > maxMsgSize - 64) throw new FakeStatus(0x03);
    if (withPin) key.verifyToken(p!.raw(6), largeBlobsAuthMessage(offset, frag), p!.raw(5), PERMISSION.lbw);
    if (offset === 0) {
      const length = p!.uint(4);
      if (length > maxArray) throw new FakeStatus(0x18);
      pending = { buf: new Uint8Array(length), expected: length, at: 0 };
    } else if (p!.has(4)) throw new FakeStatus(0x02);
    if (!pending || offset !== pending.at) throw new FakeStatus(0x02);
    pending.buf.set(frag, offset);
    pending.at += frag.length;
    if (pending.at === pending.expected) {
      const b = pending.buf;
      if (!bytesEqual(sha256(b.subarray(0, b.length - 16)).subarray(0, 16), b.subarray(b.length - 16))) throw new FakeStatus(0x3d);
      stored = b;
      pending = undefined;
    }
    return undefined;
  });
  return { key, stored: () => stored };
}

for (const protocol of [1, 2] as const) {
  test(`protocol ${protocol}: setBlob/getBlob/deleteBlob in fragments of maxMsgSize - 64, other entries kept`, async () => {
    const { key, stored } = blobKey(1088, 8192, true);
    const session = key.session();
    const token = await new ClientPin(session, { protocol }).getPinUvAuthTokenUsingPin('1234', { permissions: ['lbw'] });
    const lb = await LargeBlobs.open(session, token);
    assert.equal(lb.maxFragmentLength, 1024);
    const k1 = randomBytes(32);
    const k2 = randomBytes(32);
    const d1 = randomBytes(2500); // incompressible: several fragments
    const d2 = utf8Encode('second credential');
    await lb.setBlob(k1, d1);
    await lb.setBlob(k2, d2);
    assert.deepEqual(await lb.getBlob(k1), d1);
    assert.deepEqual(await lb.getBlob(k2), d2);
    assert.equal(await lb.getBlob(randomBytes(32)), undefined);
    // writes: offsets step by 1024, `length` only at offset 0, every fragment authenticated
    const writes = key.requests.filter((r) => r.command === CTAP2_CMD.largeBlobs && r.params!.has(2));
    const lastWrite = writes.slice(-Math.ceil(stored().length / 1024));
    assert.ok(lastWrite.length >= 3);
    assert.deepEqual(lastWrite.map((w) => w.params!.get(3)), lastWrite.map((_, i) => i * 1024));
    assert.deepEqual(lastWrite.map((w) => w.params!.has(4)), lastWrite.map((_, i) => i === 0));
    for (const r of key.requests) assert.ok(r.bytes.length <= 1088, 'no request exceeds maxMsgSize');
    // replacing keeps one entry per key
    await lb.setBlob(k1, utf8Encode('replaced'));
    assert.equal(decodeSerializedLargeBlobArray(stored()).items.length, 2);
    assert.deepEqual(await lb.getBlob(k1), utf8Encode('replaced'));
    assert.equal(await lb.deleteBlob(k1), true);
    assert.equal(await lb.deleteBlob(k1), false);
    assert.equal(await lb.getBlob(k1), undefined);
    assert.deepEqual(await lb.getBlob(k2), d2);
  });
}

test('an array larger than maxSerializedLargeBlobArray is refused before writing', async () => {
  const { key } = blobKey(1024, 1024, false);
  const lb = await LargeBlobs.open(key.session());
  const err = await lb.setBlob(randomBytes(32), randomBytes(1100)).catch((e: unknown) => e);
  assert.ok(err instanceof CtapError);
  assert.equal(err.specName, 'CTAP2_ERR_LARGE_BLOB_STORAGE_FULL');
  assert.match(err.message, /at most 1024/);
  assert.equal(key.requests.filter((r) => r.command === CTAP2_CMD.largeBlobs && r.params!.has(2)).length, 0);
});

test('a corrupted array on the key reads as empty and is overwritten cleanly', async () => {
  const { key, stored } = blobKey(1024, 4096, false);
  const lb = await LargeBlobs.open(key.session());
  await lb.setBlob(randomBytes(32), utf8Encode('x'));
  stored()[0] = 0x81 ^ 0xff; // break it (hash no longer matches)
  assert.equal((await lb.readArray()).valid, false);
  const k = randomBytes(32);
  await lb.setBlob(k, utf8Encode('fresh'));
  assert.equal(decodeSerializedLargeBlobArray(stored()).items.length, 1);
  assert.deepEqual(await lb.getBlob(k), utf8Encode('fresh'));
});

test('a key without largeBlobs, and a token without lbw, are refused', async () => {
  const key = new FakeKey({ pin: '1234' });
  await assert.rejects(LargeBlobs.open(key.session()), (e: UnsupportedFeatureError) => e.feature === 'largeBlobs' && /does not support large blobs/.test(e.message));
  const { key: k2 } = blobKey(1024, 4096, true);
  const t = await new ClientPin(k2.session()).getPinUvAuthTokenUsingPin('1234', { permissions: ['cm'] });
  await assert.rejects(LargeBlobs.open(k2.session(), t), /lacks the lbw/);
});

test('a key that returns more than it was asked for is a typed error', async () => {
  const { key } = blobKey(1088, 4096, false);
  key.handlers.set(CTAP2_CMD.largeBlobs, () => new Map([[1, new Uint8Array(1500)]]));
  await assert.rejects((await LargeBlobs.open(key.session())).readSerialized(), /1500 bytes for a 1024-byte fragment/);
  assert.equal(toHex(encodeCbor(new Map([[1, 1]]))), 'a10101');
});

/** Count largeBlobs round trips, and cut a runaway loop off so the old code fails instead of hanging. */
function countingKey(opts: { maxMsgSize: number; maxArray?: number; reply: (get: number, offset: number) => Uint8Array | undefined }): { key: FakeKey; rounds: () => number } {
  const key = new FakeKey({ maxMsgSize: opts.maxMsgSize, options: { largeBlobs: true }, extraInfo: opts.maxArray === undefined ? [] : [[0x0b, opts.maxArray]] });
  let rounds = 0;
  key.handlers.set(CTAP2_CMD.largeBlobs, (p) => {
    if (++rounds > 20_000) throw new Error('runaway largeBlobs loop (more than 20000 round trips)');
    if (!p!.has(1)) return undefined;
    const out = opts.reply(p!.uint(1), p!.uint(3));
    return out === undefined ? undefined : new Map([[1, out]]);
  });
  return { key, rounds: () => rounds };
}

test('effectiveMaxMsgSize: a maxMsgSize below 1024 (or absent) is raised to CTAP\'s 1024-byte floor', async () => {
  for (const m of [0, 10, 64, 65, 256, 1023]) {
    const { key } = countingKey({ maxMsgSize: m, reply: () => new Uint8Array(0) });
    const lb = await LargeBlobs.open(key.session());
    assert.equal(lb.maxFragmentLength, 960, `maxMsgSize ${m}`);
  }
  const { key } = countingKey({ maxMsgSize: 1200, reply: () => new Uint8Array(0) });
  assert.equal((await LargeBlobs.open(key.session())).maxFragmentLength, 1136, 'a conforming value is kept');
});

for (const maxMsgSize of [64, 10, 0]) {
  test(`maxMsgSize ${maxMsgSize}: a read that gets an empty fragment ends after one round trip (it looped forever)`, async () => {
    const { key, rounds } = countingKey({ maxMsgSize, reply: () => new Uint8Array(0) });
    const lb = await LargeBlobs.open(key.session());
    assert.deepEqual(await lb.readSerialized(), new Uint8Array(0));
    assert.equal(rounds(), 1);
  });

  test(`maxMsgSize ${maxMsgSize}: a write ends in 960-byte fragments (it looped forever)`, async () => {
    const { key, rounds } = countingKey({ maxMsgSize, maxArray: 4096, reply: () => undefined });
    const lb = await LargeBlobs.open(key.session());
    const serialized = encodeSerializedLargeBlobArray([encryptLargeBlob(randomBytes(32), randomBytes(2000))]);
    await lb.writeSerialized(serialized);
    assert.equal(rounds(), Math.ceil(serialized.length / 960));
  });
}

test('a key that always sends full fragments with a huge maxSerializedLargeBlobArray is stopped at the 1 MiB ceiling', async () => {
  const { key, rounds } = countingKey({ maxMsgSize: 1024, maxArray: 0xffffffff, reply: (get) => new Uint8Array(get) });
  const lb = await LargeBlobs.open(key.session());
  assert.equal(lb.maxSerializedLargeBlobArray, LARGE_BLOB_ARRAY_CEILING);
  await assert.rejects(lb.readSerialized(), (e: unknown) => e instanceof CborError && /exceeds maxSerializedLargeBlobArray \(1048576\)/.test(e.message));
  assert.equal(rounds(), Math.floor(LARGE_BLOB_ARRAY_CEILING / 960) + 1);
});

test('the key\'s own maxSerializedLargeBlobArray bounds a read of full fragments', async () => {
  const { key, rounds } = countingKey({ maxMsgSize: 1024, maxArray: 4000, reply: (get) => new Uint8Array(get) });
  await assert.rejects((await LargeBlobs.open(key.session())).readSerialized(), /exceeds maxSerializedLargeBlobArray \(4000\)/);
  assert.equal(rounds(), 5);
});

test('origSize above the 16 MiB ceiling is a typed error before inflating; encrypt refuses such data', () => {
  const key = randomBytes(32);
  const nonce = randomBytes(12);
  const origSize = LARGE_BLOB_ORIG_SIZE_CEILING + 1;
  // An authenticated entry (the key knows the largeBlobKey) whose tiny DEFLATE stream claims more than the ceiling.
  const aad = new Uint8Array(12);
  aad.set(utf8Encode('blob'));
  new DataView(aad.buffer).setBigUint64(4, BigInt(origSize), true);
  const ciphertext = aes256GcmEncrypt(key, nonce, new Uint8Array(deflateRawSync(new Uint8Array(1000))), aad);
  assert.throws(() => decryptLargeBlob(key, { ciphertext, nonce, origSize }), (e: unknown) => e instanceof CborError && /origSize of 16777217 bytes, above/.test(e.message));
  assert.throws(() => encryptLargeBlob(key, new Uint8Array(LARGE_BLOB_ORIG_SIZE_CEILING + 1)), RangeError);
});
