/**
 * The one typed interaction model. The library never prompts: when it needs
 * the user (a PIN, a touch, an account choice, a key choice) it emits one of
 * these events to the application's handler for that event type and awaits
 * the answer. Every wait is cancelled by the ceremony's AbortSignal.
 *
 * Defined here because the WebAuthn client (this layer) raises the events;
 * `src/device/interaction.ts` re-exports it for applications, with helpers.
 */
import { raceAbort } from '../util/deadline.js';
import { AbortedError } from '../util/errors.js';

/** Why a PIN is asked for. */
export type PinRequiredReason =
  /** The RP requires user verification and the key has no built-in UV (or it is not configured). */
  | 'uv-required'
  /** The RP prefers user verification and the key has a PIN set. */
  | 'uv-preferred'
  /** Built-in UV is blocked (too many failed attempts): the PIN is the fallback. */
  | 'uv-blocked'
  /** The key has alwaysUv set. */
  | 'always-uv'
  /** An extension (largeBlob write, credential listing) needs a PIN/UV token. */
  | 'extension';

export interface DeviceSummary {
  /** What `--device` takes to open this key again. */
  path: string;
  product?: string | undefined;
  manufacturer?: string | undefined;
}

export interface AccountChoice {
  /** user.id (the future userHandle). */
  id: Uint8Array;
  name?: string | undefined;
  displayName?: string | undefined;
}

export type InteractionEvent =
  | { type: 'pin-required'; reason: PinRequiredReason; retriesLeft: number | undefined; minPinLength?: number | undefined; device?: DeviceSummary | undefined }
  | { type: 'pin-invalid'; retriesLeft: number | undefined; device?: DeviceSummary | undefined }
  | { type: 'pin-auth-blocked'; device?: DeviceSummary | undefined }
  | { type: 'pin-blocked'; device?: DeviceSummary | undefined }
  | { type: 'touch-required'; device?: DeviceSummary | undefined }
  | { type: 'uv-retry'; retriesLeft: number | undefined; device?: DeviceSummary | undefined }
  | { type: 'select-account'; accounts: AccountChoice[]; device?: DeviceSummary | undefined }
  | { type: 'select-device'; devices: DeviceSummary[] }
  | { type: 'removed'; device?: DeviceSummary | undefined };

export type InteractionEventType = InteractionEvent['type'];

/**
 * The answer each event awaits:
 * - pin-required / pin-invalid: the PIN (string or UTF-8 bytes; bytes are
 *   zeroed after use), or null to cancel (NotAllowedError).
 * - uv-retry: true to try built-in UV again, false to stop (NotAllowedError).
 * - select-account: the index into `accounts`, or null to cancel.
 * - the rest are notices: the answer is ignored (resolve when shown).
 */
export interface InteractionAnswers {
  'pin-required': string | Uint8Array | null;
  'pin-invalid': string | Uint8Array | null;
  'pin-auth-blocked': void;
  'pin-blocked': void;
  'touch-required': void;
  'uv-retry': boolean;
  'select-account': number | null;
  'select-device': void;
  removed: void;
}

export interface InteractionContext {
  /** Fires when the ceremony is aborted or times out: stop prompting. */
  signal: AbortSignal;
}

/** One optional handler per event type. A missing handler for a question is a refusal (NotAllowedError). */
export type Interaction = {
  [K in InteractionEventType]?: (
    event: Extract<InteractionEvent, { type: K }>,
    ctx: InteractionContext,
  ) => InteractionAnswers[K] | Promise<InteractionAnswers[K]>;
};

/** Events that need an answer; a notice without a handler is simply not shown. */
export const QUESTIONS: ReadonlySet<InteractionEventType> = new Set(['pin-required', 'pin-invalid', 'uv-retry', 'select-account']);

/**
 * Emit `event` and await the application's answer, or the signal. Resolves
 * `undefined` when no handler is registered for it.
 */
export async function ask<K extends InteractionEventType>(
  interaction: Interaction | undefined,
  event: Extract<InteractionEvent, { type: K }>,
  signal: AbortSignal,
): Promise<InteractionAnswers[K] | undefined> {
  const handler = interaction?.[event.type as K] as
    | ((e: typeof event, ctx: InteractionContext) => InteractionAnswers[K] | Promise<InteractionAnswers[K]>)
    | undefined;
  if (!handler) return undefined;
  return raceAbort<InteractionAnswers[K] | undefined>(
    signal,
    () => handler(event, { signal }),
    () => new AbortedError(undefined, { cause: signal.reason }),
  );
}

/** Fire a notice without waiting for it (touch-required is shown while the key waits). */
export function notify(interaction: Interaction | undefined, event: InteractionEvent, signal: AbortSignal): void {
  ask(interaction, event as Extract<InteractionEvent, { type: InteractionEventType }>, signal).catch(() => undefined);
}
