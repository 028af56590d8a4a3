#!/usr/bin/env node
// Typechecks (and bundles) examples/electron against Electron's own type definitions.
// Installs the example's dependencies first when they are missing, without the Electron binary
// (ELECTRON_SKIP_BINARY_DOWNLOAD=1: only electron.d.ts is needed here).
// Exit codes: 0 ok; 1 the example does not typecheck or build; 75 the npm registry is unreachable.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const dir = fileURLToPath(new URL('../examples/electron/', import.meta.url));
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const run = (cmd, args, extraEnv = {}) =>
  spawnSync(cmd, args, { cwd: dir, encoding: 'utf8', env: { ...process.env, ...extraEnv }, shell: process.platform === 'win32' });

const needed = ['node_modules/electron/electron.d.ts', 'node_modules/typescript/bin/tsc', 'node_modules/esbuild/package.json', 'node_modules/@types/node/package.json'];
if (!needed.every((f) => existsSync(join(dir, f)))) {
  console.error('check-electron-example: installing the example\'s dependencies (Electron without its binary)…');
  const r = run(npm, ['install', '--no-audit', '--no-fund'], { ELECTRON_SKIP_BINARY_DOWNLOAD: '1' });
  if (r.status !== 0) {
    const text = `${r.stdout}\n${r.stderr}`;
    process.stderr.write(text);
    if (/ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ECONNRESET|ETIMEDOUT|ENETUNREACH|network|request to .* failed/i.test(text)) {
      console.error('check-electron-example: the npm registry is unreachable; cannot install Electron\'s type definitions');
      process.exit(75);
    }
    console.error('check-electron-example: npm install failed');
    process.exit(1);
  }
}

const tsc = run(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.json']);
process.stdout.write(tsc.stdout);
process.stderr.write(tsc.stderr);
if (tsc.status !== 0) {
  console.error('check-electron-example: the example does not typecheck against Electron\'s types');
  process.exit(1);
}
const build = run(process.execPath, ['build.mjs'], {});
if (build.status !== 0) {
  process.stderr.write(`${build.stdout}\n${build.stderr}`);
  console.error('check-electron-example: bundling the example failed');
  process.exit(1);
}
console.log('check-electron-example: examples/electron typechecks against Electron\'s types and bundles');
