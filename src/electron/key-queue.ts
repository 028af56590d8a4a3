/**
 * One ceremony at a time on the key, across all windows. Two windows asking
 * at once would otherwise both make the key blink and the user could not
 * tell which one a touch answers; the second waits (in order) for the first
 * to finish, and can be cancelled while it waits.
 */
import { AbortedError } from '../util/errors.js';

export class KeyQueue {
  #busy = false;
  readonly #waiting: Array<{ grant: () => void }> = [];
  readonly #idleWaiters: Array<() => void> = [];

  /** Resolves with a release function once the caller may use the key; rejects with AbortedError if `signal` fires first. */
  acquire(signal: AbortSignal): Promise<() => void> {
    if (signal.aborted) return Promise.reject(new AbortedError(undefined, { cause: signal.reason }));
    if (!this.#busy) {
      this.#busy = true;
      return Promise.resolve(this.#releaser());
    }
    return new Promise((resolve, reject) => {
      const entry = {
        grant: (): void => {
          signal.removeEventListener('abort', onAbort);
          resolve(this.#releaser());
        },
      };
      const onAbort = (): void => {
        const i = this.#waiting.indexOf(entry);
        if (i >= 0) this.#waiting.splice(i, 1);
        reject(new AbortedError(undefined, { cause: signal.reason }));
      };
      signal.addEventListener('abort', onAbort, { once: true });
      this.#waiting.push(entry);
    });
  }

  /** Resolves when nobody holds or waits for the key. */
  idle(): Promise<void> {
    if (!this.#busy) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  /** Callers waiting (not counting the one holding the key). */
  get waiting(): number {
    return this.#waiting.length;
  }

  #releaser(): () => void {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.#waiting.shift();
      if (next) next.grant();
      else {
        this.#busy = false;
        this.#idleWaiters.splice(0).forEach((r) => r());
      }
    };
  }
}
