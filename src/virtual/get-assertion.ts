import { CtapError } from '../ctap2/status.js';
import type { CommandHandler } from './core.js';
export const getAssertion: CommandHandler = async () => { throw new CtapError(0x01); };
export const getNextAssertion: CommandHandler = async () => { throw new CtapError(0x01); };
