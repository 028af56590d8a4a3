/** `ctap config always-uv|min-pin-length N`: authenticatorConfig. */
import { AuthenticatorConfig } from '../../ctap2/config.js';
import { getOption } from '../../ctap2/get-info.js';
import { flag, strs } from '../args.js';
import { noMoreOperands, operand, type CommandDef } from '../context.js';
import { UsageError } from '../errors.js';
import { pinToken } from '../token.js';

export const configCommand: CommandDef = {
  name: 'config',
  summary: 'key settings: toggle always-UV, raise the minimum PIN length',
  usage: `config always-uv
config min-pin-length N [--rp ID ...] [--force-change]`,
  details: `always-uv toggles the key's alwaysUv setting and prints the new state.
min-pin-length raises the minimum PIN length (keys never lower it); --rp lists RP ids
allowed to read it through the minPinLength extension; --force-change makes the user
change the PIN before its next use. Needs the PIN when one is set.`,
  options: { rp: { type: 'string', multiple: true }, 'force-change': { type: 'boolean' } },
  async run(ctx) {
    const sub = ctx.operands[0];
    const opts = ctx.callOptions();
    const d = await ctx.device();
    const info = await d.session.getInfo(opts);
    const needsToken = getOption(info, 'clientPin') === true || getOption(info, 'uv') === true;
    const open = async (): Promise<AuthenticatorConfig> =>
      new AuthenticatorConfig(d.session, info, needsToken ? await pinToken(ctx, d, ['acfg']) : undefined);
    switch (sub) {
      case 'always-uv': {
        noMoreOperands(ctx, 1);
        const cfg = await open();
        await cfg.toggleAlwaysUv(opts);
        const now = getOption(await d.session.getInfo(opts), 'alwaysUv') === true;
        ctx.out.result({ alwaysUv: now }, () => ctx.out.line(`alwaysUv is now ${now ? 'on' : 'off'}.`));
        return undefined;
      }
      case 'min-pin-length': {
        noMoreOperands(ctx, 2);
        const raw = operand(ctx, 1, 'the new minimum PIN length N');
        const n = Number(raw);
        if (!Number.isInteger(n) || n < 4 || n > 63) throw new UsageError('min-pin-length takes a whole number from 4 to 63');
        const rps = strs(ctx.args.values, 'rp');
        const cfg = await open();
        await cfg.setMinPINLength({ newMinPINLength: n, ...(rps.length ? { minPinLengthRPIDs: rps } : {}), ...(flag(ctx.args.values, 'force-change') ? { forceChangePin: true } : {}) }, opts);
        const after = await d.session.getInfo(opts);
        ctx.out.result({ minPINLength: after.minPINLength ?? n, forcePINChange: after.forcePINChange ?? false }, () =>
          ctx.out.line(`The minimum PIN length is now ${after.minPINLength ?? n}.${after.forcePINChange ? ' The PIN must be changed before its next use.' : ''}`),
        );
        return undefined;
      }
      default:
        throw new UsageError('config takes one of: always-uv, min-pin-length N');
    }
  },
};
