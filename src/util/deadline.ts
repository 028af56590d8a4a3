import { AbortedError, TimeoutError } from './errors.js';

/** Every async call of the library takes these. */
export interface CallOptions {
  /** Cancels the call; a CTAPHID transaction in flight gets CANCEL. */
  signal?: AbortSignal | undefined;
  /** One budget for the whole call, counted down across every packet. */
  timeoutMs?: number | undefined;
}

export const DEFAULT_TIMEOUT_MS = 30_000;

/**
 * One deadline for a whole transaction. `remaining()` is what each read may
 * wait; `check()` throws AbortedError / TimeoutError.
 */
export class Deadline {
  readonly at: number;
  readonly signal: AbortSignal | undefined;

  constructor(opts: CallOptions = {}, defaultMs = DEFAULT_TIMEOUT_MS) {
    const ms = opts.timeoutMs ?? defaultMs;
    if (!(ms >= 0) || !Number.isFinite(ms)) throw new RangeError('timeoutMs must be a finite number >= 0');
    this.at = Date.now() + ms;
    this.signal = opts.signal;
  }

  remaining(): number {
    return Math.max(0, this.at - Date.now());
  }

  expired(): boolean {
    return Date.now() >= this.at;
  }

  aborted(): boolean {
    return this.signal?.aborted ?? false;
  }

  /** Throw if aborted or expired. */
  check(what = 'operation'): void {
    throwIfAborted(this.signal);
    if (this.expired()) throw new TimeoutError(`The ${what} timed out`);
  }
}

export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new AbortedError(undefined, { cause: signal.reason });
}

/**
 * start()'s result, or a rejection with abortError() as soon as signal fires (start is not
 * called when it already has). start's own outcome after an abort is ignored.
 */
export function raceAbort<T>(signal: AbortSignal, start: () => T | Promise<T>, abortError: () => unknown): Promise<T> {
  if (signal.aborted) return Promise.reject(abortError());
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(abortError());
    signal.addEventListener('abort', onAbort, { once: true });
    Promise.resolve()
      .then(start)
      .then(
        (v) => {
          signal.removeEventListener('abort', onAbort);
          resolve(v);
        },
        (e: unknown) => {
          signal.removeEventListener('abort', onAbort);
          reject(e);
        },
      );
  });
}

/** Sleep that wakes early (with AbortedError) when the signal fires. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(new AbortedError(undefined, { cause: signal.reason }));
      return;
    }
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(new AbortedError(undefined, { cause: signal?.reason }));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * A promise-returning task serialised behind the previous one: one
 * transaction at a time per device, callers queue in order.
 */
export class SerialQueue {
  #tail: Promise<unknown> = Promise.resolve();

  run<T>(task: () => Promise<T>): Promise<T> {
    const next = this.#tail.then(task, task);
    this.#tail = next.catch(() => undefined);
    return next;
  }
}
