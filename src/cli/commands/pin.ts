/** `ctap pin status|set|change`. */
import { ClientPin } from '../../ctap2/client-pin.js';
import { getOption } from '../../ctap2/get-info.js';
import { bytesEqual } from '../../util/bytes.js';
import { noMoreOperands, type CommandDef, type Context } from '../context.js';
import { CliError, EXIT, UsageError } from '../errors.js';

/** A new PIN, asked twice on a terminal. */
async function newPin(ctx: Context, envNames?: readonly string[]): Promise<Uint8Array> {
  const pin = await ctx.secrets.pin('new', 'New PIN: ', envNames ? { envNames } : {});
  if (ctx.out.interactive && !ctx.args.globals.pinStdin && process.stdin.isTTY) {
    let again: Uint8Array;
    try {
      again = await ctx.secrets.pin('new', 'Repeat the new PIN: ');
    } catch (e) {
      pin.fill(0); // Ctrl-C at the second prompt
      throw e;
    }
    const same = bytesEqual(pin, again);
    again.fill(0);
    if (!same) {
      pin.fill(0);
      throw new CliError('The two PINs differ; nothing was changed. Run the command again.', EXIT.PIN);
    }
  }
  return pin;
}

async function status(ctx: Context): Promise<void> {
  const d = await ctx.device();
  const opts = ctx.callOptions();
  const cp = new ClientPin(d.session);
  await cp.info(opts); // checks clientPIN support
  const info = await d.session.getInfo(opts);
  const pinSet = getOption(info, 'clientPin') === true;
  const retries = pinSet ? await cp.getPinRetries(opts) : undefined;
  const uv = getOption(info, 'uv');
  const uvRetries = uv === true ? await cp.getUvRetries(opts).catch(() => undefined) : undefined;
  const result = {
    pinSet,
    pinRetries: retries?.pinRetries ?? null,
    powerCycleRequired: retries?.powerCycleState ?? null,
    uvRetries: uvRetries ?? null,
    minPINLength: info.minPINLength ?? 4,
    forcePINChange: info.forcePINChange ?? false,
    pinUvAuthProtocols: info.pinUvAuthProtocols,
  };
  ctx.out.result(result, () => {
    ctx.out.fields([
      ['PIN', pinSet ? 'set' : 'not set (set one with `ctap pin set`)'],
      ['tries left', retries ? `${retries.pinRetries}${retries.pinRetries === 0 ? ' (blocked: only `ctap reset` helps)' : ''}` : undefined],
      ['power cycle needed', retries?.powerCycleState ? 'yes: unplug the key and plug it back in before the next PIN attempt' : undefined],
      ['built-in UV tries left', uvRetries],
      ['minimum length', result.minPINLength],
      ['must be changed', result.forcePINChange ? 'yes (`ctap pin change`)' : undefined],
      ['PIN/UV auth protocols', info.pinUvAuthProtocols.join(', ')],
    ]);
  });
}

export const pinCommand: CommandDef = {
  name: 'pin',
  summary: 'PIN status (tries left), set a PIN, change it',
  usage: `pin status [--json]
pin set [--pin-stdin]
pin change [--pin-stdin]`,
  details: `PINs are read with no echo at a terminal, or from standard input with --pin-stdin
(for change: the current PIN on the first line, the new one on the second), or from
CTAP_PIN (current) and CTAP_NEW_PIN (new; "pin set" also takes CTAP_PIN). They are never accepted as arguments.`,
  async run(ctx) {
    const sub = ctx.operands[0];
    noMoreOperands(ctx, 1);
    const opts = ctx.callOptions();
    switch (sub) {
      case 'status':
        return status(ctx);
      case 'set': {
        const d = await ctx.device();
        const cp = new ClientPin(d.session);
        await cp.info(opts); // checks clientPIN support
        const info = await d.session.getInfo(opts);
        if (getOption(info, 'clientPin') === true) throw new CliError('A PIN is already set on this key: use `ctap pin change`.', EXIT.PIN, 'CTAP2_ERR_NOT_ALLOWED');
        // no current PIN exists, so CTAP_PIN is accepted as the new one too
        const pin = await newPin(ctx, ['CTAP_NEW_PIN', 'CTAP_PIN']);
        try {
          await cp.setPin(pin, opts);
        } finally {
          pin.fill(0);
        }
        ctx.out.result({ ok: true }, () => ctx.out.line('PIN set.'));
        return undefined;
      }
      case 'change': {
        const d = await ctx.device();
        const cp = new ClientPin(d.session);
        await cp.info(opts);
        const current = await ctx.secrets.pin('current', 'Current PIN: ');
        let next: Uint8Array | undefined;
        try {
          next = await newPin(ctx);
          await cp.changePin(current, next, opts);
        } finally {
          current.fill(0);
          next?.fill(0);
        }
        ctx.out.result({ ok: true }, () => ctx.out.line('PIN changed.'));
        return undefined;
      }
      default:
        throw new UsageError('pin takes one of: status, set, change');
    }
  },
};
