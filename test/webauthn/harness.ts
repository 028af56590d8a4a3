/**
 * Test bench for the WebAuthn client: a fresh virtual key (every byte through
 * the real CTAPHID framing), a client on it, and a relying party played by
 * @simplewebauthn/server (an independent implementation) that must accept
 * what the client produces.
 */
import { verifyAuthenticationResponse, verifyRegistrationResponse } from '@simplewebauthn/server';
import type { AuthenticationResponseJSON, RegistrationResponseJSON, WebAuthnCredential } from '@simplewebauthn/server';
import { VirtualAuthenticator } from '../../src/virtual/authenticator.js';
import type { VirtualAuthenticatorOptions } from '../../src/virtual/core.js';
import type { FaultInjector } from '../../src/virtual/fault-types.js';
import { WebAuthnClient, type WebAuthnClientOptions } from '../../src/webauthn/client.js';
import type { InteractionEvent, Interaction } from '../../src/webauthn/interaction.js';
import { base64urlEncode } from '../../src/webauthn/base64url.js';
import type { AuthenticationCredential, RegistrationCredential } from '../../src/webauthn/credential.js';
import { randomBytes } from '../../src/crypto/primitives.js';

export const ORIGIN = 'https://login.example.com';
export const RP_ID = 'example.com';

export interface Bench {
  key: VirtualAuthenticator;
  client: WebAuthnClient;
  /** Every interaction event, in order. */
  events: InteractionEvent[];
  close(): Promise<void>;
}

export async function bench(
  keyOptions: VirtualAuthenticatorOptions & { faults?: FaultInjector | undefined } = {},
  interaction: Interaction = {},
  clientOptions: Partial<WebAuthnClientOptions> = {},
): Promise<Bench> {
  const key = await VirtualAuthenticator.create({ resetWindowMs: Infinity, ...keyOptions });
  const events: InteractionEvent[] = [];
  // Record every event, then hand it to the test's handler (if any).
  const recorded: Interaction = {};
  const types: InteractionEvent['type'][] = ['pin-required', 'pin-invalid', 'pin-auth-blocked', 'pin-blocked', 'touch-required', 'uv-retry', 'select-account', 'select-device', 'removed'];
  for (const t of types) {
    const h = interaction[t] as ((e: InteractionEvent, ctx: { signal: AbortSignal }) => unknown) | undefined;
    (recorded as Record<string, unknown>)[t] = (e: InteractionEvent, ctx: { signal: AbortSignal }) => {
      events.push(e);
      return h ? h(e, ctx) : undefined;
    };
  }
  // Questions without a test handler must stay unanswered (refusal): drop the recorder for them.
  for (const q of ['pin-required', 'pin-invalid', 'uv-retry', 'select-account'] as const) {
    if (!interaction[q]) delete (recorded as Record<string, unknown>)[q];
  }
  const client = new WebAuthnClient({ origin: ORIGIN, device: key.port(), interaction: recorded, ...clientOptions });
  return {
    key,
    client,
    events,
    async close() {
      await client.close();
      await key.close();
    },
  };
}

export function challenge(): Uint8Array {
  return randomBytes(32);
}

export function creationOptions(over: Record<string, unknown> = {}, userId: Uint8Array = randomBytes(16)) {
  return {
    rp: { id: RP_ID, name: 'Example' },
    user: { id: userId, name: 'alice@example.com', displayName: 'Alice' },
    challenge: challenge(),
    pubKeyCredParams: [{ type: 'public-key', alg: -7 }, { type: 'public-key', alg: -8 }],
    ...over,
  };
}

/** The RP's side of a registration: @simplewebauthn/server must verify it. */
export async function rpVerifyRegistration(cred: RegistrationCredential, expectedChallenge: Uint8Array, requireUserVerification = false) {
  const json = JSON.parse(JSON.stringify(cred)) as RegistrationResponseJSON;
  const v = await verifyRegistrationResponse({
    response: json,
    expectedChallenge: base64urlEncode(expectedChallenge),
    expectedOrigin: ORIGIN,
    expectedRPID: RP_ID,
    requireUserVerification,
  });
  if (!v.verified || !v.registrationInfo) throw new Error('the RP did not verify the registration');
  return v.registrationInfo;
}

export async function rpVerifyAuthentication(
  cred: AuthenticationCredential,
  expectedChallenge: Uint8Array,
  credential: WebAuthnCredential,
  requireUserVerification = false,
) {
  const json = JSON.parse(JSON.stringify(cred)) as AuthenticationResponseJSON;
  const v = await verifyAuthenticationResponse({
    response: json,
    expectedChallenge: base64urlEncode(expectedChallenge),
    expectedOrigin: ORIGIN,
    expectedRPID: RP_ID,
    credential,
    requireUserVerification,
  });
  if (!v.verified) throw new Error('the RP did not verify the authentication');
  return v.authenticationInfo;
}
