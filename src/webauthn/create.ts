/**
 * navigator.credentials.create({publicKey}) over one key: CTAP2
 * makeCredential (or U2F REGISTER for a U2F-only key), with the exclude
 * list, user verification, extensions, response checks and attestation
 * conveyance. Called by WebAuthnClient after the options, origin and RP ID
 * have been checked.
 */
import { makeCredential, type MakeCredentialResponse } from '../ctap2/make-credential.js';
import { coseKeyToSpki } from '../ctap2/cose-key.js';
import { ClientPin } from '../ctap2/client-pin.js';
import { OperationContext, prepareExtensions, processExtensions } from '../ctap2/extensions/index.js';
import { CTAP2_STATUS, CtapError } from '../ctap2/status.js';
import type { AuthenticatorData } from '../ctap2/authenticator-data.js';
import type { AuthenticatorInfo } from '../ctap2/get-info.js';
import type { Ctap2Session } from '../ctap2/session.js';
import { Ctap1Session } from '../ctap1/session.js';
import { sha256 } from '../crypto/hashes.js';
import { bytesEqual, utf8Encode } from '../util/bytes.js';
import type { CeremonyContext } from './ceremony-context.js';
import { batchCredentialList, findCredential, waitForTouch } from './credential-list.js';
import { conveyAttestation } from './attestation-conveyance.js';
import { createRegistrationCredential, type ClientExtensionResults, type RegistrationCredential } from './credential.js';
import type { AuthenticatorHandle } from './device-handle.js';
import { WebAuthnError, BROWSER_MESSAGES } from './errors.js';
import { createClientResults, planCreateExtensions, unexpectedExtensionOutputs } from './extensions.js';
import type { CreationParams, CredentialProtectionPolicy } from './options.js';
import { obtainUserVerification } from './user-verification.js';

export interface CreateSettings {
  rpId: string;
  clientDataJSON: Uint8Array;
  clientDataHash: Uint8Array;
  /** RP IDs for which enterprise attestation may be requested (platform-managed list). */
  enterpriseAttestationRpIds: readonly string[];
  defaultCredProtect: CredentialProtectionPolicy | null;
}

/**
 * The RegistrationCredential for a key's answer (its authData carries attested credential
 * data, checked by the caller), with the attestation conveyed as p.attestation asks.
 */
function registrationCredential(
  p: CreationParams,
  s: CreateSettings,
  res: { fmt: string; attStmt: Map<unknown, unknown>; authData: AuthenticatorData },
  rest: { publicKeyAlgorithm: number; transports: readonly string[]; clientExtensionResults: ClientExtensionResults },
): RegistrationCredential {
  const acd = res.authData.attestedCredentialData!;
  const conveyed = conveyAttestation(p.attestation, { fmt: res.fmt, attStmt: res.attStmt, authData: res.authData.bytes });
  return createRegistrationCredential({
    rawId: acd.credentialId,
    clientDataJSON: s.clientDataJSON,
    attestationObject: conveyed.attestationObject,
    authenticatorData: conveyed.authData,
    publicKeySpki: coseKeyToSpki(acd.credentialPublicKey) ?? null,
    ...rest,
  });
}

function excluded(cause?: unknown): WebAuthnError {
  return new WebAuthnError('InvalidStateError', BROWSER_MESSAGES.InvalidStateError, { ctap: 'CTAP2_ERR_CREDENTIAL_EXCLUDED', cause });
}

function invalidResponse(message: string): WebAuthnError {
  return new WebAuthnError('UnknownError', `The key's response is not valid: ${message}`);
}

export async function runCreate(handle: AuthenticatorHandle, p: CreationParams, s: CreateSettings, ctx: CeremonyContext): Promise<RegistrationCredential> {
  if (!handle.session || !handle.info) return runCreateU2f(handle, p, s, ctx);
  return runCreateCtap2(handle.session, handle.info, p, s, ctx);
}

async function runCreateCtap2(
  session: Ctap2Session,
  info: AuthenticatorInfo,
  p: CreationParams,
  s: CreateSettings,
  ctx: CeremonyContext,
): Promise<RegistrationCredential> {
  // Algorithms: those the key lists (when it lists any), in the RP's order.
  let algs = p.pubKeyCredParams;
  if (info.algorithms?.length) {
    algs = algs.filter((a) => info.algorithms!.some((k) => k.type === 'public-key' && k.alg === a.alg));
    if (algs.length === 0) {
      // Chromium 156 answers NotAllowedError here (05-errors.json createUnsupportedAlgOnly).
      throw new WebAuthnError('NotAllowedError', `This key supports none of the requested algorithms (${p.pubKeyCredParams.map((a) => a.alg).join(', ')}).`, {
        ctap: 'CTAP2_ERR_UNSUPPORTED_ALGORITHM',
      });
    }
  }
  const rkSupported = info.options.rk === true;
  if (p.residentKey === 'required' && !rkSupported) {
    throw new WebAuthnError('ConstraintError', 'A discoverable credential (residentKey "required") was asked for, but this key cannot store one.');
  }
  const rk = p.residentKey === 'required' || (p.residentKey === 'preferred' && rkSupported);

  const uv = await obtainUserVerification(session, info, { phase: 'create', requirement: p.userVerification, rpId: s.rpId, rk }, ctx);
  const opCtx = new OperationContext(info, (o) => new ClientPin(session).sharedSecret(o ?? ctx.call()));
  try {
    // Exclude list: batches past the last are probed silently; a hit is confirmed with a touch.
    const batches = batchCredentialList(p.excludeCredentials, info);
    let excludeList = batches.at(-1) ?? [];
    if (batches.length > 1) {
      const hit = await findCredential(session, s.rpId, batches.slice(0, -1), uv.token, ctx);
      if (hit) excludeList = [hit];
    }
    // appidExclude (§10.1.2): a U2F-era credential registered under the AppID also excludes this key.
    if (p.extensions.appidExclude !== undefined && batches.length > 0) {
      if (await findCredential(session, p.extensions.appidExclude, batches, undefined, ctx)) {
        await waitForTouch(session, info, ctx);
        throw excluded();
      }
    }

    const plan = planCreateExtensions(p.extensions, info, rk, p.residentKey === 'required', s.defaultCredProtect);
    const ctapExtensions = await prepareExtensions('create', plan.ctap, opCtx);
    const sent = new Set(ctapExtensions?.keys() ?? []);

    const enterprise = p.attestation === 'enterprise' && info.options.ep === true && s.enterpriseAttestationRpIds.includes(s.rpId) ? 2 : undefined;
    ctx.expectTouch();
    let res: MakeCredentialResponse;
    try {
      res = await makeCredential(
        session,
        {
          clientDataHash: s.clientDataHash,
          rp: { id: s.rpId, name: p.rp.name },
          user: { id: p.user.id, name: p.user.name, displayName: p.user.displayName },
          pubKeyCredParams: algs,
          excludeList,
          extensions: ctapExtensions,
          options: { rk: rk || undefined, uv: uv.uvOption },
          ...(uv.token ? { pinUvAuthParam: uv.token.authenticate(s.clientDataHash), pinUvAuthProtocol: uv.token.protocolVersion } : {}),
          enterpriseAttestation: enterprise,
          // CTAP 2.2 only (keys that list attestationFormats); older keys may reject an unknown member.
          attestationFormatsPreference: p.attestationFormats.length && p.attestation !== 'none' && info.attestationFormats?.length ? p.attestationFormats : undefined,
        },
        ctx.call(),
      );
    } catch (e) {
      if (e instanceof CtapError && e.status === CTAP2_STATUS.CTAP2_ERR_CREDENTIAL_EXCLUDED) throw excluded(e);
      throw e;
    }

    opCtx.hold(res.largeBlobKey); // only tells largeBlob.supported; zeroed by opCtx.destroy()

    // Response checks (WebAuthn §7.1 steps the client can do).
    const ad = res.authData;
    if (!bytesEqual(ad.rpIdHash, sha256(utf8Encode(s.rpId)))) throw invalidResponse('rpIdHash is not SHA-256 of the RP ID');
    if (!ad.up) throw invalidResponse('the user-present (UP) flag is clear');
    if (uv.uvExpected && !ad.uv) throw invalidResponse('user verification was required but the UV flag is clear');
    const acd = ad.attestedCredentialData;
    if (!acd) throw invalidResponse('no attested credential data');
    const alg = acd.credentialPublicKey.alg;
    if (alg === undefined || !algs.some((a) => a.alg === alg)) throw invalidResponse(`the credential's algorithm ${alg} was not requested`);
    const extra = unexpectedExtensionOutputs(ad.extensions, sent);
    if (extra.length) throw invalidResponse(`outputs for extensions that were not requested: ${extra.join(', ')}`);

    const processed = await processExtensions('create', sent, ad.extensions, { largeBlobKey: res.largeBlobKey, unsignedExtensionOutputs: res.unsignedExtensionOutputs }, opCtx);
    const transports = [...new Set(['usb', ...(info.transports ?? [])])];
    // credProps.rk: what was asked and granted (the key refuses rk it cannot do).
    return registrationCredential(p, s, res, {
      publicKeyAlgorithm: alg,
      transports,
      clientExtensionResults: createClientResults(p.extensions, rk, processed, sent),
    });
  } finally {
    opCtx.destroy();
    uv.token?.destroy();
  }
}

/** A U2F-only key: REGISTER (fido-u2f attestation); ES256 only, no discoverable credentials, no UV. */
async function runCreateU2f(handle: AuthenticatorHandle, p: CreationParams, s: CreateSettings, ctx: CeremonyContext): Promise<RegistrationCredential> {
  if (!p.pubKeyCredParams.some((a) => a.alg === -7)) {
    throw new WebAuthnError('NotAllowedError', 'This U2F key can only make ES256 credentials, which the RP did not allow.', { ctap: 'CTAP2_ERR_UNSUPPORTED_ALGORITHM' });
  }
  if (p.residentKey === 'required') throw new WebAuthnError('ConstraintError', 'This U2F key cannot store discoverable credentials.');
  if (p.userVerification === 'required') throw new WebAuthnError('ConstraintError', 'This U2F key cannot verify its user.');
  const u2f = new Ctap1Session(handle.transport);
  const appParam = sha256(utf8Encode(s.rpId));
  // Exclude list: check-only on each handle (also under appidExclude); an owned one ends in InvalidStateError after a touch.
  const appParams = [appParam, ...(p.extensions.appidExclude !== undefined ? [sha256(utf8Encode(p.extensions.appidExclude))] : [])];
  for (const d of p.excludeCredentials) {
    if (d.id.length === 0 || d.id.length > 255) continue;
    let owned = false;
    for (const ap of appParams) owned ||= await u2f.isKeyHandleValid(ap, d.id, ctx.call());
    if (owned) {
      ctx.expectTouch();
      await u2f.register(new Uint8Array(32), sha256(utf8Encode('.dummy')), ctx.call()); // the touch browsers wait for
      throw excluded();
    }
  }
  ctx.expectTouch();
  const res = await u2f.makeCredential(s.clientDataHash, s.rpId, ctx.call());
  return registrationCredential(p, s, res, {
    publicKeyAlgorithm: -7,
    transports: ['usb'],
    clientExtensionResults: createClientResults(p.extensions, false, {}, new Set()),
  });
}
