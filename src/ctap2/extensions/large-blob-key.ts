/**
 * largeBlobKey (CTAP 2.2 §12.3): ask for the credential's 32-byte
 * largeBlobKey, returned outside authData (makeCredential 0x05,
 * getAssertion 0x07); it encrypts the credential's entry in largeBlobs.
 */
import { CborError } from '../../cbor/index.js';
import { infoHasExtension } from '../permissions.js';
import { requireExtension, type Ctap2Extension, type UnsignedOutputs } from './extension.js';

function key(unsigned: UnsignedOutputs): Uint8Array | undefined {
  const k = unsigned.largeBlobKey;
  if (k === undefined) return undefined;
  if (k.length !== 32) throw new CborError('CBOR_TYPE', `largeBlobKey must be 32 bytes, got ${k.length}`, 'largeBlobKey');
  return k;
}

export const largeBlobKey: Ctap2Extension<boolean, Uint8Array, boolean, Uint8Array> = {
  id: 'largeBlobKey',
  isSupported: (info) => infoHasExtension(info, 'largeBlobKey'),
  prepareCreate(input, ctx) {
    if (input !== true) return undefined;
    requireExtension(ctx.info, 'largeBlobKey');
    return true;
  },
  processCreate: (_out, unsigned) => key(unsigned),
  prepareGet(input, ctx) {
    if (input !== true) return undefined;
    requireExtension(ctx.info, 'largeBlobKey');
    return true;
  },
  processGet: (_out, unsigned) => key(unsigned),
};
