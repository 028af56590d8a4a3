/**
 * A device provider for a device spec string (`auto`, a node-hid path,
 * `udp:HOST:PORT`, `virtual`, `virtual:FILE`): the key is opened for each
 * ceremony and closed after it, so a key unplugged and plugged back between
 * two logins just works and no handle is held while the app idles. The one
 * exception is `virtual` (in-memory, no state file): it is opened once and
 * kept until the handlers are disposed, or every request would meet a blank
 * key.
 */
import { openDevice, parseDeviceSpec, type OpenedDevice } from '../device/open.js';
import { handleFor, type AuthenticatorHandle, type DeviceProvider } from '../webauthn/device-handle.js';
import { notify } from '../webauthn/interaction.js';
import { webAuthnError } from '../webauthn/errors.js';
import { chooseTransport, detectRouteFacts, type RouteChoice } from '../platform/windows/route.js';

export interface SpecProviderOptions {
  /** How this process reaches keys (default: detected on Windows, raw HID elsewhere). Injectable for tests. */
  route?: (() => Promise<RouteChoice>) | undefined;
}

/**
 * Windows 10 1903+ without Administrator: raw HID to a FIDO key is refused
 * (or the key is not even listed). `auto` goes through webauthn.dll there
 * (default-client.ts); a spec that names a HID device cannot, so say so
 * plainly instead of "no key found" / "permission denied".
 */
function windowsNeedsWebAuthnDll(choice: RouteChoice, spec: string): Error {
  return webAuthnError(
    'NotAllowedError',
    'Windows lets only Administrator processes open security keys over raw HID, and this app runs without Administrator ' +
      `(${choice.reason}). The device "${spec}" can only be reached over raw HID: use the device "auto" (Windows' own ` +
      'security-key dialog), run the app as Administrator, or set CTAP_BRIDGE_TRANSPORT=hid to try anyway.',
  );
}

export function specProvider(spec: string, opts: SpecProviderOptions = {}): DeviceProvider & { close(): Promise<void> } {
  const parsed = parseDeviceSpec(spec); // a malformed spec fails now, at registration
  const keepOpen = parsed.kind === 'virtual' && parsed.file === undefined;
  const viaHid = parsed.kind === 'auto' || parsed.kind === 'path';
  const detect = opts.route ?? (process.platform === 'win32' ? async () => chooseTransport(await detectRouteFacts()) : undefined);
  let route: Promise<RouteChoice> | undefined;
  let kept: Promise<OpenedDevice> | undefined;
  const opened = new Map<AuthenticatorHandle, OpenedDevice>();
  return {
    async acquire(ctx) {
      if (viaHid && detect) {
        route ??= detect().catch((e: unknown) => {
          route = undefined;
          throw e;
        });
        const choice = await route;
        if (choice.transport === 'webauthn-dll') throw windowsNeedsWebAuthnDll(choice, spec);
      }
      const call = { signal: ctx.signal, timeoutMs: ctx.timeoutMs };
      // Several keys plugged in: the device layer makes them all blink; the first touched is used.
      const onSelect = (): void => notify(ctx.interaction, { type: 'touch-required' }, ctx.signal);
      let dev: OpenedDevice;
      if (keepOpen) {
        kept ??= openDevice(spec, call).catch((e: unknown) => {
          kept = undefined;
          throw e;
        });
        dev = await kept;
      } else {
        dev = await openDevice(spec, { ...call, onSelect });
      }
      try {
        const handle = await handleFor(dev.channel, dev.session, call);
        if (!keepOpen) opened.set(handle, dev);
        return handle;
      } catch (e) {
        if (!keepOpen) await dev.close().catch(() => undefined);
        throw e;
      }
    },
    async release(handle) {
      const dev = opened.get(handle);
      opened.delete(handle);
      await dev?.close();
    },
    async close() {
      const k = kept;
      kept = undefined;
      const dev = await k?.catch(() => undefined);
      await dev?.close();
    },
  };
}
