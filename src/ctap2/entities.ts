/**
 * The WebAuthn entities CTAP2 carries as text-keyed CBOR maps
 * (PublicKeyCredentialRpEntity, ...UserEntity, ...Descriptor,
 * ...Parameters): encoders and bounded decoders shared by the commands.
 */
import { CborError, CborMapReader, asArray, asMap, type CborValue } from '../cbor/index.js';

export interface PublicKeyCredentialRpEntity {
  id: string;
  name?: string | undefined;
  icon?: string | undefined;
}

export interface PublicKeyCredentialUserEntity {
  id: Uint8Array;
  name?: string | undefined;
  displayName?: string | undefined;
  icon?: string | undefined;
}

export interface PublicKeyCredentialDescriptor {
  type: string;
  id: Uint8Array;
  transports?: string[] | undefined;
}

export interface PublicKeyCredentialParameters {
  type: string;
  alg: number;
}

/** Limits for untrusted entity content (WebAuthn: user.id ≤ 64 bytes; names are truncated by keys at 64 bytes). */
export const ENTITY_LIMITS = { maxUserIdLength: 64, maxStringLength: 1024, maxCredentialIdLength: 1023, maxTransports: 16 } as const;

type Entry = [string, CborValue | undefined];
const mapOf = (entries: Entry[]): Map<string, CborValue> => new Map(entries.filter((e): e is [string, CborValue] => e[1] !== undefined));

export function encodeRpEntity(rp: PublicKeyCredentialRpEntity): Map<string, CborValue> {
  return mapOf([
    ['id', rp.id],
    ['name', rp.name],
    ['icon', rp.icon],
  ]);
}

export function encodeUserEntity(user: PublicKeyCredentialUserEntity): Map<string, CborValue> {
  return mapOf([
    ['id', user.id],
    ['name', user.name],
    ['displayName', user.displayName],
    ['icon', user.icon],
  ]);
}

export function encodeCredentialDescriptor(d: PublicKeyCredentialDescriptor): Map<string, CborValue> {
  return mapOf([
    ['type', d.type],
    ['id', d.id],
    ['transports', d.transports],
  ]);
}

export function encodeCredentialParameters(p: PublicKeyCredentialParameters): Map<string, CborValue> {
  return mapOf([
    ['type', p.type],
    ['alg', p.alg],
  ]);
}

const L = ENTITY_LIMITS;

export function decodeUserEntity(v: unknown, path: string): PublicKeyCredentialUserEntity {
  const r = new CborMapReader(asMap(v, path), path);
  return {
    id: r.bytes('id', 'id', L.maxUserIdLength),
    name: r.optionalText('name', 'name', L.maxStringLength),
    displayName: r.optionalText('displayName', 'displayName', L.maxStringLength),
    icon: r.optionalText('icon', 'icon', L.maxStringLength),
  };
}

export function decodeRpEntity(v: unknown, path: string): PublicKeyCredentialRpEntity {
  const r = new CborMapReader(asMap(v, path), path);
  return { id: r.text('id', 'id', L.maxStringLength), name: r.optionalText('name', 'name', L.maxStringLength), icon: r.optionalText('icon', 'icon', L.maxStringLength) };
}

export function decodeCredentialDescriptor(v: unknown, path: string): PublicKeyCredentialDescriptor {
  const r = new CborMapReader(asMap(v, path), path);
  const transportsRaw = r.optionalArray('transports', 'transports');
  if (transportsRaw && transportsRaw.length > L.maxTransports) throw new CborError('CBOR_TYPE', `${transportsRaw.length} transports exceed ${L.maxTransports}`, r.path('transports'));
  const transports = transportsRaw?.map((t, i) => {
    if (typeof t !== 'string' || t.length > 64) throw new CborError('CBOR_TYPE', 'expected a short text string', `${r.path('transports')}[${i}]`);
    return t;
  });
  return { type: r.text('type', 'type', 64), id: r.bytes('id', 'id', L.maxCredentialIdLength), ...(transports ? { transports } : {}) };
}

export function decodeCredentialParameters(v: unknown, path: string): PublicKeyCredentialParameters {
  const r = new CborMapReader(asMap(v, path), path);
  return { type: r.text('type', 'type', 64), alg: r.int('alg', 'alg') };
}

export function decodeList<T>(v: unknown, path: string, max: number, item: (x: unknown, p: string) => T): T[] {
  const arr = asArray(v, path);
  if (arr.length > max) throw new CborError('CBOR_TYPE', `${arr.length} entries exceed ${max}`, path);
  return arr.map((x, i) => item(x, `${path}[${i}]`));
}
