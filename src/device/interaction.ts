/**
 * The interaction model for applications: the typed events the library
 * raises (defined in webauthn/interaction.ts, where the WebAuthn client
 * raises them — imports only go down), and small helpers to build the
 * `interaction` object an application hands to WebAuthnClient.
 *
 *   pin-required {reason, retriesLeft}   → the PIN, or null to cancel
 *   pin-invalid {retriesLeft}            → another PIN, or null
 *   pin-auth-blocked / pin-blocked       notices (the ceremony then fails)
 *   touch-required                       notice: "touch your key"
 *   uv-retry {retriesLeft}               → true to try built-in UV again
 *   select-account {accounts}            → index, or null
 *   select-device {devices}              notice: "touch the key you want to use"
 *   removed                              notice: a key was unplugged
 *
 * Every wait is cancelled by the ceremony's AbortSignal (ctx.signal).
 */
export {
  ask,
  notify,
  QUESTIONS,
  type AccountChoice,
  type DeviceSummary,
  type Interaction,
  type InteractionAnswers,
  type InteractionContext,
  type InteractionEvent,
  type InteractionEventType,
  type PinRequiredReason,
} from '../webauthn/interaction.js';
import type { Interaction, InteractionEvent } from '../webauthn/interaction.js';

/**
 * An Interaction that also reports every event to `observer` (for logs,
 * progress UIs, tests) before the handler for it, if any, runs.
 */
export function observeInteraction(interaction: Interaction, observer: (event: InteractionEvent) => void): Interaction {
  const out: Interaction = {};
  const types: InteractionEvent['type'][] = [
    'pin-required', 'pin-invalid', 'pin-auth-blocked', 'pin-blocked', 'touch-required', 'uv-retry', 'select-account', 'select-device', 'removed',
  ];
  const questions = new Set<string>(['pin-required', 'pin-invalid', 'uv-retry', 'select-account']);
  for (const t of types) {
    const handler = interaction[t] as ((e: InteractionEvent, ctx: { signal: AbortSignal }) => unknown) | undefined;
    // A question without a handler stays unanswered (a refusal), so it is not wrapped.
    if (!handler && questions.has(t)) continue;
    (out as Record<string, unknown>)[t] = (e: InteractionEvent, ctx: { signal: AbortSignal }) => {
      observer(e);
      return handler?.(e, ctx);
    };
  }
  return out;
}

/**
 * Answers scripted in advance (tests, non-interactive tools): PINs are
 * handed out in order to pin-required / pin-invalid; accounts are chosen by
 * `chooseAccount`. Nothing is retried beyond the script.
 */
export function scriptedInteraction(script: {
  pins?: (string | Uint8Array)[];
  chooseAccount?: (accounts: { id: Uint8Array; name?: string | undefined; displayName?: string | undefined }[]) => number | null;
  retryUv?: boolean;
  onEvent?: (event: InteractionEvent) => void;
}): Interaction {
  const pins = [...(script.pins ?? [])];
  const base: Interaction = {
    'pin-required': () => pins.shift() ?? null,
    'pin-invalid': () => pins.shift() ?? null,
    'uv-retry': () => script.retryUv ?? false,
    'touch-required': () => undefined,
    'pin-auth-blocked': () => undefined,
    'pin-blocked': () => undefined,
    'select-device': () => undefined,
    removed: () => undefined,
  };
  if (script.chooseAccount) base['select-account'] = (e) => script.chooseAccount!(e.accounts);
  return script.onEvent ? observeInteraction(base, script.onEvent) : base;
}
