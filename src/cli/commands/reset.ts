/** `ctap reset [--yes]`: authenticatorReset. */
import { reset } from '../../ctap2/reset.js';
import { noMoreOperands, type CommandDef } from '../context.js';

export const resetCommand: CommandDef = {
  name: 'reset',
  summary: 'erase every credential and the PIN (factory reset; asks first)',
  usage: 'reset [--yes]',
  details: `Most keys accept a reset only within 10 seconds of being plugged in, and need a touch.
If the key refuses (CTAP2_ERR_NOT_ALLOWED), unplug it, plug it back in and run
\`ctap reset\` again at once. On a terminal you are asked to confirm; otherwise --yes is needed.`,
  async run(ctx) {
    noMoreOperands(ctx, 0);
    const d = await ctx.device();
    if (!(await ctx.confirm('Reset the key, erasing every credential and the PIN? This cannot be undone'))) {
      ctx.out.line('Nothing was reset.');
      return 1;
    }
    ctx.out.status('Touch your key to confirm the reset.');
    await reset(d.session, { ...ctx.callOptions(), onKeepalive: (s) => s === 'up-needed' && ctx.out.status('Waiting for a touch…') });
    ctx.out.result({ ok: true }, () => ctx.out.line('The key was reset: no credentials, no PIN.'));
    return undefined;
  },
};
