import { CtapError } from '../ctap2/status.js';
import type { CommandHandler } from './core.js';
export const reset: CommandHandler = async () => { throw new CtapError(0x01); };
export const selection: CommandHandler = async () => { throw new CtapError(0x01); };
