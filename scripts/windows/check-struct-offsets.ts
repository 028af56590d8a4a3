/**
 * Checks our webauthn.h struct tables (src/platform/windows/layout.ts) against
 * mingw-w64's own <webauthn.h>, at compile time: every offset becomes a
 * _Static_assert compiled by x86_64-w64-mingw32-gcc (and i686 when present).
 *
 * Debian's mingw-w64 header covers API version 3 (MAKE_CREDENTIAL_OPTIONS v4,
 * GET_ASSERTION_OPTIONS v5, CREDENTIAL_ATTESTATION v4, ASSERTION v2), so the
 * fields it declares are checked and the newer ones are reported as not
 * covered; test/platform/windows/layout.test.ts checks all of them against
 * our own transcription with gcc.
 *
 *   apt-get install gcc-mingw-w64-x86-64 mingw-w64-x86-64-dev
 *   node --import tsx scripts/windows/check-struct-offsets.ts
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ALL_STRUCTS, layoutOf } from '../../src/platform/windows/layout.js';

export interface MingwTarget {
  compiler: string;
  pointerSize: 4 | 8;
  header: string;
}

export const TARGETS: ReadonlyArray<{ compiler: string; pointerSize: 4 | 8; header: string }> = [
  { compiler: 'x86_64-w64-mingw32-gcc', pointerSize: 8, header: '/usr/share/mingw-w64/include/webauthn.h' },
  { compiler: 'i686-w64-mingw32-gcc', pointerSize: 4, header: '/usr/share/mingw-w64/include/webauthn.h' },
];

export function availableTargets(): MingwTarget[] {
  return TARGETS.filter((t) => existsSync(t.header) && spawnSync(t.compiler, ['--version'], { stdio: 'ignore' }).status === 0);
}

export interface CheckResult {
  target: MingwTarget;
  checked: number;
  notCovered: string[];
  /** The C source compiled (for the report on failure). */
  source: string;
}

/** The body of `typedef struct _NAME { ... } NAME` in the header, or undefined. */
function structBody(header: string, name: string): string | undefined {
  const m = new RegExp(`typedef\\s+struct\\s+_${name}\\s*\\{([\\s\\S]*?)\\}\\s*${name}\\b`).exec(header);
  return m?.[1];
}

export function generate(target: MingwTarget): { source: string; checked: number; notCovered: string[] } {
  const header = readFileSync(target.header, 'utf8');
  const lines = ['#include <windows.h>', '#include <stddef.h>', '#include <webauthn.h>', ''];
  let checked = 0;
  const notCovered: string[] = [];
  for (const def of ALL_STRUCTS) {
    const body = structBody(header, def.name);
    if (body === undefined) {
      notCovered.push(`${def.name} (not in this header)`);
      continue;
    }
    const l = layoutOf(def, target.pointerSize);
    let allPresent = true;
    for (const f of l.fields) {
      if (!new RegExp(`\\b${f.name}\\s*;`).test(body)) {
        allPresent = false;
        notCovered.push(`${def.name}.${f.name}`);
        continue;
      }
      lines.push(`_Static_assert(offsetof(${def.name}, ${f.name}) == ${f.offset}, "${def.name}.${f.name} at ${f.offset}");`);
      checked++;
    }
    // The header's newest version of the struct is a prefix of ours: its size is ours cut at that version.
    const present = l.fields.filter((f) => new RegExp(`\\b${f.name}\\s*;`).test(body));
    const version = Math.max(...present.map((f) => f.since));
    const size = allPresent ? l.size : Math.ceil(l.sizeForVersion(version) / l.align) * l.align;
    lines.push(`_Static_assert(sizeof(${def.name}) == ${size}, "sizeof(${def.name}) == ${size}");`);
    checked++;
  }
  return { source: lines.join('\n') + '\n', checked, notCovered };
}

/** Compiles the assertions; throws with the compiler's message when one fails. */
export function check(target: MingwTarget): CheckResult {
  const { source, checked, notCovered } = generate(target);
  const dir = mkdtempSync(join(tmpdir(), 'webauthn-mingw-'));
  try {
    const file = join(dir, 'offsets.c');
    writeFileSync(file, source);
    execFileSync(target.compiler, ['-fsyntax-only', '-std=c11', file], { stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (e) {
    const stderr = (e as { stderr?: Buffer }).stderr?.toString() ?? String(e);
    throw new Error(`${target.compiler}: struct offsets disagree with mingw's webauthn.h:\n${stderr}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return { target, checked, notCovered, source };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const targets = availableTargets();
  if (targets.length === 0) {
    console.error('mingw-w64 is not installed (apt-get install gcc-mingw-w64-x86-64 mingw-w64-x86-64-dev); nothing checked');
    process.exit(2);
  }
  let failed = false;
  for (const t of targets) {
    try {
      const r = check(t);
      console.log(`${t.compiler}: ${r.checked} offsets/sizes agree with ${t.header}`);
      if (r.notCovered.length) console.log(`  newer than that header (checked by test/platform/windows/layout.test.ts only): ${r.notCovered.length} fields`);
    } catch (e) {
      failed = true;
      console.error((e as Error).message);
    }
  }
  process.exit(failed ? 1 : 0);
}
