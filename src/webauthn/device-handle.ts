/**
 * What a ceremony runs against: one opened key (CTAPHID transport, a CTAP2
 * session when the key speaks CBOR, its getInfo), and the provider that picks
 * it. device/select.ts provides the multi-key provider (touch to choose);
 * here are the adapters for one HidPort, CtapTransport or Ctap2Session.
 */
import { CtapHidChannel } from '../ctaphid/channel.js';
import type { CtapTransport } from '../ctaphid/transport.js';
import type { HidPort } from '../hid/port.js';
import { Ctap2Session } from '../ctap2/session.js';
import type { AuthenticatorInfo } from '../ctap2/get-info.js';
import type { CallOptions } from '../util/deadline.js';
import type { DeviceSummary, Interaction } from './interaction.js';

export interface AuthenticatorHandle {
  transport: CtapTransport;
  /** Undefined for a U2F-only key (no CBOR capability): the ceremony goes through CTAP1. */
  session: Ctap2Session | undefined;
  /** getInfo (cached per session), undefined for a U2F-only key. */
  info: AuthenticatorInfo | undefined;
  summary: DeviceSummary;
}

export interface AcquireContext {
  signal: AbortSignal;
  timeoutMs: number;
  interaction: Interaction | undefined;
}

/** Picks the key for one ceremony. `release` is called when the ceremony ends (success or not). */
export interface DeviceProvider {
  acquire(ctx: AcquireContext): Promise<AuthenticatorHandle>;
  release?(handle: AuthenticatorHandle): Promise<void> | void;
  /** Close what the provider opened (called by WebAuthnClient.close()). */
  close?(): Promise<void> | void;
}

/** Anything the client accepts as its `device`. */
export type DeviceInput = DeviceProvider | CtapTransport | HidPort | Ctap2Session;

function isProvider(d: DeviceInput): d is DeviceProvider {
  return typeof (d as DeviceProvider).acquire === 'function';
}
function isSession(d: DeviceInput): d is Ctap2Session {
  return d instanceof Ctap2Session;
}
function isTransport(d: DeviceInput): d is CtapTransport {
  return typeof (d as CtapTransport).cbor === 'function' && typeof (d as CtapTransport).msg === 'function';
}

export function summaryOf(transport: CtapTransport): DeviceSummary {
  const i = transport.info;
  return { path: i.path, product: i.product, manufacturer: i.manufacturer };
}

/** Build the handle for an open transport: a CTAP2 session and its getInfo when the key speaks CBOR. */
export async function handleFor(transport: CtapTransport, session?: Ctap2Session, opts?: CallOptions): Promise<AuthenticatorHandle> {
  if (!transport.init.capabilities.cbor) return { transport, session: undefined, info: undefined, summary: summaryOf(transport) };
  const s = session ?? new Ctap2Session(transport);
  const info = await s.getInfo(opts);
  return { transport, session: s, info, summary: summaryOf(transport) };
}

/** A provider for exactly one key, however it was given. The channel over a HidPort is opened once and reused. */
export function singleDeviceProvider(device: DeviceInput): DeviceProvider {
  if (isProvider(device)) return device;
  let opened: Promise<{ transport: CtapTransport; session: Ctap2Session | undefined }> | undefined;
  let ownChannel: CtapHidChannel | undefined;
  const open = async (ctx: AcquireContext): Promise<{ transport: CtapTransport; session: Ctap2Session | undefined }> => {
    if (isSession(device)) return { transport: device.transport, session: device };
    if (isTransport(device)) return { transport: device, session: undefined };
    ownChannel = await CtapHidChannel.open(device, { signal: ctx.signal, timeoutMs: Math.min(ctx.timeoutMs, 5_000) });
    return { transport: ownChannel, session: undefined };
  };
  let cachedSession: Ctap2Session | undefined;
  return {
    async acquire(ctx) {
      opened ??= open(ctx).catch((e: unknown) => {
        opened = undefined;
        throw e;
      });
      const { transport, session } = await opened;
      if (!transport.init.capabilities.cbor) return { transport, session: undefined, info: undefined, summary: summaryOf(transport) };
      cachedSession ??= session ?? new Ctap2Session(transport);
      return handleFor(transport, cachedSession, { signal: ctx.signal, timeoutMs: ctx.timeoutMs });
    },
    async close() {
      await ownChannel?.close();
      ownChannel = undefined;
      opened = undefined;
    },
  };
}
