/**
 * create()/get() through webauthn.dll: encode → one native block → async call
 * on a koffi worker thread → decode up to the result's dwVersion → free.
 * An AbortSignal (or the timeout) cancels through the cancellation GUID; the
 * call's memory is released only after the DLL has returned.
 */
import { SerialQueue, type CallOptions } from '../../util/deadline.js';
import { WebAuthnError } from '../../webauthn/errors.js';
import { decodeAssertion, decodeCredentialAttestation, type RequestedCreateExtensions, type RequestedGetExtensions } from './decode.js';
import { encodeGetAssertion, encodeMakeCredential, type EncodedCall } from './encode.js';
import { errorFromHresult, WebAuthnDllError } from './errors.js';
import { foregroundWindow, openWebAuthnDll, type WebAuthnDll } from './koffi.js';
import { webAuthnDllPath } from './route.js';
import type { DllAssertionResult, DllAttestationResult, DllCreationOptions, DllRequestOptions } from './types.js';

export interface WebAuthnDllCallOptions extends CallOptions {
  /**
   * The window Windows parents its dialog to. Electron: `win.getNativeWindowHandle()`
   * (a Buffer holding the HWND). Default: the foreground window; never NULL.
   */
  windowHandle?: bigint | number | Uint8Array | undefined;
  /** Environment for CTAP_BRIDGE_WEBAUTHN_DLL (default process.env). */
  env?: Readonly<Record<string, string | undefined>> | undefined;
  /** A library already opened (tests, or a caller that caches it). */
  library?: WebAuthnDll | undefined;
}

/** WebAuthn's suggested ceiling for a ceremony with user interaction (§5.4.1 timeout). */
export const DEFAULT_CEREMONY_TIMEOUT_MS = 300_000;
/** How often a cancel is repeated while the cancelled call has not returned. */
const CANCEL_REPEAT_MS = 250;
/** What off-Windows stand-in libraries get as a window handle (non-zero, never dereferenced). */
export const FAKE_WINDOW_HANDLE = 0xc7a9n;

const queues = new WeakMap<WebAuthnDll, SerialQueue>();

/** Windows serialises WebAuthn operations per process; so do we, per library. */
function queueFor(lib: WebAuthnDll): SerialQueue {
  let q = queues.get(lib);
  if (!q) {
    q = new SerialQueue();
    queues.set(lib, q);
  }
  return q;
}

export async function resolveWindowHandle(given: WebAuthnDllCallOptions['windowHandle'], pointerSize: 4 | 8): Promise<bigint> {
  let h = 0n;
  if (typeof given === 'bigint') h = given;
  else if (typeof given === 'number') h = BigInt(given);
  else if (given instanceof Uint8Array) {
    if (given.length < pointerSize) throw new TypeError(`windowHandle must hold ${pointerSize} bytes (getNativeWindowHandle()), got ${given.length}`);
    const v = new DataView(given.buffer, given.byteOffset, given.byteLength);
    h = pointerSize === 8 ? v.getBigUint64(0, true) : BigInt(v.getUint32(0, true));
  }
  if (h !== 0n) return h;
  if (process.platform === 'win32') {
    h = await foregroundWindow();
    if (h !== 0n) return h;
    throw new WebAuthnDllError('NotAllowedError', 'No window to attach the Windows security-key dialog to; pass windowHandle');
  }
  return FAKE_WINDOW_HANDLE;
}

async function library(o: WebAuthnDllCallOptions): Promise<WebAuthnDll> {
  return o.library ?? openWebAuthnDll(webAuthnDllPath(o.env ?? process.env));
}

function abortError(signal: AbortSignal): WebAuthnError {
  return new WebAuthnError('AbortError', 'The operation was aborted.', { cause: signal.reason });
}

/**
 * Runs one MakeCredential/GetAssertion: writes the arena, wires cancellation,
 * awaits the worker-thread call, hands the result pointer to `decode`, frees
 * everything.
 */
async function run<T>(
  lib: WebAuthnDll,
  enc: EncodedCall,
  what: string,
  o: WebAuthnDllCallOptions,
  timeoutMs: number,
  invoke: (base: bigint) => Promise<number>,
  decode: (base: bigint, result: bigint) => T,
  free: (result: bigint) => void,
): Promise<T> {
  const mem = lib.memory;
  const signal = o.signal;
  if (signal?.aborted) throw abortError(signal);
  return queueFor(lib).run(async () => {
    if (signal?.aborted) throw abortError(signal);
    const base = mem.alloc(enc.arena.size);
    try {
      const image = enc.arena.finish(base);
      mem.write(base, image);
      image.fill(0);
      enc.arena.wipe();
      const guid = base + BigInt(enc.cancellationId);
      const canCancel = lib.getCancellationId(guid) === 0;
      // No id: send no pointer rather than a pointer to a zero GUID (the call then cannot be cancelled early).
      if (!canCancel) mem.write(base + BigInt(enc.cancellationIdField), new Uint8Array(mem.pointerSize));
      let cancelledBy: 'abort' | 'timeout' | undefined;
      let recancel: ReturnType<typeof setInterval> | undefined;
      const cancel = (why: 'abort' | 'timeout'): void => {
        if (cancelledBy) return;
        cancelledBy = why;
        if (!canCancel) return;
        lib.cancelCurrentOperation(guid);
        // The worker thread may not have entered the DLL yet when the abort lands; a cancel
        // for an id Windows has not seen yet may be lost, so repeat it until the call returns.
        recancel = setInterval(() => lib.cancelCurrentOperation(guid), CANCEL_REPEAT_MS);
      };
      const onAbort = (): void => cancel('abort');
      signal?.addEventListener('abort', onAbort, { once: true });
      // Our own deadline on top of dwTimeoutMilliseconds (which Windows treats as guidance).
      const timer = setTimeout(() => cancel('timeout'), timeoutMs + 1000);
      let hr: number;
      try {
        hr = await invoke(base);
      } finally {
        clearTimeout(timer);
        clearInterval(recancel);
        signal?.removeEventListener('abort', onAbort);
      }
      const result = mem.ptr(base + BigInt(enc.resultSlot));
      try {
        if (cancelledBy === 'abort' && signal) throw abortError(signal);
        if (cancelledBy === 'timeout') {
          throw new WebAuthnDllError('NotAllowedError', `${what} timed out after ${timeoutMs} ms`, { hresult: hr === 0 ? undefined : hr });
        }
        if (hr !== 0) throw errorFromHresult(hr, lib.getErrorName(hr), what);
        return decode(base, result);
      } finally {
        if (result !== 0n) free(result);
      }
    } finally {
      // The block held PRF inputs / hmac salts / blobs: zero it before it goes back to the heap.
      mem.write(base, new Uint8Array(enc.arena.size));
      mem.free(base);
    }
  });
}

/** navigator.credentials.create({ publicKey }) through webauthn.dll. */
export async function createViaWebAuthnDll(options: DllCreationOptions, call: WebAuthnDllCallOptions = {}): Promise<DllAttestationResult> {
  const lib = await library(call);
  const apiVersion = lib.getApiVersionNumber();
  const timeoutMs = call.timeoutMs ?? options.timeout ?? DEFAULT_CEREMONY_TIMEOUT_MS;
  const hwnd = await resolveWindowHandle(call.windowHandle, lib.memory.pointerSize);
  const enc = encodeMakeCredential(options, apiVersion, lib.memory.pointerSize, timeoutMs);
  const x = options.extensions ?? {};
  // Outputs only for what was requested AND sent (an extension this API cannot carry reports nothing).
  const sent = (name: string): boolean => !enc.ignoredExtensions.includes(name);
  const requested: RequestedCreateExtensions = {
    credProps: x.credProps === true,
    credProtect: x.credentialProtectionPolicy !== undefined && sent('credProtect') && sent('credentialProtectionPolicy'),
    credBlob: x.credBlob !== undefined && sent('credBlob'),
    minPinLength: x.minPinLength === true && sent('minPinLength'),
    largeBlob: x.largeBlob !== undefined && sent('largeBlob'),
    prf: x.prf !== undefined && sent('prf'),
    hmacCreateSecret: x.hmacCreateSecret === true,
  };
  const at = (base: bigint, off: number): bigint => base + BigInt(off);
  return run(
    lib,
    enc,
    'MakeCredential',
    call,
    timeoutMs,
    (base) => lib.makeCredential(hwnd, at(base, enc.rp), at(base, enc.user), at(base, enc.pubKeyCredParams), at(base, enc.clientData), at(base, enc.options), at(base, enc.resultSlot)),
    (_base, result) =>
      decodeCredentialAttestation(lib.memory, result, {
        apiVersion,
        clientDataJSON: options.clientDataJSON,
        requested,
        ignoredExtensions: enc.ignoredExtensions,
      }),
    (result) => lib.freeCredentialAttestation(result),
  );
}

/** navigator.credentials.get({ publicKey }) through webauthn.dll. */
export async function getViaWebAuthnDll(options: DllRequestOptions, call: WebAuthnDllCallOptions = {}): Promise<DllAssertionResult> {
  const lib = await library(call);
  const apiVersion = lib.getApiVersionNumber();
  const timeoutMs = call.timeoutMs ?? options.timeout ?? DEFAULT_CEREMONY_TIMEOUT_MS;
  const hwnd = await resolveWindowHandle(call.windowHandle, lib.memory.pointerSize);
  const enc = encodeGetAssertion(options, apiVersion, lib.memory.pointerSize, timeoutMs);
  const x = options.extensions ?? {};
  const sent = (name: string): boolean => !enc.ignoredExtensions.includes(name);
  const requested: RequestedGetExtensions = {
    appid: x.appid !== undefined,
    getCredBlob: x.getCredBlob === true && sent('getCredBlob'),
    largeBlobRead: x.largeBlob?.read === true && x.largeBlob.write === undefined && sent('largeBlob'),
    largeBlobWrite: x.largeBlob?.write !== undefined && sent('largeBlob'),
    prf: x.prf !== undefined && sent('prf') && (x.prf.eval !== undefined || (x.prf.evalByCredentialRaw?.length ?? 0) > 0),
    hmacGetSecret: x.hmacGetSecret !== undefined && sent('hmacGetSecret'),
  };
  const at = (base: bigint, off: number): bigint => base + BigInt(off);
  return run(
    lib,
    enc,
    'GetAssertion',
    call,
    timeoutMs,
    (base) => lib.getAssertion(hwnd, at(base, enc.rpId), at(base, enc.clientData), at(base, enc.options), at(base, enc.resultSlot)),
    (base, result) =>
      decodeAssertion(lib.memory, result, {
        apiVersion,
        clientDataJSON: options.clientDataJSON,
        requested,
        appIdUsed: enc.appIdUsed === null ? undefined : lib.memory.i32(at(base, enc.appIdUsed)) !== 0,
        ignoredExtensions: enc.ignoredExtensions,
      }),
    (result) => lib.freeAssertion(result),
  );
}

/** WebAuthn's isUserVerifyingPlatformAuthenticatorAvailable() (Windows Hello), for `ctap doctor`. */
export async function isUserVerifyingPlatformAuthenticatorAvailable(call: WebAuthnDllCallOptions = {}): Promise<boolean> {
  const lib = await library(call);
  return lib.isUserVerifyingPlatformAuthenticatorAvailable();
}

/** The running webauthn.dll API version (1..9 today), for `ctap doctor`/`ctap info`. */
export async function webAuthnDllApiVersion(call: WebAuthnDllCallOptions = {}): Promise<number> {
  return (await library(call)).getApiVersionNumber();
}
