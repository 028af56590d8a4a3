/**
 * A second independent relying party: python-fido2 (Debian python3-fido2,
 * run with /usr/bin/python3) verifies what the client produced against the
 * virtual key — packed attestation verified, not just parsed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { base64urlEncode } from '../../src/webauthn/base64url.js';
import { bench, challenge, creationOptions, ORIGIN, RP_ID } from './harness.js';

const SCRIPT = fileURLToPath(new URL('./python-fido2-rp.py', import.meta.url));

function hasPythonFido2(): boolean {
  const r = spawnSync('/usr/bin/python3', ['-c', 'import fido2.server'], { encoding: 'utf8' });
  return r.status === 0;
}

for (const [name, attestation, alg, rk] of [
  ['ES256, direct (packed, x5c), resident', 'direct', -7, true],
  ['EdDSA, none, non-resident', 'none', -8, false],
] as const) {
  test(`python-fido2's Fido2Server verifies a registration and a login: ${name}`, async (t) => {
    if (!hasPythonFido2()) {
      t.skip('python3-fido2 is not installed (apt-get install python3-fido2)');
      return;
    }
    const b = await bench();
    try {
      const opts = creationOptions({ attestation, pubKeyCredParams: [{ type: 'public-key', alg }], authenticatorSelection: { residentKey: rk ? 'required' : 'discouraged' } });
      const reg = await b.client.create(opts);
      const c = challenge();
      const login = await b.client.get({ challenge: c, rpId: RP_ID, allowCredentials: rk ? [] : [{ type: 'public-key', id: reg.rawId }] });
      const input = JSON.stringify({
        rpId: RP_ID,
        origin: ORIGIN,
        attestation,
        reg: reg.toJSON(),
        regChallenge: base64urlEncode(opts.challenge),
        login: login.toJSON(),
        loginChallenge: base64urlEncode(c),
      });
      const r = spawnSync('/usr/bin/python3', [SCRIPT], { input, encoding: 'utf8', timeout: 30_000 });
      assert.equal(r.status, 0, r.stderr);
      assert.equal(r.stdout.trim(), `ok ${reg.id}`);
    } finally {
      await b.close();
    }
  });
}
