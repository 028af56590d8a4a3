/**
 * U2F (CTAP1) on the virtual key, driven by the project's Ctap1Session over
 * the real CTAPHID channel and the in-process port: VERSION, REGISTER,
 * AUTHENTICATE (check-only, enforce, dont-enforce), status words, APDU
 * encodings, touch polling, key handles shared with CTAP2, --u2f-only.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sha256 } from '../../src/crypto/hashes.js';
import { p256Verify, randomBytes, verifyWithSpki } from '../../src/crypto/primitives.js';
import {
  Ctap1Error,
  Ctap1Session,
  decodeAuthenticateResponse,
  decodeRegisterResponse,
  encodeApdu,
  pointFromU2fPublicKey,
  splitResponse,
  u2fAuthenticateSignedData,
  u2fRegisterSignedData,
} from '../../src/ctap1/index.js';
import { CtapHidChannel } from '../../src/ctaphid/channel.js';
import { CTAPHID, CTAPHID_ERR } from '../../src/ctaphid/constants.js';
import { CtapHidError } from '../../src/ctaphid/errors.js';
import { Ctap2Session } from '../../src/ctap2/session.js';
import { CTAP2_CMD } from '../../src/ctap2/commands.js';
import { decodeGetAssertionResponse } from '../../src/ctap2/get-assertion.js';
import { concatBytes, fromHex, utf8Encode } from '../../src/util/bytes.js';
import { TimeoutError } from '../../src/util/errors.js';
import type { CborValue } from '../../src/cbor/index.js';
import { VirtualAuthenticator } from '../../src/virtual/index.js';
import type { VirtualAuthenticatorOptions } from '../../src/virtual/core.js';
import { parseApdu } from '../../src/virtual/u2f.js';
import { serveVirtualUdp } from '../../src/virtual/udp-server.js';
import { loadVectors } from '../helpers/vectors.js';
import { checkAttestation, parseAuthData } from './verify.js';

const APP = sha256(utf8Encode('u2f.example.com'));
const OTHER_APP = sha256(utf8Encode('other.example.com'));

async function open(opts: VirtualAuthenticatorOptions = {}): Promise<{ key: VirtualAuthenticator; channel: CtapHidChannel; u2f: Ctap1Session; close: () => Promise<void> }> {
  const key = await VirtualAuthenticator.create(opts);
  const channel = await CtapHidChannel.open(key.port());
  return {
    key,
    channel,
    u2f: new Ctap1Session(channel),
    close: async () => {
      await channel.close();
      await key.close();
    },
  };
}

async function raw(channel: CtapHidChannel, apdu: Uint8Array): Promise<{ data: Uint8Array; sw: number }> {
  return splitResponse(await channel.msg(apdu));
}

test('VERSION answers U2F_V2', async () => {
  const k = await open();
  try {
    assert.equal(await k.u2f.getVersion(), 'U2F_V2');
  } finally {
    await k.close();
  }
});

test('REGISTER: the layout of a real key (vectors), the batch certificate, a signature that verifies', async () => {
  const k = await open();
  try {
    const challenge = randomBytes(32);
    const { data, sw } = await raw(k.channel, encodeApdu({ ins: 0x01, p1: 0x03, data: concatBytes(challenge, APP) }));
    assert.equal(sw, 0x9000);
    const reg = decodeRegisterResponse(data);
    // The same structure as the recorded YubiKey / libfido2 registrations: 0x05, 65-byte point, L, handle, DER cert, DER signature.
    for (const v of loadVectors('u2f-responses').filter((x) => x.expected.type === 'U2F_REGISTER response')) {
      const theirs = decodeRegisterResponse(splitResponseMaybe(fromHex(v.input)));
      assert.equal(data[0], fromHex(v.input)[0], `${v.id}: reserved byte`);
      assert.equal(reg.publicKey.length, theirs.publicKey.length, `${v.id}: public key length`);
      assert.equal(reg.publicKey[0], theirs.publicKey[0], `${v.id}: uncompressed point`);
      assert.equal(reg.signature[0], theirs.signature[0], `${v.id}: DER SEQUENCE signature`);
      assert.equal(data[66], reg.keyHandle.length, `${v.id}: L byte`);
    }
    assert.deepEqual(reg.certificate, k.key.core.state.attestation.certificate, 'the batch certificate the key keeps in its state');
    const cert = new X509Certificate(reg.certificate);
    const spki = new Uint8Array(cert.publicKey.export({ type: 'spki', format: 'der' }));
    assert.ok(verifyWithSpki(spki, 'sha256', u2fRegisterSignedData(APP, challenge, reg), reg.signature), 'registration signature by the batch key');
    assert.ok(!verifyWithSpki(spki, 'sha256', u2fRegisterSignedData(OTHER_APP, challenge, reg), reg.signature), 'bound to appParam');
  } finally {
    await k.close();
  }
});

/** The vectors carry the status word on some and not on others. */
function splitResponseMaybe(b: Uint8Array): Uint8Array {
  return b[b.length - 2] === 0x90 && b[b.length - 1] === 0x00 ? b.subarray(0, b.length - 2) : b;
}

test('AUTHENTICATE: check-only 0x6985/0x6a80, enforce signs with UP=1, dont-enforce with UP=0, counter rises', async () => {
  const k = await open();
  try {
    const reg = await k.u2f.register(randomBytes(32), APP);
    const pub = pointFromU2fPublicKey(reg.publicKey);
    assert.equal(await k.u2f.isKeyHandleValid(APP, reg.keyHandle), true);
    assert.equal(await k.u2f.isKeyHandleValid(OTHER_APP, reg.keyHandle), false, 'the handle is bound to its appParam');
    const tampered = reg.keyHandle.slice();
    tampered[20]! ^= 1;
    assert.equal(await k.u2f.isKeyHandleValid(APP, tampered), false, 'a forged handle is not ours');

    const c1 = randomBytes(32);
    const a1 = await k.u2f.authenticate(c1, APP, reg.keyHandle);
    assert.equal(a1.userPresence, 0x01);
    assert.ok(p256Verify(pub, u2fAuthenticateSignedData(APP, c1, a1), a1.signature), 'enforce signature');

    const c2 = randomBytes(32);
    const a2 = await k.u2f.authenticate(c2, APP, reg.keyHandle, { mode: 'dont-enforce' });
    assert.equal(a2.userPresence, 0x00);
    assert.ok(p256Verify(pub, u2fAuthenticateSignedData(APP, c2, a2), a2.signature), 'dont-enforce signature');
    assert.ok(a2.counter > a1.counter, 'the counter rises');
    assert.ok(!p256Verify(pub, u2fAuthenticateSignedData(APP, c1, a2), a2.signature), 'bound to the challenge');

    await assert.rejects(k.u2f.authenticate(c1, OTHER_APP, reg.keyHandle), (e: unknown) => e instanceof Ctap1Error && e.statusWord === 0x6a80);
    // A control byte U2F does not define.
    const bad = await raw(k.channel, encodeApdu({ ins: 0x02, p1: 0x05, data: concatBytes(c1, APP, Uint8Array.of(reg.keyHandle.length), reg.keyHandle) }));
    assert.equal(bad.sw, 0x6a86);
  } finally {
    await k.close();
  }
});

test('status words: wrong length, CLA and INS not supported', async () => {
  const k = await open();
  try {
    assert.equal((await raw(k.channel, encodeApdu({ ins: 0x01, data: new Uint8Array(63) }))).sw, 0x6700, 'REGISTER needs 64 bytes');
    assert.equal((await raw(k.channel, encodeApdu({ ins: 0x02, p1: 0x03, data: new Uint8Array(64) }))).sw, 0x6700, 'AUTHENTICATE needs L');
    assert.equal((await raw(k.channel, encodeApdu({ ins: 0x02, p1: 0x03, data: concatBytes(new Uint8Array(64), Uint8Array.of(10), new Uint8Array(9)) }))).sw, 0x6700, 'L beyond the data');
    assert.equal((await raw(k.channel, encodeApdu({ ins: 0x03, data: Uint8Array.of(1) }))).sw, 0x6700, 'VERSION takes no data');
    assert.equal((await raw(k.channel, Uint8Array.of(0x00, 0x03, 0x00, 0x00, 0x00, 0x00, 0x05, 1))).sw, 0x6700, 'Lc that does not match');
    assert.equal((await raw(k.channel, encodeApdu({ cla: 0x80, ins: 0x03 }))).sw, 0x6e00);
    assert.equal((await raw(k.channel, encodeApdu({ ins: 0x40 }))).sw, 0x6d00);
    assert.equal((await raw(k.channel, Uint8Array.of(0x00, 0x03))).sw, 0x6700, 'shorter than a header');
  } finally {
    await k.close();
  }
});

test('short and extended APDU encodings are both accepted', async () => {
  const k = await open();
  try {
    const challenge = randomBytes(32);
    const data = concatBytes(challenge, APP);
    const encodings = [
      Uint8Array.of(0x00, 0x03, 0x00, 0x00), // case 1
      Uint8Array.of(0x00, 0x03, 0x00, 0x00, 0x00), // short Le
      Uint8Array.of(0x00, 0x03, 0x00, 0x00, 0x00, 0x00, 0x00), // extended Le
      // python-fido2 0.9 (Ctap1.send_apdu): extended with Lc = 0000 and Le = 0000 even without data.
      Uint8Array.of(0x00, 0x03, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00),
    ];
    for (const e of encodings) assert.equal((await raw(k.channel, e)).sw, 0x9000);
    const regShort = concatBytes(Uint8Array.of(0x00, 0x01, 0x03, 0x00, 64), data); // short Lc, no Le
    const regShortLe = concatBytes(regShort, Uint8Array.of(0x00)); // short Lc + Le
    const regExt = concatBytes(Uint8Array.of(0x00, 0x01, 0x03, 0x00, 0x00, 0x00, 64), data); // extended Lc, no Le
    for (const apdu of [regShort, regShortLe, regExt, encodeApdu({ ins: 1, data })]) {
      const { data: out, sw } = await raw(k.channel, apdu);
      assert.equal(sw, 0x9000);
      decodeRegisterResponse(out);
    }
    assert.deepEqual(parseApdu(regShortLe)?.data, data);
    assert.deepEqual(parseApdu(regExt)?.data, data);
    assert.equal(parseApdu(Uint8Array.of(0, 1, 0, 0, 0, 0, 3, 1, 2)), undefined, 'extended Lc of 3 with 2 bytes');
  } finally {
    await k.close();
  }
});

test('a touch the U2F way: 0x6985 until touched, the client polls; deny never signs and the client times out', async () => {
  const k = await open({ presence: { delayMs: 150 } });
  try {
    const challenge = randomBytes(32);
    const first = await raw(k.channel, encodeApdu({ ins: 0x01, data: concatBytes(challenge, APP) }));
    assert.equal(first.sw, 0x6985, 'no keepalive in U2F: the key answers at once');
    const events: unknown[] = [];
    const reg = await k.u2f.register(challenge, APP, { onKeepalive: (s) => events.push(s), timeoutMs: 5_000 });
    assert.deepEqual(events, ['up-needed']);
    const a = await k.u2f.authenticate(randomBytes(32), APP, reg.keyHandle, { timeoutMs: 5_000 });
    assert.equal(a.userPresence, 1);
    // dont-enforce needs no touch even on a slow key.
    const d = await k.u2f.authenticate(randomBytes(32), APP, reg.keyHandle, { mode: 'dont-enforce' });
    assert.equal(d.userPresence, 0);
  } finally {
    await k.close();
  }
  const denied = await open({ presence: 'deny' });
  try {
    await assert.rejects(denied.u2f.register(randomBytes(32), APP, { timeoutMs: 400 }), TimeoutError);
    assert.equal(await denied.u2f.getVersion(), 'U2F_V2', 'the key still answers');
  } finally {
    await denied.close();
  }
});

test('a U2F registration works with CTAP2 getAssertion (rpIdHash = appParam) and a CTAP2 ES256 credential with U2F', async () => {
  const k = await open();
  try {
    const rpId = 'u2f.example.com';
    const reg = await k.u2f.register(randomBytes(32), sha256(utf8Encode(rpId)));
    const session = new Ctap2Session(k.channel);
    const cdh = randomBytes(32);
    const ga = await session.send(
      CTAP2_CMD.getAssertion,
      new Map<number, CborValue>([
        [1, rpId],
        [2, cdh],
        [3, [{ id: reg.keyHandle, type: 'public-key' }]],
      ]),
    );
    const assertion = decodeGetAssertionResponse(ga.value);
    assert.deepEqual(assertion.credential?.id, reg.keyHandle);
    assert.ok(p256Verify(pointFromU2fPublicKey(reg.publicKey), concatBytes(assertion.authData.bytes, cdh), assertion.signature));

    // The other way: makeCredential (ES256, non-resident) → U2F AUTHENTICATE.
    const mcCdh = randomBytes(32);
    const mc = await session.send(
      CTAP2_CMD.makeCredential,
      new Map<number, CborValue>([
        [1, mcCdh],
        [2, { id: rpId }],
        [3, { id: utf8Encode('u'), name: 'u' }],
        [4, [{ alg: -7, type: 'public-key' }]],
      ]),
    );
    const att = checkAttestation(mc.value, rpId, mcCdh);
    const c = randomBytes(32);
    const auth = await k.u2f.authenticate(c, sha256(utf8Encode(rpId)), att.credentialId!);
    assert.ok(p256Verify({ x: att.publicKey!.bytes(-2), y: att.publicKey!.bytes(-3) }, u2fAuthenticateSignedData(sha256(utf8Encode(rpId)), c, auth), auth.signature));

    // An EdDSA credential cannot be used through U2F (P-256 only).
    const ed = await session.send(
      CTAP2_CMD.makeCredential,
      new Map<number, CborValue>([
        [1, mcCdh],
        [2, { id: rpId }],
        [3, { id: utf8Encode('u'), name: 'u' }],
        [4, [{ alg: -8, type: 'public-key' }]],
      ]),
    );
    const edId = parseAuthData(new Map(ed.value as Map<number, Uint8Array>).get(2)!).credentialId!;
    assert.equal(await k.u2f.isKeyHandleValid(sha256(utf8Encode(rpId)), edId), false);
  } finally {
    await k.close();
  }
});

test('--u2f-only: INIT without CBOR (NMSG clear), CTAPHID_CBOR answered ERR_INVALID_CMD, U2F works', async () => {
  const k = await open({ u2fOnly: true });
  try {
    assert.equal(k.channel.init.capabilities.cbor, false);
    assert.equal(k.channel.init.capabilities.nmsg, false);
    await assert.rejects(k.channel.cbor(Uint8Array.of(0x04)), (e: unknown) => e instanceof CtapHidError && e.code === 'UNSUPPORTED');
    await assert.rejects(
      k.channel.transact(CTAPHID.CBOR, Uint8Array.of(0x04)),
      (e: unknown) => e instanceof CtapHidError && e.hidError === CTAPHID_ERR.INVALID_CMD && e.specName === 'ERR_INVALID_CMD',
    );
    const reg = await k.u2f.register(randomBytes(32), APP);
    const c = randomBytes(32);
    const a = await k.u2f.authenticate(c, APP, reg.keyHandle);
    assert.ok(p256Verify(pointFromU2fPublicKey(reg.publicKey), u2fAuthenticateSignedData(APP, c, a), a.signature));
  } finally {
    await k.close();
  }
});

test('the authenticate response decodes like the vectors (UP byte, 4-byte counter, DER signature)', async () => {
  const k = await open();
  try {
    const reg = await k.u2f.register(randomBytes(32), APP);
    const { data, sw } = await raw(k.channel, encodeApdu({ ins: 0x02, p1: 0x03, data: concatBytes(randomBytes(32), APP, Uint8Array.of(reg.keyHandle.length), reg.keyHandle) }));
    assert.equal(sw, 0x9000);
    const ours = decodeAuthenticateResponse(data);
    for (const v of loadVectors('u2f-responses').filter((x) => x.expected.type === 'U2F_AUTHENTICATE response')) {
      const theirs = decodeAuthenticateResponse(splitResponseMaybe(fromHex(v.input)));
      assert.equal(ours.userPresence, theirs.userPresence, v.id);
      assert.equal(ours.signature[0], theirs.signature[0], `${v.id}: DER SEQUENCE`);
    }
  } finally {
    await k.close();
  }
});

test('alwaysUv turns U2F off (it cannot verify the user): every APDU answers SW_INS_NOT_SUPPORTED', async () => {
  const k = await open();
  try {
    const reg = await k.u2f.register(randomBytes(32), APP);
    const session = new Ctap2Session(k.channel);
    assert.deepEqual((await session.getInfo()).versions, ['U2F_V2', 'FIDO_2_0', 'FIDO_2_1']);
    k.key.core.state.alwaysUv = true; // as authenticatorConfig toggleAlwaysUv leaves it
    await assert.rejects(k.u2f.getVersion(), (e: unknown) => e instanceof Ctap1Error && e.statusWord === 0x6d00);
    await assert.rejects(k.u2f.authenticate(randomBytes(32), APP, reg.keyHandle, { mode: 'dont-enforce' }), (e: unknown) => e instanceof Ctap1Error && e.statusWord === 0x6d00);
    // ... and getInfo no longer advertises U2F_V2 (CTAP 2.1 §6.11.2), so a client does not fall back to it
    const on = await session.getInfo({ refresh: true });
    assert.deepEqual(on.versions, ['FIDO_2_0', 'FIDO_2_1']);
    assert.equal(on.options['alwaysUv'], true);
    k.key.core.state.alwaysUv = false;
    assert.equal(await k.u2f.isKeyHandleValid(APP, reg.keyHandle), true);
    assert.deepEqual((await session.getInfo({ refresh: true })).versions, ['U2F_V2', 'FIDO_2_0', 'FIDO_2_1'], 'U2F_V2 is back once alwaysUv is off');
  } finally {
    await k.close();
  }
});

test('a pending U2F touch is forgotten by a power cycle, and the prompt is told through its signal', async () => {
  let asked = 0;
  const signals: AbortSignal[] = [];
  let approve: ((ok: boolean) => void) | undefined;
  const k = await open({
    presence: (req) => {
      asked++;
      signals.push(req.signal);
      return new Promise<boolean>((resolve) => (approve = resolve));
    },
  });
  try {
    const reg = encodeApdu({ ins: 0x01, data: concatBytes(randomBytes(32), APP) });
    assert.equal((await raw(k.channel, reg)).sw, 0x6985);
    assert.equal((await raw(k.channel, reg)).sw, 0x6985, 'polling does not ask again');
    assert.equal(asked, 1);
    k.key.powerCycle();
    assert.equal((await raw(k.channel, reg)).sw, 0x6985);
    assert.equal(asked, 2, 'asked afresh after the power cycle');
    approve!(true);
    // Wait on the key, not on time: poll as a U2F host does (no KEEPALIVE in U2F) until the
    // touch has been taken; polls made meanwhile answer 0x6985 and do not ask again.
    let answer = await raw(k.channel, reg);
    for (let i = 0; i < 100 && answer.sw === 0x6985; i++) {
      assert.equal(asked, 2, 'a poll while the touch is being taken does not ask again');
      answer = await raw(k.channel, reg);
    }
    assert.equal(answer.sw, 0x9000, 'the touch is used');
    assert.equal((await raw(k.channel, reg)).sw, 0x6985, '... once');
    assert.equal(asked, 3, 'the next request waits for a new touch');
    assert.deepEqual(signals.map((x) => x.aborted), [true, false, false], 'the first prompt was called off by the power cycle');
  } finally {
    await k.close();
  }
});

test('closing the key calls off a U2F touch prompt still waiting in the background', async () => {
  const signals: AbortSignal[] = [];
  const k = await open({
    presence: (req) => {
      signals.push(req.signal);
      // a prompt that waits for the user until it is told to stop
      return new Promise<boolean>((resolve) => req.signal.addEventListener('abort', () => resolve(false), { once: true }));
    },
  });
  const reg = encodeApdu({ ins: 0x01, data: concatBytes(randomBytes(32), APP) });
  assert.equal((await raw(k.channel, reg)).sw, 0x6985, 'the touch prompt is up');
  assert.equal(signals.length, 1);
  assert.equal(signals[0]!.aborted, false);
  await k.close();
  assert.equal(signals[0]!.aborted, true, 'close() told the prompt to stop');
});

/** python-fido2 0.9 (an independent client): Ctap1 and Fido2Client's U2F fallback over CTAPHID-over-UDP. */
const PYFIDO2_U2F = String.raw`
import hashlib, os, socket, sys
from fido2.hid import CtapHidDevice
from fido2.hid.base import CtapHidConnection, HidDescriptor
from fido2.ctap1 import Ctap1, ApduError
from fido2.client import Fido2Client
from fido2.server import Fido2Server
from fido2.webauthn import PublicKeyCredentialRpEntity

class Udp(CtapHidConnection):
    def __init__(self, port):
        self.addr = ("127.0.0.1", port)
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(15)
    def write_packet(self, data):
        self.sock.sendto(bytes(data), self.addr)
    def read_packet(self):
        return self.sock.recvfrom(256)[0]
    def close(self):
        self.sock.close()

dev = CtapHidDevice(HidDescriptor("udp", 0, 0, 64, 64), Udp(int(sys.argv[1])))
c1 = Ctap1(dev)
assert c1.get_version() == "U2F_V2"
print("ok version")
app, chal = hashlib.sha256(b"u2f.example.com").digest(), os.urandom(32)
reg = c1.register(chal, app)
reg.verify(app, chal)
print("ok register")
chal = os.urandom(32)
sig = c1.authenticate(chal, app, reg.key_handle)
sig.verify(app, chal, reg.public_key)
assert sig.user_presence & 1
print("ok authenticate")
for other, want in ((app, 0x6985), (hashlib.sha256(b"x").digest(), 0x6A80)):
    try:
        c1.authenticate(chal, other, reg.key_handle, check_only=True)
        raise SystemExit("check-only answered 9000")
    except ApduError as e:
        assert e.code == want, hex(e.code)
print("ok check-only")
server = Fido2Server(PublicKeyCredentialRpEntity("u2f.example.com", "RP"), attestation="direct")
client = Fido2Client(dev, "https://u2f.example.com")
opts, state = server.register_begin({"id": b"user-1", "name": "u"}, user_verification="discouraged")
resp = client.make_credential(opts["publicKey"])
cred = server.register_complete(state, resp.client_data, resp.attestation_object).credential_data
assert resp.attestation_object.fmt == "fido-u2f", resp.attestation_object.fmt
opts, state = server.authenticate_begin([cred], user_verification="discouraged")
r = client.get_assertion(opts["publicKey"]).get_response(0)
server.authenticate_complete(state, [cred], r.credential_id, r.client_data, r.authenticator_data, r.signature)
print("ok webauthn")
`;

test('python-fido2 (independent client) drives U2F on a --u2f-only key over UDP: version, register, authenticate, check-only, WebAuthn via U2F', { timeout: 60_000 }, async (t) => {
  const probe = spawnSync('/usr/bin/python3', ['-c', 'import fido2'], { encoding: 'utf8' });
  if (probe.error || probe.status !== 0) {
    t.skip('python3-fido2 is not installed (apt-get install python3-fido2)');
    return;
  }
  const key = await VirtualAuthenticator.create({ u2fOnly: true });
  const server = await serveVirtualUdp(key, { host: '127.0.0.1', port: 0 });
  try {
    const child = spawn('/usr/bin/python3', ['-c', PYFIDO2_U2F, String(server.port)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
    assert.equal(code, 0, out);
    for (const step of ['version', 'register', 'authenticate', 'check-only', 'webauthn']) assert.match(out, new RegExp(`^ok ${step}$`, 'm'));
  } finally {
    await server.close();
    await key.close();
  }
});

/** libfido2 (an independent client) forced to U2F, attached to the UDP port through fido_dev_set_io_functions. */
const LIBFIDO2_U2F = String.raw`
#include <arpa/inet.h>
#include <fido.h>
#include <fido/es256.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
static int g_port;
struct h { int fd; struct sockaddr_in peer; };
static void *u_open(const char *p) {
	struct h *h = calloc(1, sizeof(*h)); struct sockaddr_in l; (void)p;
	h->fd = socket(AF_INET, SOCK_DGRAM, 0);
	memset(&l, 0, sizeof(l)); l.sin_family = AF_INET; l.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(h->fd, (struct sockaddr *)&l, sizeof(l)) != 0) return NULL;
	h->peer.sin_family = AF_INET; h->peer.sin_port = htons((uint16_t)g_port); h->peer.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	return h;
}
static void u_close(void *x) { struct h *h = x; close(h->fd); free(h); }
static int u_read(void *x, unsigned char *buf, size_t len, int ms) {
	struct h *h = x; struct pollfd p = { .fd = h->fd, .events = POLLIN }; unsigned char pkt[256]; ssize_t n;
	if (poll(&p, 1, ms < 0 ? 15000 : ms) <= 0) return -1;
	if ((n = recv(h->fd, pkt, sizeof(pkt), 0)) <= 0) return -1;
	if ((size_t)n > len) n = (ssize_t)len;
	memcpy(buf, pkt, (size_t)n); return (int)n;
}
static int u_write(void *x, const unsigned char *buf, size_t len) {
	struct h *h = x;
	if (len < 2 || sendto(h->fd, buf + 1, len - 1, 0, (struct sockaddr *)&h->peer, sizeof(h->peer)) != (ssize_t)(len - 1)) return -1;
	return (int)len;
}
#define CHECK(w, e) do { int r_ = (e); if (r_ != FIDO_OK) { fprintf(stderr, "FAIL %s: %s\n", w, fido_strerr(r_)); return 1; } } while (0)
int main(int argc, char **argv) {
	fido_dev_io_t io = { u_open, u_close, u_read, u_write };
	unsigned char cdh[32]; const char *rp = "u2f.example.com";
	(void)argc; g_port = atoi(argv[1]); memset(cdh, 0x42, sizeof(cdh));
	fido_init(0);
	fido_dev_t *dev = fido_dev_new();
	CHECK("io", fido_dev_set_io_functions(dev, &io));
	CHECK("open", fido_dev_open(dev, "udp"));
	if (fido_dev_is_fido2(dev)) { fprintf(stderr, "FAIL a --u2f-only key looks like FIDO2\n"); return 1; }
	fido_cred_t *c = fido_cred_new();
	CHECK("type", fido_cred_set_type(c, COSE_ES256));
	CHECK("cdh", fido_cred_set_clientdata_hash(c, cdh, sizeof(cdh)));
	CHECK("rp", fido_cred_set_rp(c, rp, "RP"));
	CHECK("user", fido_cred_set_user(c, (const unsigned char *)"u", 1, "u", "u", NULL));
	CHECK("make_cred", fido_dev_make_cred(dev, c, NULL));
	CHECK("cred_verify", fido_cred_verify(c));
	if (strcmp(fido_cred_fmt(c), "fido-u2f") != 0) { fprintf(stderr, "FAIL fmt %s\n", fido_cred_fmt(c)); return 1; }
	printf("ok register\n");
	fido_assert_t *a = fido_assert_new();
	CHECK("a cdh", fido_assert_set_clientdata_hash(a, cdh, sizeof(cdh)));
	CHECK("a rp", fido_assert_set_rp(a, rp));
	CHECK("a allow", fido_assert_allow_cred(a, fido_cred_id_ptr(c), fido_cred_id_len(c)));
	CHECK("get_assert", fido_dev_get_assert(dev, a, NULL));
	es256_pk_t *pk = es256_pk_new();
	CHECK("pk", es256_pk_from_ptr(pk, fido_cred_pubkey_ptr(c), fido_cred_pubkey_len(c)));
	CHECK("assert_verify", fido_assert_verify(a, 0, COSE_ES256, pk));
	printf("ok authenticate\n");
	fido_cred_t *x = fido_cred_new();
	fido_cred_set_type(x, COSE_ES256); fido_cred_set_clientdata_hash(x, cdh, sizeof(cdh)); fido_cred_set_rp(x, rp, "RP");
	fido_cred_set_user(x, (const unsigned char *)"v", 1, "v", "v", NULL);
	CHECK("exclude", fido_cred_exclude(x, fido_cred_id_ptr(c), fido_cred_id_len(c)));
	if (fido_dev_make_cred(dev, x, NULL) != FIDO_ERR_CREDENTIAL_EXCLUDED) { fprintf(stderr, "FAIL exclude\n"); return 1; }
	printf("ok excluded\n");
	fido_dev_close(dev);
	return 0;
}
`;

test('libfido2 (independent client) drives U2F on a --u2f-only key over UDP: register, authenticate, excluded credential (check-only)', { timeout: 60_000 }, async (t) => {
  const pc = spawnSync('pkg-config', ['--cflags', '--libs', 'libfido2'], { encoding: 'utf8' });
  if (pc.error || pc.status !== 0) {
    t.skip('libfido2-dev is not installed (apt-get install libfido2-dev pkg-config)');
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'u2f-libfido2-'));
  try {
    writeFileSync(join(dir, 'u2f.c'), LIBFIDO2_U2F);
    const cc = spawnSync('cc', ['-o', join(dir, 'u2f'), join(dir, 'u2f.c'), ...pc.stdout.trim().split(/\s+/)], { encoding: 'utf8' });
    if (cc.error) {
      t.skip('no C compiler (apt-get install gcc)');
      return;
    }
    assert.equal(cc.status, 0, cc.stderr);
    const key = await VirtualAuthenticator.create({ u2fOnly: true });
    const server = await serveVirtualUdp(key, { host: '127.0.0.1', port: 0 });
    try {
      const child = spawn(join(dir, 'u2f'), [String(server.port)], { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      child.stderr.on('data', (d: Buffer) => (out += d.toString()));
      const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
      assert.equal(code, 0, out);
      for (const step of ['register', 'authenticate', 'excluded']) assert.match(out, new RegExp(`^ok ${step}$`, 'm'));
    } finally {
      await server.close();
      await key.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
