/**
 * Authenticator-side extensions (CTAP 2.2 §12): credProtect, hmac-secret,
 * hmac-secret-mc, credBlob, largeBlobKey, minPinLength. Inputs are checked
 * here; outputs are the authenticator extension outputs in authData.
 */
import { CTAP2_STATUS } from '../ctap2/status.js';
import { asBool, asBytes, asMap, asText, asUint, CborMapReader, type CborValue } from '../cbor/index.js';
import { hmacSha256 } from '../crypto/hashes.js';
import { zeroize } from '../util/bytes.js';
import type { P256Point } from '../crypto/primitives.js';
import type { CommandContext } from './core.js';
import { credRandom } from './credentials.js';
import { COSE_KEY_AGREEMENT } from '../ctap2/client-pin.js';
import { EXTENSION_ID } from '../ctap2/extensions/extension.js';
import { HMAC_SECRET_INPUT } from '../ctap2/extensions/hmac-secret.js';
import { fail } from './common.js';

export interface McExtensionInput {
  credProtect?: number | undefined;
  hmacSecret: boolean;
  hmacSecretMc?: HmacSecretInput | undefined;
  credBlob?: Uint8Array | undefined;
  largeBlobKey: boolean;
  minPinLength: boolean;
}

export interface HmacSecretInput {
  keyAgreement: P256Point;
  saltEnc: Uint8Array;
  saltAuth: Uint8Array;
  protocol: number;
}

export interface GaExtensionInput {
  hmacSecret?: HmacSecretInput | undefined;
  credBlob: boolean;
  largeBlobKey: boolean;
}

function extMap(v: unknown, path: string): Map<string, unknown> {
  const m = asMap(v, path);
  const out = new Map<string, unknown>();
  for (const [k, x] of m) out.set(asText(k, `${path} key`), x);
  return out;
}

export function coseP256(v: unknown, path: string): P256Point {
  const r = new CborMapReader(asMap(v, path), path);
  const K = COSE_KEY_AGREEMENT;
  const kty = r.int(K.kty, 'kty');
  const crv = r.int(K.crv, 'crv');
  if (kty !== K.ktyEC2 || crv !== K.crvP256) fail(CTAP2_STATUS.CTAP1_ERR_INVALID_PARAMETER);
  const x = r.bytes(K.x, 'x');
  const y = r.bytes(K.y, 'y');
  if (x.length !== 32 || y.length !== 32) fail(CTAP2_STATUS.CTAP1_ERR_INVALID_PARAMETER);
  return { x, y };
}

function hmacSecretInput(v: unknown, path: string): HmacSecretInput {
  const r = new CborMapReader(asMap(v, path), path);
  return {
    keyAgreement: coseP256(r.raw(HMAC_SECRET_INPUT.keyAgreement) ?? fail(CTAP2_STATUS.CTAP2_ERR_MISSING_PARAMETER), `${path} keyAgreement`),
    saltEnc: r.bytes(HMAC_SECRET_INPUT.saltEnc, 'saltEnc'),
    saltAuth: r.bytes(HMAC_SECRET_INPUT.saltAuth, 'saltAuth'),
    protocol: r.optionalUint(HMAC_SECRET_INPUT.pinUvAuthProtocol, 'pinUvAuthProtocol') ?? 1,
  };
}

export function parseMcExtensions(ctx: CommandContext, v: unknown): McExtensionInput {
  const f = ctx.options.features;
  const m = extMap(v, 'makeCredential extensions');
  const out: McExtensionInput = { hmacSecret: false, largeBlobKey: false, minPinLength: false };
  for (const [name, value] of m) {
    const path = `makeCredential extensions ${name}`;
    switch (name) {
      case EXTENSION_ID.credProtect:
        if (!f.credProtect) break;
        out.credProtect = asUint(value, path);
        if (out.credProtect < 1 || out.credProtect > 3) fail(CTAP2_STATUS.CTAP1_ERR_INVALID_PARAMETER);
        break;
      case EXTENSION_ID.hmacSecret:
        if (f.hmacSecret) out.hmacSecret = asBool(value, path);
        break;
      case EXTENSION_ID.hmacSecretMc:
        if (f.hmacSecret && f.hmacSecretMc) out.hmacSecretMc = hmacSecretInput(value, path);
        break;
      case EXTENSION_ID.credBlob:
        if (f.credBlob) out.credBlob = asBytes(value, path);
        break;
      case EXTENSION_ID.largeBlobKey:
        if (largeBlobKeyRequested(f, value, path)) out.largeBlobKey = true;
        break;
      case EXTENSION_ID.minPinLength:
        if (f.minPinLength && f.config) out.minPinLength = asBool(value, path);
        break;
      default:
        // Unknown extensions are ignored (CTAP 2.2 §12).
        break;
    }
  }
  if (out.hmacSecretMc && !out.hmacSecret) fail(CTAP2_STATUS.CTAP1_ERR_INVALID_PARAMETER);
  return out;
}

/** largeBlobKey input (CTAP 2.2 §12.3): only `true` is valid; ignored by a key without large blobs. */
function largeBlobKeyRequested(f: CommandContext['options']['features'], value: unknown, path: string): boolean {
  if (!f.largeBlobKey || !f.largeBlobs) return false;
  if (asBool(value, path) !== true) fail(CTAP2_STATUS.CTAP2_ERR_INVALID_OPTION);
  return true;
}

export function parseGaExtensions(ctx: CommandContext, v: unknown): GaExtensionInput {
  const f = ctx.options.features;
  const m = extMap(v, 'getAssertion extensions');
  const out: GaExtensionInput = { credBlob: false, largeBlobKey: false };
  for (const [name, value] of m) {
    const path = `getAssertion extensions ${name}`;
    switch (name) {
      case EXTENSION_ID.hmacSecret:
        if (f.hmacSecret) out.hmacSecret = hmacSecretInput(value, path);
        break;
      case EXTENSION_ID.credBlob:
        if (f.credBlob) out.credBlob = asBool(value, path);
        break;
      case EXTENSION_ID.largeBlobKey:
        if (largeBlobKeyRequested(f, value, path)) out.largeBlobKey = true;
        break;
      default:
        break;
    }
  }
  return out;
}

/**
 * hmac-secret (CTAP 2.2 §12.5): decapsulate, check saltAuth, decrypt one or
 * two salts, HMAC each with CredRandom, return the encrypted output.
 */
export function hmacSecretOutput(ctx: CommandContext, input: HmacSecretInput, credentialId: Uint8Array, uv: boolean): Uint8Array {
  const proto = ctx.core.protocol(input.protocol);
  let shared: Uint8Array;
  try {
    shared = proto.decapsulate(ctx.volatile.keyAgreement.privateKey, input.keyAgreement);
  } catch {
    fail(CTAP2_STATUS.CTAP1_ERR_INVALID_PARAMETER);
  }
  try {
    if (!proto.verify(shared, input.saltEnc, input.saltAuth)) fail(CTAP2_STATUS.CTAP2_ERR_PIN_AUTH_INVALID);
    let salts: Uint8Array;
    try {
      salts = proto.decrypt(shared, input.saltEnc);
    } catch {
      fail(CTAP2_STATUS.CTAP1_ERR_INVALID_LENGTH);
    }
    if (salts.length !== 32 && salts.length !== 64) fail(CTAP2_STATUS.CTAP1_ERR_INVALID_LENGTH);
    const cr = credRandom(ctx.state.masterSecret, credentialId, uv);
    const out = new Uint8Array(salts.length);
    out.set(hmacSha256(cr, salts.subarray(0, 32)), 0);
    if (salts.length === 64) out.set(hmacSha256(cr, salts.subarray(32, 64)), 32);
    zeroize(cr, salts);
    const enc = proto.encrypt(shared, out);
    zeroize(out);
    return enc;
  } finally {
    zeroize(shared);
  }
}

export type ExtensionOutputs = Map<string, CborValue>;
