import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CborError, CborMapReader, decodeCbor, encodeCbor, type CborValue } from '../../src/cbor/index.js';
import { sha256 } from '../../src/crypto/hashes.js';
import { CTAP2_CMD } from '../../src/ctap2/commands.js';
import { ClientPin, decodeClientPinResponse, PinUvAuthToken } from '../../src/ctap2/client-pin.js';
import { PIN_PROTOCOL_1, PIN_PROTOCOL_2 } from '../../src/ctap2/pin-protocol.js';
import {
  CREDENTIAL_MANAGEMENT_SUBCOMMAND as SUB,
  CredentialManagement,
  credentialManagementAuthMessage,
  decodeCredentialManagementResponse,
  MAX_ENUMERATED_CREDENTIALS,
  MAX_ENUMERATED_RPS,
} from '../../src/ctap2/credential-management.js';
import { PERMISSION, UnsupportedFeatureError } from '../../src/ctap2/permissions.js';
import { fromHex, toHex, utf8Encode } from '../../src/util/bytes.js';
import { loadVectors } from '../helpers/vectors.js';
import { FakeKey, FakeStatus } from './fake-ctap2-key.js';

const responses = loadVectors('ctap2-responses');

function body(id: string): unknown {
  const v = responses.find((x) => x.id === id)!;
  let b = fromHex(v.input);
  if ((v.expected as { framing: string }).framing === 'status+cbor') b = b.subarray(1);
  return decodeCbor(b).value;
}

test('libfido2 RKLIST first credential: typed decoder agrees with every expected field', () => {
  const v = responses.find((x) => x.id === 'libfido2-credman-enumerate-credentials-first')!;
  const d = (v.expected as { decoded: Record<string, Record<string, string> & { [k: string]: unknown }> }).decoded;
  const r = decodeCredentialManagementResponse(body(v.id));
  assert.equal(toHex(r.user!.id), d.user!.id);
  assert.equal(r.user!.name, d.user!.name);
  assert.equal(r.user!.displayName, d.user!.displayName);
  assert.equal(toHex(r.credentialID!.id), d.credentialID!.id);
  assert.equal(r.credentialID!.type, d.credentialID!.type);
  assert.equal(r.publicKey!.kty, d.publicKey!['1']);
  assert.equal(r.publicKey!.alg, d.publicKey!['3']);
  assert.equal(r.publicKey!.crv, d.publicKey!['-1']);
  assert.equal(toHex(r.publicKey!.x!), d.publicKey!['-2']);
  assert.equal(toHex(r.publicKey!.y!), d.publicKey!['-3']);
  assert.equal(r.totalCredentials, d.totalCredentials);
  assert.equal(r.credProtect, d.credProtect);
});

test('kanidm getCredsMetadata and enumerateRPs (explicit zero) vectors', () => {
  const m = decodeCredentialManagementResponse(body('kanidm-credman-getcredsmetadata-response'));
  assert.equal(m.existingResidentCredentialsCount, 3);
  assert.equal(m.maxPossibleRemainingResidentCredentialsCount, 22);
  assert.equal(decodeCredentialManagementResponse(body('kanidm-credman-enumeraterps-zero-yubikey5')).totalRPs, 0);
  // Feitian keys answer with an empty body instead
  assert.deepEqual(decodeCredentialManagementResponse(undefined), {});
});

test('a reply with a wrong-length rpIDHash is rejected', () => {
  assert.throws(() => decodeCredentialManagementResponse(new Map([[4, new Uint8Array(31)]])), /32 bytes/);
});

interface Cred {
  rpId: string;
  userId: Uint8Array;
  name: string;
  credId: Uint8Array;
}

/** A credential store behind credentialManagement, checking pinUvAuthParam as a key does. */
function credStoreKey(command: number, options: Record<string, boolean>, creds: Cred[]): FakeKey {
  const key = new FakeKey({ pin: '1234', options: { clientPin: true, pinUvAuthToken: true, ...options } });
  let rpCursor: string[] = [];
  let credCursor: Cred[] = [];
  const pub = new Map<number, CborValue>([[1, 2], [3, -7], [-1, 1], [-2, new Uint8Array(32).fill(1)], [-3, new Uint8Array(32).fill(2)]]);
  const credReply = (c: Cred, total?: number): Map<number, CborValue> => {
    const m = new Map<number, CborValue>([
      [6, new Map<string, CborValue>([['id', c.userId], ['name', c.name]])],
      [7, new Map<string, CborValue>([['id', c.credId], ['type', 'public-key']])],
      [8, pub],
      [0x0a, 1],
    ]);
    if (total !== undefined) m.set(9, total);
    return m;
  };
  key.handlers.set(command, (p) => {
    const sub = p!.uint(1);
    const params = p!.raw(2) as Map<number, CborValue> | undefined;
    if ([SUB.getCredsMetadata, SUB.enumerateRPsBegin, SUB.enumerateCredentialsBegin, SUB.deleteCredential, SUB.updateUserInformation].includes(sub as 1)) {
      key.verifyToken(p!.raw(3), credentialManagementAuthMessage(sub, params), p!.raw(4), PERMISSION.cm);
    }
    const rps = [...new Set(creds.map((c) => c.rpId))];
    switch (sub) {
      case SUB.getCredsMetadata:
        return new Map([[1, creds.length], [2, 10 - creds.length]]);
      case SUB.enumerateRPsBegin:
        if (rps.length === 0) throw new FakeStatus(0x2e);
        rpCursor = rps.slice(1);
        return new Map<number, CborValue>([[3, new Map([['id', rps[0]!]])], [4, sha256(utf8Encode(rps[0]!))], [5, rps.length]]);
      case SUB.enumerateRPsGetNextRP: {
        const rp = rpCursor.shift();
        if (!rp) throw new FakeStatus(0x30);
        return new Map<number, CborValue>([[3, new Map([['id', rp]])], [4, sha256(utf8Encode(rp))]]);
      }
      case SUB.enumerateCredentialsBegin: {
        const hash = new CborMapReader(params!, 'p').bytes(1);
        const list = creds.filter((c) => toHex(sha256(utf8Encode(c.rpId))) === toHex(hash));
        if (!list.length) throw new FakeStatus(0x2e);
        credCursor = list.slice(1);
        return credReply(list[0]!, list.length);
      }
      case SUB.enumerateCredentialsGetNextCredential: {
        const c = credCursor.shift();
        if (!c) throw new FakeStatus(0x30);
        return credReply(c);
      }
      case SUB.deleteCredential: {
        const id = (new CborMapReader(params!, 'p').raw(2) as Map<string, unknown>).get('id') as Uint8Array;
        const i = creds.findIndex((c) => toHex(c.credId) === toHex(id));
        if (i < 0) throw new FakeStatus(0x2e);
        creds.splice(i, 1);
        return undefined;
      }
      case SUB.updateUserInformation: {
        const r = new CborMapReader(params!, 'p');
        const id = (r.raw(2) as Map<string, unknown>).get('id') as Uint8Array;
        const user = r.raw(3) as Map<string, unknown>;
        const c = creds.find((x) => toHex(x.credId) === toHex(id));
        if (!c) throw new FakeStatus(0x2e);
        c.name = user.get('name') as string;
        return undefined;
      }
      default:
        throw new FakeStatus(0x3e);
    }
  });
  return key;
}

function sampleCreds(): Cred[] {
  const mk = (rpId: string, n: number): Cred => ({ rpId, userId: Uint8Array.of(n), name: `user${n}@${rpId}`, credId: Uint8Array.of(0xc0, n) });
  return [mk('a.example', 1), mk('b.example', 2), mk('b.example', 3), mk('c.example', 4)];
}

for (const [label, command, options] of [
  ['credMgmt (0x0a)', CTAP2_CMD.credentialManagement, { credMgmt: true }],
  ['credentialMgmtPreview (0x41)', CTAP2_CMD.credentialManagementPreview, { credentialMgmtPreview: true }],
] as const) {
  for (const protocol of [1, 2] as const) {
    test(`${label}, protocol ${protocol}: metadata, walk every RP and credential, delete, update`, async () => {
      const creds = sampleCreds();
      const key = credStoreKey(command, options, creds);
      const session = key.session();
      const token = await new ClientPin(session, { protocol }).getPinUvAuthTokenUsingPin('1234', { permissions: ['cm'] });
      const cm = await CredentialManagement.open(session, token);
      assert.equal(cm.command, command);
      assert.deepEqual(await cm.getCredsMetadata(), { existingResidentCredentialsCount: 4, maxPossibleRemainingResidentCredentialsCount: 6 });
      const rps = await cm.enumerateRps();
      assert.deepEqual(rps.map((r) => r.rp.id), ['a.example', 'b.example', 'c.example']);
      const b = await cm.enumerateCredentials(rps[1]!.rpIDHash);
      assert.deepEqual(b.map((c) => c.user.name), ['user2@b.example', 'user3@b.example']);
      assert.equal(b[0]!.publicKey.kty, 2);
      assert.equal(b[0]!.credProtect, 1);
      // getNext carries no auth; begin does
      const nexts = key.requests.filter((r) => r.command === command && r.params!.get(1) === SUB.enumerateCredentialsGetNextCredential);
      assert.equal(nexts.length, 1);
      assert.equal(nexts[0]!.params!.has(4), false);
      await cm.deleteCredential(b[0]!.credentialID);
      assert.deepEqual(creds.map((c) => c.name), ['user1@a.example', 'user3@b.example', 'user4@c.example']);
      // the exact request: {1: 6, 2: {2: {id, type}}, 3: protocol, 4: param}
      const del = key.last(command).params!;
      assert.deepEqual([...del.keys()], [1, 2, 3, 4]);
      assert.equal(del.get(3), protocol);
      if (command === CTAP2_CMD.credentialManagement) {
        await cm.updateUserInformation(Uint8Array.of(0xc0, 3), { id: Uint8Array.of(3), name: 'renamed' });
        assert.equal(creds[1]!.name, 'renamed');
      } else {
        await assert.rejects(cm.updateUserInformation(Uint8Array.of(0xc0, 3), { id: Uint8Array.of(3), name: 'x' }), /preview/);
      }
      assert.deepEqual(await cm.enumerateCredentials(sha256(utf8Encode('nobody.example'))), []);
    });
  }
}

test('no credentials: NO_CREDENTIALS and an empty body both give an empty list', async () => {
  const key = credStoreKey(CTAP2_CMD.credentialManagement, { credMgmt: true }, []);
  const session = key.session();
  const token = await new ClientPin(session).getPinUvAuthTokenUsingPin('1234', { permissions: ['cm'] });
  const cm = await CredentialManagement.open(session, token);
  assert.deepEqual(await cm.enumerateRps(), []);
  key.handlers.set(CTAP2_CMD.credentialManagement, () => undefined);
  assert.deepEqual(await cm.enumerateRps(), []);
});

test('a key without credential management, and a token without cm, are refused before sending', async () => {
  const key = new FakeKey({ pin: '1234' });
  const session = key.session();
  const cp = new ClientPin(session);
  const token = await cp.getPinUvAuthTokenUsingPin('1234', { permissions: ['cm'] });
  const err = await CredentialManagement.open(session, token).catch((e: unknown) => e);
  assert.ok(err instanceof UnsupportedFeatureError);
  assert.match(err.message, /does not support credential management/);
  const key2 = credStoreKey(CTAP2_CMD.credentialManagement, { credMgmt: true }, sampleCreds());
  const t2 = await new ClientPin(key2.session()).getPinUvAuthTokenUsingPin('1234', { permissions: ['mc'] });
  await assert.rejects(CredentialManagement.open(key2.session(), t2), /lacks the cm/);
});

test('pinUvAuthParam covers subCommand || canonical CBOR(subCommandParams)', () => {
  const params = new Map<number, CborValue>([[1, new Uint8Array(32).fill(7)]]);
  assert.equal(toHex(credentialManagementAuthMessage(4, params)), '04' + toHex(encodeCbor(params)));
  assert.equal(toHex(credentialManagementAuthMessage(1)), '01');
  assert.equal(toHex(encodeCbor(params)).slice(0, 6), 'a10158');
});

test('libfido2 recorded RPLIST and RKLIST streams replay through the enumerate walks', async () => {
  const packets = loadVectors('ctaphid-packets');
  const payloads = (id: string): Uint8Array[] =>
    (packets.find((v) => v.id === id)!.expected as { messages: { payload: string }[] }).messages.map((m) => fromHex(m.payload));
  const queue = [...payloads('libfido2-wiredata-cbor-credman-rplist'), ...payloads('libfido2-wiredata-cbor-credman-rklist')];
  const key = new FakeKey({ pin: '1234', options: { clientPin: true, credMgmt: true } });
  key.handlers.set(CTAP2_CMD.credentialManagement, () => {
    const p = queue.shift()!;
    assert.equal(p[0], 0);
    return decodeCbor(p.subarray(1)).value as CborValue;
  });
  const session = key.session();
  const token = new PinUvAuthToken(PIN_PROTOCOL_1, new Uint8Array(16), PERMISSION.cm);
  const cm = await CredentialManagement.open(session, token);
  const rps = await cm.enumerateRps();
  assert.deepEqual(rps.map((r) => r.rp.id), ['yubico.com', 'yubikey.org', 'webauthn.dev']);
  assert.equal(toHex(rps[0]!.rpIDHash), toHex(sha256(utf8Encode('yubico.com'))), 'rpIDHash is SHA-256 of the id');
  const creds = await cm.enumerateCredentials(rps[0]!.rpIDHash);
  assert.equal(creds.length, 5);
  assert.deepEqual(creds.map((c) => toHex(c.credentialID.id)), [
    '19f7780ca0bcb9a6d51ed787fb6c8003',
    'd8274b25ed19ef11afa6897b8450e762',
    '005ddfefe2f306b2a5464d98bc1465c1',
    '0a265b7e1a2aba705f182614b271ca98',
    'fba6bec101f67a81f9cd6d20417a1c40',
  ]);
  assert.deepEqual(creds.map((c) => c.publicKey.alg), [-7, -8, -8, -7, -7], 'ES256 and EdDSA keys');
  assert.ok(creds.every((c) => c.user.name === 'bob banana' && c.credProtect === 1));
  assert.equal(queue.length, 0, 'exactly the recorded number of replies was consumed');
  // the walk sent begin (authenticated) then getNext (not) the right number of times
  const subs = key.requests.filter((r) => r.command === CTAP2_CMD.credentialManagement).map((r) => r.params!.get(1));
  assert.deepEqual(subs, [2, 3, 3, 4, 5, 5, 5, 5]);
});

test('libfido2 recorded credman metadata and clientPin replies decode with the typed decoders', () => {
  const packets = loadVectors('ctaphid-packets');
  const payload = (id: string): Uint8Array => fromHex((packets.find((v) => v.id === id)!.expected as { messages: { payload: string }[] }).messages[0]!.payload);
  const meta = decodeCredentialManagementResponse(decodeCbor(payload('libfido2-wiredata-cbor-credman-meta').subarray(1)).value);
  assert.deepEqual(meta, { ...meta, existingResidentCredentialsCount: 0, maxPossibleRemainingResidentCredentialsCount: 25 });
  const retries = decodeClientPinResponse(decodeCbor(payload('libfido2-wiredata-cbor-retries').subarray(1)).value);
  assert.equal(retries.pinRetries, 8);
  const tok = decodeClientPinResponse(decodeCbor(payload('libfido2-wiredata-cbor-pintoken').subarray(1)).value);
  assert.equal(toHex(tok.pinUvAuthToken!), 'ee404c85d7a12f56c44ec59341d03b23');
});

/** A key whose enumerations report `totalRPs` / `totalCredentials` and answer every getNext, counting round trips (cut off at 20,000 so the old 100,000 bound fails instead of running long). */
function countingCredKey(totals: { rps: number; creds: number; capacity?: [number, number] }): { key: FakeKey; calls: () => number } {
  const key = new FakeKey({ pin: '1234', options: { clientPin: true, pinUvAuthToken: true, credMgmt: true } });
  let calls = 0;
  const rp = new Map<number, CborValue>([[3, new Map([['id', 'example.com']])], [4, sha256(utf8Encode('example.com'))]]);
  const cred = new Map<number, CborValue>([
    [6, new Map<string, CborValue>([['id', new Uint8Array(8)], ['name', 'u']])],
    [7, new Map<string, CborValue>([['id', new Uint8Array(16)], ['type', 'public-key']])],
    [8, new Map<number, CborValue>([[1, 2], [3, -7], [-1, 1], [-2, new Uint8Array(32).fill(1)], [-3, new Uint8Array(32).fill(2)]])],
  ]);
  key.handlers.set(CTAP2_CMD.credentialManagement, (p) => {
    if (++calls > 20_000) throw new Error('runaway enumeration (more than 20000 round trips)');
    switch (p!.uint(1)) {
      case SUB.getCredsMetadata:
        return new Map([[1, totals.capacity?.[0] ?? 0], [2, totals.capacity?.[1] ?? 0]]);
      case SUB.enumerateRPsBegin:
        return new Map([...rp, [5, totals.rps]]);
      case SUB.enumerateRPsGetNextRP:
        return rp;
      case SUB.enumerateCredentialsBegin:
        return new Map([...cred, [9, totals.creds]]);
      default:
        return cred;
    }
  });
  return { key, calls: () => calls };
}

test('totals above the ceilings (2,000 RPs, 10,000 credentials) are refused before walking', async () => {
  assert.equal(MAX_ENUMERATED_RPS, 2000);
  assert.equal(MAX_ENUMERATED_CREDENTIALS, 10000);
  const token = new PinUvAuthToken(PIN_PROTOCOL_2, new Uint8Array(32), PERMISSION.cm);
  const a = countingCredKey({ rps: 50_000, creds: 50_000 });
  const cm = await CredentialManagement.open(a.key.session(), token);
  await assert.rejects(cm.enumerateRps(), (e: unknown) => e instanceof CborError && /totalRPs 50000 is implausible: this client walks at most 2000/.test(e.message));
  await assert.rejects(cm.enumerateCredentials(sha256(utf8Encode('example.com'))), (e: unknown) => e instanceof CborError && /totalCredentials 50000 is implausible/.test(e.message));
  assert.equal(a.calls(), 2, 'one begin each, no getNext');
  // at the ceiling the walk runs, bounded
  const b = countingCredKey({ rps: 2000, creds: 1 });
  assert.equal((await (await CredentialManagement.open(b.key.session(), token)).enumerateRps()).length, 2000);
  assert.equal(b.calls(), 2000);
});

test('after getCredsMetadata, totals are bounded by the key\'s own capacity (existing + remaining)', async () => {
  const token = new PinUvAuthToken(PIN_PROTOCOL_2, new Uint8Array(32), PERMISSION.cm);
  const { key, calls } = countingCredKey({ rps: 26, creds: 26, capacity: [5, 20] });
  const cm = await CredentialManagement.open(key.session(), token);
  assert.deepEqual(await cm.getCredsMetadata(), { existingResidentCredentialsCount: 5, maxPossibleRemainingResidentCredentialsCount: 20 });
  await assert.rejects(cm.enumerateRps(), (e: unknown) => e instanceof CborError && /totalRPs 26 is implausible: the key said it holds at most 25/.test(e.message));
  await assert.rejects(cm.enumerateCredentials(sha256(utf8Encode('example.com'))), /totalCredentials 26 is implausible/);
  assert.equal(calls(), 3);
  const ok = countingCredKey({ rps: 25, creds: 25, capacity: [25, 0] });
  const cm2 = await CredentialManagement.open(ok.key.session(), token);
  await cm2.getCredsMetadata();
  assert.equal((await cm2.enumerateCredentials(sha256(utf8Encode('example.com')))).length, 25);
  // a key claiming more credentials than the ceiling in its metadata is refused too
  const big = countingCredKey({ rps: 1, creds: 1, capacity: [10_001, 0] });
  await assert.rejects((await CredentialManagement.open(big.key.session(), token)).getCredsMetadata(), /10001 discoverable credentials, more than this client handles/);
});

test('a largeBlobKey that is not 32 bytes is a typed error', () => {
  for (const n of [0, 31, 33, 1000]) {
    assert.throws(() => decodeCredentialManagementResponse(new Map([[0x0b, new Uint8Array(n)]])), (e: unknown) => e instanceof CborError, `${n} bytes`);
  }
  assert.equal(decodeCredentialManagementResponse(new Map([[0x0b, new Uint8Array(32)]])).largeBlobKey!.length, 32);
});
