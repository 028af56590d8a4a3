/**
 * A faithful stand-in for the Electron objects the bridge is handed, so the
 * bridge runs under plain Node:
 *
 * - ipcMain.handle/removeHandler; ipcRenderer.invoke. Every argument and
 *   every reply passes `structuredClone` (Electron's IPC is the structured
 *   clone algorithm: functions and class identity do not cross, a
 *   non-cloneable value fails the call). A handler that throws makes invoke
 *   reject with `Error("Error invoking remote method '<ch>': <err>")` — the
 *   name and custom properties are gone, as in Electron. No handler → the
 *   same message with "No handler registered". A reply to a destroyed window
 *   never arrives.
 * - The invoke event: `sender` (a WebContents: id, isDestroyed(), 'destroyed',
 *   'did-start-navigation', 'did-frame-navigate', 'render-process-gone'),
 *   `processId` / `frameId` (the sending frame's ids) and `senderFrame` (url,
 *   origin, top, parent, detached, processId, routingId, isDestroyed()),
 *   which reads null once the frame has navigated or closed. Each frame has
 *   its own (processId, routingId); a frame that navigates to another
 *   document gets a new routing id, as a new RenderFrameHost would.
 * - contextBridge, between the preload's world (this Node realm) and the
 *   page's main world (a separate `vm` realm): exposeInMainWorld copies
 *   values as Electron's PassValueToOtherContext does (functions and
 *   promises proxied, plain objects copied by own enumerable keys — class
 *   prototypes lost — native Errors rebuilt as `new Error(message)` in the
 *   other realm, everything else structured-cloned);
 *   executeInMainWorld({ func, args }) compiles `func`'s source text in the
 *   page realm, so a function that is not self-contained fails here as it
 *   would in Electron.
 */
import { EventEmitter } from 'node:events';
import vm from 'node:vm';

type Handler = (event: FakeInvokeEvent, ...args: unknown[]) => unknown;

export class FakeIpcMain {
  readonly handlers = new Map<string, Handler>();
  handle(channel: string, listener: Handler): void {
    if (this.handlers.has(channel)) throw new Error(`Attempted to register a second handler for '${channel}'`);
    this.handlers.set(channel, listener);
  }
  removeHandler(channel: string): void {
    this.handlers.delete(channel);
  }
}

let nextRoutingId = 100;

export class FakeFrame {
  detached = false;
  readonly children: FakeFrame[] = [];
  readonly processId: number;
  readonly routingId = nextRoutingId++;
  constructor(
    public url: string,
    readonly parent: FakeFrame | null,
    /** A sandboxed iframe: opaque origin whatever its URL. */
    readonly sandboxed = false,
    processId?: number,
  ) {
    parent?.children.push(this);
    // Site isolation: a cross-site child would get another process; the id only has to be stable per frame here.
    this.processId = processId ?? parent?.processId ?? 1;
  }
  isDestroyed(): boolean {
    return this.detached;
  }
  /** This frame and its subtree go away (iframe removed, or replaced by a navigation). */
  detach(): void {
    this.detached = true;
    this.children.forEach((c) => c.detach());
  }
  get top(): FakeFrame {
    return this.parent ? this.parent.top : this;
  }
  get origin(): string {
    if (this.sandboxed) return 'null';
    try {
      return new URL(this.url).origin;
    } catch {
      return 'null';
    }
  }
}

let nextId = 1;

export class FakeWebContents extends EventEmitter {
  readonly id = nextId++;
  #destroyed = false;
  mainFrame: FakeFrame;
  constructor(url: string) {
    super();
    this.mainFrame = new FakeFrame(url, null);
  }
  isDestroyed(): boolean {
    return this.#destroyed;
  }
  destroy(): void {
    if (this.#destroyed) return;
    this.#destroyed = true;
    this.mainFrame.detach();
    this.emit('destroyed');
  }
}

export interface FakeInvokeEvent {
  readonly sender: FakeWebContents;
  readonly senderFrame: FakeFrame | null;
  readonly frameId: number;
  readonly processId: number;
  readonly type: 'frame';
}

export class FakeIpcRenderer {
  constructor(
    private readonly ipcMain: FakeIpcMain,
    private readonly webContents: FakeWebContents,
    readonly frame: FakeFrame,
  ) {}

  invoke(channel: string, ...args: unknown[]): Promise<unknown> {
    let cloned: unknown[];
    try {
      cloned = structuredClone(args);
    } catch {
      return Promise.reject(new Error('An object could not be cloned.'));
    }
    const wc = this.webContents;
    const frame = this.frame;
    return new Promise((resolve, reject) => {
      setImmediate(() => {
        const handler = this.ipcMain.handlers.get(channel);
        if (!handler) {
          reject(new Error(`Error invoking remote method '${channel}': Error: No handler registered for '${channel}'`));
          return;
        }
        const event: FakeInvokeEvent = {
          sender: wc,
          get senderFrame() {
            return frame.detached || wc.isDestroyed() ? null : frame;
          },
          frameId: frame.routingId,
          processId: frame.processId,
          type: 'frame',
        };
        Promise.resolve()
          .then(() => handler(event, ...cloned))
          .then(
            (result) => {
              if (wc.isDestroyed() || frame.detached) return; // the page is gone: Electron drops the reply
              try {
                resolve(structuredClone(result));
              } catch {
                reject(new Error(`Error invoking remote method '${channel}': Error: An object could not be cloned.`));
              }
            },
            (err: unknown) => {
              if (wc.isDestroyed() || frame.detached) return;
              reject(new Error(`Error invoking remote method '${channel}': ${String(err)}`));
            },
          );
      });
    });
  }
}

/** The page's world: a separate JS realm, reached only through the fake contextBridge. */
export class MainWorld {
  readonly context: vm.Context;
  readonly global: Record<string, any>;
  constructor() {
    // A browser main world has these web APIs; a bare vm realm does not, so lend Node's.
    this.context = vm.createContext({ DOMException, AbortController, AbortSignal, console });
    this.global = vm.runInContext('globalThis', this.context) as Record<string, any>;
    this.global.window = this.global;
  }
  /** Run page code (a script or an expression) in the page's realm. */
  run<T = unknown>(code: string): T {
    return vm.runInContext(code, this.context) as T;
  }
}

const isNativeError = (v: unknown): v is Error => Object.prototype.toString.call(v) === '[object Error]';

/** Electron's value passing between two worlds (see the file comment). */
function passValue(value: unknown, to: Record<string, any>, back: Record<string, any>, depth = 0): unknown {
  if (depth > 1000) throw new TypeError('Electron contextBridge recursion depth exceeded.');
  if (value === null || (typeof value !== 'object' && typeof value !== 'function')) return value;
  if (typeof value === 'function') {
    const fn = value as (...a: unknown[]) => unknown;
    return function proxied(...args: unknown[]): unknown {
      const inArgs = args.map((a) => passValue(a, back, to));
      let r: unknown;
      try {
        r = fn(...inArgs);
      } catch (e) {
        throw new to.Error(e !== null && typeof e === 'object' && typeof (e as Error).message === 'string' ? (e as Error).message : 'An unknown exception occurred in the isolated context');
      }
      return passValue(r, to, back);
    };
  }
  if (value instanceof Promise || Object.prototype.toString.call(value) === '[object Promise]') {
    return new to.Promise((resolve: (v: unknown) => void, reject: (e: unknown) => void) => {
      (value as Promise<unknown>).then(
        (v) => resolve(passValue(v, to, back)),
        (e) => reject(passValue(e, to, back)),
      );
    });
  }
  if (isNativeError(value)) return new to.Error(value.message);
  if (Array.isArray(value)) {
    const out = new to.Array();
    for (const v of value) out.push(passValue(v, to, back, depth + 1));
    return out;
  }
  const tag = Object.prototype.toString.call(value);
  const special = ['[object ArrayBuffer]', '[object Date]', '[object Map]', '[object Set]', '[object RegExp]', '[object DataView]'];
  if (ArrayBuffer.isView(value) || special.includes(tag)) return structuredClone(value);
  // "Plain" objects (class instances included): own enumerable keys only.
  const out = new to.Object();
  for (const k of Object.keys(value)) out[k] = passValue((value as Record<string, unknown>)[k], to, back, depth + 1);
  return out;
}

export class FakeContextBridge {
  readonly #preload: Record<string, any> = globalThis as unknown as Record<string, any>;
  constructor(
    readonly world: MainWorld,
    readonly withExecuteInMainWorld = true,
  ) {
    if (!withExecuteInMainWorld) (this as { executeInMainWorld?: unknown }).executeInMainWorld = undefined;
  }
  exposeInMainWorld(apiKey: string, api: unknown): void {
    if (Object.prototype.hasOwnProperty.call(this.world.global, apiKey)) throw new Error(`Cannot bind an API on top of an existing property on the window object`);
    Object.defineProperty(this.world.global, apiKey, { value: passValue(api, this.world.global, this.#preload), enumerable: true });
  }
  executeInMainWorld(script: { func: (...args: any[]) => any; args?: any[] }): unknown {
    const fn = this.world.run<(...a: unknown[]) => unknown>(`(${script.func.toString()})`);
    const args = (script.args ?? []).map((a) => passValue(a, this.world.global, this.#preload));
    return passValue(fn(...args), this.#preload, this.world.global);
  }
}

export interface FakeWindow {
  readonly webContents: FakeWebContents;
  readonly world: MainWorld;
  readonly ipcRenderer: FakeIpcRenderer;
  readonly contextBridge: FakeContextBridge;
  /** Replace the main frame (the old one detaches), emitting did-start-navigation first. */
  navigate(url: string): void;
  /** An iframe in this window (in `parent`, default the main frame) and the ipcRenderer its preload would use. */
  subframe(url: string, opts?: { sandboxed?: boolean; parent?: FakeFrame }): { frame: FakeFrame; ipcRenderer: FakeIpcRenderer };
  /**
   * A subframe navigates to another document: did-start-navigation, then the
   * old frame detaches and a new one (new routing id) takes its place,
   * then did-frame-navigate. Returns the new frame and its ipcRenderer.
   */
  navigateSubframe(frame: FakeFrame, url: string): { frame: FakeFrame; ipcRenderer: FakeIpcRenderer };
  /** The renderer process crashes: 'render-process-gone'; the webContents stays (it can be reloaded). */
  crash(): void;
  close(): void;
}

export class FakeElectron {
  readonly ipcMain = new FakeIpcMain();

  openWindow(url: string, opts: { executeInMainWorld?: boolean } = {}): FakeWindow {
    const ipcMain = this.ipcMain;
    const webContents = new FakeWebContents(url);
    const world = new MainWorld();
    const state = { ipcRenderer: new FakeIpcRenderer(ipcMain, webContents, webContents.mainFrame) };
    return {
      webContents,
      world,
      get ipcRenderer() {
        return state.ipcRenderer;
      },
      contextBridge: new FakeContextBridge(world, opts.executeInMainWorld ?? true),
      navigate(to: string) {
        const old = webContents.mainFrame;
        webContents.emit('did-start-navigation', { url: to, isMainFrame: true, isSameDocument: false, frame: old }, to, false, true, old.processId, old.routingId);
        old.detach();
        webContents.mainFrame = new FakeFrame(to, null);
        webContents.emit('did-frame-navigate', {}, to, 200, 'OK', true, webContents.mainFrame.processId, webContents.mainFrame.routingId);
        state.ipcRenderer = new FakeIpcRenderer(ipcMain, webContents, webContents.mainFrame);
      },
      subframe(src: string, o: { sandboxed?: boolean; parent?: FakeFrame } = {}) {
        const frame = new FakeFrame(src, o.parent ?? webContents.mainFrame, o.sandboxed ?? false);
        return { frame, ipcRenderer: new FakeIpcRenderer(ipcMain, webContents, frame) };
      },
      navigateSubframe(old: FakeFrame, to: string) {
        if (!old.parent) throw new Error('navigateSubframe is for subframes; use navigate() for the main frame');
        const details = { url: to, isMainFrame: false, isSameDocument: false, frame: old };
        webContents.emit('did-start-navigation', details, to, false, false, old.processId, old.routingId);
        old.detach();
        const siblings = old.parent.children;
        siblings.splice(siblings.indexOf(old), 1);
        const frame = new FakeFrame(to, old.parent, old.sandboxed);
        webContents.emit('did-frame-navigate', {}, to, 200, 'OK', false, frame.processId, frame.routingId);
        return { frame, ipcRenderer: new FakeIpcRenderer(ipcMain, webContents, frame) };
      },
      crash() {
        webContents.emit('render-process-gone', {}, { reason: 'crashed', exitCode: 1 });
      },
      close() {
        webContents.destroy();
      },
    };
  }
}
