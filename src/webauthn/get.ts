/**
 * navigator.credentials.get({publicKey}) over one key: CTAP2 getAssertion
 * (+ getNextAssertion and account choice for discoverable logins), or U2F
 * AUTHENTICATE for a U2F-only key (with the appid extension), with the
 * allow list, user verification, extensions (prf, largeBlob, credBlob,
 * hmacGetSecret) and the response checks.
 *
 * With an allow list the key is first probed silently (up=false, no token),
 * under the RP ID and then the appid, and the user is verified only once a
 * credential is found — for the RP ID it answers under (so an appid
 * credential gets a token for the appid). When nothing shows up and UV is
 * wanted on a key with credProtect, the key is verified and probed again
 * (credProtect level 3 credentials hide from unverified requests). A key
 * that refuses up=false gets the old order (UV first); the UV flag is
 * expected exactly when the request that answered asked for UV.
 */
import { getAssertion, getNextAssertion, type GetAssertionResponse } from '../ctap2/get-assertion.js';
import { ClientPin, type PinUvAuthToken } from '../ctap2/client-pin.js';
import { LargeBlobs } from '../ctap2/large-blobs.js';
import { OperationContext, prepareExtensions, processExtensions } from '../ctap2/extensions/index.js';
import { CTAP2_STATUS, CtapError } from '../ctap2/status.js';
import type { AuthenticatorInfo } from '../ctap2/get-info.js';
import type { Ctap2Session } from '../ctap2/session.js';
import type { PublicKeyCredentialDescriptor as CtapDescriptor } from '../ctap2/entities.js';
import { Ctap1Session } from '../ctap1/session.js';
import { Ctap1Error, SW } from '../ctap1/apdu.js';
import { sha256 } from '../crypto/hashes.js';
import { bytesEqual, utf8Encode } from '../util/bytes.js';
import type { CeremonyContext } from './ceremony-context.js';
import { batchCredentialList, findCredential, waitForTouch } from './credential-list.js';
import { createAuthenticationCredential, toArrayBuffer, type AuthenticationCredential } from './credential.js';
import type { AuthenticatorHandle } from './device-handle.js';
import { BROWSER_MESSAGES, WebAuthnError } from './errors.js';
import { getClientResults, planGetExtensions, unexpectedExtensionOutputs } from './extensions.js';
import { ask } from './interaction.js';
import type { RequestParams } from './options.js';
import { needsUv, obtainUserVerification, uvCapabilities, type UvOutcome } from './user-verification.js';

const NO_UV: UvOutcome = { uvOption: undefined, token: undefined, uvExpected: false };

export interface GetSettings {
  rpId: string;
  clientDataJSON: Uint8Array;
  clientDataHash: Uint8Array;
}

function noCredential(cause?: unknown): WebAuthnError {
  return new WebAuthnError('NotAllowedError', BROWSER_MESSAGES.NotAllowedError, { ctap: 'CTAP2_ERR_NO_CREDENTIALS', cause });
}

function invalidResponse(message: string): WebAuthnError {
  return new WebAuthnError('UnknownError', `The key's response is not valid: ${message}`);
}

const same = (a: Uint8Array, b: Uint8Array): boolean => bytesEqual(a, b);

/** The most accounts one discoverable login walks through (getNextAssertion). */
export const MAX_ACCOUNTS = 256;

/**
 * The WebAuthn userHandle of a getAssertion response: user.id when the key
 * returned one, else null (§6.3.3; for a credential found through the allow
 * list a key may leave `user` out).
 */
export function userHandleOf(res: Pick<GetAssertionResponse, 'user'>): Uint8Array | null {
  const id = res.user?.id;
  return id && id.length > 0 ? id : null;
}

export async function runGet(handle: AuthenticatorHandle, p: RequestParams, s: GetSettings, ctx: CeremonyContext): Promise<AuthenticationCredential> {
  if (!handle.session || !handle.info) return runGetU2f(handle, p, s, ctx);
  return runGetCtap2(handle.session, handle.info, p, s, ctx);
}

/** Statuses of a key that does not take `up: false` (so cannot be probed silently). */
const NO_SILENT_PROBE: ReadonlySet<number> = new Set([CTAP2_STATUS.CTAP2_ERR_INVALID_OPTION, CTAP2_STATUS.CTAP2_ERR_UNSUPPORTED_OPTION]);

/**
 * The silent probe (up=false, no token), or `'unavailable'` when the key
 * refuses up=false: then the ceremony falls back to asking UV first.
 */
async function silentProbe(session: Ctap2Session, rpId: string, batches: readonly CtapDescriptor[][], ctx: CeremonyContext): Promise<CtapDescriptor | undefined | 'unavailable'> {
  try {
    return await findCredential(session, rpId, batches, undefined, ctx);
  } catch (e) {
    if (e instanceof CtapError && NO_SILENT_PROBE.has(e.status)) return 'unavailable';
    throw e;
  }
}

async function runGetCtap2(session: Ctap2Session, info: AuthenticatorInfo, p: RequestParams, s: GetSettings, ctx: CeremonyContext): Promise<AuthenticationCredential> {
  const batches = batchCredentialList(p.allowCredentials, info);
  if (p.allowCredentials.length > 0 && batches.length === 0) {
    await waitForTouch(session, info, ctx); // none of them can be this key's: fail only after a touch
    throw noCredential();
  }
  const write = p.extensions.largeBlob?.write;
  const uvFor = (rpId: string): Promise<UvOutcome> =>
    obtainUserVerification(session, info, { phase: 'get', requirement: p.userVerification, rpId, extraPermissions: write ? ['lbw'] : [] }, ctx);
  const notFound = async (cause?: unknown): Promise<never> => {
    await waitForTouch(session, info, ctx);
    throw noCredential(cause);
  };

  let rpId = s.rpId;
  let appidUsed: boolean | undefined = p.extensions.appid !== undefined ? false : undefined;
  let allowList: CtapDescriptor[] | undefined;
  let uv: UvOutcome = NO_UV;
  const opCtx = new OperationContext(info, (o) => new ClientPin(session).sharedSecret(o ?? ctx.call()));
  try {
    if (batches.length > 0) {
      // As browsers do: find out silently (up=false, no token) whether the key holds one of the
      // credentials — under the RP ID, then under the appid — and ask for the PIN only then.
      let hit = await silentProbe(session, rpId, batches, ctx);
      if (hit === undefined && p.extensions.appid) {
        const viaAppid = await silentProbe(session, p.extensions.appid, batches, ctx);
        if (viaAppid !== undefined && viaAppid !== 'unavailable') {
          hit = viaAppid;
          rpId = p.extensions.appid;
          appidUsed = true;
        }
      }
      if (hit === 'unavailable') {
        // A key that refuses up=false: UV first, then the allow list as sent (with the appid retry below).
        uv = await uvFor(s.rpId);
        const perCredentialPrf = (p.extensions.prf?.evalByCredential?.size ?? 0) > 0;
        if (batches.length === 1 && !(perCredentialPrf && batches[0]!.length > 1)) allowList = batches[0];
        else {
          const found = await findCredential(session, rpId, batches, uv.token, ctx);
          if (!found) await notFound();
          allowList = [found!];
        }
      } else if (hit) {
        uv = await uvFor(rpId); // the token is for the RP ID the credential answers under (the appid on that path)
        allowList = [hit];
      } else {
        // credProtect level 3 (userVerificationRequired) credentials only show themselves to a
        // verified request: when UV is wanted anyway, verify, then look again with the token.
        const caps = uvCapabilities(info);
        const want = needsUv(caps, { phase: 'get', requirement: p.userVerification, rpId: s.rpId, extraPermissions: write ? ['lbw'] : [] }).want;
        if (want && (caps.pinSet || caps.uvConfigured) && info.extensions.includes('credProtect')) {
          uv = await uvFor(s.rpId);
          hit = uv.token ? await findCredential(session, s.rpId, batches, uv.token, ctx) : undefined;
        }
        if (!hit) await notFound();
        allowList = [hit!];
      }
    } else {
      uv = await uvFor(s.rpId);
    }

    const plan = planGetExtensions(p.extensions, info, allowList?.length === 1 ? allowList[0]!.id : undefined);
    const ctapExtensions = await prepareExtensions('get', plan.ctap, opCtx);
    const sent = new Set(ctapExtensions?.keys() ?? []);

    /** Whether the request that answered asked the key to verify the user: the UV flag is expected exactly then. */
    let uvAsked = false;
    const ask1 = async (id: string): Promise<GetAssertionResponse> => {
      ctx.expectTouch();
      // a token is bound to the RP ID it was made for (CTAP 2.1 permissions RP ID); a CTAP 2.0 pinToken to none
      const token = uv.token && (uv.token.rpId === undefined || uv.token.rpId === id) ? uv.token : undefined;
      uvAsked = token !== undefined || uv.uvOption === true;
      return getAssertion(
        session,
        {
          rpId: id,
          clientDataHash: s.clientDataHash,
          allowList,
          extensions: ctapExtensions,
          options: { up: true, uv: uv.uvOption },
          ...(token ? { pinUvAuthParam: token.authenticate(s.clientDataHash), pinUvAuthProtocol: token.protocolVersion } : {}),
        },
        ctx.call(),
      );
    };
    let first: GetAssertionResponse;
    try {
      first = await ask1(rpId);
    } catch (e) {
      if (!(e instanceof CtapError) || e.status !== CTAP2_STATUS.CTAP2_ERR_NO_CREDENTIALS) throw e;
      const appid = p.extensions.appid;
      if (appid && allowList && !appidUsed) {
        // Only a key that refused the silent probe gets here. The token is bound to the RP ID: when
        // UV is required, verify again for the appid; otherwise the appid request goes without it.
        const bound = uv.token?.rpId;
        if (p.userVerification === 'required' && bound !== undefined && bound !== appid) {
          uv.token?.destroy();
          uv = NO_UV;
          uv = await uvFor(appid);
        }
        try {
          first = await ask1(appid);
          rpId = appid;
          appidUsed = true;
        } catch (e2) {
          if (!(e2 instanceof CtapError) || e2.status !== CTAP2_STATUS.CTAP2_ERR_NO_CREDENTIALS) throw e2;
          return await notFound(e2);
        }
      } else {
        return await notFound(e);
      }
    }

    // Discoverable login: every account the key holds for this RP, and the user's choice.
    let res = first;
    if (!allowList && (first.numberOfCredentials ?? 1) > 1 && first.userSelected !== true) {
      const all = [first];
      // A hostile count must not turn into an endless getNextAssertion loop (real keys hold far fewer per RP).
      const total = Math.min(first.numberOfCredentials!, MAX_ACCOUNTS);
      for (let i = 1; i < total; i++) all.push(await getNextAssertion(session, ctx.call()));
      opCtx.hold(...all.map((r) => r.largeBlobKey)); // every account's largeBlobKey is zeroed when the ceremony ends
      const accounts = all.map((r) => ({ id: r.user?.id ?? new Uint8Array(0), name: r.user?.name, displayName: r.user?.displayName }));
      const choice = await ask(ctx.interaction, { type: 'select-account', accounts, device: ctx.device }, ctx.signal);
      if (choice === undefined) {
        throw new WebAuthnError('NotAllowedError', `The key holds ${all.length} accounts for this site and no interaction["select-account"] handler was given to choose one.`);
      }
      if (choice === null || !Number.isInteger(choice) || choice < 0 || choice >= all.length) throw new WebAuthnError('NotAllowedError', 'No account was chosen.');
      res = all[choice]!;
    }

    opCtx.hold(res.largeBlobKey); // used for the large-blob I/O below, then zeroed by opCtx.destroy()

    // Response checks.
    const ad = res.authData;
    if (!same(ad.rpIdHash, sha256(utf8Encode(rpId)))) throw invalidResponse('rpIdHash is not SHA-256 of the RP ID');
    if (!ad.up) throw invalidResponse('the user-present (UP) flag is clear');
    if (uvAsked && !ad.uv) throw invalidResponse('user verification was asked for but the UV flag is clear');
    const credId = res.credential?.id;
    if (!credId || credId.length === 0) throw invalidResponse('no credential id');
    if (allowList && !allowList.some((d) => same(d.id, credId))) throw invalidResponse('the credential is not one of allowCredentials');
    const extra = unexpectedExtensionOutputs(ad.extensions, sent);
    if (extra.length) throw invalidResponse(`outputs for extensions that were not requested: ${extra.join(', ')}`);

    const processed = await processExtensions('get', sent, ad.extensions, { largeBlobKey: res.largeBlobKey, unsignedExtensionOutputs: res.unsignedExtensionOutputs }, opCtx);
    const results = getClientResults(p.extensions, processed, appidUsed);
    if (p.extensions.largeBlob) {
      const key = processed.largeBlobKey instanceof Uint8Array ? processed.largeBlobKey : res.largeBlobKey;
      results.largeBlob = await largeBlobIo(session, plan.largeBlob, key, uv.token, ctx);
    }
    return createAuthenticationCredential({
      rawId: credId,
      clientDataJSON: s.clientDataJSON,
      authenticatorData: ad.bytes,
      signature: res.signature,
      userHandle: userHandleOf(res),
      clientExtensionResults: results,
    });
  } finally {
    opCtx.destroy();
    uv.token?.destroy();
  }
}

async function largeBlobIo(
  session: Ctap2Session,
  plan: { read?: true; write?: Uint8Array } | undefined,
  key: Uint8Array | undefined,
  token: PinUvAuthToken | undefined,
  ctx: CeremonyContext,
): Promise<Record<string, unknown>> {
  if (!plan || !key) return plan?.write ? { written: false } : {};
  if (plan.read) {
    const blobs = await LargeBlobs.open(session, undefined, ctx.call());
    const blob = await blobs.getBlob(key, ctx.call());
    return blob ? { blob: toArrayBuffer(blob) } : {};
  }
  if (plan.write) {
    if (!token || !token.has('lbw')) return { written: false };
    try {
      const blobs = await LargeBlobs.open(session, token, ctx.call());
      await blobs.setBlob(key, plan.write, ctx.call());
      return { written: true };
    } catch (e) {
      if (e instanceof CtapError) return { written: false };
      throw e;
    }
  }
  return {};
}

/** A U2F-only key: AUTHENTICATE (check-only first) on each allowed handle; appid as the fallback appParam. */
async function runGetU2f(handle: AuthenticatorHandle, p: RequestParams, s: GetSettings, ctx: CeremonyContext): Promise<AuthenticationCredential> {
  const u2f = new Ctap1Session(handle.transport);
  const dummyTouch = async (): Promise<void> => {
    ctx.expectTouch();
    await u2f.register(new Uint8Array(32), sha256(utf8Encode('.dummy')), ctx.call());
  };
  if (p.userVerification === 'required') throw new WebAuthnError('NotAllowedError', 'User verification is required, but this U2F key cannot verify its user.');
  if (p.allowCredentials.length === 0) {
    await dummyTouch();
    throw new WebAuthnError('NotAllowedError', 'This U2F key holds no discoverable credentials: the RP must list allowCredentials.');
  }
  const ids = p.allowCredentials.map((d) => d.id);
  const attempt = async (appId: string): Promise<GetAssertionResponse | undefined> => {
    try {
      ctx.expectTouch();
      return await u2f.getAssertion(s.clientDataHash, appId, ids, ctx.call());
    } catch (e) {
      if (e instanceof Ctap1Error && e.statusWord === SW.SW_WRONG_DATA) return undefined;
      throw e;
    }
  };
  let rpId = s.rpId;
  let res = await attempt(rpId);
  let appidUsed: boolean | undefined = p.extensions.appid !== undefined ? false : undefined;
  if (!res && p.extensions.appid) {
    res = await attempt(p.extensions.appid);
    if (res) {
      rpId = p.extensions.appid;
      appidUsed = true;
    }
  }
  if (!res) {
    await dummyTouch();
    throw noCredential();
  }
  if (!same(res.authData.rpIdHash, sha256(utf8Encode(rpId)))) throw invalidResponse('rpIdHash is not SHA-256 of the RP ID');
  if (!res.authData.up) throw invalidResponse('the user-present (UP) flag is clear');
  return createAuthenticationCredential({
    rawId: res.credential!.id,
    clientDataJSON: s.clientDataJSON,
    authenticatorData: res.authData.bytes,
    signature: res.signature,
    userHandle: null,
    clientExtensionResults: getClientResults(p.extensions, {}, appidUsed),
  });
}
