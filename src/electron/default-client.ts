/**
 * The default client factory: the real WebAuthnClient over the device layer.
 * (Placeholder until src/webauthn/client.ts lands: refuses clearly.)
 */
import { webAuthnError } from '../webauthn/errors.js';
import type { BridgeClient, ClientInit } from './client.js';

export function defaultClientFactory(_init: ClientInit<unknown>): BridgeClient {
  const refuse = (): Promise<never> =>
    Promise.reject(webAuthnError('NotSupportedError', 'The WebAuthn client is not available in this build'));
  return { create: refuse, get: refuse };
}
