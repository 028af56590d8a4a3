/**
 * `ctap register` / `ctap login`: WebAuthn create()/get() against the key,
 * as a browser would run them for ORIGIN. With --json, stdout is exactly the
 * L3 RegistrationResponseJSON / AuthenticationResponseJSON, ready to post to
 * any WebAuthn server library.
 */
import type { CallOptions } from '../../util/deadline.js';
import { decodeAttestationObject } from '../../ctap2/attestation.js';
import { parseAuthenticatorData } from '../../ctap2/authenticator-data.js';
import { randomBytes } from '../../crypto/primitives.js';
import { coseAlgName } from '../../ctap2/cose-key.js';
import { base64urlDecodeOrNull, base64urlEncode } from '../../webauthn/base64url.js';
import { WebAuthnClient } from '../../webauthn/client.js';
import type { PublicKeyCredentialCreationOptionsJSON, PublicKeyCredentialRequestOptionsJSON } from '../../webauthn/options-json.js';
import { choice, flag, str, strs } from '../args.js';
import { noMoreOperands, type CommandDef, type Context } from '../context.js';
import { UsageError } from '../errors.js';
import { cliInteraction } from '../interaction.js';
import { toHex } from '../../util/bytes.js';
import { uuid } from './device-basics.js';

const ALGS: Readonly<Record<string, number>> = { es256: -7, eddsa: -8, rs256: -257, es384: -35, es512: -36 };

function b64Option(ctx: Context, name: string): string | undefined {
  const v = str(ctx.args.values, name);
  if (v === undefined) return undefined;
  if (base64urlDecodeOrNull(v) === null) throw new UsageError(`--${name} takes base64url (A-Z a-z 0-9 - _, no padding)`);
  return v;
}

function b64List(ctx: Context, name: string): string[] {
  const out: string[] = [];
  for (const v of strs(ctx.args.values, name)) {
    for (const part of v.split(',').filter(Boolean)) {
      if (base64urlDecodeOrNull(part) === null) throw new UsageError(`--${name} takes base64url credential IDs`);
      out.push(part);
    }
  }
  return out;
}

function rpOf(ctx: Context): string {
  const rp = str(ctx.args.values, 'rp');
  if (!rp) throw new UsageError('--rp ID is required (the relying party id, e.g. example.com)');
  return rp;
}

function extOf(ctx: Context): Record<string, unknown> | undefined {
  const raw = str(ctx.args.values, 'ext');
  if (raw === undefined) return undefined;
  let v: unknown;
  try {
    v = JSON.parse(raw);
  } catch {
    throw new UsageError('--ext takes a JSON object of WebAuthn client extension inputs (L3 JSON form), e.g. \'{"credProps":true}\'');
  }
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new UsageError('--ext takes a JSON object');
  return v as Record<string, unknown>;
}

async function client(ctx: Context, rp: string, account?: string): Promise<WebAuthnClient> {
  const origin = str(ctx.args.values, 'origin') ?? `https://${rp}`;
  const interaction = cliInteraction(ctx, { account });
  const route = await ctx.route();
  if (route.transport === 'hid') {
    try {
      const d = await ctx.device();
      const c = new WebAuthnClient({ origin, device: d.init.capabilities.cbor ? d.session : d.channel, interaction });
      ctx.onExit(() => c.close());
      return c;
    } catch (e) {
      // Elevated Windows: when the key cannot be opened over raw HID, Windows' own API still reaches it.
      const { isHidOpenFailure } = await import('../../platform/windows/client-route.js');
      if (route.fallback !== 'webauthn-dll' || !isHidOpenFailure(e)) throw e;
      ctx.out.warn('the key could not be opened over raw HID; using webauthn.dll instead');
    }
  }
  // webauthn.dll: Windows shows its own dialog (parented to the foreground window, i.e. this terminal) and picks the key.
  const { webAuthnDllRoute } = await import('../../platform/windows/adapter.js');
  return new WebAuthnClient({ origin, interaction, route: webAuthnDllRoute() });
}

function touchPrompt(ctx: Context, c: WebAuthnClient, what: string): void {
  ctx.out.status(c.transport === 'webauthn-dll' ? `Follow the Windows security key dialog to ${what}…` : `Touch your security key to ${what}…`);
}

const SHARED_OPTIONS = {
  rp: { type: 'string' },
  origin: { type: 'string' },
  challenge: { type: 'string' },
  uv: { type: 'string' },
  ext: { type: 'string' },
} as const;

/**
 * A ceremony is one call: with --timeout it gets what is left of the
 * command's budget; without, the WebAuthn default a browser applies
 * (300 s, 120 s with --uv discouraged), since a person types a PIN and
 * touches the key inside it.
 */
function ceremonyOptions(ctx: Context): CallOptions {
  return ctx.args.globals.timeoutMs === undefined ? { signal: ctx.signal } : ctx.callOptions();
}

export const registerCommand: CommandDef = {
  name: 'register',
  summary: 'create a credential (WebAuthn create()); --json prints RegistrationResponseJSON',
  usage: `register --rp ID [--origin URL] [--user NAME] [--user-id B64URL] [--challenge B64URL]
 [--resident] [--uv required|preferred|discouraged] [--attestation none|indirect|direct|enterprise]
 [--alg es256,eddsa,rs256] [--exclude B64URL ...] [--ext JSON] [--json]`,
  details: `--origin defaults to https://ID; --challenge to 32 random bytes; --user to "user";
--user-id to 16 random bytes; --alg to es256,eddsa; --uv to preferred; --attestation to none.
--resident makes a discoverable credential (residentKey "required").
With --json, stdout is exactly the WebAuthn L3 RegistrationResponseJSON.`,
  options: {
    ...SHARED_OPTIONS,
    user: { type: 'string' },
    'user-id': { type: 'string' },
    'display-name': { type: 'string' },
    resident: { type: 'boolean' },
    attestation: { type: 'string' },
    alg: { type: 'string' },
    exclude: { type: 'string', multiple: true },
  },
  async run(ctx) {
    noMoreOperands(ctx, 0);
    const v = ctx.args.values;
    const rp = rpOf(ctx);
    const uv = choice(v, 'uv', ['required', 'preferred', 'discouraged'] as const) ?? 'preferred';
    const attestation = choice(v, 'attestation', ['none', 'indirect', 'direct', 'enterprise'] as const) ?? 'none';
    const algNames = (str(v, 'alg') ?? 'es256,eddsa').split(',').map((s) => s.trim().toLowerCase()).filter(Boolean);
    const algs = algNames.map((a) => {
      const n = ALGS[a];
      if (n === undefined) throw new UsageError(`--alg: unknown algorithm "${a}" (one of ${Object.keys(ALGS).join(', ')})`);
      return n;
    });
    const userName = str(v, 'user') ?? 'user';
    const resident = flag(v, 'resident');
    const options: PublicKeyCredentialCreationOptionsJSON = {
      rp: { id: rp, name: rp },
      user: { id: b64Option(ctx, 'user-id') ?? base64urlEncode(randomBytes(16)), name: userName, displayName: str(v, 'display-name') ?? userName },
      challenge: b64Option(ctx, 'challenge') ?? base64urlEncode(randomBytes(32)),
      pubKeyCredParams: algs.map((alg) => ({ type: 'public-key', alg })),
      excludeCredentials: b64List(ctx, 'exclude').map((id) => ({ type: 'public-key', id })),
      authenticatorSelection: { residentKey: resident ? 'required' : 'discouraged', requireResidentKey: resident, userVerification: uv },
      attestation,
      ...(extOf(ctx) ? { extensions: extOf(ctx) } : {}),
    };
    const c = await client(ctx, rp);
    touchPrompt(ctx, c, 'register');
    const cred = await c.create(options, ceremonyOptions(ctx));
    const json = cred.toJSON();
    ctx.out.result(json, () => {
      const att = decodeAttestationObject(new Uint8Array(cred.response.attestationObject), { allowNonCanonicalKeyOrder: true });
      const acd = att.authData.attestedCredentialData;
      ctx.out.line(`Registered a ${resident ? 'discoverable ' : ''}credential for ${userName} at ${rp}`);
      ctx.out.fields([
        ['credential ID', json.id],
        ['user ID', options.user.id],
        ['algorithm', coseAlgName(json.response.publicKeyAlgorithm) ?? String(json.response.publicKeyAlgorithm)],
        ['attestation', att.fmt],
        ['aaguid', acd ? (toHex(acd.aaguid) === '0'.repeat(32) ? '(zeroed: attestation "none")' : uuid(acd.aaguid)) : undefined],
        ['user verified', att.authData.uv ? 'yes' : 'no'],
        ['sign count', att.authData.signCount],
        ['extensions', Object.keys(json.clientExtensionResults).length ? JSON.stringify(json.clientExtensionResults) : undefined],
      ], '  ');
      ctx.out.line();
      ctx.out.line(`Log in with: ctap login --rp ${rp}${resident ? '' : ` --allow=${json.id}`}`);
    });
    return undefined;
  },
};

export const loginCommand: CommandDef = {
  name: 'login',
  summary: 'get an assertion (WebAuthn get()); --json prints AuthenticationResponseJSON',
  usage: `login --rp ID [--origin URL] [--challenge B64URL] [--allow B64URL ...] [--uv required|preferred|discouraged]
 [--ext JSON] [--account NAME] [--json]`,
  details: `Without --allow, the key looks for discoverable credentials (and asks which account when it
holds several: on a terminal you choose; otherwise --account NAME picks by user name,
display name or base64url user id). With --json, stdout is exactly the WebAuthn L3
AuthenticationResponseJSON; response.userHandle carries the user.id the key returned.`,
  options: { ...SHARED_OPTIONS, allow: { type: 'string', multiple: true }, account: { type: 'string' } },
  async run(ctx) {
    noMoreOperands(ctx, 0);
    const v = ctx.args.values;
    const rp = rpOf(ctx);
    const ext = extOf(ctx);
    const options: PublicKeyCredentialRequestOptionsJSON = {
      challenge: b64Option(ctx, 'challenge') ?? base64urlEncode(randomBytes(32)),
      rpId: rp,
      allowCredentials: b64List(ctx, 'allow').map((id) => ({ type: 'public-key', id })),
      userVerification: choice(v, 'uv', ['required', 'preferred', 'discouraged'] as const) ?? 'preferred',
      ...(ext ? { extensions: ext } : {}),
    };
    const c = await client(ctx, rp, str(v, 'account'));
    touchPrompt(ctx, c, 'log in');
    const cred = await c.get(options, ceremonyOptions(ctx));
    const json = cred.toJSON();
    ctx.out.result(json, () => {
      const ad = parseAuthenticatorData(new Uint8Array(cred.response.authenticatorData), { allowNonCanonicalKeyOrder: true });
      ctx.out.line(`Logged in at ${rp}`);
      ctx.out.fields([
        ['credential ID', json.id],
        ['user handle', json.response.userHandle ?? '(none: not a discoverable credential)'],
        ['user verified', ad.uv ? 'yes' : 'no'],
        ['sign count', ad.signCount],
        ['extensions', Object.keys(json.clientExtensionResults).length ? JSON.stringify(json.clientExtensionResults) : undefined],
      ], '  ');
    });
    return undefined;
  },
};
