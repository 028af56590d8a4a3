/** `ctap blob get|set`: largeBlobs (the per-credential blobs encrypted with largeBlobKey). */
import { readFile, writeFile } from 'node:fs/promises';
import { CredentialManagement } from '../../ctap2/credential-management.js';
import { LargeBlobs } from '../../ctap2/large-blobs.js';
import { toHex } from '../../util/bytes.js';
import { base64urlDecode, base64urlEncode } from '../../webauthn/base64url.js';
import { str } from '../args.js';
import { noMoreOperands, type CommandDef, type Context } from '../context.js';
import { CliError, EXIT, UsageError } from '../errors.js';
import { pinToken } from '../token.js';
import { enumerate, find, notFound, wipe } from './creds.js';

function credentialOption(ctx: Context): Uint8Array | undefined {
  const id = str(ctx.args.values, 'credential');
  if (id === undefined) return undefined;
  try {
    return base64urlDecode(id, 'credential ID');
  } catch {
    throw new UsageError('--credential takes a credential ID in base64url, as `ctap creds list` prints it');
  }
}

/**
 * The credential's largeBlobKey, found through credential management (token
 * with cm [+ lbw]): a copy the caller zeroes; the keys of every enumerated
 * credential (the match included) are zeroed before this returns or throws.
 */
async function largeBlobKeyOf(ctx: Context, id: Uint8Array, write: boolean): Promise<{ key: Uint8Array; blobs: LargeBlobs; rpId: string }> {
  const d = await ctx.device();
  const opts = ctx.callOptions();
  const token = await pinToken(ctx, d, write ? ['cm', 'lbw'] : ['cm']);
  const cm = await CredentialManagement.open(d.session, token, opts);
  const { listed } = await enumerate(ctx, cm);
  let key: Uint8Array | undefined;
  try {
    const hit = find(listed, id);
    if (!hit) throw notFound();
    if (!hit.cred.largeBlobKey) {
      throw new CliError(
        'This credential has no largeBlobKey: it was registered without the largeBlob extension (register with --ext \'{"largeBlob":{"support":"required"}}\').',
        EXIT.REFUSED,
        'CTAP2_ERR_INVALID_OPTION',
      );
    }
    key = hit.cred.largeBlobKey.slice();
    const blobs = await LargeBlobs.open(d.session, write ? token : undefined, opts);
    return { key, blobs, rpId: hit.rp.rp.id };
  } catch (e) {
    key?.fill(0);
    throw e;
  } finally {
    wipe(listed);
  }
}

export const blobCommand: CommandDef = {
  name: 'blob',
  summary: 'large blobs: list the array, read or write one credential\'s blob',
  usage: `blob get [--json]
blob get --credential ID [--out FILE] [--json]
blob set --credential ID [--in FILE]`,
  details: `Without --credential, "blob get" shows the key's large-blob array (needs no PIN).
With --credential (base64url, from \`ctap creds list\`), the PIN is needed to find the
credential's largeBlobKey; "get" writes the decrypted blob to FILE or stdout (base64url
in --json), "set" reads it from FILE or standard input (with --pin-stdin, use --in FILE).`,
  options: { credential: { type: 'string' }, out: { type: 'string' }, in: { type: 'string' } },
  async run(ctx) {
    const sub = ctx.operands[0];
    noMoreOperands(ctx, 1);
    const opts = ctx.callOptions();
    const id = credentialOption(ctx);
    if (sub === 'get') {
      if (!id) {
        const d = await ctx.device();
        const blobs = await LargeBlobs.open(d.session, undefined, opts);
        const serialized = await blobs.readSerialized(opts);
        const arr = await blobs.readArray(opts);
        const entries = arr.items.map((it, index) => ({
          index,
          size: it.raw.length,
          ...(it.entry ? { origSize: it.entry.origSize, ciphertextLength: it.entry.ciphertext.length, nonce: toHex(it.entry.nonce) } : { entry: 'not a large-blob map' }),
        }));
        ctx.out.result({ serializedLength: serialized.length, maxSerializedLargeBlobArray: blobs.maxSerializedLargeBlobArray, valid: arr.valid, entries }, () => {
          ctx.out.line(`large-blob array: ${serialized.length} of ${blobs.maxSerializedLargeBlobArray} bytes, ${entries.length} entr${entries.length === 1 ? 'y' : 'ies'}${arr.valid ? '' : ' (INVALID: hash mismatch — the key treats it as empty)'}`);
          for (const e of entries) ctx.out.line(`  #${e.index}: ${e.size} bytes${'origSize' in e ? `, ${e.origSize} bytes of data` : ''}`);
        });
        return undefined;
      }
      const { key, blobs, rpId } = await largeBlobKeyOf(ctx, id, false);
      let data: Uint8Array | undefined;
      try {
        data = await blobs.getBlob(key, opts);
      } finally {
        key.fill(0);
      }
      if (!data) throw new CliError(`No large blob is stored for this credential (${rpId}).`, EXIT.REFUSED, 'CTAP2_ERR_NO_CREDENTIALS');
      const out = str(ctx.args.values, 'out');
      if (out) await writeFile(out, data, { mode: 0o600 });
      if (ctx.out.json) ctx.out.printJson({ credentialId: base64urlEncode(id), rpId, size: data.length, ...(out ? { file: out } : { data: base64urlEncode(data) }) });
      else if (out) ctx.out.line(`${data.length} bytes written to ${out}`);
      else ctx.out.streams.stdout.write(data);
      return undefined;
    }
    if (sub === 'set') {
      if (!id) throw new UsageError('blob set needs --credential ID');
      const file = str(ctx.args.values, 'in');
      let data: Uint8Array;
      if (file) data = new Uint8Array(await readFile(file));
      else {
        if (ctx.args.globals.pinStdin) throw new UsageError('with --pin-stdin, give the blob with --in FILE (standard input carries the PIN)');
        if (process.stdin.isTTY) throw new UsageError('give the blob with --in FILE or pipe it on standard input');
        const chunks: Buffer[] = [];
        for await (const c of process.stdin) chunks.push(c as Buffer);
        data = new Uint8Array(Buffer.concat(chunks));
      }
      const { key, blobs, rpId } = await largeBlobKeyOf(ctx, id, true);
      try {
        await blobs.setBlob(key, data, opts);
      } finally {
        key.fill(0);
      }
      ctx.out.result({ credentialId: base64urlEncode(id), rpId, size: data.length }, () => ctx.out.line(`Stored ${data.length} bytes for the credential at ${rpId}.`));
      return undefined;
    }
    throw new UsageError('blob takes one of: get, set');
  },
};
