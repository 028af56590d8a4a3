/** authenticatorLargeBlobs (CTAP 2.2 §6.10) for the virtual key: fragmented get/set of the serialized array with its integrity check. */
import { CTAP2_CMD } from '../ctap2/commands.js';
import { CTAP2_STATUS } from '../ctap2/status.js';
import type { CborValue } from '../cbor/index.js';
import { sha256 } from '../crypto/hashes.js';
import { concatBytes, timingSafeEqual } from '../util/bytes.js';
import type { CommandHandler } from './core.js';
import { LARGE_BLOBS_PARAM, LARGE_BLOBS_RESPONSE } from '../ctap2/large-blobs.js';
import { PERMISSION } from '../ctap2/permissions.js';
import { fail, requireParams } from './common.js';

/** An in-progress set: fragments are appended until `expectedLength` is reached. */
interface PendingBlobWrite {
  expectedLength: number;
  buffer: Uint8Array;
  filled: number;
}

/** Keyed by the power-cycle state: a re-plug forgets a half-written array. */
const writes = new WeakMap<object, PendingBlobWrite>();

export const largeBlobs: CommandHandler = async (ctx, params) => {
  const p = requireParams(params);
  const get = p.optionalUint(LARGE_BLOBS_PARAM.get, 'get');
  const set = p.optionalBytes(LARGE_BLOBS_PARAM.set, 'set');
  const offset = p.optionalUint(LARGE_BLOBS_PARAM.offset, 'offset');
  const length = p.optionalUint(LARGE_BLOBS_PARAM.length, 'length');
  const param = p.optionalBytes(LARGE_BLOBS_PARAM.pinUvAuthParam, 'pinUvAuthParam');
  const protocol = p.optionalUint(LARGE_BLOBS_PARAM.pinUvAuthProtocol, 'pinUvAuthProtocol');
  const maxFragmentLength = ctx.options.maxMsgSize - 64;
  if (offset === undefined) fail(CTAP2_STATUS.CTAP2_ERR_MISSING_PARAMETER);
  if ((get === undefined) === (set === undefined)) fail(CTAP2_STATUS.CTAP1_ERR_INVALID_PARAMETER);

  if (get !== undefined) {
    if (length !== undefined) fail(CTAP2_STATUS.CTAP1_ERR_INVALID_PARAMETER);
    if (get > maxFragmentLength) fail(CTAP2_STATUS.CTAP1_ERR_INVALID_LENGTH);
    const array = ctx.state.largeBlobArray;
    if (offset > array.length) fail(CTAP2_STATUS.CTAP1_ERR_INVALID_PARAMETER);
    return new Map<number, CborValue>([[LARGE_BLOBS_RESPONSE.config, array.slice(offset, Math.min(array.length, offset + get))]]);
  }

  const fragment = set!;
  if (fragment.length > maxFragmentLength) fail(CTAP2_STATUS.CTAP1_ERR_INVALID_LENGTH);
  let pending = writes.get(ctx.volatile);
  if (offset === 0) {
    if (length === undefined) fail(CTAP2_STATUS.CTAP1_ERR_INVALID_PARAMETER);
    if (length > ctx.options.maxSerializedLargeBlobArray) fail(CTAP2_STATUS.CTAP2_ERR_LARGE_BLOB_STORAGE_FULL);
    if (length < 17) fail(CTAP2_STATUS.CTAP1_ERR_INVALID_PARAMETER);
    pending = { expectedLength: length, buffer: new Uint8Array(length), filled: 0 };
  } else {
    if (length !== undefined) fail(CTAP2_STATUS.CTAP1_ERR_INVALID_PARAMETER);
    if (!pending || offset !== pending.filled) fail(CTAP2_STATUS.CTAP1_ERR_INVALID_SEQ);
  }
  // A PIN- or UV-protected key needs a token with the lbw permission (§6.10.2 step 8).
  if (ctx.core.pinSet || ctx.core.uvSupported || ctx.state.alwaysUv) {
    if (param === undefined) fail(CTAP2_STATUS.CTAP2_ERR_PUAT_REQUIRED);
    if (protocol === undefined) fail(CTAP2_STATUS.CTAP2_ERR_MISSING_PARAMETER);
    const off = new Uint8Array(4);
    new DataView(off.buffer).setUint32(0, offset, true);
    const message = concatBytes(new Uint8Array(32).fill(0xff), Uint8Array.of(CTAP2_CMD.largeBlobs, 0x00), off, sha256(fragment));
    ctx.core.verifyToken(param, protocol, message, PERMISSION.lbw, undefined);
  }
  if (offset + fragment.length > pending.expectedLength) fail(CTAP2_STATUS.CTAP1_ERR_INVALID_PARAMETER);
  pending.buffer.set(fragment, offset);
  pending.filled = offset + fragment.length;
  writes.set(ctx.volatile, pending);
  if (pending.filled < pending.expectedLength) return undefined;
  writes.delete(ctx.volatile);
  const body = pending.buffer.subarray(0, pending.expectedLength - 16);
  const check = pending.buffer.subarray(pending.expectedLength - 16);
  if (!timingSafeEqual(sha256(body).slice(0, 16), check)) fail(CTAP2_STATUS.CTAP2_ERR_INTEGRITY_FAILURE);
  ctx.state.largeBlobArray = pending.buffer.slice();
  await ctx.persist();
  return undefined;
};
