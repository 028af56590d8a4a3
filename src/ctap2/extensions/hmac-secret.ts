/**
 * hmac-secret (CTAP 2.2 §12.5) and hmac-secret-mc (§12.7): the platform
 * sends one or two 32-byte salts encrypted under the PIN/UV shared secret
 * (keyAgreement, saltEnc, saltAuth, pinUvAuthProtocol) and decrypts the
 * HMAC outputs the key returns in authData.
 */
import { CborError, type CborValue } from '../../cbor/index.js';
import { concatBytes, zeroize } from '../../util/bytes.js';
import { encodeKeyAgreement, type SharedSecret } from '../client-pin.js';
import { infoHasExtension } from '../permissions.js';
import { requireExtension, type Ctap2Extension, type ExtensionContext } from './extension.js';

/** Keys of the hmac-secret input map. */
export const HMAC_SECRET_INPUT = {
  keyAgreement: 0x01,
  saltEnc: 0x02,
  saltAuth: 0x03,
  pinUvAuthProtocol: 0x04,
} as const;

export interface HmacSecretSalts {
  salt1: Uint8Array;
  salt2?: Uint8Array | undefined;
}

export interface HmacSecretOutput {
  output1: Uint8Array;
  output2?: Uint8Array | undefined;
}

function checkSalts(s: HmacSecretSalts): void {
  if (!(s.salt1 instanceof Uint8Array) || s.salt1.length !== 32) throw new TypeError('hmac-secret salt1 must be 32 bytes');
  if (s.salt2 !== undefined && (!(s.salt2 instanceof Uint8Array) || s.salt2.length !== 32)) throw new TypeError('hmac-secret salt2 must be 32 bytes');
}

/** The extension input map for these salts under `ss` (pure; the KAT tests call it directly). */
export function encodeHmacSecretInput(salts: HmacSecretSalts, ss: SharedSecret): Map<number, CborValue> {
  checkSalts(salts);
  const plain = salts.salt2 ? concatBytes(salts.salt1, salts.salt2) : new Uint8Array(salts.salt1);
  const saltEnc = ss.protocol.encrypt(ss.secret, plain);
  zeroize(plain);
  const saltAuth = ss.protocol.authenticate(ss.secret, saltEnc);
  const I = HMAC_SECRET_INPUT;
  const m = new Map<number, CborValue>([
    [I.keyAgreement, encodeKeyAgreement(ss.keyAgreement)],
    [I.saltEnc, saltEnc],
    [I.saltAuth, saltAuth],
  ]);
  // Protocol one is the default; older keys reject a member they do not know, so send it only for two.
  if (ss.protocol.version !== 1) m.set(I.pinUvAuthProtocol, ss.protocol.version);
  return m;
}

/**
 * Decrypt the key's encrypted outputs (32 or 64 bytes of plaintext). With
 * `saltsSent`, the length must match it exactly (32 bytes for one salt, 64
 * for two): a second output nobody asked for is a CborError, not an
 * unrequested `output2` / `prf.results.second`.
 */
export function decodeHmacSecretOutput(encrypted: unknown, ss: SharedSecret, id = 'hmac-secret', saltsSent?: 1 | 2): HmacSecretOutput {
  if (!(encrypted instanceof Uint8Array)) throw new CborError('CBOR_TYPE', 'expected a byte string', `authData extensions ${id}`);
  let plain: Uint8Array;
  try {
    plain = ss.protocol.decrypt(ss.secret, encrypted);
  } catch (e) {
    throw new CborError('CBOR_TYPE', `the encrypted output has an impossible length (${encrypted.length})`, `authData extensions ${id}`, { cause: e });
  }
  if (plain.length !== 32 && plain.length !== 64) {
    zeroize(plain);
    throw new CborError('CBOR_TYPE', `decrypted output is ${plain.length} bytes, expected 32 or 64`, `authData extensions ${id}`);
  }
  if (saltsSent !== undefined && plain.length !== saltsSent * 32) {
    const n = plain.length;
    zeroize(plain);
    throw new CborError('CBOR_TYPE', `decrypted output is ${n} bytes, but ${saltsSent} salt${saltsSent === 1 ? ' was' : 's were'} sent (expected ${saltsSent * 32})`, `authData extensions ${id}`);
  }
  const out: HmacSecretOutput = { output1: plain.slice(0, 32) };
  if (plain.length === 64) out.output2 = plain.slice(32);
  zeroize(plain);
  return out;
}

/** How many salts each operation sent, per extension id, so the output length can be checked against it. */
const saltsSentBy = new WeakMap<ExtensionContext, Map<string, 1 | 2>>();

async function prepareSalts(id: string, input: HmacSecretSalts, ctx: ExtensionContext): Promise<CborValue> {
  requireExtension(ctx.info, id);
  checkSalts(input);
  const encoded = encodeHmacSecretInput(input, await ctx.sharedSecret());
  let m = saltsSentBy.get(ctx);
  if (!m) saltsSentBy.set(ctx, (m = new Map()));
  m.set(id, input.salt2 ? 2 : 1);
  return encoded;
}

const saltsSent = (ctx: ExtensionContext, id: string): 1 | 2 | undefined => saltsSentBy.get(ctx)?.get(id);

/** hmac-secret: create input `true` (output: whether the credential got an HMAC secret); get input salts (output: the HMACs). */
export const hmacSecret: Ctap2Extension<boolean, boolean, HmacSecretSalts, HmacSecretOutput> = {
  id: 'hmac-secret',
  isSupported: (info) => infoHasExtension(info, 'hmac-secret'),
  prepareCreate(input, ctx) {
    if (input !== true) return undefined;
    requireExtension(ctx.info, 'hmac-secret');
    return true;
  },
  processCreate(out) {
    if (out === undefined) return undefined;
    if (typeof out !== 'boolean') throw new CborError('CBOR_TYPE', 'expected a boolean', 'authData extensions hmac-secret');
    return out;
  },
  prepareGet: (input, ctx) => prepareSalts('hmac-secret', input, ctx),
  async processGet(out, _unsigned, ctx) {
    if (out === undefined) return undefined;
    return decodeHmacSecretOutput(out, await ctx.sharedSecret(), 'hmac-secret', saltsSent(ctx, 'hmac-secret'));
  },
};

/** hmac-secret-mc (CTAP 2.2): salts at makeCredential (send hmac-secret: true too), outputs in its authData. */
export const hmacSecretMc: Ctap2Extension<HmacSecretSalts, HmacSecretOutput, never, never> = {
  id: 'hmac-secret-mc',
  isSupported: (info) => infoHasExtension(info, 'hmac-secret-mc'),
  prepareCreate: (input, ctx) => prepareSalts('hmac-secret-mc', input, ctx),
  async processCreate(out, _unsigned, ctx) {
    if (out === undefined) return undefined;
    return decodeHmacSecretOutput(out, await ctx.sharedSecret(), 'hmac-secret-mc', saltsSent(ctx, 'hmac-secret-mc'));
  },
};
