#!/usr/bin/env node
/** The `ctap` bin: run the command line and exit with its code. */
import { runCli } from './run.js';

// `ctap ... | head`: the reader went away; stop quietly like other Unix tools.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw e;
  });
}

const code = await runCli(process.argv.slice(2));
process.exitCode = code;
