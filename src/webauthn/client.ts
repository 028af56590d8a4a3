/**
 * WebAuthnClient: navigator.credentials.create/get({publicKey}) for a Node
 * program talking to a security key. Options go in as a browser takes them
 * (BufferSource or the L3 JSON form); out come PublicKeyCredential-shaped
 * objects whose toJSON() any WebAuthn server library accepts. Every failure
 * is a WebAuthnError named as a browser would name it.
 *
 * Order of checks, as in the spec: options (TypeError, EncodingError,
 * NotSupportedError), then origin and RP ID (SecurityError) — all before any
 * key is touched — then the key.
 */
import type { CallOptions } from '../util/deadline.js';
import { CeremonyContext } from './ceremony-context.js';
import { buildClientData } from './client-data.js';
import { runCreate } from './create.js';
import type { AuthenticationCredential, RegistrationCredential } from './credential.js';
import { singleDeviceProvider, type AuthenticatorHandle, type DeviceInput, type DeviceProvider } from './device-handle.js';
import { toWebAuthnError, WebAuthnError } from './errors.js';
import { runGet } from './get.js';
import type { Interaction } from './interaction.js';
import {
  normalizeCreationOptions,
  normalizeRequestOptions,
  type CredentialProtectionPolicy,
  type PublicKeyCredentialCreationOptions,
  type PublicKeyCredentialRequestOptions,
} from './options.js';
import {
  isJsonOptions,
  parseCreationOptionsFromJSON,
  parseRequestOptionsFromJSON,
  type PublicKeyCredentialCreationOptionsJSON,
  type PublicKeyCredentialRequestOptionsJSON,
} from './options-json.js';
import { checkAppId, resolveRpId, type VerifyRpId } from './origin.js';
import { RelatedOriginsChecker, type RelatedOriginsOptions } from './related-origins.js';
import { HidError } from '../hid/errors.js';
import { notify } from './interaction.js';
import type { CeremonyRoute, RouteCeremonySettings } from './route.js';

export interface WebAuthnClientOptions {
  /** The caller's origin, e.g. "https://example.com" (what clientDataJSON carries). */
  origin: string;
  /**
   * The key: an HidPort, a CtapTransport, a Ctap2Session, or a DeviceProvider
   * (device/select.ts: touch-to-choose among several keys, hot-plug).
   */
  device?: DeviceInput | undefined;
  /** The application's answers to PIN, touch, account and device prompts. */
  interaction?: Interaction | undefined;
  /** Replace the built-in origin/RP ID rule (e.g. related origins, an app:// scheme). */
  verifyRpId?: VerifyRpId | undefined;
  /** The top-level origin when the caller is embedded (crossOrigin / topOrigin in clientDataJSON). */
  topOrigin?: string | undefined;
  /** RP IDs allowed to get enterprise attestation (attestation "enterprise"). */
  enterpriseAttestationRpIds?: readonly string[] | undefined;
  /**
   * credProtect policy asked for by itself on residentKey "required" creates
   * when the RP names none: Chromium's behaviour (level 2) by default; null
   * to send none.
   */
  defaultCredProtect?: CredentialProtectionPolicy | null | undefined;
  /**
   * Reach the key another way than `device` (after the same option, origin
   * and RP ID checks): e.g. `webAuthnDllRoute()` from ctap-bridge's Windows
   * platform layer, chosen by `createWebAuthnClient()` / `selectRoute()`.
   * With `fallbackFor`, `device` is tried first.
   */
  route?: CeremonyRoute | undefined;
  /**
   * Related origin requests (WebAuthn L3 §5.11): when an RP ID is not a
   * registrable domain suffix of `origin`, fetch `https://{rpId}/.well-known/webauthn`
   * and accept the caller if it is listed there. Off by default: a desktop
   * library that makes network requests on its own would surprise an app
   * (proxies, offline use, privacy); browsers such as Chromium do it by
   * default. `true` uses Node's fetch (no redirects, 64 KiB, 10 s); an object
   * can supply its own `fetch`, `maxBytes`, `timeoutMs`. Ignored when
   * `verifyRpId` is given (the app decides then).
   */
  relatedOrigins?: boolean | RelatedOriginsOptions | undefined;
}

/** The client extensions create()/get() process. */
export const SUPPORTED_EXTENSIONS = [
  'appid',
  'appidExclude',
  'credBlob',
  'credProps',
  'credentialProtectionPolicy',
  'enforceCredentialProtectionPolicy',
  'getCredBlob',
  'hmacCreateSecret',
  'hmacGetSecret',
  'largeBlob',
  'minPinLength',
  'prf',
] as const;

export type CreationOptionsInput = PublicKeyCredentialCreationOptions | PublicKeyCredentialCreationOptionsJSON;
export type RequestOptionsInput = PublicKeyCredentialRequestOptions | PublicKeyCredentialRequestOptionsJSON;

export class WebAuthnClient {
  readonly origin: string;
  readonly #provider: DeviceProvider | undefined;
  readonly #interaction: Interaction | undefined;
  readonly #verifyRpId: VerifyRpId | undefined;
  readonly #topOrigin: string | undefined;
  readonly #enterprise: readonly string[];
  readonly #defaultCredProtect: CredentialProtectionPolicy | null;
  readonly #route: CeremonyRoute | undefined;
  readonly #relatedOrigins: RelatedOriginsChecker | undefined;
  #busy = false;

  constructor(options: WebAuthnClientOptions) {
    if (typeof options?.origin !== 'string') throw new TypeError('WebAuthnClient needs { origin }');
    this.origin = options.origin;
    this.#provider = options.device ? singleDeviceProvider(options.device) : undefined;
    this.#interaction = options.interaction;
    this.#verifyRpId = options.verifyRpId;
    this.#topOrigin = options.topOrigin;
    this.#enterprise = options.enterpriseAttestationRpIds ?? [];
    this.#defaultCredProtect = options.defaultCredProtect === undefined ? 'userVerificationOptionalWithCredentialIDList' : options.defaultCredProtect;
    this.#route = options.route;
    const ro = options.relatedOrigins;
    if (ro !== undefined && typeof ro !== 'boolean' && (typeof ro !== 'object' || ro === null)) {
      throw new TypeError('relatedOrigins must be a boolean or { fetch?, maxBytes?, timeoutMs? }');
    }
    this.#relatedOrigins = ro === undefined || ro === false ? undefined : new RelatedOriginsChecker(ro === true ? {} : ro);
  }

  /** "webauthn-dll" when ceremonies go (or may fall back) through a route, else "device". */
  get transport(): string {
    return this.#route ? this.#route.transport : 'device';
  }

  /**
   * PublicKeyCredential.getClientCapabilities() (L3 §5.1.7): what this client
   * does — every extension it processes; no platform authenticator, no
   * hybrid transport, no conditional mediation, relatedOrigins false (a static
   * answer: the per-client `relatedOrigins` option is off by default), no
   * signal* methods. Members in Chromium's (sorted) order.
   */
  static getClientCapabilities(): Record<string, boolean> {
    const caps: Record<string, boolean> = {
      conditionalCreate: false,
      conditionalGet: false,
      hybridTransport: false,
      passkeyPlatformAuthenticator: false,
      relatedOrigins: false,
      signalAllAcceptedCredentials: false,
      signalCurrentUserDetails: false,
      signalUnknownCredential: false,
      userVerifyingPlatformAuthenticator: false,
    };
    for (const ext of SUPPORTED_EXTENSIONS) caps[`extension:${ext}`] = true;
    return Object.fromEntries(Object.entries(caps).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  }

  /** navigator.credentials.create({ publicKey: options }). */
  async create(options: CreationOptionsInput, call: CallOptions = {}): Promise<RegistrationCredential> {
    try {
      if (call.signal?.aborted) throw new WebAuthnError('AbortError', 'signal is aborted without reason', { cause: call.signal.reason });
      const dict = isJsonOptions(options)
        ? parseCreationOptionsFromJSON(options as PublicKeyCredentialCreationOptionsJSON)
        : (options as PublicKeyCredentialCreationOptions);
      const p = normalizeCreationOptions(dict);
      const rp = await resolveRpId(this.origin, p.rp.id, this.#verifyRpId, this.#relatedOrigins, call.signal);
      if (p.extensions.appidExclude !== undefined && !this.#verifyRpId) checkAppId(p.extensions.appidExclude, rp.origin);
      if (p.authenticatorAttachment === 'platform') {
        // A security key is a cross-platform authenticator: it can never satisfy this (a browser would time out).
        throw new WebAuthnError('NotAllowedError', 'The RP asked for a platform authenticator; this client only reaches security keys (cross-platform).');
      }
      const cd = buildClientData('webauthn.create', p.challenge, rp.origin.serialized, this.#topOrigin);
      const viaRoute = (route: CeremonyRoute, rc: CallOptions): Promise<RegistrationCredential> =>
        // The platform gets the same ceremony timeout as the caller's deadline (the call's timeoutMs wins over the RP's).
        route.create({ ...p, timeoutMs: rc.timeoutMs ?? p.timeoutMs }, { rpId: rp.rpId, clientDataJSON: cd.json, enterpriseAttestationRpIds: this.#enterprise } satisfies RouteCeremonySettings, rc);
      return await this.#ceremony(call.timeoutMs ?? p.timeoutMs, call.signal, viaRoute, (handle, ctx) =>
        runCreate(handle, p, {
          rpId: rp.rpId,
          clientDataJSON: cd.json,
          clientDataHash: cd.hash,
          enterpriseAttestationRpIds: this.#enterprise,
          defaultCredProtect: this.#defaultCredProtect,
        }, ctx),
      );
    } catch (e) {
      throw toWebAuthnError(e);
    }
  }

  /** navigator.credentials.get({ publicKey: options }). */
  async get(options: RequestOptionsInput, call: CallOptions = {}): Promise<AuthenticationCredential> {
    try {
      if (call.signal?.aborted) throw new WebAuthnError('AbortError', 'signal is aborted without reason', { cause: call.signal.reason });
      const dict = isJsonOptions(options) ? parseRequestOptionsFromJSON(options as PublicKeyCredentialRequestOptionsJSON) : (options as PublicKeyCredentialRequestOptions);
      const p = normalizeRequestOptions(dict);
      const rp = await resolveRpId(this.origin, p.rpId, this.#verifyRpId, this.#relatedOrigins, call.signal);
      if (p.extensions.appid !== undefined && !this.#verifyRpId) checkAppId(p.extensions.appid, rp.origin);
      const cd = buildClientData('webauthn.get', p.challenge, rp.origin.serialized, this.#topOrigin);
      const viaRoute = (route: CeremonyRoute, rc: CallOptions): Promise<AuthenticationCredential> =>
        route.get({ ...p, timeoutMs: rc.timeoutMs ?? p.timeoutMs }, { rpId: rp.rpId, clientDataJSON: cd.json } satisfies RouteCeremonySettings, rc);
      return await this.#ceremony(call.timeoutMs ?? p.timeoutMs, call.signal, viaRoute, (handle, ctx) =>
        runGet(handle, p, { rpId: rp.rpId, clientDataJSON: cd.json, clientDataHash: cd.hash }, ctx),
      );
    } catch (e) {
      throw toWebAuthnError(e);
    }
  }

  /** Close what the client opened (the channel over an HidPort given as `device`). */
  async close(): Promise<void> {
    await this.#provider?.close?.();
  }

  /**
   * One ceremony: through the route when there is one (its own deadline and
   * cancellation), else through `device`; a fallback route takes over only
   * when acquiring the device fails with an error it accepts.
   */
  async #ceremony<T>(
    timeoutMs: number,
    signal: AbortSignal | undefined,
    viaRoute: (route: CeremonyRoute, call: CallOptions) => Promise<T>,
    viaDevice: (handle: AuthenticatorHandle, ctx: CeremonyContext) => Promise<T>,
  ): Promise<T> {
    const route = this.#route;
    if (!route || (route.fallbackFor && this.#provider)) return this.#withDevice(timeoutMs, signal, viaDevice, route, viaRoute);
    if (!(timeoutMs > 0) || !Number.isFinite(timeoutMs)) throw new TypeError('timeoutMs must be a finite number of milliseconds > 0');
    if (this.#busy) throw new WebAuthnError('NotAllowedError', 'A request is already pending.');
    this.#busy = true;
    try {
      return await viaRoute(route, { signal, timeoutMs });
    } finally {
      this.#busy = false;
    }
  }

  async #withDevice<T>(
    timeoutMs: number,
    signal: AbortSignal | undefined,
    run: (handle: AuthenticatorHandle, ctx: CeremonyContext) => Promise<T>,
    fallback?: CeremonyRoute,
    viaFallback?: (route: CeremonyRoute, call: CallOptions) => Promise<T>,
  ): Promise<T> {
    if (!this.#provider) {
      throw new TypeError('WebAuthnClient has no device: pass { device } (an HidPort, CtapTransport, Ctap2Session, or a provider from device/select.ts)');
    }
    // One ceremony at a time per client, as browsers do (a discoverable login's
    // getNextAssertion sequence must not interleave with another command).
    if (!(timeoutMs > 0) || !Number.isFinite(timeoutMs)) throw new TypeError('timeoutMs must be a finite number of milliseconds > 0');
    if (this.#busy) throw new WebAuthnError('NotAllowedError', 'A request is already pending.');
    this.#busy = true;
    const ctx = new CeremonyContext(timeoutMs, this.#interaction, signal);
    try {
      let handle: AuthenticatorHandle;
      try {
        handle = await this.#provider.acquire({ signal: ctx.signal, timeoutMs, interaction: this.#interaction });
      } catch (e) {
        // The key could not be opened this way (elevated Windows, HID refused): the fallback route, in the time left.
        if (fallback && viaFallback && fallback.fallbackFor?.(e) === true && !ctx.timedOut && !signal?.aborted) {
          return await viaFallback(fallback, { signal, timeoutMs: Math.max(1, ctx.remaining()) });
        }
        throw e;
      }
      ctx.device = handle.summary;
      try {
        return await run(handle, ctx);
      } finally {
        await this.#provider.release?.(handle);
      }
    } catch (e) {
      if (e instanceof HidError && e.code === 'DEVICE_REMOVED') notify(this.#interaction, { type: 'removed', device: ctx.device }, new AbortController().signal);
      if (ctx.timedOut && !(e instanceof WebAuthnError && e.name !== 'AbortError')) {
        throw new WebAuthnError('NotAllowedError', 'The operation either timed out or was not allowed.', { cause: e });
      }
      if (signal?.aborted) throw new WebAuthnError('AbortError', 'The operation was aborted.', { cause: signal.reason });
      throw e;
    } finally {
      ctx.dispose();
      this.#busy = false;
    }
  }
}
