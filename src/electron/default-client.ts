/**
 * The default client factory: the real WebAuthnClient, with one device
 * provider per device the app named, shared by all requests (so a key given
 * as an HidPort/transport keeps one CTAPHID channel, and `virtual` keeps its
 * credentials). Requests never run concurrently on it: main.ts's KeyQueue
 * lets one ceremony at a time through.
 *
 * For `auto` (the default) the route is chosen as createWebAuthnClient()
 * does: raw HID, or on Windows 10 1903+ without Administrator Windows' own
 * WebAuthn API (webauthn.dll, whose dialog is parented on the requesting
 * window when the app gives `windowHandle`), or HID with webauthn.dll as the
 * fallback when elevated. CTAP_BRIDGE_TRANSPORT=hid|webauthn-dll overrides.
 */
import { ceremonyRouteFor } from '../platform/windows/client-route.js';
import type { RouteChoice } from '../platform/windows/route.js';
import { selectRoute } from '../platform/windows/select.js';
import { WebAuthnClient } from '../webauthn/client.js';
import { singleDeviceProvider, type DeviceInput, type DeviceProvider } from '../webauthn/device-handle.js';
import type { Interaction } from '../webauthn/interaction.js';
import type { BridgeClient, ClientInit } from './client.js';
import { specProvider } from './spec-provider.js';

export interface DefaultClientsOptions {
  /** How this process reaches keys (default: selectRoute()). Injectable for tests. */
  route?: (() => Promise<RouteChoice>) | undefined;
  /** Honour CTAP_BRIDGE_WEBAUTHN_DLL (default false: the system's webauthn.dll only). */
  allowWebAuthnDllOverride?: boolean | undefined;
}

export class DefaultClients {
  readonly #bySpec = new Map<string, DeviceProvider & { close(): Promise<void> }>();
  readonly #byObject = new WeakMap<object, DeviceProvider>();
  readonly #owned: DeviceProvider[] = [];
  readonly #detect: () => Promise<RouteChoice>;
  readonly #allowDllOverride: boolean;
  #choice: Promise<RouteChoice> | undefined;

  constructor(opts: DefaultClientsOptions = {}) {
    this.#detect = opts.route ?? (() => selectRoute());
    this.#allowDllOverride = opts.allowWebAuthnDllOverride === true;
  }

  provider(device: string | DeviceInput | undefined): DeviceProvider {
    const d = device ?? 'auto';
    if (typeof d === 'string') {
      let p = this.#bySpec.get(d);
      if (!p) {
        p = specProvider(d, { route: () => this.#routeChoice() });
        this.#bySpec.set(d, p);
      }
      return p;
    }
    let p = this.#byObject.get(d);
    if (!p) {
      p = singleDeviceProvider(d);
      this.#byObject.set(d, p);
      if (p !== d) this.#owned.push(p);
    }
    return p;
  }

  #routeChoice(): Promise<RouteChoice> {
    this.#choice ??= this.#detect().catch((e: unknown) => {
      this.#choice = undefined;
      throw e;
    });
    return this.#choice;
  }

  async #client(init: ClientInit<Interaction>): Promise<WebAuthnClient> {
    const common = { origin: init.origin, interaction: init.interaction, verifyRpId: init.verifyRpId, relatedOrigins: init.relatedOrigins };
    const device = init.device ?? 'auto';
    if (device !== 'auto') return new WebAuthnClient({ ...common, device: this.provider(device) });
    const choice = await this.#routeChoice();
    const route = ceremonyRouteFor(choice, {
      allowDllOverride: this.#allowDllOverride,
      ...(init.windowHandle === undefined || init.windowHandle === null ? {} : { windowHandle: init.windowHandle }),
    });
    // Only the webauthn.dll route needs no key of ours; HID (with or without the fallback) opens `auto`.
    if (choice.transport === 'webauthn-dll') return new WebAuthnClient({ ...common, route });
    return new WebAuthnClient({ ...common, device: this.provider('auto'), route });
  }

  create(init: ClientInit<Interaction>): BridgeClient {
    return {
      create: async (options, opts) => (await this.#client(init)).create(options as never, { signal: opts.signal }),
      get: async (options, opts) => (await this.#client(init)).get(options as never, { signal: opts.signal }),
    };
  }

  /** Close what the bridge opened (channels over ports it was given, kept virtual keys). The app's own devices stay open. */
  async close(): Promise<void> {
    const all = [...this.#bySpec.values(), ...this.#owned.splice(0)];
    this.#bySpec.clear();
    await Promise.allSettled(all.map((p) => p.close?.()));
  }
}
