/**
 * credProtect (CTAP 2.2 §12.1): the protection level of a new credential.
 * With `enforceCredentialProtectionPolicy`, a key without the extension is
 * refused (for levels above 1) instead of silently getting an unprotected
 * credential.
 */
import { asUint } from '../../cbor/index.js';
import { infoHasExtension } from '../permissions.js';
import { unsupportedExtension, type Ctap2Extension } from './extension.js';

export const CRED_PROTECT = {
  userVerificationOptional: 0x01,
  userVerificationOptionalWithCredentialIDList: 0x02,
  userVerificationRequired: 0x03,
} as const;

export type CredProtectPolicyName = keyof typeof CRED_PROTECT;

export interface CredProtectInput {
  /** Level 1..3 or its WebAuthn name. */
  credentialProtectionPolicy: 1 | 2 | 3 | CredProtectPolicyName;
  enforceCredentialProtectionPolicy?: boolean | undefined;
}

export function credProtectLevel(p: CredProtectInput['credentialProtectionPolicy']): 1 | 2 | 3 {
  if (typeof p === 'string') {
    const v = CRED_PROTECT[p];
    if (v === undefined) throw new TypeError(`unknown credentialProtectionPolicy ${p}`);
    return v;
  }
  if (p !== 1 && p !== 2 && p !== 3) throw new RangeError('credentialProtectionPolicy is 1, 2 or 3');
  return p;
}

export const credProtect: Ctap2Extension<CredProtectInput, number, never, never> = {
  id: 'credProtect',
  isSupported: (info) => infoHasExtension(info, 'credProtect'),
  prepareCreate(input, ctx) {
    const level = credProtectLevel(input.credentialProtectionPolicy);
    if (!infoHasExtension(ctx.info, 'credProtect')) {
      // Level 1 is every key's default, so nothing is lost by leaving it out.
      if (input.enforceCredentialProtectionPolicy && level > 1) throw unsupportedExtension('credProtect', `credential protection level ${level} was required`);
      return undefined;
    }
    return level;
  },
  processCreate(out) {
    if (out === undefined) return undefined;
    // Reported as the key sent it; callers compare it with the level they asked for.
    return asUint(out, 'authData extensions credProtect');
  },
};
