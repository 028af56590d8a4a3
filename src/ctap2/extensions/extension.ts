/**
 * CTAP2 extensions as plug-ins (CTAP 2.2 §12): each turns a client input
 * into the CBOR value for the makeCredential / getAssertion `extensions`
 * map, and turns the key's outputs (the authData extensions map, plus the
 * unsigned members of the response) back into a result.
 *
 * A plug-in refuses an input the key cannot honour when the caller insists
 * (credProtect's enforce flag, hmac-secret on a key without it) with an
 * UnsupportedFeatureError (status CTAP2_ERR_UNSUPPORTED_EXTENSION); when
 * the caller does not insist, `prepare*` returns undefined and the
 * extension is left out of the request.
 */
import type { CborValue } from '../../cbor/index.js';
import type { TransactOptions } from '../../ctaphid/transport.js';
import type { SharedSecret } from '../client-pin.js';
import { infoHasExtension, UnsupportedFeatureError, type FeatureInfo } from '../permissions.js';
import { CTAP2_STATUS } from '../status.js';

/** Extension identifiers, the keys of the CTAP `extensions` map (CTAP 2.2 §12). */
export const EXTENSION_ID = {
  credProtect: 'credProtect',
  hmacSecret: 'hmac-secret',
  hmacSecretMc: 'hmac-secret-mc',
  credBlob: 'credBlob',
  largeBlobKey: 'largeBlobKey',
  minPinLength: 'minPinLength',
} as const;

/** Members of a makeCredential/getAssertion response that are outside authData. */
export interface UnsignedOutputs {
  /** makeCredential 0x05 / getAssertion 0x07 largeBlobKey. */
  largeBlobKey?: Uint8Array | undefined;
  /** makeCredential 0x06 / getAssertion 0x08 unsignedExtensionOutputs. */
  unsignedExtensionOutputs?: ReadonlyMap<unknown, unknown> | undefined;
}

/**
 * What a plug-in may use: the key's getInfo, and (lazily, once per
 * operation) a shared secret with the key for extensions that encrypt.
 */
export interface ExtensionContext {
  readonly info: FeatureInfo;
  /** A shared secret for this operation (getKeyAgreement + ECDH); the same object on every call. */
  sharedSecret(opts?: TransactOptions): Promise<SharedSecret>;
}

export interface Ctap2Extension<CreateIn = unknown, CreateOut = unknown, GetIn = unknown, GetOut = unknown> {
  /** The extension identifier in the CTAP `extensions` map, e.g. "hmac-secret". */
  readonly id: string;
  isSupported(info: FeatureInfo): boolean;
  prepareCreate?(input: CreateIn, ctx: ExtensionContext): Promise<CborValue | undefined> | CborValue | undefined;
  /** `authDataExtension` is this id's value in the authData extensions map (undefined when absent). */
  processCreate?(authDataExtension: unknown, unsigned: UnsignedOutputs, ctx: ExtensionContext): Promise<CreateOut | undefined> | CreateOut | undefined;
  prepareGet?(input: GetIn, ctx: ExtensionContext): Promise<CborValue | undefined> | CborValue | undefined;
  processGet?(authDataExtension: unknown, unsigned: UnsignedOutputs, ctx: ExtensionContext): Promise<GetOut | undefined> | GetOut | undefined;
}

export function unsupportedExtension(id: string, why?: string): UnsupportedFeatureError {
  return new UnsupportedFeatureError(id, `this key does not support the ${id} extension${why ? `: ${why}` : ''}`, {
    status: CTAP2_STATUS.CTAP2_ERR_UNSUPPORTED_EXTENSION,
  });
}

export function requireExtension(info: FeatureInfo, id: string): void {
  if (!infoHasExtension(info, id)) throw unsupportedExtension(id);
}

/**
 * The context of one makeCredential/getAssertion: the shared secret is
 * fetched on first use and zeroed by `destroy()` once outputs are processed.
 */
export class OperationContext implements ExtensionContext {
  readonly info: FeatureInfo;
  readonly #fetch: (opts?: TransactOptions) => Promise<SharedSecret>;
  #pending: Promise<SharedSecret> | undefined;
  #secret: SharedSecret | undefined;
  readonly #held: Uint8Array[] = [];

  constructor(info: FeatureInfo, fetchSharedSecret: (opts?: TransactOptions) => Promise<SharedSecret>) {
    this.info = info;
    this.#fetch = fetchSharedSecret;
  }

  sharedSecret(opts?: TransactOptions): Promise<SharedSecret> {
    this.#pending ??= this.#fetch(opts).then((s) => (this.#secret = s));
    return this.#pending;
  }

  /**
   * Secrets the operation received and owns (a response's largeBlobKey):
   * zeroed by destroy(), whatever path the operation leaves by.
   */
  hold(...secrets: (Uint8Array | undefined)[]): void {
    for (const s of secrets) if (s) this.#held.push(s);
  }

  destroy(): void {
    this.#secret?.destroy();
    this.#secret = undefined;
    this.#pending = undefined;
    for (const s of this.#held) s.fill(0);
    this.#held.length = 0;
  }
}
