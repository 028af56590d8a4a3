/** Every `ctap` command, in the order `ctap --help` lists them. */
import type { CommandDef } from '../context.js';
import { decodeCommand } from './decode.js';
import { infoCommand, listCommand, pingCommand, winkCommand } from './device-basics.js';

export const COMMANDS: readonly CommandDef[] = [listCommand, infoCommand, pingCommand, winkCommand, decodeCommand];
