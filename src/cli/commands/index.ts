/** Every `ctap` command, in the order `ctap --help` lists them. */
import type { CommandDef } from '../context.js';
import { decodeCommand } from './decode.js';
import { configCommand } from './config.js';
import { credsCommand } from './creds.js';
import { pinCommand } from './pin.js';
import { resetCommand } from './reset.js';
import { bioCommand } from './bio.js';
import { blobCommand } from './blob.js';
import { benchCommand } from './bench.js';
import { doctorCommand } from './doctor.js';
import { virtualCommand } from './virtual.js';
import { loginCommand, registerCommand } from './webauthn.js';
import { watchCommand } from './watch.js';
import { infoCommand, listCommand, pingCommand, winkCommand } from './device-basics.js';

export const COMMANDS: readonly CommandDef[] = [listCommand, infoCommand, pingCommand, winkCommand, registerCommand, loginCommand, pinCommand, credsCommand, blobCommand, configCommand, bioCommand, resetCommand, watchCommand, doctorCommand, benchCommand, virtualCommand, decodeCommand];
