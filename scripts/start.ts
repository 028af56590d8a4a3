/**
 * `npm start`: a newcomer's first run. A fresh virtual security key, a
 * WebAuthn registration of a discoverable credential and a login without an
 * allow list, exactly as a browser would run them, printed readably and
 * checked: the assertion's signature is verified with the registered public
 * key (node:crypto, independently of the library), the challenge, origin and
 * RP id hash are compared, and the userHandle must be the registered user.id.
 */
import { createHash, createPublicKey, randomBytes, verify } from 'node:crypto';
import { VirtualAuthenticator } from '../src/virtual/index.js';
import { WebAuthnClient } from '../src/webauthn/client.js';
import type { Interaction } from '../src/webauthn/interaction.js';

const ORIGIN = 'https://example.com';
const RP_ID = 'example.com';

const b64u = (b: Uint8Array | ArrayBuffer): string => Buffer.from(b instanceof ArrayBuffer ? new Uint8Array(b) : b).toString('base64url');
const bytes = (b: ArrayBuffer): Buffer => Buffer.from(new Uint8Array(b));
const dim = (s: string): string => (process.stdout.isTTY ? `\x1b[2m${s}\x1b[0m` : s);
const ok = (s: string): void => console.log(`  ${process.stdout.isTTY ? '\x1b[32m✔\x1b[0m' : 'ok'} ${s}`);

function fail(message: string): never {
  console.error(`\nCHECK FAILED: ${message}`);
  process.exit(1);
}

function check(cond: boolean, message: string): void {
  if (!cond) fail(message);
  ok(message);
}

async function main(): Promise<void> {
  console.log('ctap-bridge: a first run against a virtual security key\n');
  const key = await VirtualAuthenticator.create();
  const interaction: Interaction = {
    'touch-required': () => console.log(dim('  (the virtual key was "touched": presence is approved automatically)')),
  };
  const client = new WebAuthnClient({ origin: ORIGIN, device: key.port(), interaction });
  try {
    // 1. Registration, as navigator.credentials.create({ publicKey }) would run it
    const userId = randomBytes(16);
    const regChallenge = randomBytes(32);
    console.log(`1. Register a discoverable credential for "alice" at ${RP_ID}`);
    const reg = await client.create({
      rp: { id: RP_ID, name: 'Example' },
      user: { id: b64u(userId), name: 'alice', displayName: 'Alice' },
      challenge: b64u(regChallenge),
      pubKeyCredParams: [{ type: 'public-key', alg: -7 }, { type: 'public-key', alg: -8 }],
      authenticatorSelection: { residentKey: 'required', userVerification: 'discouraged' },
      attestation: 'none',
    });
    const regJson = reg.toJSON();
    const spki = reg.response.getPublicKey();
    if (!spki) fail('the registration has no public key');
    const alg = reg.response.getPublicKeyAlgorithm();
    console.log(`   credential id   ${regJson.id}`);
    console.log(`   algorithm       ${alg === -7 ? 'ES256' : alg === -8 ? 'EdDSA' : alg}`);
    console.log(`   public key      ${b64u(spki).slice(0, 48)}… (SPKI, base64url)`);
    const regClient = JSON.parse(bytes(reg.response.clientDataJSON).toString('utf8')) as { type: string; challenge: string; origin: string };
    check(regClient.type === 'webauthn.create' && regClient.challenge === b64u(regChallenge) && regClient.origin === ORIGIN, 'clientDataJSON carries webauthn.create, our challenge and origin');
    const regAuthData = bytes(reg.response.getAuthenticatorData());
    check(regAuthData.subarray(0, 32).equals(createHash('sha256').update(RP_ID).digest()), 'authenticatorData.rpIdHash = SHA-256("example.com")');

    // 2. Login with no allow list: the key finds the discoverable credential
    const getChallenge = randomBytes(32);
    console.log(`\n2. Log in at ${RP_ID} without naming a credential (discoverable login)`);
    const auth = await client.get({ challenge: b64u(getChallenge), rpId: RP_ID, userVerification: 'discouraged' });
    const authJson = auth.toJSON();
    console.log(`   credential id   ${authJson.id}`);
    console.log(`   user handle     ${authJson.response.userHandle ?? '(none)'}`);
    const authData = bytes(auth.response.authenticatorData);
    console.log(`   sign count      ${authData.readUInt32BE(33)}`);
    check(authJson.id === regJson.id, 'the key answered with the registered credential');
    check(authJson.response.userHandle === b64u(userId), 'userHandle is the user.id given at registration');
    const getClient = JSON.parse(bytes(auth.response.clientDataJSON).toString('utf8')) as { type: string; challenge: string; origin: string };
    check(getClient.type === 'webauthn.get' && getClient.challenge === b64u(getChallenge) && getClient.origin === ORIGIN, 'clientDataJSON carries webauthn.get, our challenge and origin');
    check((authData[32]! & 0x01) === 1, 'the UP (user present) flag is set');

    // 3. The signature, verified with the registered public key by node:crypto alone
    const signed = Buffer.concat([authData, createHash('sha256').update(bytes(auth.response.clientDataJSON)).digest()]);
    const publicKey = createPublicKey({ key: bytes(spki), format: 'der', type: 'spki' });
    const valid = verify(alg === -8 ? null : 'sha256', signed, publicKey, bytes(auth.response.signature));
    console.log('\n3. Verify the assertion');
    check(valid, 'signature over authenticatorData || SHA-256(clientDataJSON) verifies with the registered key');

    console.log(`
All checks passed. What to try next:
  npx ctap info --device virtual          what a key reports (getInfo, CTAPHID INIT)
  npx ctap virtual serve --udp 127.0.0.1:8111   the virtual key for python-fido2 / libfido2
  npx ctap register --rp example.com --device virtual --json   L3 JSON for any WebAuthn server
  npx ctap list                           real keys plugged into this machine
  npx ctap doctor                         permissions, udev rules, HID backend`);
  } finally {
    await client.close();
    await key.close();
  }
}

main().catch((e: unknown) => {
  console.error(`\nnpm start failed: ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`);
  process.exit(1);
});
