import { CtapError } from '../ctap2/status.js';
import type { CommandHandler } from './core.js';
export const authenticatorConfig: CommandHandler = async () => { throw new CtapError(0x01); };
