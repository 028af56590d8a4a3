/**
 * Route selection at run time, for the device layer, the CLI (`ctap doctor`,
 * `ctap info`) and the WebAuthn client: detect the facts, choose, run with
 * the elevated-Windows fallback, and probe the library for diagnostics.
 */
import { HidError } from '../../hid/errors.js';
import { FEATURE_MIN_API, structVersionsFor, type StructVersions } from './api-versions.js';
import { openWebAuthnDll } from './koffi.js';
import { chooseTransport, describeRoute, detectRouteFacts, webAuthnDllPath, type RouteChoice, type RouteDescription, type Transport } from './route.js';

/** The route for this process (elevation is checked on Windows only). */
export async function selectRoute(explicit?: Transport): Promise<RouteChoice> {
  return chooseTransport(await detectRouteFacts(explicit));
}

/** HID failures that mean "could not open the key" (not "it went away mid-ceremony"). */
export const OPEN_FAILURES: ReadonlySet<string> = new Set(['PERMISSION_DENIED', 'OPEN_FAILED', 'NOT_FOUND', 'DEVICE_BUSY', 'BACKEND_UNAVAILABLE']);

/**
 * Runs the ceremony on the chosen route. On elevated Windows the HID route
 * comes first; when opening the key over HID fails (HidError), the same
 * request goes through webauthn.dll instead.
 */
export async function withRoute<T>(choice: RouteChoice, run: { hid: () => Promise<T>; webauthnDll: () => Promise<T> }): Promise<T> {
  if (choice.transport === 'webauthn-dll') return run.webauthnDll();
  if (choice.fallback !== 'webauthn-dll') return run.hid();
  try {
    return await run.hid();
  } catch (e) {
    if (e instanceof HidError && OPEN_FAILURES.has(e.code)) return run.webauthnDll();
    throw e;
  }
}

export interface WebAuthnDllProbe {
  library: string;
  loaded: boolean;
  apiVersion?: number;
  structVersions?: StructVersions;
  /** Features this API version allows (FEATURE_MIN_API). */
  features?: string[];
  /** Windows Hello is set up (IsUserVerifyingPlatformAuthenticatorAvailable). */
  platformAuthenticator?: boolean;
  /** Why it could not be loaded. */
  error?: string;
}

/** Loads the library and reports its API version and features; never throws. */
export async function probeWebAuthnDll(env: Readonly<Record<string, string | undefined>> = process.env): Promise<WebAuthnDllProbe> {
  let library: string;
  try {
    library = webAuthnDllPath(env);
  } catch (e) {
    return { library: env['CTAP_BRIDGE_WEBAUTHN_DLL'] ?? '', loaded: false, error: (e as Error).message };
  }
  try {
    const lib = await openWebAuthnDll(library);
    const apiVersion = lib.getApiVersionNumber();
    const probe: WebAuthnDllProbe = {
      library,
      loaded: true,
      apiVersion,
      structVersions: structVersionsFor(apiVersion),
      features: Object.entries(FEATURE_MIN_API)
        .filter(([, min]) => apiVersion >= min)
        .map(([name]) => name),
    };
    try {
      probe.platformAuthenticator = await lib.isUserVerifyingPlatformAuthenticatorAvailable();
    } catch {
      // diagnostics only
    }
    return probe;
  } catch (e) {
    return { library, loaded: false, error: e instanceof Error ? e.message : String(e) };
  }
}

/** describeRoute() plus the library probe when the route is webauthn.dll: what `ctap doctor` prints. */
export async function diagnoseRoute(choice: RouteChoice, env: Readonly<Record<string, string | undefined>> = process.env): Promise<RouteDescription & { webauthnDll?: WebAuthnDllProbe }> {
  const d = describeRoute(choice, env);
  if (choice.transport === 'webauthn-dll' || choice.fallback === 'webauthn-dll') return { ...d, webauthnDll: await probeWebAuthnDll(env) };
  return d;
}

/** A `ctap doctor` line (structurally device/diagnostics.ts's Check; platform/ cannot import device/). */
export interface RouteCheck {
  id: string;
  status: 'ok' | 'warn' | 'fail' | 'info';
  message: string;
  hint?: string | undefined;
}

/**
 * `ctap doctor` / `ctap info` lines about the route: which one and why, and on
 * the webauthn.dll route whether the library loads, its API version and what
 * the route cannot do.
 */
export async function routeChecks(explicit?: Transport, env: Readonly<Record<string, string | undefined>> = process.env): Promise<RouteCheck[]> {
  let choice: RouteChoice;
  try {
    choice = await selectRoute(explicit);
  } catch (e) {
    return [{ id: 'route', status: 'fail', message: (e as Error).message, hint: 'CTAP_BRIDGE_TRANSPORT must be "hid" or "webauthn-dll"' }];
  }
  const d = await diagnoseRoute(choice, env);
  const out: RouteCheck[] = [
    { id: 'route', status: 'info', message: `route: ${d.transport}${d.fallback ? ` (falls back to ${d.fallback})` : ''}; ${d.reason}` },
  ];
  const probe = d.webauthnDll;
  if (probe) {
    if (probe.loaded) {
      out.push({
        id: 'route.webauthnDll',
        status: 'ok',
        message: `${probe.library}: API version ${probe.apiVersion}; extensions: ${probe.features!.join(', ')}`,
      });
    } else {
      out.push({
        id: 'route.webauthnDll',
        status: d.transport === 'webauthn-dll' ? 'fail' : 'warn',
        message: `${probe.library || 'webauthn.dll'} cannot be used: ${probe.error}`,
        hint: 'Windows 10 1903 or later and the optional dependency koffi (npm install koffi) are needed for this route',
      });
    }
  }
  for (const l of d.limitations) out.push({ id: 'route.limitation', status: 'info', message: `not on this route: ${l}` });
  return out;
}
