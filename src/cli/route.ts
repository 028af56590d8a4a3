/**
 * Which way `ctap` reaches a key: raw HID (our CTAP stack over node-hid, or
 * the virtual/UDP keys), or Windows' webauthn.dll (Windows 10 1903+ without
 * Administrator, or forced with --transport / CTAP_BRIDGE_TRANSPORT on any
 * OS). On webauthn.dll only register/login work; every command that needs the
 * key's raw CTAP fails with NotSupportedError saying where Windows offers it.
 */
import type { GlobalOptions } from './args.js';
import type { RouteChoice, UnsupportedOperation } from '../platform/windows/route.js';

export interface CliRoute {
  transport: 'hid' | 'webauthn-dll';
  /** Elevated Windows: webauthn.dll when the key cannot be opened over HID. */
  fallback: 'webauthn-dll' | undefined;
  /** What selectRoute() chose, before --device was taken into account. */
  choice: RouteChoice;
  /** One line: the route and why. */
  reason: string;
}

/** The virtual key and CTAPHID-over-UDP are not FIDO HID devices: Windows does not guard them. */
function isNonHidSpec(spec: string): boolean {
  return spec === 'virtual' || spec.startsWith('virtual:') || spec.startsWith('udp:');
}

/** The route for this run (platform/windows is loaded only here, on first use). */
export async function resolveCliRoute(globals: Pick<GlobalOptions, 'transport' | 'device'>): Promise<CliRoute> {
  const { selectRoute } = await import('../platform/windows/select.js');
  const choice = await selectRoute(globals.transport);
  const fallback = choice.fallback === 'webauthn-dll' ? 'webauthn-dll' : undefined;
  if (choice.transport !== 'webauthn-dll') return { transport: 'hid', fallback, choice, reason: choice.reason };
  if (globals.device !== 'auto') {
    // Chosen from the platform (Windows without Administrator): keys Windows does not guard still go our way.
    if (choice.source !== 'explicit' && choice.source !== 'env' && isNonHidSpec(globals.device)) {
      return { transport: 'hid', fallback: undefined, choice, reason: `--device ${globals.device} is not a FIDO HID device, so raw CTAP works without Administrator` };
    }
    throw await unsupported('deviceChoice', { transport: 'webauthn-dll', fallback: undefined, choice, reason: choice.reason });
  }
  return { transport: 'webauthn-dll', fallback: undefined, choice, reason: choice.reason };
}

/** The operation a command would need raw CTAP for (for its NotSupportedError). */
export function operationFor(command: string | undefined, sub: string | undefined): UnsupportedOperation {
  switch (command) {
    case 'info':
      return 'getInfo';
    case 'pin':
      return sub === 'set' ? 'pinSet' : sub === 'change' ? 'pinChange' : 'getInfo';
    case 'reset':
      return 'reset';
    case 'creds':
      return 'credentialManagement';
    case 'bio':
      return 'bioEnrollment';
    case 'config':
      return 'config';
    case 'blob':
      return 'largeBlobs';
    default:
      return 'rawCtap';
  }
}

/** NotSupportedError for `op` on the webauthn.dll route, naming the route and why it is active. */
export async function unsupported(op: UnsupportedOperation, route: CliRoute): Promise<Error> {
  const { unsupportedOnWebAuthnDll } = await import('../platform/windows/route.js');
  const { WebAuthnDllError } = await import('../platform/windows/errors.js');
  const base = unsupportedOnWebAuthnDll(op);
  return new WebAuthnDllError('NotSupportedError', `${base.message} (Route: webauthn.dll, because ${route.reason}; \`ctap doctor\` shows it; --transport hid chooses raw HID.)`);
}
