/** CTAPHID constants as CTAP 2.2 §11.2 names them. */

export const HID_REPORT_SIZE = 64;
export const INIT_HEADER_SIZE = 7; // CID(4) CMD(1) BCNTH(1) BCNTL(1)
export const CONT_HEADER_SIZE = 5; // CID(4) SEQ(1)
/** 64 - 7 + 128 * (64 - 5) */
export const MAX_MESSAGE_SIZE = 7609;
export const BROADCAST_CID = 0xffffffff;
export const TYPE_INIT = 0x80;

export const CTAPHID = {
  PING: 0x01,
  MSG: 0x03,
  LOCK: 0x04,
  INIT: 0x06,
  WINK: 0x08,
  CBOR: 0x10,
  CANCEL: 0x11,
  KEEPALIVE: 0x3b,
  ERROR: 0x3f,
} as const;

export const CTAPHID_COMMAND_NAMES: Readonly<Record<number, string>> = {
  0x01: 'PING',
  0x03: 'MSG',
  0x04: 'LOCK',
  0x06: 'INIT',
  0x08: 'WINK',
  0x10: 'CBOR',
  0x11: 'CANCEL',
  0x3b: 'KEEPALIVE',
  0x3f: 'ERROR',
};

/** CTAPHID_ERROR codes. */
export const CTAPHID_ERR = {
  INVALID_CMD: 0x01,
  INVALID_PAR: 0x02,
  INVALID_LEN: 0x03,
  INVALID_SEQ: 0x04,
  MSG_TIMEOUT: 0x05,
  CHANNEL_BUSY: 0x06,
  LOCK_REQUIRED: 0x0a,
  INVALID_CHANNEL: 0x0b,
  OTHER: 0x7f,
} as const;

export const CTAPHID_ERROR_NAMES: Readonly<Record<number, string>> = {
  0x01: 'ERR_INVALID_CMD',
  0x02: 'ERR_INVALID_PAR',
  0x03: 'ERR_INVALID_LEN',
  0x04: 'ERR_INVALID_SEQ',
  0x05: 'ERR_MSG_TIMEOUT',
  0x06: 'ERR_CHANNEL_BUSY',
  0x0a: 'ERR_LOCK_REQUIRED',
  0x0b: 'ERR_INVALID_CHANNEL',
  0x7f: 'ERR_OTHER',
};

/** KEEPALIVE status bytes. */
export const KEEPALIVE_STATUS = {
  PROCESSING: 0x01,
  UPNEEDED: 0x02,
} as const;

export const KEEPALIVE_STATUS_NAMES: Readonly<Record<number, string>> = {
  0x01: 'PROCESSING',
  0x02: 'UPNEEDED',
};

/** INIT response capability flags (LOCK is the U2F HID spec's CAPFLAG_LOCK; CTAP 2.x leaves 0x02 undefined). */
export const CAPABILITY = {
  WINK: 0x01,
  LOCK: 0x02,
  CBOR: 0x04,
  NMSG: 0x08,
} as const;

/** Nonce length of CTAPHID_INIT and the minimum length of its response. */
export const INIT_NONCE_SIZE = 8;
export const INIT_RESPONSE_SIZE = 17;

/**
 * The CTAP2 status a device answers a cancelled CTAPHID_CBOR request with.
 * (Duplicated from ctap2/status.ts on purpose: ctaphid/ sits below ctap2/.)
 */
export const CTAP2_ERR_KEEPALIVE_CANCEL = 0x2d;
