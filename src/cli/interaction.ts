/**
 * The CLI's answers to the library's interaction events: prompts and notices
 * on stderr (only on a terminal), PINs from the SecretSource, account choice
 * from --account or a terminal question. Nothing is retried automatically:
 * after a wrong PIN, a terminal user is asked again; a script is not.
 */
import type { AccountChoice, Interaction } from '../webauthn/interaction.js';
import { base64urlEncode } from '../webauthn/base64url.js';
import type { Context } from './context.js';
import { CliError, EXIT } from './errors.js';

const label = (a: AccountChoice): string =>
  [a.name, a.displayName && a.displayName !== a.name ? `(${a.displayName})` : undefined].filter(Boolean).join(' ') || base64urlEncode(a.id);

async function askLine(question: string): Promise<string> {
  const { createInterface } = await import('node:readline/promises');
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return await rl.question(question);
  } finally {
    rl.close();
  }
}

export function cliInteraction(ctx: Context, opts: { account?: string | undefined } = {}): Interaction {
  const out = ctx.out;
  const tty = out.interactive && process.stdin.isTTY === true;
  let pinAsked = false;
  return {
    'pin-required': async (e) => {
      pinAsked = true;
      const left = e.retriesLeft !== undefined ? ` (${e.retriesLeft} tries left)` : '';
      return ctx.secrets.pin('current', `PIN for your security key${left}: `);
    },
    'pin-invalid': async (e) => {
      const left = e.retriesLeft !== undefined ? `${e.retriesLeft} ${e.retriesLeft === 1 ? 'try' : 'tries'} left` : 'tries left unknown';
      if (!tty || ctx.args.globals.pinStdin || !pinAsked) return null; // a script's PIN is not retried
      out.status(`Wrong PIN (${left}).`);
      return ctx.secrets.pin('current', 'PIN: ');
    },
    'pin-auth-blocked': () => out.status('Too many wrong PINs: remove the key and plug it back in.'),
    'pin-blocked': () => out.status('The PIN is blocked: only `ctap reset` makes the key usable again.'),
    'touch-required': () => out.status('Touch your security key.'),
    'uv-retry': async (e) => {
      if (!tty) return false;
      const answer = await ctx.userWait(() => askLine(`Verification failed${e.retriesLeft !== undefined ? ` (${e.retriesLeft} left)` : ''}. Try again? [y/N] `));
      return /^y(es)?$/i.test(answer.trim());
    },
    'select-account': async (e) => {
      const want = opts.account;
      if (want !== undefined) {
        const i = e.accounts.findIndex((a) => a.name === want || a.displayName === want || base64urlEncode(a.id) === want);
        if (i < 0) throw new CliError(`no account "${want}" among: ${e.accounts.map(label).join(', ')}`, EXIT.FAILURE);
        return i;
      }
      if (!tty) {
        throw new CliError(`the key holds ${e.accounts.length} accounts for this site (${e.accounts.map(label).join(', ')}): choose one with --account NAME`, EXIT.USAGE);
      }
      e.accounts.forEach((a, i) => process.stderr.write(`  ${i + 1}. ${label(a)}\n`));
      const answer = await ctx.userWait(() => askLine(`Which account? [1-${e.accounts.length}] `));
      const n = Number(answer.trim());
      if (!Number.isInteger(n) || n < 1 || n > e.accounts.length) return null;
      return n - 1;
    },
    'select-device': (e) => out.status(`${e.devices.length} keys found: touch the one to use.`),
    removed: () => out.status('The key was removed.'),
  };
}
