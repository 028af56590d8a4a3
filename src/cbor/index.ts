export { encodeCbor, decodeCbor, decodeCborPrefix, type CborKey, type CborValue, type Decoded, type DecodeOptions } from './codec.js';
export { CborError, type CborErrorCode } from './errors.js';
export { CborMapReader, asArray, asBool, asBytes, asInt, asMap, asText, asUint } from './read.js';
export { scanItem, compareCanonical, DEFAULT_SCAN_LIMITS, type ScanLimits, type ScanResult } from './scan.js';
