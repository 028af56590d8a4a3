/**
 * Property tests: whatever a hostile key sends, the typed reply decoders of
 * clientPIN, credentialManagement, bioEnrollment and largeBlobs either return
 * a value or throw one of the library's typed errors; never a TypeError,
 * never a crash. And any large-blob array round-trips byte for byte.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { encodeCbor, type CborValue } from '../../src/cbor/index.js';
import { sha256 } from '../../src/crypto/hashes.js';
import { decodeBioEnrollmentResponse } from '../../src/ctap2/bio-enrollment.js';
import { decodeClientPinResponse } from '../../src/ctap2/client-pin.js';
import { decodeCredentialManagementResponse } from '../../src/ctap2/credential-management.js';
import { decodeLargeBlobsResponse, decodeSerializedLargeBlobArray, encodeSerializedLargeBlobArray } from '../../src/ctap2/large-blobs.js';
import { concatBytes } from '../../src/util/bytes.js';
import { CtapBridgeError } from '../../src/util/errors.js';
import { arbitraryCtapReply } from './fake-ctap2-key.js';

test('property: reply decoders return or throw a CtapBridgeError', () => {
  const decoders = [decodeClientPinResponse, decodeCredentialManagementResponse, decodeBioEnrollmentResponse, decodeLargeBlobsResponse];
  fc.assert(
    fc.property(arbitraryCtapReply(), (reply) => {
      for (const d of decoders) {
        try {
          d(reply);
        } catch (e) {
          if (!(e instanceof CtapBridgeError)) throw e;
        }
      }
    }),
    { numRuns: 1500 },
  );
});

test('property: any serialized large-blob array decodes to items that re-serialize to the same bytes; random bytes are "invalid", not an error', () => {
  fc.assert(
    fc.property(fc.array(arbitraryCtapReply(), { maxLength: 30 }), fc.uint8Array({ maxLength: 200 }), (items, junk) => {
      const body = encodeCbor(items as unknown as CborValue);
      const serialized = concatBytes(body, sha256(body).subarray(0, 16));
      const d = decodeSerializedLargeBlobArray(serialized);
      assert.equal(d.valid, true);
      assert.equal(d.items.length, items.length);
      assert.deepEqual(encodeSerializedLargeBlobArray(d.items), serialized);
      const j = decodeSerializedLargeBlobArray(junk);
      assert.equal(j.valid, false);
      assert.deepEqual(j.items, []);
    }),
    { numRuns: 300 },
  );
});
