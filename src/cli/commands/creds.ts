/** `ctap creds list|delete ID|update ID`: discoverable credentials (credentialManagement). */
import { CredentialManagement, type CredentialInfo, type CredentialsMetadata, type RpInfo } from '../../ctap2/credential-management.js';
import { toHex } from '../../util/bytes.js';
import { base64urlDecode, base64urlEncode } from '../../webauthn/base64url.js';
import { str } from '../args.js';
import { noMoreOperands, operand, type CommandDef, type Context } from '../context.js';
import { CliError, EXIT, UsageError } from '../errors.js';
import { pinToken } from '../token.js';

const CRED_PROTECT_NAMES: Readonly<Record<number, string>> = {
  1: 'userVerificationOptional',
  2: 'userVerificationOptionalWithCredentialIDList',
  3: 'userVerificationRequired',
};

export interface Listed {
  rp: RpInfo;
  credentials: CredentialInfo[];
}

export interface Enumerated {
  meta: CredentialsMetadata;
  listed: Listed[];
}

async function manager(ctx: Context): Promise<CredentialManagement> {
  const d = await ctx.device();
  const token = await pinToken(ctx, d, ['cm']);
  return CredentialManagement.open(d.session, token, ctx.callOptions());
}

/**
 * Every discoverable credential. getCredsMetadata comes first: its
 * existing + remaining is the key's capacity, which CredentialManagement
 * uses to bound the walk. The credentials carry their largeBlobKeys: the
 * caller must `wipe()` the result when done (on error too); a walk that
 * fails half-way wipes what it had read.
 */
export async function enumerate(ctx: Context, cm: CredentialManagement): Promise<Enumerated> {
  const opts = ctx.callOptions();
  const meta = await cm.getCredsMetadata(opts);
  const listed: Listed[] = [];
  try {
    const rps = await cm.enumerateRps(opts);
    for (const rp of rps) listed.push({ rp, credentials: await cm.enumerateCredentials(rp.rpIDHash, opts) });
  } catch (e) {
    wipe(listed);
    throw e;
  }
  return { meta, listed };
}

/** Zero every largeBlobKey the enumeration read (the CLI never shows them). */
export function wipe(listed: readonly Listed[]): void {
  for (const l of listed) for (const c of l.credentials) c.largeBlobKey?.fill(0);
}

/** Run `fn` on the enumerated credentials, wiping their largeBlobKeys afterwards. */
async function withListed<T>(ctx: Context, cm: CredentialManagement, fn: (e: Enumerated) => Promise<T> | T): Promise<T> {
  const e = await enumerate(ctx, cm);
  try {
    return await fn(e);
  } finally {
    wipe(e.listed);
  }
}

export function credentialIdArg(ctx: Context, index = 1): Uint8Array {
  const id = operand(ctx, index, 'credential ID (base64url, as `ctap creds list` prints it)');
  try {
    return base64urlDecode(id, 'credential ID');
  } catch {
    throw new UsageError('the credential ID is not base64url: copy it from `ctap creds list`');
  }
}

export function find(listed: Listed[], id: Uint8Array): { rp: RpInfo; cred: CredentialInfo } | undefined {
  const want = toHex(id);
  for (const l of listed) for (const c of l.credentials) if (toHex(c.credentialID.id) === want) return { rp: l.rp, cred: c };
  return undefined;
}

/** A CliError (not a CtapError, whose generic rendering would replace the message), exit 4. */
export function notFound(): CliError {
  return new CliError('No discoverable credential with that ID is on the key (see `ctap creds list`).', EXIT.REFUSED, 'CTAP2_ERR_NO_CREDENTIALS');
}

const userLabel = (c: CredentialInfo): string => c.user.name ?? c.user.displayName ?? base64urlEncode(c.user.id);

export const credsCommand: CommandDef = {
  name: 'creds',
  summary: 'discoverable credentials on the key: list, delete, update the user name',
  usage: `creds list [--json]
creds delete ID [--yes]
creds update ID [--name NAME] [--display-name NAME]`,
  details: 'ID is the credential ID in base64url, as `ctap creds list` prints it; one that\nstarts with "-" works as is (or after "--"). Needs the PIN.',
  options: { name: { type: 'string' }, 'display-name': { type: 'string' } },
  // delete|update ID: an ID may start with `-`
  maxOperands: (ops) => (ops[0] === 'delete' || ops[0] === 'update' ? 2 : 1),
  async run(ctx) {
    const sub = ctx.operands[0];
    const opts = ctx.callOptions();
    switch (sub) {
      case 'list': {
        noMoreOperands(ctx, 1);
        const cm = await manager(ctx);
        const { meta, listed } = await enumerate(ctx, cm);
        wipe(listed); // only whether a key exists is shown
        const json = {
          existingResidentCredentialsCount: meta.existingResidentCredentialsCount,
          maxPossibleRemainingResidentCredentialsCount: meta.maxPossibleRemainingResidentCredentialsCount,
          rps: listed.map((l) => ({
            rp: { id: l.rp.rp.id, ...(l.rp.rp.name !== undefined ? { name: l.rp.rp.name } : {}) },
            rpIDHash: toHex(l.rp.rpIDHash),
            credentials: l.credentials.map((c) => ({
              credentialId: base64urlEncode(c.credentialID.id),
              user: {
                id: base64urlEncode(c.user.id),
                ...(c.user.name !== undefined ? { name: c.user.name } : {}),
                ...(c.user.displayName !== undefined ? { displayName: c.user.displayName } : {}),
              },
              ...(c.credProtect !== undefined ? { credProtect: c.credProtect } : {}),
              largeBlobKey: c.largeBlobKey !== undefined,
            })),
          })),
        };
        ctx.out.result(json, () => {
          const total = meta.existingResidentCredentialsCount;
          ctx.out.line(`${total} discoverable credential${total === 1 ? '' : 's'}, room for ${meta.maxPossibleRemainingResidentCredentialsCount} more`);
          if (total === 0) return;
          ctx.out.line();
          ctx.out.table(
            ['RP ID', 'USER', 'DISPLAY NAME', 'PROTECTION', 'CREDENTIAL ID'],
            listed.flatMap((l) =>
              l.credentials.map((c) => [
                l.rp.rp.id,
                c.user.name ?? '-',
                c.user.displayName ?? '-',
                c.credProtect !== undefined ? (CRED_PROTECT_NAMES[c.credProtect] ?? String(c.credProtect)) : '-',
                base64urlEncode(c.credentialID.id),
              ]),
            ),
          );
        });
        return undefined;
      }
      case 'delete': {
        noMoreOperands(ctx, 2);
        const id = credentialIdArg(ctx);
        const cm = await manager(ctx);
        const hit = await withListed(ctx, cm, (e) => find(e.listed, id));
        if (!hit) throw notFound();
        if (!(await ctx.confirm(`Delete the credential of ${userLabel(hit.cred)} for ${hit.rp.rp.id}? This cannot be undone`))) {
          ctx.out.line('Nothing deleted.');
          return 1;
        }
        await cm.deleteCredential(hit.cred.credentialID, opts);
        ctx.out.result({ deleted: base64urlEncode(id), rpId: hit.rp.rp.id }, () => ctx.out.line(`Deleted the credential of ${userLabel(hit.cred)} for ${hit.rp.rp.id}.`));
        return undefined;
      }
      case 'update': {
        noMoreOperands(ctx, 2);
        const id = credentialIdArg(ctx);
        const name = str(ctx.args.values, 'name');
        const displayName = str(ctx.args.values, 'display-name');
        if (name === undefined && displayName === undefined) throw new UsageError('creds update needs --name and/or --display-name');
        const cm = await manager(ctx);
        const hit = await withListed(ctx, cm, (e) => find(e.listed, id));
        if (!hit) throw notFound();
        const user = { id: hit.cred.user.id, name: name ?? hit.cred.user.name, displayName: displayName ?? hit.cred.user.displayName };
        await cm.updateUserInformation(hit.cred.credentialID, user, opts);
        ctx.out.result({ updated: base64urlEncode(id), user: { id: base64urlEncode(user.id), name: user.name ?? null, displayName: user.displayName ?? null } }, () =>
          ctx.out.line(`Updated: ${user.name ?? '-'} (${user.displayName ?? '-'}) for ${hit.rp.rp.id}.`),
        );
        return undefined;
      }
      default:
        throw new UsageError('creds takes one of: list, delete ID, update ID');
    }
  },
};
