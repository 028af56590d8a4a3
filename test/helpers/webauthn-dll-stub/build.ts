/**
 * Compiles the webauthn.dll stand-in (stub.c) with gcc into a temp dir, once
 * per test process, and reads what it recorded. Never committed as a binary.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadVectors } from '../vectors.js';

export const STUB_DIR = fileURLToPath(new URL('.', import.meta.url));

/** Why the stub tests cannot run here, or undefined when they can. */
export function stubSkipReason(): string | undefined {
  if (spawnSync('gcc', ['--version'], { stdio: 'ignore' }).status !== 0) return 'gcc is not installed (apt-get install gcc libc6-dev)';
  if (process.platform === 'win32') return 'the stand-in library is built for Linux/macOS; Windows runs against the real webauthn.dll';
  return undefined;
}

export function koffiSkipReason(): string | undefined {
  try {
    // Resolution only: the test files must not import koffi themselves.
    import.meta.resolve('koffi');
    return undefined;
  } catch {
    return 'koffi (optional dependency) is not installed (npm install koffi)';
  }
}

export interface BuiltStub {
  dir: string;
  library: string;
  record: string;
  canned: string;
  cleanup(): void;
}

let built: BuiltStub | undefined;

export function buildStub(): BuiltStub {
  if (built) return built;
  const dir = mkdtempSync(join(tmpdir(), 'webauthn-dll-stub-'));
  const library = join(dir, process.platform === 'darwin' ? 'webauthn-stub.dylib' : 'webauthn-stub.so');
  execFileSync('gcc', ['-shared', '-fPIC', '-O1', '-Wall', '-Wextra', '-Werror', '-I', STUB_DIR, '-o', library, join(STUB_DIR, 'stub.c'), '-lpthread'], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const b: BuiltStub = {
    dir,
    library,
    record: join(dir, 'record.jsonl'),
    canned: join(dir, 'canned.txt'),
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
  built = b;
  return b;
}

/** Compiles and runs a C program against webauthn-types.h; returns its stdout. */
export function runC(source: string, extraArgs: string[] = []): string {
  const dir = mkdtempSync(join(tmpdir(), 'webauthn-c-'));
  try {
    const src = join(dir, 'prog.c');
    const exe = join(dir, 'prog');
    writeFileSync(src, source);
    execFileSync('gcc', ['-O0', '-Wall', '-I', STUB_DIR, ...extraArgs, '-o', exe, src], { stdio: ['ignore', 'ignore', 'pipe'] });
    return execFileSync(exe, { encoding: 'utf8' });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export type StubCall = Record<string, unknown> & { call: string };

export function readRecord(stub: BuiltStub): StubCall[] {
  if (!existsSync(stub.record)) return [];
  return readFileSync(stub.record, 'utf8')
    .split('\n')
    .filter((l) => l.length > 0)
    .map((l) => JSON.parse(l) as StubCall);
}

export function clearRecord(stub: BuiltStub): void {
  rmSync(stub.record, { force: true });
}

/** Canned results, written as "key=hex" lines the stub reads on each call. */
export function writeCanned(stub: BuiltStub, values: Record<string, Uint8Array | string>): void {
  const lines = Object.entries(values).map(([k, v]) => `${k}=${typeof v === 'string' ? Buffer.from(v, 'utf8').toString('hex') : Buffer.from(v).toString('hex')}`);
  writeFileSync(stub.canned, lines.join('\n') + '\n');
}

/** Environment a test sets before each call (the stub reads it per call). */
export function stubEnv(stub: BuiltStub, extra: Record<string, string | undefined> = {}): void {
  const env: Record<string, string | undefined> = {
    CTAP_BRIDGE_TRANSPORT: 'webauthn-dll',
    CTAP_BRIDGE_WEBAUTHN_DLL: stub.library,
    WEBAUTHN_STUB_RECORD: stub.record,
    WEBAUTHN_STUB_CANNED: stub.canned,
    WEBAUTHN_STUB_API_VERSION: '9',
    WEBAUTHN_STUB_HRESULT: undefined,
    WEBAUTHN_STUB_BLOCK: undefined,
    WEBAUTHN_STUB_APPID_USED: undefined,
    ...extra,
  };
  for (const [k, v] of Object.entries(env)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
}

const hexBytes = (s: string) => new Uint8Array(Buffer.from(s, 'hex'));

/**
 * The W3C WebAuthn L3 §16 "ES256 Credential with No Attestation" vector (RP example.org)
 * the route tests have the stand-in answer with, whatever it is asked. A login that passes
 * loginChallenge makes our clientDataJSON byte-identical to the vector's, so the vector's
 * signature covers it.
 */
export function w3cNoneEs256() {
  const reg = loadVectors('webauthn-registrations').find((v) => v.id === 'w3c-l3-reg-none-es256')!;
  const auth = loadVectors('webauthn-authentications').find((v) => v.id === 'w3c-l3-auth-none-es256')!;
  return {
    reg,
    auth,
    credentialId: hexBytes(auth['input_credential_id'] as string),
    cose: hexBytes(auth['input_credential_public_key_cose'] as string),
    /** "user-1": the user handle the stand-in returns when it is canned (withW3cVector). */
    userHandle: new Uint8Array([0x75, 0x73, 0x65, 0x72, 0x2d, 0x31]),
    loginChallenge: hexBytes((auth.expected['clientData'] as { challenge_bytes: string }).challenge_bytes),
  };
}

/**
 * Builds the stand-in (once per process) and cans the w3cNoneEs256() attestation and
 * assertion, with its userHandle unless userHandle is false, plus any extra values.
 */
export function buildStubWithW3cVector(options: { userHandle?: boolean; extra?: Record<string, Uint8Array | string> } = {}): BuiltStub {
  const v = w3cNoneEs256();
  const stub = buildStub();
  writeCanned(stub, {
    attestationObject: hexBytes(v.reg.input),
    authenticatorData: hexBytes((v.reg.expected['attestationObject'] as { authData: string }).authData),
    credentialId: v.credentialId,
    attStmt: new Uint8Array([0xa0]),
    fmt: 'none',
    assertionAuthenticatorData: hexBytes(v.auth.input),
    signature: hexBytes(v.auth['input_signature'] as string),
    ...(options.userHandle === false ? {} : { userHandle: v.userHandle }),
    ...options.extra,
  });
  return stub;
}

/** Snapshots process.env; the function returned puts it back (for after(), once stubEnv() has changed it). */
export function saveEnv(): () => void {
  const saved = { ...process.env };
  return () => {
    for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k];
    Object.assign(process.env, saved);
  };
}
