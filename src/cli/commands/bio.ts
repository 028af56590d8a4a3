/** `ctap bio list|enroll|rename|remove`: fingerprint enrollments (bioEnrollment). */
import { FingerprintEnrollment, getFingerprintSensorInfo } from '../../ctap2/bio-enrollment.js';
import { base64urlDecodeOrNull, base64urlEncode } from '../../webauthn/base64url.js';
import { str } from '../args.js';
import { noMoreOperands, operand, type CommandDef, type Context } from '../context.js';
import { UsageError } from '../errors.js';
import { pinToken } from '../token.js';

async function enrollment(ctx: Context): Promise<FingerprintEnrollment> {
  const d = await ctx.device();
  // checks support before asking for a PIN
  await getFingerprintSensorInfo(d.session, ctx.callOptions());
  const token = await pinToken(ctx, d, ['be']);
  return FingerprintEnrollment.open(d.session, token, ctx.callOptions());
}

function templateArg(ctx: Context): Uint8Array {
  const raw = operand(ctx, 1, 'template ID (base64url, as `ctap bio list` prints it)');
  const id = base64urlDecodeOrNull(raw);
  if (!id || id.length === 0) throw new UsageError('the template ID is not base64url: copy it from `ctap bio list`');
  return id;
}

export const bioCommand: CommandDef = {
  name: 'bio',
  summary: 'fingerprints on a biometric key: list, enroll, rename, remove',
  usage: `bio list [--json]
bio enroll [--name NAME]
bio rename ID NAME
bio remove ID [--yes]`,
  details: 'Needs the PIN. ID is the template ID in base64url, as `ctap bio list` prints it (one that starts\nwith "-" works as is, or after "--").',
  options: { name: { type: 'string' } },
  // rename ID NAME, remove ID: an ID (or a name) may start with `-`
  maxOperands: (ops) => (ops[0] === 'rename' ? 3 : ops[0] === 'remove' ? 2 : 1),
  async run(ctx) {
    const sub = ctx.operands[0];
    const opts = ctx.callOptions();
    switch (sub) {
      case 'list': {
        noMoreOperands(ctx, 1);
        const fe = await enrollment(ctx);
        const list = await fe.enumerateEnrollments(opts);
        const json = list.map((t) => ({ templateId: base64urlEncode(t.templateId), ...(t.templateFriendlyName !== undefined ? { name: t.templateFriendlyName } : {}) }));
        ctx.out.result(json, () => {
          if (list.length === 0) ctx.out.line('No fingerprints enrolled.');
          else ctx.out.table(['TEMPLATE ID', 'NAME'], json.map((t) => [t.templateId, t.name ?? '-']));
        });
        return undefined;
      }
      case 'enroll': {
        noMoreOperands(ctx, 1);
        const fe = await enrollment(ctx);
        ctx.out.status('Touch the sensor with your finger, lift it, repeat until done.');
        const id = await fe.enroll({
          ...opts,
          onProgress: (p) => ctx.out.status(`  ${p.feedback.replace(/^CTAP2_ENROLL_FEEDBACK_/, '').toLowerCase().replace(/_/g, ' ')}: ${p.remainingSamples} more sample(s)`),
        });
        const name = str(ctx.args.values, 'name');
        if (name) await fe.setFriendlyName(id, name, opts);
        ctx.out.result({ templateId: base64urlEncode(id), ...(name ? { name } : {}) }, () => ctx.out.line(`Enrolled ${name ? `"${name}" ` : ''}(template ${base64urlEncode(id)}).`));
        return undefined;
      }
      case 'rename': {
        noMoreOperands(ctx, 3);
        const id = templateArg(ctx);
        const name = operand(ctx, 2, 'the new NAME');
        const fe = await enrollment(ctx);
        await fe.setFriendlyName(id, name, opts);
        ctx.out.result({ templateId: base64urlEncode(id), name }, () => ctx.out.line(`Renamed to "${name}".`));
        return undefined;
      }
      case 'remove': {
        noMoreOperands(ctx, 2);
        const id = templateArg(ctx);
        const fe = await enrollment(ctx);
        if (!(await ctx.confirm('Remove this fingerprint?'))) {
          ctx.out.line('Nothing removed.');
          return 1;
        }
        await fe.removeEnrollment(id, opts);
        ctx.out.result({ removed: base64urlEncode(id) }, () => ctx.out.line('Fingerprint removed.'));
        return undefined;
      }
      default:
        throw new UsageError('bio takes one of: list, enroll, rename ID NAME, remove ID');
    }
  },
};
