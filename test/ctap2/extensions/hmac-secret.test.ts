import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createCipheriv, createHmac } from 'node:crypto';
import { CborError, CborMapReader, decodeCbor, encodeCbor } from '../../../src/cbor/index.js';
import { hmacSha256 } from '../../../src/crypto/hashes.js';
import { p256PublicFromPrivate } from '../../../src/crypto/primitives.js';
import { decodeKeyAgreement, SharedSecret } from '../../../src/ctap2/client-pin.js';
import {
  decodeHmacSecretOutput,
  encodeHmacSecretInput,
  HMAC_SECRET_INPUT,
  OperationContext,
  prepareExtensions,
  processExtensions,
} from '../../../src/ctap2/extensions/index.js';
import { PIN_PROTOCOL_1, PIN_PROTOCOL_2, type PinUvAuthProtocol } from '../../../src/ctap2/pin-protocol.js';
import { UnsupportedFeatureError } from '../../../src/ctap2/permissions.js';
import { concatBytes, fromHex, toHex } from '../../../src/util/bytes.js';

/** The authenticator's fixed key-agreement key (a valid P-256 scalar). */
const AUTH_PRIV = fromHex('c9afa9d845ba75166b5c215767b1d6934e50c3db36e89b127b8a622b120f6721');
const AUTH_PUB = p256PublicFromPrivate(AUTH_PRIV);
const SALT1 = new Uint8Array(32).fill(0x11);
const SALT2 = new Uint8Array(32).fill(0x22);
const CRED_RANDOM = new Uint8Array(32).fill(0x77);

test('protocol 1 known answer: saltEnc = AES-256-CBC(SHA-256(Z), IV 0, salt1||salt2), saltAuth = LEFT(HMAC(secret, saltEnc), 16)', () => {
  const secret = new Uint8Array(32).map((_, i) => i);
  const ss = new SharedSecret(PIN_PROTOCOL_1, AUTH_PUB, secret);
  const m = encodeHmacSecretInput({ salt1: SALT1, salt2: SALT2 }, ss);
  const c = createCipheriv('aes-256-cbc', secret, Buffer.alloc(16));
  c.setAutoPadding(false);
  const expectEnc = Buffer.concat([c.update(concatBytes(SALT1, SALT2)), c.final()]);
  assert.equal(toHex(m.get(HMAC_SECRET_INPUT.saltEnc) as Uint8Array), expectEnc.toString('hex'));
  assert.equal(toHex(m.get(HMAC_SECRET_INPUT.saltAuth) as Uint8Array), createHmac('sha256', secret).update(expectEnc).digest('hex').slice(0, 32));
  assert.equal(m.has(HMAC_SECRET_INPUT.pinUvAuthProtocol), false, 'protocol 1 is the default and is left out (as libfido2 does)');
  assert.deepEqual(decodeKeyAgreement(m.get(HMAC_SECRET_INPUT.keyAgreement)), AUTH_PUB);
  // canonical: keys 1, 2, 3 in order
  assert.deepEqual([...(decodeCbor(encodeCbor(m)).value as Map<number, unknown>).keys()], [1, 2, 3]);
  assert.throws(() => encodeHmacSecretInput({ salt1: new Uint8Array(31) }, ss), /salt1 must be 32 bytes/);
});

/** The authenticator side of hmac-secret (CTAP 2.2 §12.5), written from the spec for this test. */
function authenticatorSide(protocol: PinUvAuthProtocol, input: Map<number, unknown>): Uint8Array {
  const r = new CborMapReader(input, 'hmac-secret');
  const peer = decodeKeyAgreement(r.raw(1));
  const shared = protocol.decapsulate(AUTH_PRIV, peer);
  const saltEnc = r.bytes(2);
  assert.ok(protocol.verify(shared, saltEnc, r.bytes(3)), 'saltAuth verifies');
  assert.equal(r.optionalUint(4) ?? 1, protocol.version);
  const salts = protocol.decrypt(shared, saltEnc);
  assert.deepEqual(salts, concatBytes(SALT1, SALT2), 'the authenticator recovers the salts');
  const out = concatBytes(hmacSha256(CRED_RANDOM, salts.subarray(0, 32)), hmacSha256(CRED_RANDOM, salts.subarray(32)));
  return protocol.encrypt(shared, out);
}

for (const protocol of [PIN_PROTOCOL_1, PIN_PROTOCOL_2]) {
  test(`protocol ${protocol.version}: hmac-secret round trip through the plug-in runners with a fixed authenticator key`, async () => {
    let fetched = 0;
    let secret: SharedSecret | undefined;
    const ctx = new OperationContext({ extensions: ['hmac-secret'], pinUvAuthProtocols: [protocol.version] }, async () => {
      fetched++;
      const e = protocol.encapsulate(AUTH_PUB);
      secret = new SharedSecret(protocol, e.keyAgreement, e.sharedSecret);
      return secret;
    });
    const ext = await prepareExtensions('get', { 'hmac-secret': { salt1: SALT1, salt2: SALT2 } }, ctx);
    const input = ext!.get('hmac-secret') as Map<number, unknown>;
    assert.equal(input.get(4), protocol.version === 2 ? 2 : undefined);
    const encrypted = authenticatorSide(protocol, input);
    const results = await processExtensions('get', ext!.keys(), new Map([['hmac-secret', encrypted]]), {}, ctx);
    const out = results['hmac-secret'] as { output1: Uint8Array; output2: Uint8Array };
    assert.deepEqual(out.output1, hmacSha256(CRED_RANDOM, SALT1));
    assert.deepEqual(out.output2, hmacSha256(CRED_RANDOM, SALT2));
    assert.equal(fetched, 1, 'one key agreement per operation');
    ctx.destroy();
    assert.ok(secret!.secret.every((b) => b === 0), 'the shared secret is zeroed');
  });

  test(`protocol ${protocol.version}: hmac-secret-mc returns outputs at makeCredential`, async () => {
    const ctx = new OperationContext({ extensions: ['hmac-secret', 'hmac-secret-mc'] }, async () => {
      const e = protocol.encapsulate(AUTH_PUB);
      return new SharedSecret(protocol, e.keyAgreement, e.sharedSecret);
    });
    const ext = await prepareExtensions('create', { 'hmac-secret': true, 'hmac-secret-mc': { salt1: SALT1, salt2: SALT2 } }, ctx);
    assert.equal(ext!.get('hmac-secret'), true);
    const encrypted = authenticatorSide(protocol, ext!.get('hmac-secret-mc') as Map<number, unknown>);
    const results = await processExtensions('create', ext!.keys(), new Map<string, unknown>([['hmac-secret', true], ['hmac-secret-mc', encrypted]]), {}, ctx);
    assert.equal(results['hmac-secret'], true);
    assert.deepEqual((results['hmac-secret-mc'] as { output1: Uint8Array }).output1, hmacSha256(CRED_RANDOM, SALT1));
  });
}

test('one salt gives one output; a wrong-length output is a typed error', () => {
  const secret = new Uint8Array(64).fill(3);
  const ss = new SharedSecret(PIN_PROTOCOL_2, AUTH_PUB, secret);
  const one = decodeHmacSecretOutput(PIN_PROTOCOL_2.encrypt(secret, new Uint8Array(32).fill(9)), ss);
  assert.equal(one.output2, undefined);
  assert.deepEqual(one.output1, new Uint8Array(32).fill(9));
  assert.throws(() => decodeHmacSecretOutput(PIN_PROTOCOL_2.encrypt(secret, new Uint8Array(48)), ss), /expected 32 or 64/);
  assert.throws(() => decodeHmacSecretOutput(new Uint8Array(20), ss), /impossible length/);
  assert.throws(() => decodeHmacSecretOutput('x', ss), /byte string/);
});

for (const protocol of [PIN_PROTOCOL_1, PIN_PROTOCOL_2]) {
  test(`protocol ${protocol.version}: the output length must match the salts sent (64 bytes for one salt was an unrequested output2)`, async () => {
    for (const [salts, reply, ok] of [
      [{ salt1: SALT1 }, 64, false],
      [{ salt1: SALT1, salt2: SALT2 }, 32, false],
      [{ salt1: SALT1 }, 32, true],
      [{ salt1: SALT1, salt2: SALT2 }, 64, true],
    ] as const) {
      let shared: Uint8Array | undefined;
      const ctx = new OperationContext({ extensions: ['hmac-secret'] }, async () => {
        const e = protocol.encapsulate(AUTH_PUB);
        shared = protocol.decapsulate(AUTH_PRIV, e.keyAgreement);
        return new SharedSecret(protocol, e.keyAgreement, e.sharedSecret);
      });
      const ext = await prepareExtensions('get', { 'hmac-secret': salts }, ctx);
      const encrypted = protocol.encrypt(shared!, new Uint8Array(reply).fill(5));
      const run = processExtensions('get', ext!.keys(), new Map([['hmac-secret', encrypted]]), {}, ctx);
      if (ok) {
        const out = (await run)['hmac-secret'] as { output1: Uint8Array; output2?: Uint8Array };
        assert.equal(out.output2 === undefined, reply === 32);
      } else {
        await assert.rejects(run, (e: unknown) => e instanceof CborError && new RegExp(`output is ${reply} bytes, but ${'salt2' in salts ? 2 : 1} salt`).test(e.message));
      }
      ctx.destroy();
    }
  });
}

test('hmac-secret on a key without it is refused with CTAP2_ERR_UNSUPPORTED_EXTENSION', async () => {
  const ctx = new OperationContext({ extensions: [] }, () => Promise.reject(new Error('must not fetch')));
  const err = await prepareExtensions('get', { 'hmac-secret': { salt1: SALT1 } }, ctx).catch((e: unknown) => e);
  assert.ok(err instanceof UnsupportedFeatureError);
  assert.equal(err.specName, 'CTAP2_ERR_UNSUPPORTED_EXTENSION');
  assert.match(err.message, /does not support the hmac-secret extension/);
});
