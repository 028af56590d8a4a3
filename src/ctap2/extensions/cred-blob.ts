/**
 * credBlob (CTAP 2.2 §12.2): a small opaque blob stored with a discoverable
 * credential (at most maxCredBlobLength bytes), read back at getAssertion.
 */
import { asBool, asBytes } from '../../cbor/index.js';
import { infoHasExtension } from '../permissions.js';
import { requireExtension, unsupportedExtension, type Ctap2Extension } from './extension.js';

/** The spec's floor for maxCredBlobLength. */
export const MIN_CRED_BLOB_LENGTH = 32;

export const credBlob: Ctap2Extension<Uint8Array, boolean, boolean, Uint8Array> = {
  id: 'credBlob',
  isSupported: (info) => infoHasExtension(info, 'credBlob'),
  prepareCreate(input, ctx) {
    if (!(input instanceof Uint8Array)) throw new TypeError('credBlob is a byte string');
    requireExtension(ctx.info, 'credBlob');
    const max = ctx.info.maxCredBlobLength ?? MIN_CRED_BLOB_LENGTH;
    if (input.length > max) throw unsupportedExtension('credBlob', `the blob is ${input.length} bytes; this key stores at most ${max}`);
    return input;
  },
  processCreate(out) {
    return out === undefined ? undefined : asBool(out, 'authData extensions credBlob');
  },
  prepareGet(input, ctx) {
    if (input !== true) return undefined;
    requireExtension(ctx.info, 'credBlob');
    return true;
  },
  processGet(out) {
    return out === undefined ? undefined : asBytes(out, 'authData extensions credBlob', 4096);
  },
};
