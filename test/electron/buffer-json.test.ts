/**
 * buffer-json.ts is the inverse of the webauthn layer's
 * parseCreationOptionsFromJSON / parseRequestOptionsFromJSON (an
 * independently written parser): BufferSource options → JSON → parsed back
 * must give the same bytes, for any bytes and any BufferSource view.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { creationOptionsToJSON, requestOptionsToJSON, responseToBuffers } from '../../src/electron/buffer-json.js';
import { parseCreationOptionsFromJSON, parseRequestOptionsFromJSON } from '../../src/webauthn/options-json.js';
import type { PublicKeyCredentialCreationOptionsJSON, PublicKeyCredentialRequestOptionsJSON } from '../../src/webauthn/options-json.js';
import { bufferSourceBytes } from '../../src/webauthn/options.js';

/** The same bytes as an ArrayBuffer, a Uint8Array, a DataView or an offset view into a larger buffer. */
const bufferSource = fc.tuple(fc.uint8Array({ maxLength: 80 }), fc.constantFrom('ab', 'u8', 'dv', 'offset')).map(([bytes, kind]) => {
  const copy = (): ArrayBuffer => bytes.slice().buffer;
  const view =
    kind === 'ab' ? copy() : kind === 'u8' ? new Uint8Array(copy()) : kind === 'dv' ? new DataView(copy()) : (() => {
      const big = new Uint8Array(bytes.length + 7);
      big.set(bytes, 3);
      return new Uint8Array(big.buffer, 3, bytes.length);
    })();
  return { bytes, view };
});

const bytesOf = (v: unknown): number[] => [...bufferSourceBytes(v, 'value')];

test('creation options round-trip through JSON byte for byte', () => {
  fc.assert(
    fc.property(bufferSource, bufferSource, fc.array(bufferSource, { maxLength: 4 }), bufferSource, (challenge, userId, exclude, prf) => {
      const json = creationOptionsToJSON({
        rp: { id: 'example.com', name: 'Example' },
        user: { id: userId.view, name: 'a', displayName: 'A' },
        challenge: challenge.view,
        pubKeyCredParams: [{ type: 'public-key', alg: -7 }],
        excludeCredentials: exclude.map((e) => ({ type: 'public-key', id: e.view, transports: ['usb'] })),
        timeout: 60_000,
        extensions: { credProps: true, prf: { eval: { first: prf.view } } },
      });
      const back = parseCreationOptionsFromJSON(json as unknown as PublicKeyCredentialCreationOptionsJSON);
      assert.deepEqual(bytesOf(back.challenge), [...challenge.bytes]);
      assert.deepEqual(bytesOf(back.user.id), [...userId.bytes]);
      assert.deepEqual((back.excludeCredentials ?? []).map((d) => bytesOf(d.id)), exclude.map((e) => [...e.bytes]));
      assert.deepEqual(bytesOf(back.extensions?.prf?.eval?.first), [...prf.bytes]);
      assert.equal(back.timeout, 60_000);
      assert.equal(back.extensions?.credProps, true);
    }),
    { numRuns: 200 },
  );
});

test('request options round-trip through JSON byte for byte', () => {
  fc.assert(
    fc.property(bufferSource, fc.array(bufferSource, { maxLength: 4 }), (challenge, allow) => {
      const json = requestOptionsToJSON({
        challenge: challenge.view,
        rpId: 'example.com',
        userVerification: 'required',
        allowCredentials: allow.map((e) => ({ type: 'public-key', id: e.view })),
      });
      const back = parseRequestOptionsFromJSON(json as unknown as PublicKeyCredentialRequestOptionsJSON);
      assert.deepEqual(bytesOf(back.challenge), [...challenge.bytes]);
      assert.deepEqual((back.allowCredentials ?? []).map((d) => bytesOf(d.id)), allow.map((e) => [...e.bytes]));
      assert.equal(back.rpId, 'example.com');
      assert.equal(back.userVerification, 'required');
    }),
    { numRuns: 200 },
  );
});

test('responses: every binary member becomes an ArrayBuffer; a malformed reply is a TypeError', () => {
  const out = responseToBuffers({
    id: 'AQID', rawId: 'AQID', type: 'public-key', clientExtensionResults: { largeBlob: { blob: 'CQk' } },
    response: { authenticatorData: 'BAU', clientDataJSON: 'e30', signature: 'Bwc' },
  });
  assert.ok(out.rawId instanceof ArrayBuffer);
  assert.deepEqual([...new Uint8Array(out.response.signature as ArrayBuffer)], [7, 7]);
  assert.equal(out.response.userHandle, undefined);
  assert.deepEqual([...new Uint8Array((out.clientExtensionResults.largeBlob as { blob: ArrayBuffer }).blob)], [9, 9]);
  assert.throws(() => responseToBuffers({ response: {} }), TypeError);
  assert.throws(() => responseToBuffers({ rawId: 'A+B', response: { clientDataJSON: 'e30', authenticatorData: 'AA', signature: 'AA' } }), TypeError);
});
