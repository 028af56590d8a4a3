export * from './constants.js';
export { CtapHidError, type CtapHidErrorCode } from './errors.js';
export { encodeMessage, maxMessageSize, parseHeader, readCid, Reassembler, type CtapHidMessage, type PacketHeader } from './framing.js';
export {
  commandName,
  decodeReportStream,
  errorFromPayload,
  keepaliveStatus,
  parseInitResponse,
  type DecodedStream,
  type InitResponse,
} from './decode.js';
export { CtapHidChannel, DEFAULT_OPEN_TIMEOUT_MS, type CtapHidChannelOptions } from './channel.js';
export type { CtapHidInitInfo, CtapTransport, KeepaliveStatus, TransactOptions } from './transport.js';
