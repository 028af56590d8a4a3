/**
 * Origin and RP ID rules (WebAuthn L3 §5.1.3 step 7-8, §5.1.4 step 7-8;
 * HTML "is a registrable domain suffix of or is equal to"). Everything here
 * runs before any key is touched, and every refusal is a SecurityError.
 *
 * Hosts are compared in their ASCII (punycode, lower-case) form, as the URL
 * host parser gives them. Secure origins only: https, or http on `localhost`
 * and `*.localhost` (what browsers treat as potentially trustworthy and still
 * a domain). IP-address origins are refused: an IP is not a valid domain.
 *
 * Trailing dots: `example.com.` is the same DNS name as `example.com`, but
 * its SHA-256 (the rpIdHash) is not, and no RP server checks against the
 * dotted form. So the origin's host is taken without its trailing dot when
 * the RP ID is derived and checked (as Chromium's url::DomainIs ignores it;
 * clientDataJSON keeps the origin as serialized), and an RP ID written with a
 * trailing dot is refused (Chromium refuses `example.com.` for
 * https://example.com too).
 *
 * A public suffix (`com`, `co.uk`, `github.io`, an unlisted single label) is
 * never an RP ID, even when it equals the origin's host: a credential for it
 * would be shared by every site under it (Chromium likewise needs a
 * registry-controlled domain). `localhost` is the one exception. With
 * verifyRpId the app decides, but a suffix the list names is still refused.
 */
import { webAuthnError } from './errors.js';
import { isListedPublicSuffix, isPublicSuffix, publicSuffix, registrableDomain } from './public-suffix.js';
import type { RelatedOriginsChecker } from './related-origins.js';

/** An app's own decision (e.g. related origins, an Electron custom scheme). Returning false is a SecurityError. */
export type VerifyRpId = (rpId: string, origin: string) => boolean | Promise<boolean>;

export interface CallerOrigin {
  /** The ASCII serialization (scheme://host[:port]) that goes into clientDataJSON. */
  serialized: string;
  scheme: string;
  /** ASCII host (IPv6 in brackets). */
  host: string;
  /** True for an IPv4/IPv6 host. */
  isIp: boolean;
}

const IPV4 = /^(\d{1,3})(\.\d{1,3}){3}$/;

/** Parse an origin string; a path, query, fragment or credentials make it a TypeError (it is not an origin). */
export function parseCallerOrigin(origin: string): CallerOrigin {
  if (typeof origin !== 'string' || origin.length === 0) throw new TypeError('origin must be a non-empty string such as "https://example.com"');
  let url: URL;
  try {
    url = new URL(origin);
  } catch {
    throw new TypeError(`origin "${origin}" is not a valid URL`);
  }
  if (url.username || url.password || (url.pathname !== '/' && url.pathname !== '') || url.search || url.hash) {
    throw new TypeError(`origin "${origin}" must be scheme://host[:port] only`);
  }
  const scheme = url.protocol.slice(0, -1);
  const host = url.hostname;
  const serialized = url.origin !== 'null' ? url.origin : `${url.protocol}//${url.host}`;
  return { serialized, scheme, host, isIp: host.startsWith('[') || IPV4.test(host) };
}

/** True for `localhost` and `*.localhost` (RFC 6761 / the secure-contexts spec). */
export function isLocalhost(host: string): boolean {
  const h = host.endsWith('.') ? host.slice(0, -1) : host;
  return h === 'localhost' || h.endsWith('.localhost');
}

/**
 * Parse an RP ID the way HTML parses hostSuffixString: through the URL host
 * parser (IDN to punycode, lower case). Returns null when it is not a domain.
 */
export function parseRpIdHost(rpId: string): string | null {
  if (typeof rpId !== 'string' || rpId.length === 0 || rpId.length > 253 * 4) return null;
  if (/[\s:/?#@[\]\\%]/.test(rpId)) return null;
  let host: string;
  try {
    host = new URL(`https://${rpId}/`).hostname;
  } catch {
    return null;
  }
  if (host.length === 0 || host.endsWith('.') || IPV4.test(host)) return null;
  return host;
}

/** The origin's host as the RP ID is derived from and compared with: without a trailing dot. */
function effectiveDomainOf(caller: CallerOrigin): string {
  const h = caller.host.endsWith('.') ? caller.host.slice(0, -1) : caller.host;
  if (h.length === 0 || h.endsWith('.')) throw webAuthnError('SecurityError', `The origin ${caller.serialized} has no valid domain`);
  return h;
}

function refuseTrailingDot(rpId: string): void {
  if (typeof rpId === 'string' && rpId.endsWith('.')) {
    throw webAuthnError('SecurityError', `The relying party ID "${rpId}" ends in a dot: give it without the dot ("${rpId.replace(/\.+$/, '')}"), as the RP's server checks it.`);
  }
}

/** HTML's "is a registrable domain suffix of or is equal to", on ASCII hosts, PSL with private domains. */
export function isRegistrableDomainSuffixOrEqual(hostSuffix: string, originalHost: string): boolean {
  if (hostSuffix.length === 0) return false;
  if (hostSuffix === originalHost) return true;
  if (hostSuffix.startsWith('[') || originalHost.startsWith('[') || IPV4.test(hostSuffix) || IPV4.test(originalHost)) return false;
  if (!originalHost.endsWith(`.${hostSuffix}`)) return false;
  const suffixOfSuffix = publicSuffix(hostSuffix);
  const suffixOfOriginal = publicSuffix(originalHost);
  if (suffixOfSuffix === null || suffixOfOriginal === null) return false;
  if (hostSuffix === suffixOfSuffix) return false;
  if (`.${suffixOfOriginal}`.endsWith(`.${hostSuffix}`)) return false;
  return true;
}

export interface ResolvedRp {
  /** The RP ID sent to the key and hashed into rpIdHash (ASCII form). */
  rpId: string;
  origin: CallerOrigin;
}

/**
 * Decide the RP ID for a ceremony: `rpId` given by the options (or the
 * origin's effective domain when absent), checked against the origin; or,
 * when the app passes `verifyRpId`, checked by the app instead. With
 * `relatedOrigins` (and no `verifyRpId`), an RP ID that is not a registrable
 * domain suffix of the origin's domain gets the related origins validation
 * procedure (§5.11.1, related-origins.ts) before the SecurityError; the
 * caller must still be a secure, non-IP origin and the RP ID a valid domain
 * that is not a public suffix. `signal` is the caller's (its abort is an
 * AbortError).
 */
export async function resolveRpId(
  origin: string,
  rpId: string | undefined,
  verifyRpId?: VerifyRpId,
  relatedOrigins?: RelatedOriginsChecker,
  signal?: AbortSignal,
): Promise<ResolvedRp> {
  const caller = parseCallerOrigin(origin);
  if (verifyRpId) {
    if (rpId !== undefined) refuseTrailingDot(rpId);
    const id = rpId ?? effectiveDomainOf(caller);
    const host = parseRpIdHost(id);
    if (!host) throw webAuthnError('SecurityError', `"${id}" is not a valid RP ID (a domain name)`);
    if (isListedPublicSuffix(host)) throw webAuthnError('SecurityError', `"${host}" is a public suffix, never an RP ID`);
    if ((await verifyRpId(host, caller.serialized)) !== true) {
      throw webAuthnError('SecurityError', `The application's verifyRpId refused RP ID "${host}" for origin ${caller.serialized}`);
    }
    return { rpId: host, origin: caller };
  }
  const secure = caller.scheme === 'https' || (caller.scheme === 'http' && isLocalhost(caller.host));
  if (!secure) {
    throw webAuthnError('SecurityError', `WebAuthn needs a secure origin: https, or http://localhost; ${caller.serialized} is not one`);
  }
  if (caller.isIp) {
    throw webAuthnError('SecurityError', `The origin ${caller.serialized} is an IP address, not a valid domain; WebAuthn needs a domain name`);
  }
  const effectiveDomain = effectiveDomainOf(caller);
  if (rpId !== undefined) refuseTrailingDot(rpId);
  const host = rpId === undefined ? effectiveDomain : parseRpIdHost(rpId);
  if (host && relatedOrigins && !isRegistrableDomainSuffixOrEqual(host, effectiveDomain)) {
    // §5.1.3 step 7 / §5.1.4 step 7: the client supports related origin requests.
    if (host === 'localhost' || isPublicSuffix(host)) {
      throw webAuthnError('SecurityError', `The relying party ID "${host}" is a public suffix: an RP ID must be a registrable domain (such as example.com) or below one.`);
    }
    await relatedOrigins.check(host, caller.serialized, signal);
    return { rpId: host, origin: caller };
  }
  if (!host || !isRegistrableDomainSuffixOrEqual(host, effectiveDomain)) {
    throw webAuthnError(
      'SecurityError',
      `The relying party ID "${rpId}" is not a registrable domain suffix of, nor equal to the current domain "${effectiveDomain}".`,
    );
  }
  if (host !== 'localhost' && isPublicSuffix(host)) {
    throw webAuthnError('SecurityError', `The relying party ID "${host}" is a public suffix: an RP ID must be a registrable domain (such as example.com) or below one.`);
  }
  return { rpId: host, origin: caller };
}

/**
 * The appid / appidExclude extensions (WebAuthn §10.1.1, §10.1.2): the FIDO
 * AppID must be an https URL of the same site as the caller. The full FIDO
 * facet algorithm fetches a trusted-facets list over the network; like
 * Chromium, the client instead accepts only an AppID whose registrable
 * domain equals the origin's (so no fetch is ever made). Returns the AppID
 * string to hash; SecurityError otherwise.
 */
export function checkAppId(appid: string, caller: CallerOrigin): string {
  let url: URL;
  try {
    url = new URL(appid);
  } catch {
    throw webAuthnError('SecurityError', `The appid "${appid}" is not a URL`);
  }
  // FIDO AppID: an https URL naming a host; credentials (user:pass@) have no place in it (and are never echoed).
  if (url.username || url.password) throw webAuthnError('SecurityError', 'The appid must not contain a user name or password');
  if (url.protocol !== 'https:') throw webAuthnError('SecurityError', `The appid "${appid}" must be an https URL`);
  const a = registrableDomain(url.hostname) ?? url.hostname;
  const o = registrableDomain(caller.host) ?? caller.host;
  if (a !== o) throw webAuthnError('SecurityError', `The appid "${appid}" is not of the same site as ${caller.serialized}`);
  return appid;
}
