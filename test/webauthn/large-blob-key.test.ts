/**
 * The largeBlobKey the key returns is the library's to zero once the
 * ceremony is over (review L1): create() only reports largeBlob.supported
 * from it, get() reads or writes the blob with it. The test captures the very
 * arrays the library handled (through the largeBlobKey plug-in and
 * LargeBlobs) and checks they are all zero after the call returns.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { largeBlobKey } from '../../src/ctap2/extensions/large-blob-key.js';
import type { UnsignedOutputs } from '../../src/ctap2/extensions/extension.js';
import { LargeBlobs } from '../../src/ctap2/large-blobs.js';
import { utf8Encode } from '../../src/util/bytes.js';
import { bench, challenge, creationOptions, RP_ID } from './harness.js';

test('create() and get() zero the largeBlobKey after use', async (t) => {
  const b = await bench({ pin: '1234' }, { 'pin-required': () => '1234' });
  const seen: Uint8Array[] = [];
  const copies: Uint8Array[] = [];
  const keep = (k: Uint8Array | undefined): void => {
    if (!k) return;
    seen.push(k);
    copies.push(k.slice());
  };
  const plugin = largeBlobKey as unknown as { processCreate: (out: unknown, unsigned: UnsignedOutputs, ctx: never) => unknown };
  const processCreate = plugin.processCreate;
  t.mock.method(plugin, 'processCreate', (out: unknown, unsigned: UnsignedOutputs, ctx: never) => {
    keep(unsigned.largeBlobKey);
    return processCreate(out, unsigned, ctx);
  });
  const setBlob = LargeBlobs.prototype.setBlob;
  t.mock.method(LargeBlobs.prototype, 'setBlob', function (this: LargeBlobs, key: Uint8Array, data: Uint8Array, opts?: never) {
    keep(key);
    return setBlob.call(this, key, data, opts);
  });
  const getBlob = LargeBlobs.prototype.getBlob;
  t.mock.method(LargeBlobs.prototype, 'getBlob', function (this: LargeBlobs, key: Uint8Array, opts?: never) {
    keep(key);
    return getBlob.call(this, key, opts);
  });
  try {
    const reg = await b.client.create(creationOptions({ authenticatorSelection: { residentKey: 'required' }, extensions: { largeBlob: { support: 'required' } } }));
    assert.equal(seen.length, 1, 'create handled one largeBlobKey');
    const allow = [{ type: 'public-key', id: new Uint8Array(reg.rawId) }];
    await b.client.get({ challenge: challenge(), rpId: RP_ID, allowCredentials: allow, extensions: { largeBlob: { write: utf8Encode('blob') } } });
    const read = await b.client.get({ challenge: challenge(), rpId: RP_ID, extensions: { largeBlob: { read: true } } });
    assert.deepEqual(new Uint8Array((read.getClientExtensionResults() as { largeBlob: { blob: ArrayBuffer } }).largeBlob.blob), utf8Encode('blob'), 'the blob was written and read with the real key');
  } finally {
    await b.close();
  }
  assert.equal(seen.length, 3, 'create, write and read each handled a largeBlobKey');
  for (const [i, k] of seen.entries()) {
    assert.equal(k.length, 32);
    assert.ok(copies[i]!.some((x) => x !== 0), 'it was a real key while in use');
    assert.ok(k.every((x) => x === 0), `largeBlobKey #${i + 1} is zeroed after the ceremony`);
  }
});
