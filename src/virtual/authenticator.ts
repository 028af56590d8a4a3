/**
 * VirtualAuthenticator: a software CTAP 2.1 security key. Commands are
 * dispatched through a table (command byte → handler, one file per command
 * family); handlers throw CtapError(status) and the dispatcher turns that
 * into the status byte. The key is reached in-process through `port()` (an
 * HidPort with real CTAPHID framing) or over UDP (udp-server.ts).
 */
import { CborError, CborMapReader, decodeCbor, encodeCbor } from '../cbor/index.js';
import { CAPABILITY } from '../ctaphid/constants.js';
import { CTAP2_CMD, CTAP2_COMMAND_NAMES } from '../ctap2/commands.js';
import { CtapError } from '../ctap2/status.js';
import { AuthenticatorCore, CommandContext, type CommandHandler, type PresenceMode, type UvMode, type VirtualAuthenticatorOptions } from './core.js';
import { CtapHidDevice, type CommandTransportContext, type CtapHidApplication } from './ctaphid-device.js';
import type { FaultInjector } from './fault-types.js';
import { VirtualHidPort } from './port.js';
import { bytesEq } from './common.js';
import { getInfo } from './get-info.js';
import { makeCredential } from './make-credential.js';
import { getAssertion, getNextAssertion } from './get-assertion.js';
import { clientPin } from './client-pin.js';
import { credentialManagement } from './credential-management.js';
import { largeBlobs } from './large-blobs.js';
import { authenticatorConfig } from './config.js';
import { reset, selection } from './selection-reset.js';
import { bioEnrollment } from './bio-enrollment.js';

/** SW_INS_NOT_SUPPORTED: answered to every APDU until the U2F module is present. */
const SW_INS_NOT_SUPPORTED = Uint8Array.of(0x6d, 0x00);

/** What credentials() reports about one discoverable credential. */
export interface VirtualCredentialInfo {
  id: Uint8Array;
  rpId: string;
  userId: Uint8Array;
  userName: string | undefined;
  userDisplayName: string | undefined;
  alg: number;
  signCount: number;
  credProtect: number;
}

/** A U2F (CTAP1) APDU processor; src/virtual/u2f.ts provides one. */
export type U2fHandler = (auth: VirtualAuthenticator, apdu: Uint8Array, ctx: CommandContext) => Promise<Uint8Array>;

export class VirtualAuthenticator implements CtapHidApplication {
  readonly core: AuthenticatorCore;
  readonly commands = new Map<number, CommandHandler>();
  /** The CTAPHID device; replaced by replug(). */
  device: CtapHidDevice;
  /** Set by the U2F module (or a test) to answer CTAPHID_MSG. */
  u2f: U2fHandler | undefined;
  /** Set by the U2F module: calls off a pending U2F touch prompt (close() uses it: cancelU2fPresence). */
  u2fCancel: ((auth: VirtualAuthenticator) => void) | undefined;
  readonly deviceVersion: readonly [number, number, number] = [1, 0, 0];
  readonly #ports = new Set<VirtualHidPort>();
  #queue: Promise<unknown> = Promise.resolve();
  #closed = false;
  /** Number of times the (simulated) LED blinked. */
  winks = 0;

  private constructor(core: AuthenticatorCore, faults: FaultInjector | undefined) {
    this.core = core;
    this.device = new CtapHidDevice(this, { faults });
    this.commands.set(CTAP2_CMD.getInfo, getInfo);
    if (!core.options.u2fOnly) {
      this.commands.set(CTAP2_CMD.makeCredential, makeCredential);
      this.commands.set(CTAP2_CMD.getAssertion, getAssertion);
      this.commands.set(CTAP2_CMD.getNextAssertion, getNextAssertion);
      if (core.options.features.clientPin) this.commands.set(CTAP2_CMD.clientPin, clientPin);
      this.commands.set(CTAP2_CMD.reset, reset);
      if (core.options.features.selection) this.commands.set(CTAP2_CMD.selection, selection);
      if (core.options.features.credMgmt) {
        // A FIDO_2_1_PRE key (preview) knows only the preview command byte.
        if (!core.options.preview) this.commands.set(CTAP2_CMD.credentialManagement, credentialManagement);
        // Real 2.1 keys also answer the FIDO_2_1_PRE command byte, which libfido2 1.12 still sends.
        this.commands.set(CTAP2_CMD.credentialManagementPreview, credentialManagement);
      }
      if (core.options.features.largeBlobs) this.commands.set(CTAP2_CMD.largeBlobs, largeBlobs);
      if (core.options.features.config) this.commands.set(CTAP2_CMD.config, authenticatorConfig);
      if (core.options.bio) this.commands.set(core.options.preview ? CTAP2_CMD.bioEnrollmentPreview : CTAP2_CMD.bioEnrollment, bioEnrollment);
    }
  }

  /**
   * Create a key; with `statePath`, its state is loaded from (or created in)
   * that file, which stays locked (`FILE.lock`) until close(). Throws
   * VirtualStateError for a bad file, STATE_LOCKED when another process or
   * open key uses it.
   */
  static async create(options: VirtualAuthenticatorOptions = {}): Promise<VirtualAuthenticator> {
    const core = await AuthenticatorCore.create(options);
    try {
      const auth = new VirtualAuthenticator(core, options.faults);
      await tryAttachU2f(auth);
      return auth;
    } catch (e) {
      core.file?.release(); // the state file's lock (taken by AuthenticatorCore.create)
      throw e;
    }
  }

  get capabilities(): number {
    // A U2F-only key: no CBOR; NMSG stays clear because it does speak CTAPHID_MSG.
    return CAPABILITY.WINK | (this.core.options.u2fOnly ? 0 : CAPABILITY.CBOR);
  }

  get aaguid(): Uint8Array {
    return this.core.state.aaguid.slice();
  }

  /** The fault injector in use (settable at any time). */
  get faults(): FaultInjector | undefined {
    return this.device.faults;
  }
  set faults(f: FaultInjector | undefined) {
    this.device.faults = f;
  }

  /** How touches are answered from now on (the WebDriver virtual authenticator's setUserPresence, generalised). */
  get presence(): PresenceMode {
    return this.core.options.presence;
  }
  set presence(mode: PresenceMode) {
    this.core.options.presence = mode;
  }

  /** Built-in user verification from now on; 'none' also removes `uv` from getInfo. */
  get uv(): UvMode {
    return this.core.options.uv;
  }
  set uv(mode: UvMode) {
    this.core.options.uv = mode;
  }

  /** The discoverable credentials on the key, newest first (no private keys). */
  credentials(): VirtualCredentialInfo[] {
    return [...this.core.state.credentials]
      .sort((a, b) => b.created - a.created)
      .map((c) => ({
        id: c.id.slice(),
        rpId: c.rpId,
        userId: c.userId.slice(),
        userName: c.userName,
        userDisplayName: c.userDisplayName,
        alg: c.alg,
        signCount: c.signCount,
        credProtect: c.credProtect,
      }));
  }

  /** Delete a discoverable credential (as credentialManagement would); resolves false when it is not there. */
  removeCredential(id: Uint8Array): Promise<boolean> {
    const run = this.#queue.then(async () => {
      const creds = this.core.state.credentials;
      const index = creds.findIndex((c) => bytesEq(c.id, id));
      if (index < 0) return false;
      creds.splice(index, 1);
      await this.core.persist();
      return true;
    });
    this.#queue = run.catch(() => undefined);
    return run;
  }

  wink(): void {
    this.winks++;
  }

  /** Simulated re-plug: PIN_AUTH_BLOCKED cleared, new key agreement key and token, reset window restarts. */
  powerCycle(): void {
    this.core.powerCycle();
  }

  /**
   * Simulated unplug and re-plug: the current device goes away (ports opened
   * on it fail with DEVICE_REMOVED, as a real handle would), a fresh one with
   * no channels takes its place, and the key power-cycles. Open a new port()
   * afterwards; a UDP server follows automatically.
   */
  replug(): void {
    const faults = this.device.faults;
    this.device.disconnect();
    this.device = new CtapHidDevice(this, { faults });
    this.core.powerCycle();
  }

  /** An in-process HidPort; every byte goes through the CTAPHID device. */
  port(path = 'virtual'): VirtualHidPort {
    if (this.#closed) throw new Error('the virtual authenticator is closed');
    const port = new VirtualHidPort(
      this.device,
      { path, transport: 'virtual', vendorId: 0x1209, productId: 0x0ff1, manufacturer: 'ctap-bridge', product: 'Virtual FIDO2 key', serialNumber: undefined },
      () => this.#ports.delete(port),
    );
    this.#ports.add(port);
    return port;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    // a U2F touch prompt still waiting in the background is told to stop (its signal aborts)
    this.u2fCancel?.(this);
    this.device.close();
    for (const p of [...this.#ports]) await p.close();
    await this.#queue.catch(() => undefined);
    // after the last save: another process may now open the state file
    this.core.file?.release();
  }

  /** CTAPHID_CBOR: command byte + CBOR in; status byte + CBOR out. Commands run one at a time. */
  handleCbor(request: Uint8Array, ctx: CommandTransportContext): Promise<Uint8Array> {
    const run = this.#queue.then(() => this.#handleCbor(request, ctx));
    this.#queue = run.catch(() => undefined);
    return run;
  }

  async #handleCbor(request: Uint8Array, t: CommandTransportContext): Promise<Uint8Array> {
    const cmd = request[0];
    if (cmd === undefined) return Uint8Array.of(0x03); // CTAP1_ERR_INVALID_LENGTH
    const handler = this.commands.get(cmd);
    if (!handler) return Uint8Array.of(0x01); // CTAP1_ERR_INVALID_COMMAND
    if (request.length > this.core.options.maxMsgSize) return Uint8Array.of(0x39);
    const name = CTAP2_COMMAND_NAMES[cmd] ?? `0x${cmd.toString(16)}`;
    // Any command but getNextAssertion (and the enumerations' own next calls) ends a pending walk.
    const pending = this.core.volatile.pending;
    if (pending && !continues(cmd, request)) this.core.volatile.pending = undefined;
    let params: CborMapReader | undefined;
    if (request.length > 1) {
      let value: unknown;
      try {
        value = decodeCbor(request.subarray(1), { context: `${name} request` }).value;
      } catch {
        return Uint8Array.of(0x12); // CTAP2_ERR_INVALID_CBOR
      }
      if (!(value instanceof Map)) return Uint8Array.of(0x11); // CBOR_UNEXPECTED_TYPE
      params = new CborMapReader(value, `${name} request`);
    }
    const ctx = new CommandContext(this.core, name, t.signal, t.keepalive);
    try {
      const result = await handler(ctx, params);
      if (result === undefined) return Uint8Array.of(0x00);
      const body = encodeCbor(result);
      const out = new Uint8Array(1 + body.length);
      out.set(body, 1);
      return out;
    } catch (e) {
      if (e instanceof CtapError) return Uint8Array.of(e.status);
      if (e instanceof CborError) return Uint8Array.of(e.code === 'CBOR_MISSING_KEY' ? 0x14 : 0x11);
      return Uint8Array.of(0x7f); // CTAP1_ERR_OTHER
    }
  }

  /** CTAPHID_MSG: a U2F APDU; SW_INS_NOT_SUPPORTED until a U2F handler is attached. */
  handleMsg(apdu: Uint8Array, t: CommandTransportContext): Promise<Uint8Array> {
    const run = this.#queue.then(async () => {
      if (!this.u2f) return SW_INS_NOT_SUPPORTED.slice();
      const ctx = new CommandContext(this.core, 'u2f', t.signal, t.keepalive);
      return this.u2f(this, apdu, ctx);
    });
    this.#queue = run.catch(() => undefined);
    return run;
  }
}

function continues(cmd: number, request: Uint8Array): boolean {
  if (cmd === CTAP2_CMD.getNextAssertion) return true;
  if (cmd === CTAP2_CMD.credentialManagement || cmd === CTAP2_CMD.credentialManagementPreview) {
    // subCommand 0x03 / 0x05 = enumerate…GetNext: {0x01: 0x03} encodes as a1 01 03.
    return request.length === 4 && request[1] === 0xa1 && request[2] === 0x01 && (request[3] === 0x03 || request[3] === 0x05);
  }
  return false;
}

/** Attach src/virtual/u2f.ts when it exists (it is optional at build time). */
async function tryAttachU2f(auth: VirtualAuthenticator): Promise<void> {
  const specifier = './u2f.js';
  try {
    const mod = (await import(specifier)) as { attachU2f?: (a: VirtualAuthenticator) => void };
    mod.attachU2f?.(auth);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ERR_MODULE_NOT_FOUND') throw e;
  }
}
