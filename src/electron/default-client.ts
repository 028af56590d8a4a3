/**
 * The default client factory: the real WebAuthnClient, with one device
 * provider per device the app named, shared by all requests (so a key given
 * as an HidPort/transport keeps one CTAPHID channel, and `virtual` keeps its
 * credentials). Requests never run concurrently on it: main.ts's KeyQueue
 * lets one ceremony at a time through.
 */
import { WebAuthnClient } from '../webauthn/client.js';
import { singleDeviceProvider, type DeviceInput, type DeviceProvider } from '../webauthn/device-handle.js';
import type { Interaction } from '../webauthn/interaction.js';
import type { BridgeClient, ClientInit } from './client.js';
import { specProvider } from './spec-provider.js';

export class DefaultClients {
  readonly #bySpec = new Map<string, DeviceProvider & { close(): Promise<void> }>();
  readonly #byObject = new WeakMap<object, DeviceProvider>();
  readonly #owned: DeviceProvider[] = [];

  provider(device: string | DeviceInput | undefined): DeviceProvider {
    const d = device ?? 'auto';
    if (typeof d === 'string') {
      let p = this.#bySpec.get(d);
      if (!p) {
        p = specProvider(d);
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

  create(init: ClientInit<Interaction>): BridgeClient {
    const client = new WebAuthnClient({
      origin: init.origin,
      device: this.provider(init.device),
      interaction: init.interaction,
      verifyRpId: init.verifyRpId,
    });
    return {
      create: (options, opts) => client.create(options as never, { signal: opts.signal }),
      get: (options, opts) => client.get(options as never, { signal: opts.signal }),
    };
  }

  /** Close what the bridge opened (channels over ports it was given, kept virtual keys). The app's own devices stay open. */
  async close(): Promise<void> {
    const all = [...this.#bySpec.values(), ...this.#owned.splice(0)];
    this.#bySpec.clear();
    await Promise.allSettled(all.map((p) => p.close?.()));
  }
}
