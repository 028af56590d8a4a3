#!/usr/bin/env node
/** The `ctap` bin: run the command line and exit with its code. */
import { runCli } from './run.js';

const code = await runCli(process.argv.slice(2));
process.exitCode = code;
