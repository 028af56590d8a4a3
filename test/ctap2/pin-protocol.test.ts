import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createCipheriv, createHash, createHmac, hkdfSync } from 'node:crypto';
import { p256Generate, p256PublicFromPrivate } from '../../src/crypto/primitives.js';
import { padPin, pinProtocol, PIN_PROTOCOL_1, PIN_PROTOCOL_2 } from '../../src/ctap2/pin-protocol.js';
import { fromHex, toHex } from '../../src/util/bytes.js';

const Z = fromHex('5f6e1b4a0c9d8e7f60a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f607');
const MESSAGE = new TextEncoder().encode('authenticate me');

function nodeAesCbc(key: Uint8Array, iv: Uint8Array, data: Uint8Array): string {
  const c = createCipheriv('aes-256-cbc', key, iv);
  c.setAutoPadding(false);
  return Buffer.concat([c.update(data), c.final()]).toString('hex');
}

test('protocol 1 known answers (independent node:crypto computation): KDF = SHA-256(Z), AES-CBC zero IV, HMAC truncated to 16', () => {
  const secret = PIN_PROTOCOL_1.kdf(Z);
  assert.equal(toHex(secret), createHash('sha256').update(Z).digest('hex'));
  const block = new Uint8Array(32).fill(0x5a);
  assert.equal(toHex(PIN_PROTOCOL_1.encrypt(secret, block)), nodeAesCbc(secret, new Uint8Array(16), block));
  assert.deepEqual(PIN_PROTOCOL_1.decrypt(secret, PIN_PROTOCOL_1.encrypt(secret, block)), block);
  assert.equal(toHex(PIN_PROTOCOL_1.authenticate(secret, MESSAGE)), createHmac('sha256', secret).update(MESSAGE).digest('hex').slice(0, 32));
  assert.throws(() => PIN_PROTOCOL_1.encrypt(secret, new Uint8Array(15)), RangeError);
});

test('protocol 2 known answers: HKDF-SHA-256 (salt 32×0, "CTAP2 HMAC key" / "CTAP2 AES key"), random IV prefix, full HMAC', () => {
  const secret = PIN_PROTOCOL_2.kdf(Z);
  const salt = Buffer.alloc(32);
  assert.equal(toHex(secret.subarray(0, 32)), Buffer.from(hkdfSync('sha256', Z, salt, 'CTAP2 HMAC key', 32)).toString('hex'));
  assert.equal(toHex(secret.subarray(32)), Buffer.from(hkdfSync('sha256', Z, salt, 'CTAP2 AES key', 32)).toString('hex'));
  const block = new Uint8Array(64).fill(0x33);
  const ct = PIN_PROTOCOL_2.encrypt(secret, block);
  assert.equal(ct.length, 16 + 64);
  assert.equal(toHex(ct.subarray(16)), nodeAesCbc(secret.subarray(32), ct.subarray(0, 16), block));
  assert.deepEqual(PIN_PROTOCOL_2.decrypt(secret, ct), block);
  assert.equal(toHex(PIN_PROTOCOL_2.authenticate(secret, MESSAGE)), createHmac('sha256', secret.subarray(0, 32)).update(MESSAGE).digest('hex'));
  // a 32-byte pinUvAuthToken is used whole as the HMAC key
  const token = new Uint8Array(32).fill(7);
  assert.equal(toHex(PIN_PROTOCOL_2.authenticate(token, MESSAGE)), createHmac('sha256', token).update(MESSAGE).digest('hex'));
  assert.throws(() => PIN_PROTOCOL_2.decrypt(secret, new Uint8Array(16)), RangeError);
});

for (const p of [PIN_PROTOCOL_1, PIN_PROTOCOL_2]) {
  test(`protocol ${p.version}: platform encapsulate and authenticator decapsulate agree; verify rejects tampering`, () => {
    const auth = p256Generate();
    const { keyAgreement, sharedSecret } = p.encapsulate(auth.publicKey);
    assert.deepEqual(p.decapsulate(auth.privateKey, keyAgreement), sharedSecret);
    const sig = p.authenticate(sharedSecret, MESSAGE);
    assert.ok(p.verify(sharedSecret, MESSAGE, sig));
    const bad = sig.slice();
    bad[0]! ^= 1;
    assert.ok(!p.verify(sharedSecret, MESSAGE, bad));
    assert.ok(!p.verify(sharedSecret, MESSAGE, sig.subarray(0, sig.length - 1)));
    assert.throws(() => p.encapsulate({ x: new Uint8Array(32).fill(1), y: new Uint8Array(32).fill(2) }), 'a point off the curve is refused');
  });
}

test('padPin: 64 bytes, zero padded; 4..63 bytes', () => {
  assert.equal(toHex(padPin(new TextEncoder().encode('1234'))), '31323334' + '00'.repeat(60));
  assert.throws(() => padPin(new Uint8Array(3)), RangeError);
  assert.throws(() => padPin(new Uint8Array(64)), RangeError);
  assert.equal(pinProtocol(2), PIN_PROTOCOL_2);
  assert.throws(() => pinProtocol(3), RangeError);
});

const PY = '/usr/bin/python3';
function pyFido2Available(): boolean {
  if (!existsSync(PY)) return false;
  try {
    execFileSync(PY, ['-c', 'import fido2.ctap2.pin'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

test('cross-check with python-fido2: same KDF, it decrypts and verifies what we produce (both protocols)', (t) => {
  if (!pyFido2Available()) {
    t.skip('python3-fido2 is not installed (apt-get install python3-fido2)');
    return;
  }
  const authPriv = fromHex('c9afa9d845ba75166b5c215767b1d6934e50c3db36e89b127b8a622b120f6721');
  const authPub = p256PublicFromPrivate(authPriv);
  const cases = [PIN_PROTOCOL_1, PIN_PROTOCOL_2].map((p) => {
    const { keyAgreement, sharedSecret } = p.encapsulate(authPub);
    const plain = new Uint8Array(64).map((_, i) => i);
    const ct = p.encrypt(sharedSecret, plain);
    return { v: p.version, kx: toHex(keyAgreement.x), ky: toHex(keyAgreement.y), ss: toHex(sharedSecret), ct: toHex(ct), mac: toHex(p.authenticate(sharedSecret, ct)), plain: toHex(plain) };
  });
  const script = `
import json, sys
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.backends import default_backend
from fido2.ctap2.pin import PinProtocolV1, PinProtocolV2
priv = ec.derive_private_key(int(sys.argv[1], 16), ec.SECP256R1(), default_backend())
out = []
for c in json.loads(sys.argv[2]):
    p = PinProtocolV1() if c['v'] == 1 else PinProtocolV2()
    peer = ec.EllipticCurvePublicNumbers(int(c['kx'], 16), int(c['ky'], 16), ec.SECP256R1()).public_key(default_backend())
    ss = p.kdf(priv.exchange(ec.ECDH(), peer))
    ct = bytes.fromhex(c['ct'])
    out.append({'ss': ss.hex(), 'plain': p.decrypt(ss, ct).hex(), 'mac': p.authenticate(ss, ct).hex()})
print(json.dumps(out))
`;
  const res = JSON.parse(execFileSync(PY, ['-c', script, toHex(authPriv), JSON.stringify(cases)], { encoding: 'utf8' })) as { ss: string; plain: string; mac: string }[];
  cases.forEach((c, i) => {
    assert.equal(res[i]!.ss, c.ss, `protocol ${c.v} shared secret`);
    assert.equal(res[i]!.plain, c.plain, `protocol ${c.v} decrypt`);
    assert.equal(res[i]!.mac, c.mac, `protocol ${c.v} authenticate`);
  });
});

test('protocol 2 refuses keys that are neither a 64-byte shared secret nor a 32-byte token; methods work detached', () => {
  assert.throws(() => PIN_PROTOCOL_2.authenticate(new Uint8Array(16), MESSAGE), /32 or 64 bytes/);
  assert.throws(() => PIN_PROTOCOL_2.encrypt(new Uint8Array(48), new Uint8Array(16)), /32 or 64 bytes/);
  const { encapsulate, decapsulate, verify, authenticate } = PIN_PROTOCOL_2;
  const auth = p256Generate();
  const { keyAgreement, sharedSecret } = encapsulate(auth.publicKey);
  assert.deepEqual(decapsulate(auth.privateKey, keyAgreement), sharedSecret);
  assert.ok(verify(sharedSecret, MESSAGE, authenticate(sharedSecret, MESSAGE)));
  const v1 = PIN_PROTOCOL_1.verify;
  assert.ok(v1(sharedSecret.subarray(0, 32), MESSAGE, PIN_PROTOCOL_1.authenticate(sharedSecret.subarray(0, 32), MESSAGE)));
});
