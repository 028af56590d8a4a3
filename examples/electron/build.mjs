// Bundles the example with esbuild, the way an app ships the bridge:
// - main process: ESM bundle; `electron` and `node-hid` stay external (node-hid is an N-API module
//   with prebuilt binaries: never bundle it, never rebuild it with electron-rebuild);
// - preloads: CommonJS bundles, because a sandboxed preload cannot import modules (sandbox stays on);
// - the page script: a plain browser bundle.
import { build } from 'esbuild';

const common = { bundle: true, sourcemap: true, logLevel: 'info', target: 'es2022' };
await Promise.all([
  build({ ...common, entryPoints: ['src/main.ts'], outfile: 'dist/main.js', platform: 'node', format: 'esm',
    external: ['electron', 'node-hid', 'koffi'],
    // ESM bundles have no require(); some dependencies still call it.
    banner: { js: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);" } }),
  build({ ...common, entryPoints: ['src/preload.ts'], outfile: 'dist/preload.cjs', platform: 'node', format: 'cjs', external: ['electron'] }),
  build({ ...common, entryPoints: ['src/pin-preload.ts'], outfile: 'dist/pin-preload.cjs', platform: 'node', format: 'cjs', external: ['electron'] }),
  build({ ...common, entryPoints: ['src/renderer.ts'], outfile: 'dist/renderer.js', platform: 'browser', format: 'esm' }),
]);
