/**
 * The only import of tldts: the Public Suffix List, private domains included
 * (github.io, blogspot.com, s3.amazonaws.com ...), as the URL standard's
 * "public suffix" and HTML's "registrable domain" use it. Inputs are ASCII
 * hosts (already through the URL host parser: lower case, punycode).
 */
import { parse } from 'tldts';

const OPTIONS = { allowPrivateDomains: true, extractHostname: false, validateHosts: false, detectIp: true } as const;

/** The host's public suffix (e.g. `co.uk`, `github.io`; an unlisted TLD counts as one, per the `*` rule), or null for an IP. */
export function publicSuffix(host: string): string | null {
  const r = parse(stripTrailingDot(host), OPTIONS);
  if (r.isIp) return null;
  return r.publicSuffix;
}

/** The registrable domain (eTLD+1) of a host, or null when the host is itself a public suffix or an IP. */
export function registrableDomain(host: string): string | null {
  const r = parse(stripTrailingDot(host), OPTIONS);
  if (r.isIp) return null;
  return r.domain;
}

/**
 * True when the host is itself a public suffix: listed (`com`, `co.uk`,
 * `github.io`) or, under the PSL's `*` rule, any unlisted single label
 * (`intranet`, `localhost`).
 */
export function isPublicSuffix(host: string): boolean {
  const h = stripTrailingDot(host);
  const r = parse(h, OPTIONS);
  return !r.isIp && r.publicSuffix === h;
}

/** True when the host is a public suffix the list names (ICANN or private section), not one only the `*` rule makes. */
export function isListedPublicSuffix(host: string): boolean {
  const h = stripTrailingDot(host);
  const r = parse(h, OPTIONS);
  return !r.isIp && r.publicSuffix === h && (r.isIcann === true || r.isPrivate === true);
}

function stripTrailingDot(host: string): string {
  return host.endsWith('.') ? host.slice(0, -1) : host;
}
