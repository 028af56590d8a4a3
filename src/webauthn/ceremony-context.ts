/**
 * The state one create()/get() carries down: the combined abort signal (the
 * caller's signal + the ceremony timeout), the interaction handlers, and the
 * options every CTAP call gets (one deadline, keepalive → touch-required).
 */
import type { TransactOptions } from '../ctaphid/transport.js';
import { notify, type DeviceSummary, type Interaction } from './interaction.js';

export class CeremonyContext {
  readonly signal: AbortSignal;
  readonly interaction: Interaction | undefined;
  readonly deadline: number;
  device: DeviceSummary | undefined;
  readonly #controller = new AbortController();
  readonly #timer: ReturnType<typeof setTimeout>;
  #touchShown = false;
  timedOut = false;

  constructor(timeoutMs: number, interaction: Interaction | undefined, signal?: AbortSignal) {
    this.interaction = interaction;
    this.deadline = Date.now() + timeoutMs;
    this.signal = this.#controller.signal;
    this.#timer = setTimeout(() => {
      this.timedOut = true;
      this.#controller.abort(new Error('The WebAuthn ceremony timed out'));
    }, timeoutMs);
    this.#timer.unref?.();
    if (signal) {
      if (signal.aborted) this.#controller.abort(signal.reason);
      else signal.addEventListener('abort', () => this.#controller.abort(signal.reason), { once: true, signal: this.signal });
    }
  }

  remaining(): number {
    return Math.max(0, this.deadline - Date.now());
  }

  /** Options for one CTAP call: the shared deadline, the signal, and "touch your key" on UPNEEDED. */
  call(): TransactOptions {
    return {
      signal: this.signal,
      timeoutMs: Math.max(1, this.remaining()),
      onKeepalive: (status) => {
        if (status === 'up-needed') this.touchRequired();
      },
    };
  }

  /** Show "touch your key" (once per wait). */
  touchRequired(): void {
    if (this.#touchShown) return;
    this.#touchShown = true;
    notify(this.interaction, { type: 'touch-required', device: this.device }, this.signal);
  }

  /** A new wait for a touch may show the notice again. */
  resetTouch(): void {
    this.#touchShown = false;
  }

  /**
   * A command that waits for a touch is about to go out: show the notice now
   * (fast keys and the virtual key never send KEEPALIVE UPNEEDED).
   */
  expectTouch(): void {
    this.#touchShown = false;
    this.touchRequired();
  }

  dispose(): void {
    clearTimeout(this.#timer);
    if (!this.signal.aborted) this.#controller.abort(new Error('ceremony finished'));
  }
}
