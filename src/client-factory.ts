/**
 * createWebAuthnClient(): a WebAuthnClient on the route this process should
 * use — raw HID through `device` (default: any key, touch to choose), or
 * webauthn.dll on Windows 10 1903+ without Administrator, or HID with
 * webauthn.dll as fallback when elevated. `transport` or
 * CTAP_BRIDGE_TRANSPORT=hid|webauthn-dll overrides the choice on any OS
 * (CTAP_BRIDGE_WEBAUTHN_DLL then names the library).
 */
import { TouchToSelect, hidDeviceSource } from './device/select.js';
import { ceremonyRouteFor, type WebAuthnDllDefaults } from './platform/windows/client-route.js';
import { selectRoute } from './platform/windows/select.js';
import type { RouteChoice, Transport } from './platform/windows/route.js';
import { WebAuthnClient, type WebAuthnClientOptions } from './webauthn/client.js';

export interface CreateWebAuthnClientOptions extends Omit<WebAuthnClientOptions, 'route'> {
  /** "hid" or "webauthn-dll"; default CTAP_BRIDGE_TRANSPORT, else chosen from the platform. */
  transport?: Transport | undefined;
  /**
   * The window the Windows dialog belongs to (Electron:
   * `BrowserWindow.fromWebContents(sender).getNativeWindowHandle()`); default the foreground window.
   */
  windowHandle?: WebAuthnDllDefaults['windowHandle'];
  /** The choice already made (e.g. by selectRoute() shown to the user); skips detection. */
  routeChoice?: RouteChoice | undefined;
}

export async function createWebAuthnClient(options: CreateWebAuthnClientOptions): Promise<WebAuthnClient> {
  const { transport, windowHandle, routeChoice, ...rest } = options;
  const choice = routeChoice ?? (await selectRoute(transport));
  const route = ceremonyRouteFor(choice, windowHandle === undefined ? {} : { windowHandle });
  // Only the webauthn.dll route needs no key of ours; the HID route (with or without fallback) gets touch-to-choose by default.
  const device = rest.device ?? (choice.transport === 'hid' ? new TouchToSelect(hidDeviceSource()) : undefined);
  return new WebAuthnClient({ ...rest, device, route });
}
