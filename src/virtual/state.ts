/**
 * The virtual key's persistent state and its file. Everything that survives
 * a power cycle lives here: the master secret (wraps key handles), the batch
 * attestation key and certificates, resident credentials, the PIN hash and
 * retries, config flags, the large-blob array and sign counters.
 *
 * The file is JSON (bytes as base64), written atomically: a temp file in the
 * same directory, fsync, rename over the old file, fsync of the directory,
 * mode 0600. A save completes before the command that caused it answers, so
 * whatever the key acknowledged is durable. A file that cannot be parsed is
 * reported (VirtualStateError STATE_CORRUPT) and never replaced.
 *
 * One process at a time owns a state file: load() takes `FILE.lock`
 * (state-lock.ts) before reading and release() gives it back; a file in use
 * by another live process is refused with VirtualStateError STATE_LOCKED.
 */
import { mkdir, open, readdir, readFile, rename, unlink } from 'node:fs/promises';
import { dirname, basename, join } from 'node:path';
import { p256Generate, p256PublicFromPrivate, randomBytes } from '../crypto/primitives.js';
import { CtapBridgeError } from '../util/errors.js';
import { createCertificate } from './x509.js';
import { acquireStateLock, releaseStateLock, type StateLockOwner } from './state-lock.js';

/** STATE_LOCKED: another process (or another open key in this one) uses the state file. */
export type VirtualStateErrorCode = 'STATE_CORRUPT' | 'STATE_IO' | 'STATE_VERSION' | 'STATE_LOCKED';

export class VirtualStateError extends CtapBridgeError {
  declare readonly code: VirtualStateErrorCode;
  readonly path: string | undefined;
  /** STATE_LOCKED: the lock file and, when it could be read, the holder's pid and hostname. */
  readonly lockPath: string | undefined;
  readonly lockOwner: { pid: number; hostname: string } | undefined;
  constructor(code: VirtualStateErrorCode, message: string, options?: { cause?: unknown; path?: string; lockPath?: string; lockOwner?: { pid: number; hostname: string } | undefined }) {
    super(code, message, options);
    this.path = options?.path;
    this.lockPath = options?.lockPath;
    this.lockOwner = options?.lockOwner;
  }
}

export interface ResidentCredential {
  /** The credential ID (a key handle with the resident flag). */
  id: Uint8Array;
  rpId: string;
  rpName?: string | undefined;
  userId: Uint8Array;
  userName?: string | undefined;
  userDisplayName?: string | undefined;
  alg: number;
  privateKey: Uint8Array;
  signCount: number;
  credProtect: number;
  hmacSecret: boolean;
  credBlob?: Uint8Array | undefined;
  largeBlobKey?: Uint8Array | undefined;
  /** Creation order (higher = newer): getAssertion lists newest first. */
  created: number;
}

/** One enrolled (simulated) fingerprint. */
export interface BioTemplate {
  templateId: Uint8Array;
  friendlyName?: string | undefined;
}

/** The fingerprint sensor's settings and templates (only on a key created with `bio`). */
export interface BioStoredState {
  samplesRequired: number;
  maxTemplates: number;
  maxTemplateFriendlyName: number;
  preview: boolean;
  templates: BioTemplate[];
}

export interface AttestationMaterial {
  privateKey: Uint8Array;
  /** DER batch certificate (x5c[0]). */
  certificate: Uint8Array;
  /** DER self-signed CA certificate (x5c[1]). */
  caCertificate: Uint8Array;
}

export interface PersistentState {
  version: 1;
  aaguid: Uint8Array;
  masterSecret: Uint8Array;
  attestation: AttestationMaterial;
  /** LEFT(SHA-256(PIN), 16), or undefined when no PIN is set. */
  pinHash?: Uint8Array | undefined;
  /**
   * Length of the current PIN in Unicode code points (setMinPINLength forces a
   * PIN change only when the PIN is shorter than the new minimum). Undefined
   * when no PIN is set, or in a state file written before it was kept.
   */
  pinCodePoints?: number | undefined;
  pinRetries: number;
  uvRetries: number;
  minPinLength: number;
  minPinLengthRpIds: string[];
  forcePinChange: boolean;
  alwaysUv: boolean;
  enterpriseAttestation: boolean;
  /** The serialized large-blob array (CBOR array || LEFT(SHA-256, 16)). */
  largeBlobArray: Uint8Array;
  /** Sign counter shared by non-resident credentials (their key handles carry no counter). */
  globalSignCount: number;
  nextCreated: number;
  credentials: ResidentCredential[];
  /** The simulated fingerprint sensor; absent on a key without one. */
  bio?: BioStoredState | undefined;
}

export const PIN_RETRIES_MAX = 8;
export const UV_RETRIES_MAX = 8;
export const DEFAULT_MIN_PIN_LENGTH = 4;
/** The initial large-blob array: an empty CBOR array and its truncated hash (CTAP 2.2 §6.10.2). */
export const EMPTY_LARGE_BLOB_ARRAY = Uint8Array.from([0x80, 0x76, 0xbe, 0x8b, 0x52, 0x8d, 0x00, 0x75, 0xf7, 0xaa, 0xe9, 0x8d, 0x6f, 0xa5, 0x7a, 0x6d, 0x3c]);

export function createAttestation(aaguid: Uint8Array, now: Date): AttestationMaterial {
  const ca = p256Generate();
  const batch = p256Generate();
  const serial = (): Uint8Array => {
    const s = randomBytes(16);
    s[0] = s[0]! & 0x7f;
    return s;
  };
  const caName = { C: 'US', O: 'ctap-bridge', OU: 'Authenticator Attestation', CN: 'ctap-bridge virtual key CA' };
  const notBefore = new Date(now.getTime() - 24 * 3600 * 1000);
  const notAfter = new Date(Date.UTC(2099, 11, 31, 23, 59, 59));
  const caCertificate = createCertificate({
    serial: serial(),
    subject: caName,
    issuer: caName,
    subjectKey: ca.publicKey,
    issuerKey: ca.publicKey,
    issuerPrivateKey: ca.privateKey,
    notBefore,
    notAfter,
    ca: true,
  });
  const certificate = createCertificate({
    serial: serial(),
    subject: { C: 'US', O: 'ctap-bridge', OU: 'Authenticator Attestation', CN: 'ctap-bridge virtual key batch 1' },
    issuer: caName,
    subjectKey: batch.publicKey,
    issuerKey: ca.publicKey,
    issuerPrivateKey: ca.privateKey,
    notBefore,
    notAfter,
    ca: false,
    aaguid,
  });
  ca.privateKey.fill(0);
  return { privateKey: batch.privateKey, certificate, caCertificate };
}

export function createInitialState(aaguid: Uint8Array, now: Date): PersistentState {
  return createInitialStateWith(aaguid, createAttestation(aaguid, now));
}

/** authenticatorReset: new secrets, no credentials or PIN; the attestation identity stays (as on real keys). */
export function resetState(s: PersistentState): PersistentState {
  const fresh = createInitialStateWith(s.aaguid, s.attestation);
  // The sensor stays; its templates go with everything else.
  if (s.bio) fresh.bio = { ...s.bio, templates: [] };
  return fresh;
}

function createInitialStateWith(aaguid: Uint8Array, attestation: AttestationMaterial): PersistentState {
  return {
    version: 1,
    aaguid,
    masterSecret: randomBytes(32),
    attestation,
    pinHash: undefined,
    pinCodePoints: undefined,
    pinRetries: PIN_RETRIES_MAX,
    uvRetries: UV_RETRIES_MAX,
    minPinLength: DEFAULT_MIN_PIN_LENGTH,
    minPinLengthRpIds: [],
    forcePinChange: false,
    alwaysUv: false,
    enterpriseAttestation: false,
    largeBlobArray: EMPTY_LARGE_BLOB_ARRAY.slice(),
    globalSignCount: 0,
    nextCreated: 1,
    credentials: [],
  };
}

// ---- serialization ---------------------------------------------------------

function replacer(_key: string, value: unknown): unknown {
  if (value instanceof Uint8Array) return { $b64: Buffer.from(value).toString('base64') };
  return value;
}

function reviver(_key: string, value: unknown): unknown {
  if (value && typeof value === 'object' && !Array.isArray(value)) {
    const o = value as Record<string, unknown>;
    const keys = Object.keys(o);
    if (keys.length === 1 && keys[0] === '$b64' && typeof o.$b64 === 'string') {
      const b = Buffer.from(o.$b64, 'base64');
      return new Uint8Array(b.buffer, b.byteOffset, b.byteLength).slice();
    }
  }
  return value;
}

export function serializeState(s: PersistentState): string {
  return `${JSON.stringify(s, replacer, 1)}\n`;
}

function check(cond: boolean, what: string, path: string | undefined): void {
  if (!cond) throw new VirtualStateError('STATE_CORRUPT', `virtual key state${path ? ` ${path}` : ''} is invalid: ${what}. Fix or remove the file (removing it erases every credential on this virtual key)`, path ? { path } : undefined);
}

const isBytes = (v: unknown, len?: number): boolean => v instanceof Uint8Array && (len === undefined || v.length === len);
const isUint = (v: unknown): boolean => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
const isOptString = (v: unknown): boolean => v === undefined || typeof v === 'string';

export function parseState(text: string, path?: string): PersistentState {
  let raw: unknown;
  try {
    raw = JSON.parse(text, reviver);
  } catch (e) {
    throw new VirtualStateError('STATE_CORRUPT', `virtual key state${path ? ` ${path}` : ''} is not valid JSON (${(e as Error).message}). Fix or remove the file (removing it erases every credential on this virtual key)`, { cause: e, ...(path ? { path } : {}) });
  }
  check(raw !== null && typeof raw === 'object' && !Array.isArray(raw), 'not a JSON object', path);
  const s = raw as Record<string, unknown>;
  if (s.version !== 1) {
    throw new VirtualStateError('STATE_VERSION', `virtual key state${path ? ` ${path}` : ''} has version ${JSON.stringify(s.version)}; this ctap-bridge reads version 1`, path ? { path } : undefined);
  }
  check(isBytes(s.aaguid, 16), 'aaguid', path);
  check(isBytes(s.masterSecret, 32), 'masterSecret', path);
  const a = s.attestation as Record<string, unknown> | undefined;
  check(!!a && isBytes(a.privateKey, 32) && isBytes(a.certificate) && isBytes(a.caCertificate), 'attestation', path);
  check(s.pinHash === undefined || isBytes(s.pinHash, 16), 'pinHash', path);
  check(s.pinCodePoints === undefined || (isUint(s.pinCodePoints) && s.pinHash !== undefined), 'pinCodePoints', path);
  for (const k of ['pinRetries', 'uvRetries', 'minPinLength', 'globalSignCount', 'nextCreated'] as const) check(isUint(s[k]), k, path);
  check((s.pinRetries as number) <= PIN_RETRIES_MAX, 'pinRetries', path);
  check(Array.isArray(s.minPinLengthRpIds) && (s.minPinLengthRpIds as unknown[]).every((x) => typeof x === 'string'), 'minPinLengthRpIds', path);
  for (const k of ['forcePinChange', 'alwaysUv', 'enterpriseAttestation'] as const) check(typeof s[k] === 'boolean', k, path);
  check(isBytes(s.largeBlobArray) && (s.largeBlobArray as Uint8Array).length >= 17, 'largeBlobArray', path);
  check(Array.isArray(s.credentials), 'credentials', path);
  (s.credentials as unknown[]).forEach((c, i) => {
    const r = c as Record<string, unknown>;
    const ok =
      !!r &&
      typeof r === 'object' &&
      isBytes(r.id) &&
      typeof r.rpId === 'string' &&
      isOptString(r.rpName) &&
      isBytes(r.userId) &&
      isOptString(r.userName) &&
      isOptString(r.userDisplayName) &&
      (r.alg === -7 || r.alg === -8) &&
      isBytes(r.privateKey, 32) &&
      isUint(r.signCount) &&
      (r.credProtect === 1 || r.credProtect === 2 || r.credProtect === 3) &&
      typeof r.hmacSecret === 'boolean' &&
      (r.credBlob === undefined || isBytes(r.credBlob)) &&
      (r.largeBlobKey === undefined || isBytes(r.largeBlobKey, 32)) &&
      isUint(r.created);
    check(ok, `credentials[${i}]`, path);
  });
  if (s.bio !== undefined) {
    const b = s.bio as Record<string, unknown>;
    const ok =
      b !== null &&
      typeof b === 'object' &&
      isUint(b.samplesRequired) &&
      isUint(b.maxTemplates) &&
      isUint(b.maxTemplateFriendlyName) &&
      typeof b.preview === 'boolean' &&
      Array.isArray(b.templates) &&
      (b.templates as unknown[]).every((t) => {
        const r = t as Record<string, unknown> | null;
        return r !== null && typeof r === 'object' && isBytes(r.templateId) && (r.templateId as Uint8Array).length > 0 && isOptString(r.friendlyName);
      });
    check(ok, 'bio', path);
  }
  // The batch key must be a valid P-256 scalar.
  try {
    p256PublicFromPrivate(a!.privateKey as Uint8Array);
  } catch (e) {
    throw new VirtualStateError('STATE_CORRUPT', `virtual key state${path ? ` ${path}` : ''} has an invalid attestation key`, { cause: e, ...(path ? { path } : {}) });
  }
  return s as unknown as PersistentState;
}

/** Test hooks around the atomic write (crash simulation). */
export interface StateFileHooks {
  /** Runs after the temp file is written and fsynced, before the rename. */
  beforeRename?(tempPath: string): void | Promise<void>;
}

/** Reads and writes one state file. One process at a time may use a given file: load() locks it, release() unlocks. */
export class StateFile {
  readonly path: string;
  hooks: StateFileHooks | undefined;
  #lockToken: string | undefined;
  /** Set when load() took over a stale lock (its holder no longer runs): what that lock said. */
  tookOverStaleLock: StateLockOwner | undefined;

  constructor(path: string, hooks?: StateFileHooks) {
    this.path = path;
    this.hooks = hooks;
  }

  /** Whether this StateFile holds the file's lock. */
  get locked(): boolean {
    return this.#lockToken !== undefined;
  }

  /**
   * Take the file's lock (idempotent). Throws VirtualStateError STATE_LOCKED
   * when another live process (or another open key in this process) holds it;
   * a stale lock is taken over with a process warning.
   */
  async lock(): Promise<void> {
    if (this.#lockToken !== undefined) return;
    let r: Awaited<ReturnType<typeof acquireStateLock>>;
    try {
      r = await acquireStateLock(this.path);
    } catch (e) {
      throw new VirtualStateError('STATE_IO', `cannot lock virtual key state ${this.path}: ${(e as Error).message}`, { cause: e, path: this.path });
    }
    if ('message' in r) {
      throw new VirtualStateError('STATE_LOCKED', r.message, { path: this.path, lockPath: r.lockPath, lockOwner: r.owner ? { pid: r.owner.pid, hostname: r.owner.hostname } : undefined });
    }
    this.#lockToken = r.token;
    if (r.tookOver) {
      this.tookOverStaleLock = r.tookOver;
      process.emitWarning(`virtual key state ${this.path}: took over a stale lock left by process ${r.tookOver.pid}, which no longer runs`, { code: 'CTAP_BRIDGE_STALE_STATE_LOCK' });
    }
  }

  /** Give the lock back (idempotent; after the last save). */
  release(): void {
    const token = this.#lockToken;
    if (token === undefined) return;
    this.#lockToken = undefined;
    releaseStateLock(this.path, token);
  }

  /**
   * Lock the file, then read it: the state, or undefined when the file does
   * not exist. Throws VirtualStateError otherwise (and then holds no lock).
   */
  async load(): Promise<PersistentState | undefined> {
    await this.lock();
    try {
      let text: string;
      try {
        text = await readFile(this.path, 'utf8');
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
        throw new VirtualStateError('STATE_IO', `cannot read virtual key state ${this.path}: ${(e as Error).message}`, { cause: e, path: this.path });
      }
      const state = parseState(text, this.path);
      await this.#removeStaleTemps();
      return state;
    } catch (e) {
      this.release();
      throw e;
    }
  }

  /**
   * A crash between write and rename leaves `.NAME.PID.RAND.tmp` behind; the
   * state file itself is intact, so the leftovers are removed (we hold the
   * lock, so no other process is writing one).
   */
  async #removeStaleTemps(): Promise<void> {
    const dir = dirname(this.path);
    const prefix = `.${basename(this.path)}.`;
    let names: string[];
    try {
      names = await readdir(dir);
    } catch {
      return;
    }
    for (const n of names) {
      if (n.startsWith(prefix) && /^\d+\.[0-9a-f]{12}\.tmp$/.test(n.slice(prefix.length))) await unlink(join(dir, n)).catch(() => undefined);
    }
  }

  /** Atomic replace: temp file, fsync, rename, fsync the directory. */
  async save(text: string): Promise<void> {
    const dir = dirname(this.path);
    const temp = join(dir, `.${basename(this.path)}.${process.pid}.${Buffer.from(randomBytes(6)).toString('hex')}.tmp`);
    try {
      await mkdir(dir, { recursive: true });
      const fh = await open(temp, 'wx', 0o600);
      try {
        await fh.writeFile(text, 'utf8');
        await fh.sync();
      } finally {
        await fh.close();
      }
      await this.hooks?.beforeRename?.(temp);
      await rename(temp, this.path);
    } catch (e) {
      await unlink(temp).catch(() => undefined);
      throw new VirtualStateError('STATE_IO', `cannot write virtual key state ${this.path}: ${(e as Error).message}`, { cause: e, path: this.path });
    }
    try {
      const d = await open(dir, 'r');
      try {
        await d.sync();
      } finally {
        await d.close();
      }
    } catch {
      // Some filesystems refuse fsync on a directory; the rename itself already happened.
    }
  }
}
