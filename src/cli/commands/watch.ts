/** `ctap watch`: hot-plug events as they happen, until Ctrl-C (or --for MS). */
import { intOption } from '../args.js';
import { noMoreOperands, type CommandDef } from '../context.js';
import { deviceJson } from './device-basics.js';

export const watchCommand: CommandDef = {
  name: 'watch',
  summary: 'print keys as they are plugged in and removed (Ctrl-C stops)',
  usage: 'watch [--for MS] [--interval MS] [--json]',
  details: 'With --json, one JSON object per line: {"type":"added"|"removed","device":{...},"time":"ISO-8601"}.\nKeys already present are reported as added first.',
  options: { for: { type: 'string' }, interval: { type: 'string' } },
  async run(ctx) {
    noMoreOperands(ctx, 0);
    const forMs = intOption(ctx.args.values, 'for', 1, 86_400_000);
    const intervalMs = intOption(ctx.args.values, 'interval', 50, 60_000);
    const { watchDevices } = await import('../../device/list.js');
    const stop = new AbortController();
    const onAbort = (): void => stop.abort();
    ctx.signal.addEventListener('abort', onAbort, { once: true });
    const timer = forMs !== undefined ? setTimeout(() => stop.abort(), forMs) : undefined;
    ctx.out.status('Watching for security keys (Ctrl-C stops)…');
    try {
      await watchDevices(
        (ev) => {
          const time = new Date().toISOString();
          if (ctx.out.json) ctx.out.streams.stdout.write(`${JSON.stringify({ type: ev.type, device: deviceJson(ev.device), time })}\n`);
          else {
            const d = ev.device;
            const name = [d.manufacturer, d.product].filter(Boolean).join(' ') || 'unknown key';
            ctx.out.line(`${time.slice(11, 19)}  ${ev.type === 'added' ? '+ added  ' : '- removed'}  ${d.path}  ${name}`);
          }
        },
        { signal: stop.signal, intervalMs },
      );
    } finally {
      if (timer) clearTimeout(timer);
      ctx.signal.removeEventListener('abort', onAbort);
    }
    return undefined;
  },
};
