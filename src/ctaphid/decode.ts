/**
 * Decoding of CTAPHID bytes without I/O: the INIT response, KEEPALIVE and
 * ERROR payloads, and whole report streams (`ctap decode ctaphid HEX`, the
 * vectors). A stream that breaks the protocol is reported as an error, never
 * repaired.
 */
import {
  CAPABILITY,
  CTAPHID_COMMAND_NAMES,
  CTAPHID_ERROR_NAMES,
  HID_REPORT_SIZE,
  INIT_NONCE_SIZE,
  INIT_RESPONSE_SIZE,
  KEEPALIVE_STATUS,
} from './constants.js';
import { CtapHidError } from './errors.js';
import { parseHeader, Reassembler, type CtapHidMessage, type PacketHeader } from './framing.js';
import type { CtapHidInitInfo, KeepaliveStatus } from './transport.js';

export interface InitResponse extends CtapHidInitInfo {
  /** The 8-byte nonce echoed from the request. */
  nonce: Uint8Array;
}

/** Parse a CTAPHID_INIT response payload (CTAP 2.2 §11.2.9.1.3). */
export function parseInitResponse(payload: Uint8Array): InitResponse {
  if (payload.length < INIT_RESPONSE_SIZE) {
    throw new CtapHidError('INIT_FAILED', `the CTAPHID_INIT response has ${payload.length} bytes, expected ${INIT_RESPONSE_SIZE}`);
  }
  const cid = ((payload[8]! << 24) | (payload[9]! << 16) | (payload[10]! << 8) | payload[11]!) >>> 0;
  const caps = payload[16]!;
  return {
    nonce: payload.slice(0, INIT_NONCE_SIZE),
    cid,
    protocolVersion: payload[12]!,
    deviceVersion: { major: payload[13]!, minor: payload[14]!, build: payload[15]! },
    capabilities: {
      wink: (caps & CAPABILITY.WINK) !== 0,
      lock: (caps & CAPABILITY.LOCK) !== 0,
      cbor: (caps & CAPABILITY.CBOR) !== 0,
      nmsg: (caps & CAPABILITY.NMSG) !== 0,
      raw: caps,
    },
  };
}

/** KEEPALIVE payload → status; unknown status bytes are kept as numbers. */
export function keepaliveStatus(payload: Uint8Array): KeepaliveStatus {
  const b = payload[0];
  if (b === KEEPALIVE_STATUS.PROCESSING) return 'processing';
  if (b === KEEPALIVE_STATUS.UPNEEDED) return 'up-needed';
  return b ?? 0;
}

/** CTAPHID_ERROR payload → the CtapHidError it stands for. */
export function errorFromPayload(payload: Uint8Array): CtapHidError {
  const code = payload[0] ?? 0x7f;
  const name = CTAPHID_ERROR_NAMES[code] ?? `ERR_0x${code.toString(16).padStart(2, '0')}`;
  return new CtapHidError('CTAPHID_ERROR', `the device answered CTAPHID_ERROR ${name}`, { hidError: code });
}

export function commandName(cmd: number): string {
  return CTAPHID_COMMAND_NAMES[cmd] ?? `0x${cmd.toString(16).padStart(2, '0')}`;
}

export interface DecodedStream {
  packets: PacketHeader[];
  messages: (CtapHidMessage & { packetCount: number })[];
  /** Set when the stream ends in the middle of a message (the rest never arrived). */
  incomplete: { cid: number; cmd: number; declared: number } | undefined;
}

/**
 * Decode concatenated reports (no report-ID byte) into packet headers and the
 * messages they form. Each message is reassembled on the channel of its
 * initialization packet; a continuation on another channel, a bad SEQ, a
 * declared length beyond 7609 or a short report throws CtapHidError PROTOCOL
 * naming the packet index.
 */
export function decodeReportStream(bytes: Uint8Array, reportSize = HID_REPORT_SIZE): DecodedStream {
  if (bytes.length % reportSize !== 0) {
    throw new CtapHidError('PROTOCOL', `a report stream is a multiple of ${reportSize} bytes; got ${bytes.length}`);
  }
  const packets: PacketHeader[] = [];
  const messages: DecodedStream['messages'] = [];
  let reassembler: Reassembler | null = null;
  let count = 0;
  for (let i = 0; i * reportSize < bytes.length; i++) {
    const report = bytes.subarray(i * reportSize, (i + 1) * reportSize);
    const header = parseHeader(report)!;
    packets.push(header);
    if (!reassembler || !reassembler.inProgress) {
      if (header.type === 'cont') {
        throw new CtapHidError('PROTOCOL', `packet ${i}: continuation (SEQ ${header.seq}) without an initialization packet`);
      }
      reassembler = new Reassembler(header.cid, undefined, reportSize);
      count = 0;
    }
    let message: CtapHidMessage | null;
    try {
      message = reassembler.push(report);
    } catch (e) {
      if (e instanceof CtapHidError) throw new CtapHidError('PROTOCOL', `packet ${i}: ${e.message}`, { cause: e });
      throw e;
    }
    count++;
    if (message) messages.push({ ...message, packetCount: count });
  }
  const incomplete =
    reassembler?.inProgress ? { cid: reassembler.cid, cmd: reassembler.cmd, declared: reassembler.declaredLength } : undefined;
  return { packets, messages, incomplete };
}
