/**
 * The frame trace (`ctap --verbose`) never shows a secret: a WebAuthn
 * registration and login with largeBlob + credBlob + prf (hmac-secret) and a
 * PIN, then a credentialManagement enumeration, all through tracePort on a
 * virtual key; then every secret the key and the client exchanged is looked
 * for in the trace as hex, base64 and base64url — whole, and as any 12-byte
 * slice (so a secret split across two packets of a per-packet trace is found
 * too) — while the non-secret parts (getInfo, flags) stay readable.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tracePort } from '../../src/device/trace.js';
import { CtapHidChannel } from '../../src/ctaphid/channel.js';
import { Ctap2Session } from '../../src/ctap2/session.js';
import { ClientPin } from '../../src/ctap2/client-pin.js';
import { CredentialManagement } from '../../src/ctap2/credential-management.js';
import { parseAuthenticatorData } from '../../src/ctap2/authenticator-data.js';
import { sha256 } from '../../src/crypto/hashes.js';
import { randomBytes } from '../../src/crypto/primitives.js';
import { toHex, utf8Encode } from '../../src/util/bytes.js';
import { VirtualAuthenticator } from '../../src/virtual/authenticator.js';
import { WebAuthnClient } from '../../src/webauthn/client.js';
import type { AuthenticationCredential, RegistrationCredential } from '../../src/webauthn/credential.js';

const PIN = '582914';

/** The members of getClientExtensionResults() this test reads. */
interface Ext {
  largeBlob?: { supported?: boolean; written?: boolean; blob?: ArrayBuffer };
  credBlob?: boolean;
  getCredBlob?: ArrayBuffer;
  prf?: { results?: { first: ArrayBuffer; second?: ArrayBuffer } };
}
const extOf = (c: RegistrationCredential | AuthenticationCredential): Ext => c.getClientExtensionResults() as Ext;
const ORIGIN = 'https://login.example.com';
const RP_ID = 'example.com';

/** Every rendering of `secret` (and of each 12-byte slice of it) the trace must not contain. */
function forms(secret: Uint8Array): string[] {
  const out: string[] = [];
  const slices = secret.length <= 12 ? [secret] : Array.from({ length: secret.length - 11 }, (_, i) => secret.subarray(i, i + 12));
  for (const s of slices) {
    out.push(toHex(s));
    // base64 of a slice at any byte offset: cut to whole 3-byte groups so the text is position-independent within the group
    for (let shift = 0; shift < 3 && s.length - shift >= 9; shift++) {
      const b = Buffer.from(s.subarray(shift, shift + 9));
      out.push(b.toString('base64'), b.toString('base64url'));
    }
  }
  return out;
}

function assertAbsent(trace: string, name: string, secret: Uint8Array): void {
  assert.ok(secret.length >= 16, `${name} is a real secret (${secret.length} bytes)`);
  const lower = trace.toLowerCase();
  for (const f of forms(secret)) {
    const hit = /^[0-9a-f]+$/.test(f) ? lower.includes(f) : trace.includes(f);
    assert.ok(!hit, `${name} (or a 12-byte slice of it) appears in the trace as ${f}`);
  }
}

test('the trace of register + login with largeBlob, credBlob, prf and a PIN holds none of the secrets', async () => {
  const lines: string[] = [];
  const key = await VirtualAuthenticator.create({ resetWindowMs: Infinity, pin: PIN });
  const credBlob = randomBytes(32);
  const blob = utf8Encode('large blob contents');
  let reg: RegistrationCredential;
  let login: AuthenticationCredential;
  let write: AuthenticationCredential;
  const client = new WebAuthnClient({ origin: ORIGIN, device: tracePort(key.port(), (l) => lines.push(l)), interaction: { 'pin-required': () => PIN } });
  try {
    reg = await client.create({
      rp: { id: RP_ID, name: 'Example' },
      user: { id: randomBytes(16), name: 'alice@example.com', displayName: 'Alice' },
      challenge: randomBytes(32),
      pubKeyCredParams: [{ type: 'public-key', alg: -7 }],
      authenticatorSelection: { residentKey: 'required', userVerification: 'required' },
      extensions: { largeBlob: { support: 'required' }, credBlob, prf: {} },
    });
    assert.equal(extOf(reg).largeBlob?.supported, true);
    assert.equal(extOf(reg).credBlob, true);
    write = await client.get({ challenge: randomBytes(32), rpId: RP_ID, userVerification: 'required', allowCredentials: [{ type: 'public-key', id: new Uint8Array(reg.rawId) }], extensions: { largeBlob: { write: blob } } });
    assert.equal(extOf(write).largeBlob?.written, true);
    login = await client.get({
      challenge: randomBytes(32),
      rpId: RP_ID,
      userVerification: 'required',
      extensions: { largeBlob: { read: true }, getCredBlob: true, prf: { eval: { first: randomBytes(32), second: randomBytes(32) } } },
    });
  } finally {
    await client.close();
  }
  const ext = extOf(login);
  assert.deepEqual(new Uint8Array(ext.largeBlob!.blob!), blob, 'the blob round-trips');
  assert.deepEqual(new Uint8Array(ext.getCredBlob!), credBlob, 'the credBlob round-trips');

  // creds list: enumerateCredentials returns the largeBlobKey (0x0B).
  const channel = await CtapHidChannel.open(tracePort(key.port(), (l) => lines.push(l)));
  let pinToken: Uint8Array;
  try {
    const session = new Ctap2Session(channel);
    const token = await new ClientPin(session).getPinUvAuthTokenUsingPin(PIN, { permissions: ['cm'] });
    pinToken = key.core.volatile.pinUvAuthToken.slice();
    const cm = await CredentialManagement.open(session, token);
    const creds = await cm.enumerateCredentials(sha256(utf8Encode(RP_ID)));
    assert.equal(creds.length, 1);
    assert.ok(creds[0]!.largeBlobKey instanceof Uint8Array, 'the key did send the largeBlobKey');
  } finally {
    await channel.close();
  }

  const stored = key.core.state.credentials[0]!;
  const largeBlobKey = stored.largeBlobKey!;
  // The hmac-secret output as it crossed the wire (encrypted under the shared secret) and as the client decrypted it.
  const wireAuthData = parseAuthenticatorData(new Uint8Array(login.response.authenticatorData));
  const hmacOutput = wireAuthData.extensions?.get('hmac-secret');
  assert.ok(hmacOutput instanceof Uint8Array && hmacOutput.length >= 64, 'two salts: the encrypted hmac-secret output is on the wire');
  const prf = ext.prf!.results!;
  await key.close();

  const trace = lines.join('\n');
  assert.ok(lines.length > 20, trace);
  assertAbsent(trace, 'largeBlobKey', largeBlobKey);
  assertAbsent(trace, 'credBlob', credBlob);
  assertAbsent(trace, 'encrypted hmac-secret output', hmacOutput);
  assertAbsent(trace, 'prf.results.first', new Uint8Array(prf.first));
  assertAbsent(trace, 'prf.results.second', new Uint8Array(prf.second!));
  assertAbsent(trace, 'pinUvAuthToken', pinToken);
  assertAbsent(trace, 'PIN', utf8Encode(PIN.repeat(3)).subarray(0, 16)); // the PIN itself is 6 bytes: look for its text too
  assert.ok(!trace.includes(PIN), 'the PIN text');

  // Still useful: getInfo in full, flags and the largeBlobKey's place (redacted) are shown.
  assert.ok(lines.some((l) => /^> ffffffff INIT bcnt=8 [0-9a-f]{16}$/.test(l)), 'INIT with its nonce');
  assert.ok(lines.some((l) => /^< [0-9a-f]{8} CBOR bcnt=\d+ getInfo\(0x04\) reply OK \{1: \["/.test(l)), 'getInfo reply decoded');
  assert.ok(lines.some((l) => /makeCredential\(0x01\) reply OK .*flags UP\|UV\|AT\|ED.*5: <redacted 32 bytes>/.test(l)), 'makeCredential: flags shown, largeBlobKey redacted');
  assert.ok(lines.some((l) => /getAssertion\(0x02\) reply OK .*"credBlob": <redacted 32 bytes>.*"hmac-secret": <redacted (64|80) bytes>.*7: <redacted 32 bytes>/.test(l)), 'getAssertion: outputs redacted');
  assert.ok(lines.some((l) => /credentialManagement\(0x0a\) reply OK .*11: <redacted 32 bytes>/.test(l)), 'credMgmt: largeBlobKey redacted');
  assert.ok(lines.some((l) => /clientPin\(0x06\) reply OK \{2: <redacted 48 bytes>\}/.test(l)), 'the token reply redacted');
});

test('a message split over packets is traced once, whole; undecodable and vendor messages show only their length', async () => {
  const sent: Uint8Array[] = [];
  const lines: string[] = [];
  const port = tracePort(
    {
      info: { path: 'x', transport: 'fake' },
      reportSize: 64,
      closed: false,
      async write(r: Uint8Array) {
        sent.push(r);
      },
      async read() {
        return null;
      },
      async close() {},
    } as never,
    (l) => lines.push(l),
  );
  const secret = randomBytes(100);
  const cid = [0, 0, 0, 7];
  // A vendor CTAPHID command (0x41) of 100 bytes in two packets.
  const p1 = new Uint8Array(64);
  p1.set([...cid, 0x80 | 0x41, 0, 100]);
  p1.set(secret.subarray(0, 57), 7);
  const p2 = new Uint8Array(64);
  p2.set([...cid, 0]);
  p2.set(secret.subarray(57), 5);
  await port.write(p1);
  assert.deepEqual(lines, [], 'nothing until the message is complete');
  await port.write(p2);
  assert.equal(lines.length, 1);
  assert.match(lines[0]!, /^> 00000007 0x41 bcnt=100 <vendor command: payload not shown>$/);
  // A CBOR makeCredential request that is not valid CBOR: length only.
  const bad = new Uint8Array(64);
  bad.set([...cid, 0x80 | 0x10, 0, 40, 0x01, 0xa1, ...secret.subarray(0, 38)]);
  await port.write(bad);
  assert.match(lines[1]!, /makeCredential\(0x01\) <39 bytes, undecodable CBOR: not shown>$/);
  assertAbsent(lines.join('\n'), 'vendor payload', secret);
});
