/**
 * minPinLength (CTAP 2.2 §12.4): an RP on the key's minPinLengthRPIDs list
 * learns the current minimum PIN length at makeCredential.
 */
import { asUint } from '../../cbor/index.js';
import { infoHasExtension } from '../permissions.js';
import { requireExtension, type Ctap2Extension } from './extension.js';

export const minPinLength: Ctap2Extension<boolean, number, never, never> = {
  id: 'minPinLength',
  isSupported: (info) => infoHasExtension(info, 'minPinLength'),
  prepareCreate(input, ctx) {
    if (input !== true) return undefined;
    requireExtension(ctx.info, 'minPinLength');
    return true;
  },
  processCreate: (out) => (out === undefined ? undefined : asUint(out, 'authData extensions minPinLength')),
};
