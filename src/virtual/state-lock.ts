/**
 * One process at a time per virtual-key state file. Two owners of one file
 * would each overwrite the other's acknowledged writes, so the owner of
 * `FILE` holds `FILE.lock` for as long as its VirtualAuthenticator is open.
 *
 * The lock file is created with O_CREAT|O_EXCL (mode 0600) and holds
 * `{"pid","hostname","token","acquired"}` as JSON. It is released (unlinked,
 * only while it still carries our token) by release(), and best effort when
 * the process exits ('exit' handler). A lock left by a process that no longer
 * runs on this host (process.kill(pid, 0) → ESRCH) is stale and taken over; a
 * lock naming this process that this process does not hold (a pid reused
 * after a container restart) is stale too. Anything else is refused with
 * VirtualStateError STATE_LOCKED naming the holder.
 */
import { closeSync, fsyncSync, linkSync, openSync, readFileSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { hostname as osHostname } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { randomBytes } from '../crypto/primitives.js';

/** What a lock file says about its holder. */
export interface StateLockOwner {
  pid: number;
  hostname: string;
  token: string;
  /** ISO time the lock was taken (informational). */
  acquired: string;
}

/** Why a lock could not be taken: the holder (when the lock file could be read) and a message that says what to do. */
export interface StateLockConflict {
  lockPath: string;
  owner: StateLockOwner | undefined;
  message: string;
}

/** Absolute lock paths this process holds → their token (for release on exit). */
const held = new Map<string, string>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const [path, token] of [...held]) releaseLockPath(path, token);
  });
}

export function lockPathFor(statePath: string): string {
  return `${resolve(statePath)}.lock`;
}

function readOwner(lockPath: string): StateLockOwner | undefined | 'missing' {
  let text: string;
  try {
    text = readFileSync(lockPath, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return 'missing';
    return undefined;
  }
  try {
    const o = JSON.parse(text) as Record<string, unknown>;
    if (o && typeof o === 'object' && Number.isSafeInteger(o.pid) && (o.pid as number) > 0 && typeof o.hostname === 'string' && typeof o.token === 'string') {
      return { pid: o.pid as number, hostname: o.hostname, token: o.token, acquired: typeof o.acquired === 'string' ? o.acquired : '' };
    }
  } catch {
    // not JSON (or still being written)
  }
  return undefined;
}

/** Whether a process with this pid runs on this host (EPERM: it runs, as another user). */
function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}

function isStale(lockPath: string, owner: StateLockOwner): boolean {
  if (owner.hostname !== osHostname()) return false; // another machine (shared filesystem): cannot tell
  if (owner.pid === process.pid) return held.get(lockPath) !== owner.token;
  return !pidAlive(owner.pid);
}

/**
 * Move a stale lock out of the way. Rename is atomic, so of two processes
 * taking over the same stale lock only one moves it; a process that moved a
 * lock someone had just taken (not the stale one it judged) puts it back.
 */
function removeStale(lockPath: string, stale: StateLockOwner): void {
  const aside = join(dirname(lockPath), `.${basename(lockPath)}.${process.pid}.${Buffer.from(randomBytes(6)).toString('hex')}.stale`);
  try {
    renameSync(lockPath, aside);
  } catch {
    return; // someone else moved it first
  }
  const moved = readOwner(aside);
  // Only the stale lock we judged is dropped; anything else (a fresh lock, one still being written) goes back.
  if (moved !== 'missing' && !(moved !== undefined && moved.token === stale.token)) {
    try {
      linkSync(aside, lockPath);
    } catch {
      // a third process already holds a new lock: that one wins
    }
  }
  try {
    unlinkSync(aside);
  } catch {
    // gone already
  }
}

function describe(owner: StateLockOwner): string {
  const here = owner.hostname === osHostname();
  return `process ${owner.pid}${here ? '' : ` on host ${owner.hostname}`}${owner.acquired ? ` (since ${owner.acquired})` : ''}`;
}

export interface AcquireResult {
  /** The token to release with. */
  token: string;
  /** Set when a stale lock was taken over: what it said. */
  tookOver?: StateLockOwner | undefined;
}

/**
 * Take the lock for `statePath`. Resolves with the token, or with a conflict
 * (the caller turns it into its typed error). A lock file that cannot be
 * parsed is re-read a few times (its writer may be between create and write)
 * and then reported as a conflict.
 */
export async function acquireStateLock(statePath: string): Promise<AcquireResult | StateLockConflict> {
  const lockPath = lockPathFor(statePath);
  await mkdir(dirname(lockPath), { recursive: true });
  const token = Buffer.from(randomBytes(12)).toString('hex');
  const owner: StateLockOwner = { pid: process.pid, hostname: osHostname(), token, acquired: new Date().toISOString() };
  let tookOver: StateLockOwner | undefined;
  let unreadable = 0;
  for (let attempt = 0; attempt < 20; attempt++) {
    let fd: number;
    try {
      fd = openSync(lockPath, 'wx', 0o600);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') {
        return { lockPath, owner: undefined, message: `cannot create the lock file ${lockPath}: ${(e as Error).message}` };
      }
      const current = readOwner(lockPath);
      if (current === 'missing') continue; // released meanwhile: try again
      if (current === undefined) {
        if (++unreadable < 5) {
          await new Promise((r) => setTimeout(r, 20));
          continue;
        }
        return {
          lockPath,
          owner: undefined,
          message: `virtual key state ${statePath} is locked by ${lockPath}, which is not a lock file this program can read. If no ctap process uses ${statePath}, remove ${lockPath}.`,
        };
      }
      if (isStale(lockPath, current)) {
        removeStale(lockPath, current);
        tookOver = current;
        continue;
      }
      return {
        lockPath,
        owner: current,
        message: `virtual key state ${statePath} is in use by ${describe(current)}, which holds the lock file ${lockPath}. Two users of one state file would overwrite each other's credentials: stop that process (or close its key) first, or use another state file${current.hostname === osHostname() ? '' : `; if that process is gone, remove ${lockPath}`}.`,
      };
    }
    try {
      writeSync(fd, `${JSON.stringify(owner)}\n`);
      try {
        fsyncSync(fd);
      } catch {
        // some filesystems refuse fsync; the content is written
      }
    } catch (e) {
      closeSync(fd);
      try {
        unlinkSync(lockPath);
      } catch {
        // nothing to undo
      }
      return { lockPath, owner: undefined, message: `cannot write the lock file ${lockPath}: ${(e as Error).message}` };
    }
    closeSync(fd);
    held.set(lockPath, token);
    installExitHook();
    return tookOver ? { token, tookOver } : { token };
  }
  return { lockPath, owner: undefined, message: `virtual key state ${statePath}: could not take the lock ${lockPath} (it keeps changing hands); try again.` };
}

/** Remove the lock when it still carries our token (synchronous: also runs from the 'exit' handler). */
function releaseLockPath(lockPath: string, token: string): void {
  if (held.get(lockPath) !== token) return;
  held.delete(lockPath);
  const current = readOwner(lockPath);
  if (current === 'missing' || current === undefined || current.token !== token) return;
  try {
    unlinkSync(lockPath);
  } catch {
    // best effort
  }
}

/** Release the lock taken by acquireStateLock (idempotent). */
export function releaseStateLock(statePath: string, token: string): void {
  releaseLockPath(lockPathFor(statePath), token);
}
