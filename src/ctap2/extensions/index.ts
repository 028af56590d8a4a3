/**
 * The built-in CTAP2 extension plug-ins and the two steps that run them for
 * one operation: build the request's `extensions` map from client inputs,
 * and turn the response's outputs into results keyed by extension id.
 */
import { CborError, type CborValue } from '../../cbor/index.js';
import { credBlob } from './cred-blob.js';
import { credProtect } from './cred-protect.js';
import type { Ctap2Extension, ExtensionContext, UnsignedOutputs } from './extension.js';
import { hmacSecret, hmacSecretMc } from './hmac-secret.js';
import { largeBlobKey } from './large-blob-key.js';
import { minPinLength } from './min-pin-length.js';

export * from './extension.js';
export { hmacSecret, hmacSecretMc, encodeHmacSecretInput, decodeHmacSecretOutput, HMAC_SECRET_INPUT, type HmacSecretSalts, type HmacSecretOutput } from './hmac-secret.js';
export { credProtect, credProtectLevel, CRED_PROTECT, type CredProtectInput, type CredProtectPolicyName } from './cred-protect.js';
export { credBlob, MIN_CRED_BLOB_LENGTH } from './cred-blob.js';
export { largeBlobKey } from './large-blob-key.js';
export { minPinLength } from './min-pin-length.js';

/** A plug-in of any input/output types (method parameters are bivariant, so every plug-in fits). */
export type AnyExtension = Ctap2Extension<unknown, unknown, unknown, unknown>;

export const BUILTIN_EXTENSIONS: readonly AnyExtension[] = [hmacSecret, hmacSecretMc, credProtect, credBlob, largeBlobKey, minPinLength];

export type Phase = 'create' | 'get';

function find(registry: readonly AnyExtension[], id: string): AnyExtension {
  const ext = registry.find((e) => e.id === id);
  if (!ext) throw new TypeError(`no CTAP2 extension plug-in named ${id}`);
  return ext;
}

/**
 * The CTAP `extensions` map for these inputs (keyed by extension id);
 * undefined when nothing is to be sent. Inputs the key need not honour and
 * does not support are left out; refused ones throw.
 */
export async function prepareExtensions(
  phase: Phase,
  inputs: Readonly<Record<string, unknown>>,
  ctx: ExtensionContext,
  registry: readonly AnyExtension[] = BUILTIN_EXTENSIONS,
): Promise<Map<string, CborValue> | undefined> {
  const out = new Map<string, CborValue>();
  for (const [id, input] of Object.entries(inputs)) {
    if (input === undefined) continue;
    const ext = find(registry, id);
    const prepare = phase === 'create' ? ext.prepareCreate : ext.prepareGet;
    if (!prepare) throw new TypeError(`the ${id} extension has no ${phase === 'create' ? 'makeCredential' : 'getAssertion'} input`);
    const v = await prepare.call(ext, input, ctx);
    if (v !== undefined) out.set(id, v);
  }
  return out.size ? out : undefined;
}

/**
 * Results for the extensions that were sent (`sent` = ids in the request),
 * read from the authData extensions map and the unsigned response members.
 * Outputs the key sent for extensions we did not ask for are ignored here
 * (the WebAuthn layer reports them as a protocol error where it must).
 */
export async function processExtensions(
  phase: Phase,
  sent: Iterable<string>,
  authDataExtensions: ReadonlyMap<unknown, unknown> | undefined,
  unsigned: UnsignedOutputs,
  ctx: ExtensionContext,
  registry: readonly AnyExtension[] = BUILTIN_EXTENSIONS,
): Promise<Record<string, unknown>> {
  if (authDataExtensions !== undefined && !(authDataExtensions instanceof Map)) throw new CborError('CBOR_TYPE', 'expected a map', 'authData extensions');
  const results: Record<string, unknown> = {};
  for (const id of sent) {
    const ext = find(registry, id);
    const process = phase === 'create' ? ext.processCreate : ext.processGet;
    if (!process) continue;
    const v = await process.call(ext, authDataExtensions?.get(id), unsigned, ctx);
    if (v !== undefined) results[id] = v;
  }
  return results;
}
