/**
 * excludeCredentials / allowCredentials against the key's limits (CTAP 2.1
 * §6.1.2, §6.2.2; WebAuthn §6.3.2/§6.3.3): ids longer than
 * maxCredentialIdLength are dropped (the key cannot have made them), the
 * rest go in batches of maxCredentialCountInList, probed silently
 * (getAssertion with up=false) to find the batch that matters; and the
 * "touch, then fail" the browsers do so that a failure never reveals, without
 * a touch, which credentials the key holds.
 */
import { getAssertion } from '../ctap2/get-assertion.js';
import { selection, waitForTouchByMakeCredential } from '../ctap2/selection.js';
import { isCtap21, type AuthenticatorInfo } from '../ctap2/get-info.js';
import type { Ctap2Session } from '../ctap2/session.js';
import { CTAP2_STATUS, CtapError } from '../ctap2/status.js';
import type { PinUvAuthToken } from '../ctap2/client-pin.js';
import type { PublicKeyCredentialDescriptor as CtapDescriptor } from '../ctap2/entities.js';
import { sha256 } from '../crypto/hashes.js';
import type { CeremonyContext } from './ceremony-context.js';
import type { Descriptor } from './options.js';

export function toCtapDescriptor(d: Descriptor): CtapDescriptor {
  return d.transports.length ? { type: 'public-key', id: d.id, transports: d.transports } : { type: 'public-key', id: d.id };
}

/** Room left in a request for the credential list (the rest: hash, rpId, extensions, PIN/UV auth). */
const REQUEST_OVERHEAD = 400;

/** Encoded size of one descriptor: the id, its head, and the {"id","type":"public-key"[,"transports"]} map. */
function descriptorSize(d: CtapDescriptor): number {
  return d.id.length + 3 + 25 + (d.transports ? 4 + d.transports.reduce((n, t) => n + t.length + 1, 0) : 0);
}

/**
 * Drop ids the key cannot have issued; split the rest into batches the key
 * accepts: at most maxCredentialCountInList entries, and small enough for its
 * maxMsgSize.
 */
export function batchCredentialList(list: readonly Descriptor[], info: AuthenticatorInfo | undefined): CtapDescriptor[][] {
  const maxLen = info?.maxCredentialIdLength;
  const kept = list.filter((d) => d.id.length > 0 && (maxLen === undefined || d.id.length <= maxLen)).map(toCtapDescriptor);
  // CTAP 2.0 keys have no maxCredentialCountInList; one credential per request is what browsers send them.
  const count = Math.max(1, info?.maxCredentialCountInList ?? 1);
  const budget = Math.max(1, (info?.maxMsgSize ?? 1024) - REQUEST_OVERHEAD);
  const out: CtapDescriptor[][] = [];
  let batch: CtapDescriptor[] = [];
  let bytes = 0;
  for (const d of kept) {
    const size = descriptorSize(d);
    if (batch.length > 0 && (batch.length >= count || bytes + size > budget)) {
      out.push(batch);
      batch = [];
      bytes = 0;
    }
    batch.push(d);
    bytes += size;
  }
  if (batch.length) out.push(batch);
  return out;
}

/**
 * Silent probe: which credential of `batch` does the key hold for `rpId`?
 * No touch is asked (up=false); a token with the ga permission makes
 * credProtect level 3 credentials visible too. Undefined when none.
 */
export async function probeBatch(
  session: Ctap2Session,
  rpId: string,
  batch: readonly CtapDescriptor[],
  token: PinUvAuthToken | undefined,
  ctx: CeremonyContext,
): Promise<CtapDescriptor | undefined> {
  const clientDataHash = sha256(new Uint8Array(32)); // a dummy: the assertion is thrown away
  try {
    const r = await getAssertion(
      session,
      {
        rpId,
        clientDataHash,
        allowList: batch,
        options: { up: false },
        ...(token && token.has('ga') ? { pinUvAuthParam: token.authenticate(clientDataHash), pinUvAuthProtocol: token.protocolVersion } : {}),
      },
      ctx.call(),
    );
    const id = r.credential?.id;
    return batch.find((d) => id && d.id.length === id.length && d.id.every((b, i) => b === id[i])) ?? (batch.length === 1 ? batch[0] : undefined);
  } catch (e) {
    if (e instanceof CtapError && e.status === CTAP2_STATUS.CTAP2_ERR_NO_CREDENTIALS) return undefined;
    throw e;
  }
}

/** Probe every batch; the first credential the key holds (or undefined). */
export async function findCredential(
  session: Ctap2Session,
  rpId: string,
  batches: readonly CtapDescriptor[][],
  token: PinUvAuthToken | undefined,
  ctx: CeremonyContext,
): Promise<CtapDescriptor | undefined> {
  for (const batch of batches) {
    const hit = await probeBatch(session, rpId, batch, token, ctx);
    if (hit) return hit;
  }
  return undefined;
}

/**
 * Wait for a touch without using any credential: authenticatorSelection on
 * CTAP 2.1 keys, otherwise a makeCredential with a zero-length pinUvAuthParam
 * (CTAP 2.0 §5.5.8.2: the key waits for a touch, then answers PIN_NOT_SET or
 * PIN_INVALID), as browsers do before reporting "nothing matched".
 */
export async function waitForTouch(session: Ctap2Session, info: AuthenticatorInfo, ctx: CeremonyContext): Promise<void> {
  ctx.expectTouch();
  if (isCtap21(info)) {
    await selection(session, ctx.call());
    return;
  }
  await waitForTouchByMakeCredential(session, ctx.call());
}
