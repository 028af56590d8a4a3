import { CtapError } from '../ctap2/status.js';
import type { CommandHandler } from './core.js';
export const makeCredential: CommandHandler = async () => { throw new CtapError(0x01); };
