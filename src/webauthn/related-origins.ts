/**
 * Related origin requests (WebAuthn L3 §5.11, "Using Web Authentication
 * across related origins"; §5.11.1 the related origins validation
 * procedure). When the RP ID is not a registrable domain suffix of the
 * caller's domain, a client that supports this fetches
 * `https://{rpId}/.well-known/webauthn` and lets the caller through only if
 * its origin is listed there (`{ "origins": [ ... ] }`).
 *
 * The procedure, as the spec writes it:
 *  1. maxLabels: the client's limit on registrable origin labels (at least 5; 5 here).
 *  2. Fetch the well-known URL without credentials, without a referrer, over
 *     https. A failed fetch, a status other than 200 or a content type other
 *     than application/json: SecurityError.
 *  3. A body that is not a JSON object: SecurityError.
 *  4. `origins` missing or not an array of strings: SecurityError.
 *  5. labelsSeen = empty set. For each originItem of origins:
 *     URL-parse it (failure: skip); domain = its effective domain (null: skip);
 *     label = domain's registrable origin label (first label of its
 *     registrable domain; empty or null: skip); if labelsSeen is full
 *     (>= maxLabels) and lacks label: skip; if originItem is same origin with
 *     the caller: true; if labelsSeen is not full, add label.
 *  6. false.
 * So only the first five distinct labels (in document order) count: an
 * origin under a sixth label is never accepted, while further origins under
 * one of the five still are.
 *
 * Beyond the spec, to keep a desktop client safe from a hostile or broken
 * server: the body is capped (64 KiB by default), the fetch has its own
 * timeout (10 s by default) and follows the caller's AbortSignal (an abort
 * is an AbortError; everything else that goes wrong is a SecurityError
 * naming what was checked). The built-in fetcher (Node's fetch) refuses
 * redirects (`redirect: 'error'`): stricter than the spec, which follows
 * https redirects; an RP serves the file at the RP ID itself.
 */
import { webAuthnError, WebAuthnError } from './errors.js';
import { registrableDomain } from './public-suffix.js';

/** The spec's minimum (and this client's limit) on distinct registrable origin labels. */
export const RELATED_ORIGINS_MAX_LABELS = 5;
export const RELATED_ORIGINS_DEFAULT_MAX_BYTES = 64 * 1024;
export const RELATED_ORIGINS_DEFAULT_TIMEOUT_MS = 10_000;

export interface RelatedOriginsFetchInit {
  /** Aborted on timeout or when the caller aborts. */
  signal: AbortSignal;
  /** The body limit (a fetcher may stop reading past it; the client checks again). */
  maxBytes: number;
}

/** What a fetcher answers: a subset of the WHATWG Response. */
export interface RelatedOriginsFetchResponse {
  status: number;
  headers: { get(name: string): string | null | undefined };
  text(): Promise<string>;
}

export type RelatedOriginsFetcher = (url: string, init: RelatedOriginsFetchInit) => Promise<RelatedOriginsFetchResponse>;

export interface RelatedOriginsOptions {
  /** Replace the network fetch (a proxy-aware client, a test). Default: Node's global fetch, no redirects. */
  fetch?: RelatedOriginsFetcher | undefined;
  /** Largest body accepted, in bytes (default 64 KiB). */
  maxBytes?: number | undefined;
  /** How long the fetch may take (default 10 s). */
  timeoutMs?: number | undefined;
}

/** `https://{rpId}/.well-known/webauthn` (rpId: an ASCII host, as parseRpIdHost gives it). */
export function wellKnownWebAuthnUrl(rpId: string): string {
  return `https://${rpId}/.well-known/webauthn`;
}

/**
 * The registrable origin label of a domain: the first label of its
 * registrable domain (`example` for `login.example.co.uk`), null when it has
 * none (a public suffix, an IP address).
 */
export function registrableOriginLabel(domain: string): string | null {
  const reg = registrableDomain(domain);
  if (reg === null || reg.length === 0) return null;
  const dot = reg.indexOf('.');
  const label = dot < 0 ? reg : reg.slice(0, dot);
  return label.length > 0 ? label : null;
}

/** The origin of a URL string for a same-origin comparison, or null when it does not parse. */
function originOf(u: string): { origin: string; host: string } | null {
  let url: URL;
  try {
    url = new URL(u);
  } catch {
    return null;
  }
  return { origin: url.origin, host: url.hostname };
}

/**
 * Steps 5-7 of §5.11.1 on an already-parsed `origins` list: true when
 * `callerOrigin` is listed within the first `maxLabels` registrable origin labels.
 */
export function validateRelatedOrigins(origins: readonly string[], callerOrigin: string, maxLabels: number = RELATED_ORIGINS_MAX_LABELS): boolean {
  const caller = originOf(callerOrigin);
  if (!caller || caller.origin === 'null') return false;
  const labelsSeen = new Set<string>();
  for (const originItem of origins) {
    const url = originOf(originItem);
    if (!url) continue;
    // Effective domain: the host of a tuple origin (opaque origins have none).
    if (url.origin === 'null' || url.host.length === 0) continue;
    const label = registrableOriginLabel(url.host);
    if (label === null) continue;
    if (labelsSeen.size >= maxLabels && !labelsSeen.has(label)) continue;
    if (url.origin === caller.origin) return true;
    if (labelsSeen.size < maxLabels) labelsSeen.add(label);
  }
  return false;
}

function refuse(rpId: string, why: string, cause?: unknown): WebAuthnError {
  return webAuthnError(
    'SecurityError',
    `The relying party ID "${rpId}" is not a registrable domain suffix of the caller's domain, and the related origins check failed: ${why}`,
    cause === undefined ? undefined : { cause },
  );
}

/** Steps 2 (status, content type) to 4 on a fetched response; returns the `origins` list. */
export function parseWellKnownWebAuthn(rpId: string, status: number, contentType: string | null | undefined, body: string): string[] {
  const url = wellKnownWebAuthnUrl(rpId);
  if (status !== 200) throw refuse(rpId, `${url} answered HTTP ${status}, not 200`);
  const essence = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  if (essence !== 'application/json') {
    throw refuse(rpId, `${url} is served as "${contentType ?? '(no content type)'}", not application/json`);
  }
  let doc: unknown;
  try {
    doc = JSON.parse(body);
  } catch {
    throw refuse(rpId, `${url} is not valid JSON`);
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw refuse(rpId, `${url} is not a JSON object`);
  const origins = (doc as Record<string, unknown>).origins;
  if (!Array.isArray(origins) || !origins.every((o) => typeof o === 'string')) {
    throw refuse(rpId, `${url} has no "origins" array of strings`);
  }
  return origins as string[];
}

/** Read a WHATWG body stream up to maxBytes (more: an Error, the stream cancelled). */
async function readCapped(body: ReadableStream<Uint8Array> | null, maxBytes: number): Promise<string> {
  if (!body) return '';
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel().catch(() => undefined);
      throw new RangeError(`the body is larger than ${maxBytes} bytes`);
    }
    chunks.push(value);
  }
  const all = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) {
    all.set(c, at);
    at += c.byteLength;
  }
  return new TextDecoder('utf-8', { fatal: true }).decode(all);
}

/**
 * The built-in fetcher: Node's global fetch, no credentials, no referrer,
 * no redirects, and a body read no further than maxBytes.
 */
export const nodeRelatedOriginsFetcher: RelatedOriginsFetcher = async (url, init) => {
  const res = await fetch(url, {
    method: 'GET',
    signal: init.signal,
    redirect: 'error',
    credentials: 'omit',
    referrerPolicy: 'no-referrer',
    headers: { accept: 'application/json' },
  });
  return { status: res.status, headers: res.headers, text: () => readCapped(res.body, init.maxBytes) };
};

/** Settle with `p`, or reject as soon as `signal` aborts (a fetcher that ignores its signal cannot hang a ceremony). */
function untilAborted<T>(p: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(
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

/**
 * One client's related-origins checker: fetches each RP ID's document once
 * (a successfully parsed `origins` list is kept for the checker's lifetime;
 * failures are not kept, so a transient error is retried next ceremony).
 */
export class RelatedOriginsChecker {
  readonly #fetch: RelatedOriginsFetcher;
  readonly #maxBytes: number;
  readonly #timeoutMs: number;
  readonly #cache = new Map<string, readonly string[]>();

  constructor(options: RelatedOriginsOptions = {}) {
    const maxBytes = options.maxBytes ?? RELATED_ORIGINS_DEFAULT_MAX_BYTES;
    const timeoutMs = options.timeoutMs ?? RELATED_ORIGINS_DEFAULT_TIMEOUT_MS;
    if (!Number.isInteger(maxBytes) || maxBytes <= 0) throw new TypeError('relatedOrigins.maxBytes must be a positive integer');
    if (!(timeoutMs > 0) || !Number.isFinite(timeoutMs)) throw new TypeError('relatedOrigins.timeoutMs must be a finite number of milliseconds > 0');
    if (options.fetch !== undefined && typeof options.fetch !== 'function') throw new TypeError('relatedOrigins.fetch must be a function');
    this.#fetch = options.fetch ?? nodeRelatedOriginsFetcher;
    this.#maxBytes = maxBytes;
    this.#timeoutMs = timeoutMs;
  }

  /**
   * Resolve when `callerOrigin` may use `rpId` by the RP's well-known
   * document; SecurityError (saying what was checked) when it may not,
   * AbortError when `signal` aborts first.
   */
  async check(rpId: string, callerOrigin: string, signal?: AbortSignal): Promise<void> {
    const origins = this.#cache.get(rpId) ?? (await this.#load(rpId, signal));
    if (!validateRelatedOrigins(origins, callerOrigin)) {
      throw refuse(
        rpId,
        `${callerOrigin} is not listed in ${wellKnownWebAuthnUrl(rpId)} (only origins under its first ${RELATED_ORIGINS_MAX_LABELS} registrable domain labels count)`,
      );
    }
  }

  async #load(rpId: string, signal: AbortSignal | undefined): Promise<readonly string[]> {
    const url = wellKnownWebAuthnUrl(rpId);
    const ac = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      ac.abort(new Error(`timed out after ${this.#timeoutMs} ms`));
    }, this.#timeoutMs);
    const onAbort = () => ac.abort(signal?.reason);
    if (signal?.aborted) onAbort();
    else signal?.addEventListener('abort', onAbort, { once: true });
    let status: number;
    let contentType: string | null | undefined;
    let body: string;
    try {
      const res = await untilAborted(Promise.resolve().then(() => this.#fetch(url, { signal: ac.signal, maxBytes: this.#maxBytes })), ac.signal);
      status = res.status;
      contentType = res.headers.get('content-type');
      const declared = Number(res.headers.get('content-length') ?? NaN);
      if (status === 200 && Number.isFinite(declared) && declared > this.#maxBytes) {
        throw new RangeError(`the body is declared as ${declared} bytes, more than ${this.#maxBytes}`);
      }
      body = status === 200 ? await untilAborted(Promise.resolve().then(() => res.text()), ac.signal) : '';
    } catch (e) {
      if (signal?.aborted && !timedOut) throw webAuthnError('AbortError', 'The operation was aborted.', { cause: signal.reason });
      if (timedOut) throw refuse(rpId, `fetching ${url} timed out after ${this.#timeoutMs} ms`, e);
      const detail = e instanceof Error ? e.message : String(e);
      throw refuse(rpId, `fetching ${url} failed (${detail})`, e);
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    }
    if (new TextEncoder().encode(body).byteLength > this.#maxBytes) throw refuse(rpId, `${url} is larger than ${this.#maxBytes} bytes`);
    const origins = parseWellKnownWebAuthn(rpId, status, contentType, body);
    this.#cache.set(rpId, Object.freeze([...origins]));
    return this.#cache.get(rpId)!;
  }
}
