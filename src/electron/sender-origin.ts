/**
 * Deciding the origin of an IPC request the way a browser decides the origin
 * of a `navigator.credentials` call: from the frame that made it, never from
 * anything the page says. The frame is Electron's `event.senderFrame`
 * (WebFrameMain), which the renderer cannot forge.
 *
 * Refused (SecurityError): no frame (navigated away or destroyed before the
 * request was read), a detached frame, an opaque origin (`file://`, `data:`,
 * `about:blank`, a sandboxed iframe, custom schemes such as `app://`), plain
 * `http:` except `localhost` / `*.localhost`, a URL whose origin disagrees with
 * the frame's own `origin`, and — when the app gives `allowOrigins` — any
 * origin not on that list. A frame that is not same-origin with every one of
 * its ancestors (the whole `parent` chain, not only the top: A → B → A is
 * cross-origin) is NotAllowedError, as a browser refuses an iframe without
 * the publickey-credentials-create/get permissions policy. The bridge has no
 * permissions policy, so that is the default; an app that embeds its own
 * cross-origin frames opts in with `allowCrossOriginFrames`.
 */
import { webAuthnError, type WebAuthnError } from '../webauthn/errors.js';

/** The parts of Electron's WebFrameMain we read. */
export interface SenderFrameLike {
  readonly url: string;
  /** Electron ≥ 12: the frame's serialized origin (may differ from the URL's: sandboxed frames are "null"). */
  readonly origin?: string;
  readonly top?: SenderFrameLike | null;
  readonly parent?: SenderFrameLike | null;
  /** Electron ≥ 34. */
  readonly detached?: boolean;
  /** The frame's renderer process id and routing id (WebFrameMain): its identity for pending requests. */
  readonly processId?: number;
  readonly routingId?: number;
  isDestroyed?(): boolean;
}

export interface DecideOriginOptions {
  /**
   * Let a frame that is cross-origin with one of its ancestors use the key
   * (with its own origin). Off by default: browsers allow it only with the
   * publickey-credentials-create/get permissions policy, which the bridge
   * cannot see.
   */
  allowCrossOriginFrames?: boolean | undefined;
}

/** Longer parent chains than this are refused (a real frame tree is far shallower; guards a cyclic stand-in). */
const MAX_FRAME_DEPTH = 64;

/** The app's origin allow-list: exact origins ("https://app.example.com") or a predicate. */
export type AllowOrigins = readonly string[] | ((origin: string) => boolean);

function isLocalhost(host: string): boolean {
  const h = host.endsWith('.') ? host.slice(0, -1) : host;
  return h === 'localhost' || h.endsWith('.localhost');
}

/** The origin of a frame, or a SecurityError saying why it has none we accept. */
export function originOfFrame(frame: SenderFrameLike | null | undefined): string | WebAuthnError {
  if (frame === null || frame === undefined || frame.detached === true) {
    return webAuthnError('SecurityError', 'The frame that sent the request has navigated away or closed');
  }
  let url: URL;
  try {
    url = new URL(frame.url);
  } catch {
    return webAuthnError('SecurityError', 'The requesting frame has no valid URL');
  }
  const origin = url.origin;
  if (origin === 'null') {
    return webAuthnError(
      'SecurityError',
      `Security keys need a secure origin; a ${url.protocol} page has an opaque origin. Serve the page over https:// (or http://localhost in development).`,
    );
  }
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && isLocalhost(url.hostname))) {
    return webAuthnError('SecurityError', `Security keys need a secure origin; ${origin} is not (https:// or http://localhost only)`);
  }
  if (typeof frame.origin === 'string' && frame.origin !== origin) {
    // Sandboxed iframes and about:blank children: the URL says one thing, the security origin another.
    return webAuthnError('SecurityError', 'The requesting frame\'s security origin differs from its URL (sandboxed frame?)');
  }
  return origin;
}

/** Full decision for one request: the frame's origin, the subframe rule, then the app's allow-list. */
export function decideOrigin(
  frame: SenderFrameLike | null | undefined,
  allowOrigins: AllowOrigins | undefined,
  opts: DecideOriginOptions = {},
): string | WebAuthnError {
  const origin = originOfFrame(frame);
  if (typeof origin !== 'string') return origin;
  if (opts.allowCrossOriginFrames !== true && !sameOriginWithAncestors(frame!, origin)) {
    return webAuthnError(
      'NotAllowedError',
      `A frame (${origin}) that is not same-origin with all the frames around it may not use security keys in this window (the app can allow it with allowCrossOriginFrames)`,
    );
  }
  if (allowOrigins !== undefined) {
    const allowed = typeof allowOrigins === 'function' ? allowOrigins(origin) === true : allowOrigins.includes(origin);
    if (!allowed) return webAuthnError('SecurityError', `The origin ${origin} is not allowed to use security keys in this app`);
  }
  return origin;
}

/**
 * Every ancestor — parent, grandparent, … up to the top — has `origin`
 * (HTML's "same origin with its ancestors"). A frame shape without `parent`
 * but with a different `top` is compared with that top.
 */
function sameOriginWithAncestors(frame: SenderFrameLike, origin: string): boolean {
  if (frame.parent === undefined) {
    const top = frame.top;
    return !top || top === frame || originOfFrame(top) === origin;
  }
  let depth = 0;
  for (let p = frame.parent; p; p = p.parent ?? null) {
    if (++depth > MAX_FRAME_DEPTH) return false;
    if (originOfFrame(p) !== origin) return false;
  }
  return true;
}

/** Normalise an allow-list given by the app: each entry must be an origin (scheme://host[:port]). */
export function checkAllowOrigins(allow: AllowOrigins | undefined): AllowOrigins | undefined {
  if (allow === undefined || typeof allow === 'function') return allow;
  if (!Array.isArray(allow)) throw new TypeError('allowOrigins must be an array of origins or a function');
  return allow.map((o: unknown) => {
    if (typeof o !== 'string') throw new TypeError('allowOrigins entries must be strings such as "https://app.example.com"');
    let u: URL;
    try {
      u = new URL(o);
    } catch {
      throw new TypeError(`allowOrigins entry "${o}" is not a URL`);
    }
    if (u.origin === 'null' || (u.pathname !== '/' && u.pathname !== '') || u.search || u.hash) {
      throw new TypeError(`allowOrigins entry "${o}" must be an origin such as "https://app.example.com"`);
    }
    return u.origin;
  });
}
