/**
 * The only file that imports koffi (an optional dependency, loaded on first
 * use with a dynamic import, so the library works without it).
 *
 * Every pointer crosses the boundary as a `uintptr_t` integer: the structs
 * are laid out by layout.ts/encode.ts in one native block, so koffi never
 * marshals a struct itself and never reads past a result's dwVersion.
 * Blocking calls (MakeCredential, GetAssertion) run on koffi's worker
 * threads (`.async`), never on the event loop.
 */
import { isAbsolute, join, win32 } from 'node:path';
import type { MemoryReader } from './decode.js';
import { WebAuthnDllError } from './errors.js';

type Koffi = typeof import('koffi');
type KoffiFunction = ReturnType<ReturnType<Koffi['load']>['func']>;

let koffiPromise: Promise<Koffi> | undefined;

/** Loads koffi once; a clear NotSupportedError when it is not installed. */
export function loadKoffi(): Promise<Koffi> {
  koffiPromise ??= import('koffi').then(
    (m) => ((m as unknown as { default?: Koffi }).default ?? m) as Koffi,
    (e: unknown) => {
      koffiPromise = undefined;
      throw new WebAuthnDllError(
        'NotSupportedError',
        'The webauthn.dll route needs the optional dependency koffi, which is not installed (npm install koffi).',
        { cause: e },
      );
    },
  );
  return koffiPromise;
}

/** Native memory: what the binding allocates for inputs and reads results from. */
export interface NativeMemory extends MemoryReader {
  alloc(size: number): bigint;
  free(addr: bigint): void;
  write(addr: bigint, data: Uint8Array): void;
}

/** The webauthn.dll functions the binding uses. Pointers are absolute addresses. */
export interface WebAuthnDll {
  readonly path: string;
  readonly memory: NativeMemory;
  getApiVersionNumber(): number;
  makeCredential(hwnd: bigint, rp: bigint, user: bigint, params: bigint, clientData: bigint, options: bigint, out: bigint): Promise<number>;
  getAssertion(hwnd: bigint, rpId: bigint, clientData: bigint, options: bigint, out: bigint): Promise<number>;
  freeCredentialAttestation(result: bigint): void;
  freeAssertion(result: bigint): void;
  getCancellationId(out: bigint): number;
  cancelCurrentOperation(id: bigint): number;
  getErrorName(hr: number): string | undefined;
  isUserVerifyingPlatformAuthenticatorAvailable(): Promise<boolean>;
}

function memoryOf(koffi: Koffi): NativeMemory {
  const pointerSize = koffi.sizeof('void *') === 4 ? 4 : 8;
  return {
    pointerSize,
    alloc(size: number): bigint {
      return BigInt(koffi.alloc('uint8_t', Math.max(1, size)) as bigint | number);
    },
    free(addr: bigint): void {
      koffi.free(addr);
    },
    write(addr: bigint, data: Uint8Array): void {
      if (data.length > 0) koffi.encode(addr, 0, 'uint8_t', data, data.length);
    },
    u32(addr: bigint): number {
      return koffi.decode(addr, 0, 'uint32_t') as number;
    },
    i32(addr: bigint): number {
      return koffi.decode(addr, 0, 'int32_t') as number;
    },
    ptr(addr: bigint): bigint {
      return BigInt(koffi.decode(addr, 0, 'uintptr_t') as number | bigint);
    },
    bytes(addr: bigint, len: number): Uint8Array {
      const v = koffi.decode(addr, 0, 'uint8_t', len) as Uint8Array | number[];
      return Uint8Array.from(v);
    },
    utf16z(addr: bigint, maxChars: number): string {
      let s = '';
      for (let i = 0; i < maxChars; i++) {
        const c = koffi.decode(addr, i * 2, 'uint16_t') as number;
        if (c === 0) break;
        s += String.fromCharCode(c);
      }
      return s;
    },
  };
}

function callAsync(fn: KoffiFunction, args: unknown[]): Promise<number> {
  return new Promise((resolve, reject) => {
    fn.async(...args, (err: unknown, res: number) => (err ? reject(err) : resolve(res >>> 0)));
  });
}

const opened = new Map<string, Promise<WebAuthnDll>>();

/**
 * Opens webauthn.dll (or a stand-in with the same exports) by absolute path.
 * A relative path is refused: LoadLibrary would search the application
 * directory and the current directory first (the DLL-planting problem
 * libfido2 fixed by loading from System32).
 */
export function openWebAuthnDll(path: string): Promise<WebAuthnDll> {
  if (!isAbsolute(path) && process.platform !== 'win32' && win32.isAbsolute(path)) {
    // The System32 default computed off Windows: say what is wrong, not that the path is relative.
    return Promise.reject(
      new WebAuthnDllError(
        'NotSupportedError',
        `webauthn.dll exists only on Windows (this is ${process.platform}); to test the webauthn.dll route here, set CTAP_BRIDGE_WEBAUTHN_DLL to the absolute path of a stand-in library`,
      ),
    );
  }
  if (!isAbsolute(path)) {
    return Promise.reject(new WebAuthnDllError('NotSupportedError', `webauthn.dll must be loaded by absolute path, got "${path}"`));
  }
  let p = opened.get(path);
  if (!p) {
    p = load(path);
    opened.set(path, p);
    p.catch(() => opened.delete(path));
  }
  return p;
}

async function load(path: string): Promise<WebAuthnDll> {
  const koffi = await loadKoffi();
  let lib: ReturnType<Koffi['load']>;
  try {
    lib = koffi.load(path);
  } catch (e) {
    throw new WebAuthnDllError('NotSupportedError', `Could not load ${path}: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
  }
  const f = (name: string, ret: string, args: string[]): KoffiFunction => {
    try {
      return lib.func('__stdcall', name, ret, args);
    } catch (e) {
      throw new WebAuthnDllError('NotSupportedError', `${path} does not export ${name}; Windows 10 1903 or later is needed`, { cause: e });
    }
  };
  const P = 'uintptr_t';
  const getApiVersionNumber = f('WebAuthNGetApiVersionNumber', 'uint32_t', []);
  const isUvpaa = f('WebAuthNIsUserVerifyingPlatformAuthenticatorAvailable', 'int32_t', [P]);
  const makeCredential = f('WebAuthNAuthenticatorMakeCredential', 'int32_t', [P, P, P, P, P, P, P]);
  const getAssertion = f('WebAuthNAuthenticatorGetAssertion', 'int32_t', [P, P, P, P, P]);
  const freeAttestation = f('WebAuthNFreeCredentialAttestation', 'void', [P]);
  const freeAssertion = f('WebAuthNFreeAssertion', 'void', [P]);
  const getCancellationId = f('WebAuthNGetCancellationId', 'int32_t', [P]);
  const cancel = f('WebAuthNCancelCurrentOperation', 'int32_t', [P]);
  const getErrorName = f('WebAuthNGetErrorName', 'const char16_t *', ['int32_t']);
  const memory = memoryOf(koffi);
  return {
    path,
    memory,
    getApiVersionNumber: () => (getApiVersionNumber() as number) >>> 0,
    makeCredential: (...a) => callAsync(makeCredential, a),
    getAssertion: (...a) => callAsync(getAssertion, a),
    freeCredentialAttestation: (r) => void freeAttestation(r),
    freeAssertion: (r) => void freeAssertion(r),
    getCancellationId: (out) => (getCancellationId(out) as number) >>> 0,
    cancelCurrentOperation: (id) => (cancel(id) as number) >>> 0,
    getErrorName: (hr) => (getErrorName(hr | 0) as string | null) ?? undefined,
    async isUserVerifyingPlatformAuthenticatorAvailable(): Promise<boolean> {
      const slot = memory.alloc(4);
      try {
        memory.write(slot, new Uint8Array(4));
        const hr = await callAsync(isUvpaa, [slot]);
        return hr === 0 && memory.i32(slot) !== 0;
      } finally {
        memory.free(slot);
      }
    },
  };
}

function system32(file: string, env: NodeJS.ProcessEnv = process.env): string {
  return join(env['SystemRoot'] ?? env['windir'] ?? 'C:\\Windows', 'System32', file);
}

let windowFns: Promise<KoffiFunction[]> | undefined;

/**
 * A window to parent Windows' security-key dialog: the foreground window,
 * else the console window, else the desktop. Windows only; 0n if none.
 */
export async function foregroundWindow(): Promise<bigint> {
  windowFns ??= loadKoffi().then((koffi) => {
    const user32 = koffi.load(system32('user32.dll'));
    const kernel32 = koffi.load(system32('kernel32.dll'));
    return [
      user32.func('__stdcall', 'GetForegroundWindow', 'uintptr_t', []),
      kernel32.func('__stdcall', 'GetConsoleWindow', 'uintptr_t', []),
      user32.func('__stdcall', 'GetDesktopWindow', 'uintptr_t', []),
    ];
  });
  windowFns.catch(() => {
    windowFns = undefined;
  });
  for (const fn of await windowFns) {
    const h = BigInt(fn() as number | bigint);
    if (h !== 0n) return h;
  }
  return 0n;
}

/** shell32!IsUserAnAdmin: true when the process token is elevated. Windows only. */
export async function isUserAnAdmin(): Promise<boolean> {
  const koffi = await loadKoffi();
  const shell32 = koffi.load(system32('shell32.dll'));
  const fn = shell32.func('__stdcall', 'IsUserAnAdmin', 'int32_t', []);
  return (fn() as number) !== 0;
}
