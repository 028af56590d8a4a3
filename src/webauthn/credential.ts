/**
 * PublicKeyCredential-shaped results (WebAuthn L3 §5.1, §5.2) and their
 * toJSON() (§5.1.8): RegistrationResponseJSON / AuthenticationResponseJSON,
 * members in the order Chromium 156 writes them (lexicographic), binary
 * members as unpadded base64url, a null userHandle left out.
 */
import { base64urlEncode } from './base64url.js';

export type AuthenticatorTransport = 'usb' | 'nfc' | 'ble' | 'smart-card' | 'hybrid' | 'internal' | (string & {});

/** What getClientExtensionResults() returns: ArrayBuffers where the spec has them. */
export type ClientExtensionResults = Record<string, unknown>;

export interface RegistrationResponseJSON {
  authenticatorAttachment?: string;
  clientExtensionResults: Record<string, unknown>;
  id: string;
  rawId: string;
  response: {
    attestationObject: string;
    authenticatorData: string;
    clientDataJSON: string;
    publicKey?: string;
    publicKeyAlgorithm: number;
    transports: string[];
  };
  type: 'public-key';
}

export interface AuthenticationResponseJSON {
  authenticatorAttachment?: string;
  clientExtensionResults: Record<string, unknown>;
  id: string;
  rawId: string;
  response: {
    authenticatorData: string;
    clientDataJSON: string;
    signature: string;
    userHandle?: string;
  };
  type: 'public-key';
}

/** A fresh ArrayBuffer holding a copy of `b` (callers may mutate what they get). */
export function toArrayBuffer(b: Uint8Array): ArrayBuffer {
  const out = new ArrayBuffer(b.length);
  new Uint8Array(out).set(b);
  return out;
}

/** Extension results to JSON: every ArrayBuffer / view becomes base64url, recursively; key order kept sorted. */
export function extensionResultsToJSON(results: unknown): unknown {
  if (results instanceof ArrayBuffer) return base64urlEncode(new Uint8Array(results));
  if (ArrayBuffer.isView(results)) return base64urlEncode(new Uint8Array(results.buffer, results.byteOffset, results.byteLength));
  if (Array.isArray(results)) return results.map(extensionResultsToJSON);
  if (typeof results === 'object' && results !== null) {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(results).sort()) out[k] = extensionResultsToJSON((results as Record<string, unknown>)[k]);
    return out;
  }
  return results;
}

function cloneResults(r: ClientExtensionResults): ClientExtensionResults {
  const clone = (v: unknown): unknown => {
    if (v instanceof ArrayBuffer) return v.slice(0);
    if (Array.isArray(v)) return v.map(clone);
    if (typeof v === 'object' && v !== null) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, clone(x)]));
    return v;
  };
  return clone(r) as ClientExtensionResults;
}

export interface AttestationResponseInit {
  clientDataJSON: Uint8Array;
  attestationObject: Uint8Array;
  authenticatorData: Uint8Array;
  publicKeySpki: Uint8Array | null;
  publicKeyAlgorithm: number;
  transports: readonly string[];
}

export interface AssertionResponseInit {
  clientDataJSON: Uint8Array;
  authenticatorData: Uint8Array;
  signature: Uint8Array;
  userHandle: Uint8Array | null;
}

/** What both credential factories take besides the response's members. */
interface CredentialInit {
  rawId: Uint8Array;
  clientExtensionResults: ClientExtensionResults;
  /** Default 'cross-platform' (a USB key); null when unknown. */
  authenticatorAttachment?: 'cross-platform' | 'platform' | null;
}

export class AuthenticatorAttestationResponse {
  readonly clientDataJSON: ArrayBuffer;
  readonly attestationObject: ArrayBuffer;
  readonly #authenticatorData: Uint8Array;
  readonly #publicKey: Uint8Array | null;
  readonly #publicKeyAlgorithm: number;
  readonly #transports: readonly string[];

  constructor(init: AttestationResponseInit) {
    this.clientDataJSON = toArrayBuffer(init.clientDataJSON);
    this.attestationObject = toArrayBuffer(init.attestationObject);
    this.#authenticatorData = init.authenticatorData.slice();
    this.#publicKey = init.publicKeySpki ? init.publicKeySpki.slice() : null;
    this.#publicKeyAlgorithm = init.publicKeyAlgorithm;
    // §5.2.1.2: getTransports() is a sorted, de-duplicated sequence.
    this.#transports = [...new Set(init.transports)].sort();
  }

  getAuthenticatorData(): ArrayBuffer {
    return toArrayBuffer(this.#authenticatorData);
  }
  /** SubjectPublicKeyInfo DER, or null when the algorithm has no SPKI form here. */
  getPublicKey(): ArrayBuffer | null {
    return this.#publicKey ? toArrayBuffer(this.#publicKey) : null;
  }
  getPublicKeyAlgorithm(): number {
    return this.#publicKeyAlgorithm;
  }
  getTransports(): string[] {
    return [...this.#transports];
  }
}

export class AuthenticatorAssertionResponse {
  readonly clientDataJSON: ArrayBuffer;
  readonly authenticatorData: ArrayBuffer;
  readonly signature: ArrayBuffer;
  readonly userHandle: ArrayBuffer | null;
  constructor(init: AssertionResponseInit) {
    this.clientDataJSON = toArrayBuffer(init.clientDataJSON);
    this.authenticatorData = toArrayBuffer(init.authenticatorData);
    this.signature = toArrayBuffer(init.signature);
    this.userHandle = init.userHandle ? toArrayBuffer(init.userHandle) : null;
  }
}

abstract class PublicKeyCredentialBase<R> {
  readonly type = 'public-key' as const;
  readonly id: string;
  readonly rawId: ArrayBuffer;
  readonly authenticatorAttachment: 'cross-platform' | 'platform' | null;
  readonly response: R;
  readonly #extensions: ClientExtensionResults;
  constructor(rawId: Uint8Array, response: R, extensions: ClientExtensionResults, attachment: 'cross-platform' | 'platform' | null) {
    this.rawId = toArrayBuffer(rawId);
    this.id = base64urlEncode(rawId);
    this.response = response;
    this.authenticatorAttachment = attachment;
    this.#extensions = cloneResults(extensions);
  }
  getClientExtensionResults(): ClientExtensionResults {
    return cloneResults(this.#extensions);
  }
  protected jsonHead(): { authenticatorAttachment?: string; clientExtensionResults: Record<string, unknown>; id: string; rawId: string } {
    const head: { authenticatorAttachment?: string; clientExtensionResults: Record<string, unknown>; id: string; rawId: string } = {
      clientExtensionResults: extensionResultsToJSON(this.#extensions) as Record<string, unknown>,
      id: this.id,
      rawId: this.id,
    };
    return this.authenticatorAttachment ? { authenticatorAttachment: this.authenticatorAttachment, ...head } : head;
  }
}

/** What create() resolves to. */
export class RegistrationCredential extends PublicKeyCredentialBase<AuthenticatorAttestationResponse> {
  toJSON(): RegistrationResponseJSON {
    const r = this.response;
    const publicKey = r.getPublicKey();
    const response: RegistrationResponseJSON['response'] = {
      attestationObject: base64urlEncode(r.attestationObject),
      authenticatorData: base64urlEncode(r.getAuthenticatorData()),
      clientDataJSON: base64urlEncode(r.clientDataJSON),
      ...(publicKey ? { publicKey: base64urlEncode(publicKey) } : {}),
      publicKeyAlgorithm: r.getPublicKeyAlgorithm(),
      transports: r.getTransports(),
    };
    return { ...this.jsonHead(), response, type: 'public-key' };
  }
}

/** What get() resolves to. */
export class AuthenticationCredential extends PublicKeyCredentialBase<AuthenticatorAssertionResponse> {
  toJSON(): AuthenticationResponseJSON {
    const r = this.response;
    const response: AuthenticationResponseJSON['response'] = {
      authenticatorData: base64urlEncode(r.authenticatorData),
      clientDataJSON: base64urlEncode(r.clientDataJSON),
      signature: base64urlEncode(r.signature),
    };
    // Chromium 156 leaves a null userHandle out of toJSON() (03/04 reference files).
    if (r.userHandle) response.userHandle = base64urlEncode(r.userHandle);
    return { ...this.jsonHead(), response, type: 'public-key' };
  }
}

const attachmentOf = (init: CredentialInit): 'cross-platform' | 'platform' | null =>
  init.authenticatorAttachment === undefined ? 'cross-platform' : init.authenticatorAttachment;

export function createRegistrationCredential(init: AttestationResponseInit & CredentialInit): RegistrationCredential {
  return new RegistrationCredential(init.rawId, new AuthenticatorAttestationResponse(init), init.clientExtensionResults, attachmentOf(init));
}

export function createAuthenticationCredential(init: AssertionResponseInit & CredentialInit): AuthenticationCredential {
  return new AuthenticationCredential(init.rawId, new AuthenticatorAssertionResponse(init), init.clientExtensionResults, attachmentOf(init));
}
