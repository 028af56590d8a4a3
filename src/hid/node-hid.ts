/**
 * The node-hid adapter: the only file that imports node-hid (v3, HIDAsync,
 * never the synchronous API). node-hid is imported lazily, so a machine where
 * it cannot load (no prebuilt binary, libusb-1.0.so.0 or libudev.so.1
 * missing) gets a HidError BACKEND_UNAVAILABLE naming the library and the
 * package to install, and nothing else in ctap-bridge breaks.
 *
 * Device quirks live here: every write is the report-ID byte 0x00 followed by
 * the 64-byte packet (hidapi's rule for devices without numbered reports, on
 * every OS); a read that returns 65 bytes carries a report-ID byte, stripped
 * here; a read or write failure after open means the key was removed.
 *
 * The core (`createNodeHidBackend`) takes a loader of the node-hid module
 * so tests inject a fake with HIDAsync's exact behaviour.
 */
import { fileURLToPath } from 'node:url';
import type * as NodeHid from 'node-hid';
import type { CallOptions } from '../util/deadline.js';
import { AbortedError, TimeoutError } from '../util/errors.js';
import { HidError, type HidErrorCode } from './errors.js';
import type { HidDeviceInfo, HidPort } from './port.js';

/** FIDO usage page and CTAPHID usage (CTAP 2.2 §11.2.8.1). */
export const FIDO_USAGE_PAGE = 0xf1d0;
export const FIDO_USAGE_CTAPHID = 0x01;
export const FIDO_REPORT_SIZE = 64;
/** Longest single native read: bounds how long close() waits for a read in flight. */
const NATIVE_READ_SLICE_MS = 250;

/** What ctap-bridge uses of node-hid's device records. */
export interface NodeHidDevice {
  vendorId: number;
  productId: number;
  path?: string | undefined;
  serialNumber?: string | undefined;
  manufacturer?: string | undefined;
  product?: string | undefined;
  release: number;
  interface: number;
  usagePage?: number | undefined;
  usage?: number | undefined;
}

/** What ctap-bridge uses of an open node-hid `HIDAsync`. */
export interface NodeHidAsyncHandle {
  /** Resolves an empty Buffer when nothing arrived within `timeOut` ms. */
  read(timeOut?: number): Promise<Buffer | undefined>;
  /** Resolves the number of bytes written (report-ID byte included). */
  write(values: number[] | Buffer): Promise<number>;
  close(): Promise<void>;
  on(event: 'error', listener: (error: unknown) => void): unknown;
  removeAllListeners(event?: string): unknown;
}

/** What ctap-bridge uses of the node-hid module. */
export interface NodeHidModule {
  devicesAsync(): Promise<NodeHidDevice[]>;
  HIDAsync: { open(path: string, options?: { nonExclusive?: boolean }): Promise<NodeHidAsyncHandle> };
}

// The real module must satisfy the interface the core is written against.
type Satisfies<T extends NodeHidModule> = T;
export type RealNodeHidModule = Satisfies<Pick<typeof NodeHid, 'devicesAsync' | 'HIDAsync'>>;

export interface NodeHidBackend {
  listHidDevices(): Promise<HidDeviceInfo[]>;
  openHidDevice(path: string, known?: HidDeviceInfo): Promise<HidPort>;
}

/** The udev rule shipped with the package (absolute path, for hints). */
export const UDEV_RULES_PATH = fileURLToPath(new URL('../../native/linux/70-ctap-bridge.rules', import.meta.url));

/**
 * Build the backend over a module loader. The loader runs once, on first
 * use; its failure (and a native-binding failure on the first call) becomes
 * BACKEND_UNAVAILABLE.
 */
export function createNodeHidBackend(load: () => Promise<NodeHidModule>, platform: NodeJS.Platform = process.platform): NodeHidBackend {
  let loaded: Promise<NodeHidModule> | undefined;
  const module = (): Promise<NodeHidModule> => {
    loaded ??= load().catch((e: unknown) => {
      loaded = undefined; // a later call may succeed once the library is installed
      throw backendUnavailable(e, platform);
    });
    return loaded;
  };

  async function listHidDevices(): Promise<HidDeviceInfo[]> {
    const hid = await module();
    let devices: NodeHidDevice[];
    try {
      devices = await hid.devicesAsync();
    } catch (e) {
      if (isLoadFailure(e)) throw backendUnavailable(e, platform);
      throw new HidError('IO_ERROR', `HID enumeration failed: ${messageOf(e)}`, { cause: e });
    }
    const seen = new Set<string>();
    const out: HidDeviceInfo[] = [];
    for (const d of devices) {
      if (d.usagePage !== FIDO_USAGE_PAGE || d.usage !== FIDO_USAGE_CTAPHID || !d.path || seen.has(d.path)) continue;
      seen.add(d.path);
      out.push(toInfo(d));
    }
    return out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  }

  async function openHidDevice(path: string, known?: HidDeviceInfo): Promise<HidPort> {
    if (typeof path !== 'string' || path === '') throw new HidError('INVALID_SPEC', 'openHidDevice: the device path is empty');
    const hid = await module();
    let handle: NodeHidAsyncHandle;
    try {
      // Non-exclusive (macOS; ignored elsewhere): browsers and other FIDO tools may hold the key too,
      // which CTAPHID's channels are made for. libfido2 opens it the same way.
      handle = await hid.HIDAsync.open(path, { nonExclusive: true });
    } catch (e) {
      throw openError(e, path, platform);
    }
    let info = known;
    if (!info) {
      // Metadata for `ctap info`; a failure here must not fail the open.
      const match = await hid.devicesAsync().then(
        (all) => all.find((d) => d.path === path),
        () => undefined,
      );
      info = match ? toInfo(match) : { path, transport: 'usb' };
    }
    return new NodeHidPort(handle, info);
  }

  return { listHidDevices, openHidDevice };
}

function toInfo(d: NodeHidDevice): HidDeviceInfo {
  return {
    path: d.path!,
    transport: 'usb',
    vendorId: d.vendorId,
    productId: d.productId,
    manufacturer: d.manufacturer || undefined,
    product: d.product || undefined,
    serialNumber: d.serialNumber || undefined,
    release: d.release,
  };
}

/**
 * A HidPort over one HIDAsync. At most one native read is in flight (node-hid
 * must not read from two threads): a caller that gives up (timeout, abort)
 * leaves it running, and a report it brings is kept for the next read.
 */
class NodeHidPort implements HidPort {
  readonly info: HidDeviceInfo;
  readonly reportSize = FIDO_REPORT_SIZE;
  #handle: NodeHidAsyncHandle;
  #inbox: Uint8Array[] = [];
  #inflight: Promise<void> | null = null;
  #failure: HidError | undefined;
  #closing = false;
  #closed = false;

  constructor(handle: NodeHidAsyncHandle, info: HidDeviceInfo) {
    this.#handle = handle;
    this.info = info;
    handle.on('error', (e) => this.#fail(e));
  }

  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Write one report. A native write cannot be interrupted: when it outlasts
   * `opts.timeoutMs` the caller gets TimeoutError while the write finishes in
   * the background (a key that stalls its OUT endpoint must not stall us).
   */
  async write(report: Uint8Array, opts?: CallOptions): Promise<void> {
    this.#check();
    if (report.length !== this.reportSize) throw new RangeError(`a report is ${this.reportSize} bytes; got ${report.length}`);
    const out = Buffer.alloc(this.reportSize + 1); // out[0] = 0x00: the report ID
    out.set(report, 1);
    const written = this.#handle.write(out).then(
      () => undefined,
      (e: unknown) => {
        throw this.#fail(e);
      },
    );
    const ms = opts?.timeoutMs;
    if (ms === undefined || !Number.isFinite(ms)) return written;
    written.catch(() => undefined); // reported through #failure if the caller has given up
    const outcome = await race(written, Math.max(0, ms), undefined);
    if (outcome === 'timeout') throw new TimeoutError(`writing to the security key at ${this.info.path} did not complete in time`);
    return written;
  }

  async read(timeoutMs: number, signal?: AbortSignal): Promise<Uint8Array | null> {
    this.#check();
    if (signal?.aborted) throw new AbortedError(undefined, { cause: signal.reason });
    const end = Date.now() + Math.max(0, timeoutMs);
    for (;;) {
      const queued = this.#inbox.shift();
      if (queued) return queued;
      if (this.#failure) throw this.#failure;
      const left = end - Date.now();
      if (left <= 0) {
        // Poll once without blocking: a zero-timeout native read returns at once; one already in flight is not waited for.
        if (!this.#inflight) {
          this.#startNativeRead(0);
          await this.#inflight;
        }
        const report = this.#inbox.shift();
        if (report) return report;
        if (this.#failure) throw this.#failure;
        return null;
      }
      if (!this.#inflight) this.#startNativeRead(Math.min(left, NATIVE_READ_SLICE_MS));
      const outcome = await race(this.#inflight!, left, signal);
      if (outcome === 'aborted') throw new AbortedError(undefined, { cause: signal?.reason });
      if (outcome === 'timeout') return this.#inbox.shift() ?? null;
    }
  }

  async close(): Promise<void> {
    if (this.#closing) return;
    this.#closing = true;
    this.#failure ??= new HidError('CLOSED', 'the HID device was closed');
    try {
      await this.#inflight; // never close under a native read
      await this.#handle.close();
    } catch {
      // Closing a device that is already gone is not an error.
    } finally {
      this.#handle.removeAllListeners('error');
      this.#closed = true;
    }
  }

  #startNativeRead(ms: number): void {
    this.#inflight = this.#handle.read(ms).then(
      (data) => {
        if (!data || data.length === 0) return; // timeout
        const bytes = data.length === this.reportSize + 1 ? data.subarray(1) : data;
        this.#inbox.push(new Uint8Array(bytes));
      },
      (e: unknown) => {
        this.#fail(e);
      },
    );
    void this.#inflight.finally(() => {
      this.#inflight = null;
    });
  }

  #check(): void {
    if (this.#closing) throw new HidError('CLOSED', 'the HID device was closed');
    if (this.#failure) throw this.#failure;
  }

  /** A failure after open: the key was removed (unless we are closing it). */
  #fail(e: unknown): HidError {
    if (!this.#failure) {
      this.#failure = this.#closing
        ? new HidError('CLOSED', 'the HID device was closed', { cause: e })
        : new HidError('DEVICE_REMOVED', `the security key at ${this.info.path} was removed or stopped responding (${messageOf(e)})`, {
            cause: e,
            hint: 'Plug it back in and try again',
          });
    }
    return this.#failure;
  }
}

/** Wait for `p`, at most `ms`, or until `signal` fires. */
function race(p: Promise<void>, ms: number, signal: AbortSignal | undefined): Promise<'done' | 'timeout' | 'aborted'> {
  return new Promise((resolve) => {
    const finish = (v: 'done' | 'timeout' | 'aborted'): void => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      resolve(v);
    };
    const onAbort = (): void => finish('aborted');
    const timer = setTimeout(() => finish('timeout'), ms);
    signal?.addEventListener('abort', onAbort, { once: true });
    void p.then(
      () => finish('done'),
      () => finish('done'),
    );
  });
}

function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

const LOAD_FAILURE =
  /cannot open shared object file|No native build was found|ERR_DLOPEN_FAILED|dlopen|Library not loaded|NODE_MODULE_VERSION|The specified module could not be found|Cannot find module|Cannot find package|invalid ELF header|wrong ELF class/i;

/** True for errors that mean node-hid (or its native binding) could not load. */
export function isLoadFailure(e: unknown): boolean {
  const code = (e as { code?: unknown } | null)?.code;
  if (code === 'ERR_DLOPEN_FAILED' || code === 'MODULE_NOT_FOUND' || code === 'ERR_MODULE_NOT_FOUND') return true;
  return LOAD_FAILURE.test(messageOf(e));
}

/** Shared libraries node-hid's Linux binaries link, and who ships them. */
const LIBRARY_PACKAGES: Record<string, { debian: string; fedora: string }> = {
  'libusb-1.0.so.0': { debian: 'libusb-1.0-0', fedora: 'libusb1' },
  'libudev.so.1': { debian: 'libudev1', fedora: 'systemd-libs' },
};

export function backendUnavailable(e: unknown, platform: NodeJS.Platform = process.platform): HidError {
  const message = messageOf(e);
  const lib = /([\w.+-]+\.so(?:\.\d+)*)/.exec(message)?.[1];
  const pkg = lib ? LIBRARY_PACKAGES[lib] : undefined;
  let hint: string;
  if (lib && pkg) {
    hint = `node-hid needs ${lib}: install it (Debian/Ubuntu: sudo apt-get install ${pkg.debian}; Fedora: sudo dnf install ${pkg.fedora})`;
  } else if (lib) {
    hint = `node-hid needs the shared library ${lib}: install the package that provides it`;
  } else if (/Cannot find (?:module|package) ['"]?node-hid['"]?(?:$|[\s'"])/i.test(message)) {
    hint = 'node-hid is not installed: npm install node-hid (it is a dependency of ctap-bridge; an install with --omit=optional or a broken node_modules can lose it)';
  } else if (/No native build was found|Cannot find module|Cannot find package|MODULE_NOT_FOUND/i.test(message)) {
    hint = `node-hid has no working binary for ${platform}-${process.arch} on Node ${process.versions.node}: reinstall it (npm rebuild node-hid; building needs python3, make and a C++ compiler${platform === 'linux' ? ', plus libudev-dev and libusb-1.0-0-dev' : ''})`;
  } else {
    hint = 'Reinstall node-hid (npm rebuild node-hid); UDP simulators (--device udp:HOST:PORT) and the virtual key (--device virtual) work without it';
  }
  return new HidError('BACKEND_UNAVAILABLE', `USB HID access is unavailable: node-hid could not load (${message.split('\n')[0]})`, { cause: e, hint });
}

/** The fix for a permission error, per platform. */
export function permissionHint(platform: NodeJS.Platform = process.platform): string {
  switch (platform) {
    case 'linux':
      return (
        `Let your user open FIDO keys: sudo cp ${UDEV_RULES_PATH} /etc/udev/rules.d/ && ` +
        'sudo udevadm control --reload && sudo udevadm trigger, then unplug and replug the key ' +
        '(the rule tags FIDO hidraw devices with uaccess, which grants the logged-in user access)'
      );
    case 'win32':
      return 'Windows lets only Administrator processes open FIDO keys over raw HID: run as Administrator, or use the platform WebAuthn API route (webauthn.dll)';
    case 'darwin':
      return 'Another process may hold the key exclusively (a browser or another FIDO tool): close it and try again';
    default:
      return 'Check the permissions of the HID device node';
  }
}

function openError(e: unknown, path: string, platform: NodeJS.Platform): HidError {
  if (isLoadFailure(e)) return backendUnavailable(e, platform);
  const message = messageOf(e);
  const code = (e as { code?: unknown } | null)?.code;
  let kind: HidErrorCode = 'OPEN_FAILED';
  let hint: string | undefined;
  if (code === 'EACCES' || code === 'EPERM' || /permission denied|access is denied|operation not permitted|EACCES|EPERM/i.test(message)) {
    kind = 'PERMISSION_DENIED';
    hint = permissionHint(platform);
  } else if (/exclusive access|already open|kIOReturnExclusiveAccess|0xE00002C5|sharing violation|EBUSY/i.test(message)) {
    kind = 'DEVICE_BUSY';
    hint = 'Another process holds the key exclusively: close other FIDO tools or browsers using it and try again';
  } else if (/no such file|no such device|ENOENT|ENODEV|could not be found/i.test(message)) {
    kind = 'NOT_FOUND';
    hint = 'The key may have been unplugged; run `ctap list` for current paths';
  }
  const what = kind === 'PERMISSION_DENIED' ? 'permission denied opening' : kind === 'DEVICE_BUSY' ? 'the key is in use:' : 'cannot open';
  return new HidError(kind, `${what} ${path} (${message})`, hint === undefined ? { cause: e } : { cause: e, hint });
}

async function loadNodeHid(): Promise<NodeHidModule> {
  // node-hid is CommonJS: its exports arrive as named exports and as `default`.
  const mod = (await import('node-hid')) as Partial<typeof NodeHid> & { default?: typeof NodeHid };
  const hid = typeof mod.devicesAsync === 'function' ? (mod as typeof NodeHid) : mod.default;
  if (!hid) throw new Error('Cannot find module node-hid: it has no devicesAsync export');
  return hid;
}

const backend = createNodeHidBackend(loadNodeHid);

/** FIDO keys (usage page 0xF1D0, usage 0x01) node-hid can see; [] when none. */
export const listHidDevices: () => Promise<HidDeviceInfo[]> = backend.listHidDevices;
/** Open a key by its node-hid path as a HidPort. */
export const openHidDevice: (path: string, known?: HidDeviceInfo) => Promise<HidPort> = backend.openHidDevice;
