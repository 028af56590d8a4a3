export * from './apdu.js';
export * from './u2f.js';
export * from './session.js';
