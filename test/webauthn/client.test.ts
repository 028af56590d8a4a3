import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeCbor } from '../../src/cbor/index.js';
import { WebAuthnError } from '../../src/webauthn/errors.js';
import { base64urlEncode } from '../../src/webauthn/base64url.js';
import { bench, challenge, creationOptions, rpVerifyAuthentication, rpVerifyRegistration, RP_ID } from './harness.js';

const isName = (name: string) => (e: unknown) => e instanceof WebAuthnError && e.name === name;

function attObj(bytes: ArrayBuffer): { fmt: string; attStmt: Map<string, unknown>; authData: Uint8Array } {
  const m = decodeCbor(new Uint8Array(bytes)).value as Map<string, unknown>;
  return { fmt: m.get('fmt') as string, attStmt: m.get('attStmt') as Map<string, unknown>, authData: m.get('authData') as Uint8Array };
}

for (const [algName, alg] of [['ES256', -7], ['EdDSA', -8]] as const) {
  test(`${algName}, non-resident: registration and login verify at the RP; userHandle is null`, async () => {
    const b = await bench();
    try {
      const opts = creationOptions({ pubKeyCredParams: [{ type: 'public-key', alg }] });
      const reg = await b.client.create(opts);
      assert.equal(reg.response.getPublicKeyAlgorithm(), alg);
      const info = await rpVerifyRegistration(reg, opts.challenge);
      assert.equal(info.credential.id, reg.id);
      assert.equal(info.fmt, 'none');
      assert.equal(info.aaguid, '00000000-0000-0000-0000-000000000000', 'attestation none zeroes the AAGUID');
      assert.ok(b.events.some((e) => e.type === 'touch-required'), 'the app was told to touch the key');

      const c = challenge();
      const login = await b.client.get({ challenge: c, rpId: RP_ID, allowCredentials: [{ type: 'public-key', id: reg.rawId }] });
      assert.equal(login.id, reg.id);
      assert.equal(login.response.userHandle, null);
      assert.equal('userHandle' in login.toJSON().response, false);
      const auth = await rpVerifyAuthentication(login, c, info.credential);
      assert.ok(auth.newCounter > 0);
      // the SPKI public key is the same key the RP extracted from the COSE key
      assert.ok(reg.response.getPublicKey()!.byteLength > 0);
    } finally {
      await b.close();
    }
  });

  test(`${algName}, resident: a discoverable login returns the registered user.id as userHandle`, async () => {
    const b = await bench({ algorithms: [-7, -8] });
    try {
      const userId = new Uint8Array([0x21, 0x22, 0x23, 0x24, 0x25, 0x26, 0x27, 0x28, 0x29, 0x2a, 0x2b, 0x2c, 0x2d, 0x2e, 0x2f, 0x30]);
      const opts = creationOptions({ pubKeyCredParams: [{ type: 'public-key', alg }], authenticatorSelection: { residentKey: 'required' }, extensions: { credProps: true } }, userId);
      const reg = await b.client.create(opts);
      assert.deepEqual(reg.getClientExtensionResults(), { credProps: { rk: true } });
      const info = await rpVerifyRegistration(reg, opts.challenge);
      const c = challenge();
      const login = await b.client.get({ challenge: c, rpId: RP_ID });
      assert.equal(login.id, reg.id);
      assert.deepEqual(new Uint8Array(login.response.userHandle!), userId);
      assert.equal(login.toJSON().response.userHandle, base64urlEncode(userId));
      await rpVerifyAuthentication(login, c, info.credential);
    } finally {
      await b.close();
    }
  });
}

for (const protocol of [1, 2] as const) {
  test(`UV required through a PIN, PIN/UV auth protocol ${protocol}: a wrong PIN is reported, never retried by itself`, async () => {
    const pins = ['9999', '1234'];
    const b = await bench(
      { pin: '1234', pinUvAuthProtocols: [protocol] },
      { 'pin-required': () => pins.shift()!, 'pin-invalid': () => pins.shift() ?? null },
    );
    try {
      const opts = creationOptions({ authenticatorSelection: { residentKey: 'required', userVerification: 'required' } });
      const reg = await b.client.create(opts);
      const req = b.events.find((e) => e.type === 'pin-required');
      assert.deepEqual(req, { type: 'pin-required', reason: 'uv-required', retriesLeft: 8, device: req!.device });
      const invalid = b.events.find((e) => e.type === 'pin-invalid');
      assert.equal(invalid?.type === 'pin-invalid' && invalid.retriesLeft, 7);
      const info = await rpVerifyRegistration(reg, opts.challenge, true);
      assert.equal(info.userVerified, true);

      pins.push('1234');
      const c = challenge();
      const login = await b.client.get({ challenge: c, rpId: RP_ID, userVerification: 'required' });
      assert.equal(login.id, reg.id);
      await rpVerifyAuthentication(login, c, info.credential, true);
      assert.equal(b.events.filter((e) => e.type === 'pin-required').length, 2);
    } finally {
      await b.close();
    }
  });
}

test('a PIN the app does not give means NotAllowedError, and a key with no PIN set is reported as such', async () => {
  const b = await bench({ pin: '1234' });
  try {
    await assert.rejects(b.client.create(creationOptions({ authenticatorSelection: { userVerification: 'required' } })), (e: unknown) => isName('NotAllowedError')(e) && (e as WebAuthnError).ctap === 'CTAP2_ERR_PUAT_REQUIRED');
  } finally {
    await b.close();
  }
  const noPin = await bench({}, { 'pin-required': () => '1234' });
  try {
    await assert.rejects(noPin.client.create(creationOptions({ authenticatorSelection: { userVerification: 'required' } })), (e: unknown) => isName('NotAllowedError')(e) && (e as WebAuthnError).ctap === 'CTAP2_ERR_PIN_NOT_SET');
    assert.equal(noPin.events.length, 0, 'no PIN was asked for, none was guessed');
  } finally {
    await noPin.close();
  }
});

test('built-in UV is used first; preferred UV on a key with UV verifies without a PIN', async () => {
  const b = await bench({ uv: 'auto', pin: '1234' }, { 'pin-required': () => { throw new Error('no PIN expected'); } });
  try {
    const opts = creationOptions({ authenticatorSelection: { userVerification: 'preferred' } });
    const reg = await b.client.create(opts);
    const info = await rpVerifyRegistration(reg, opts.challenge, true);
    assert.equal(info.userVerified, true);
  } finally {
    await b.close();
  }
});

test('attestation direct: packed with the batch certificate, verified by the RP; none: fmt none', async () => {
  const b = await bench();
  try {
    const opts = creationOptions({ attestation: 'direct' });
    const reg = await b.client.create(opts);
    const a = attObj(reg.response.attestationObject);
    assert.equal(a.fmt, 'packed');
    assert.ok(Array.isArray(a.attStmt.get('x5c')));
    const info = await rpVerifyRegistration(reg, opts.challenge);
    assert.equal(info.fmt, 'packed');
    assert.notEqual(info.aaguid, '00000000-0000-0000-0000-000000000000');
    const none = await b.client.create(creationOptions({ attestation: 'none' }));
    assert.equal(attObj(none.response.attestationObject).fmt, 'none');
    assert.equal(attObj(none.response.attestationObject).attStmt.size, 0);
  } finally {
    await b.close();
  }
});

test('prf: enabled with results at create (hmac-secret-mc), the same results at get; eval and evalByCredential', async () => {
  const b = await bench();
  try {
    const first = new Uint8Array(32).fill(7);
    const second = new Uint8Array(5).fill(1);
    const opts = creationOptions({ authenticatorSelection: { residentKey: 'required' }, extensions: { prf: { eval: { first } } } });
    const reg = await b.client.create(opts);
    const created = reg.getClientExtensionResults() as { prf: { enabled: boolean; results: { first: ArrayBuffer } } };
    assert.equal(created.prf.enabled, true);
    await rpVerifyRegistration(reg, opts.challenge);
    const login = await b.client.get({ challenge: challenge(), rpId: RP_ID, extensions: { prf: { eval: { first, second } } } });
    const got = login.getClientExtensionResults() as { prf: { results: { first: ArrayBuffer; second: ArrayBuffer } } };
    assert.deepEqual(new Uint8Array(got.prf.results.first), new Uint8Array(created.prf.results.first));
    assert.notDeepEqual(new Uint8Array(got.prf.results.second), new Uint8Array(got.prf.results.first));
    const byCred = await b.client.get({
      challenge: challenge(),
      rpId: RP_ID,
      allowCredentials: [{ type: 'public-key', id: new Uint8Array(40) }, { type: 'public-key', id: reg.rawId }],
      extensions: { prf: { eval: { first: second }, evalByCredential: { [reg.id]: { first } } } },
    });
    const r = byCred.getClientExtensionResults() as { prf: { results: { first: ArrayBuffer } } };
    assert.deepEqual(new Uint8Array(r.prf.results.first), new Uint8Array(created.prf.results.first), 'evalByCredential wins for the credential used');
  } finally {
    await b.close();
  }
});

test('largeBlob: supported at create, written then read back at get', async () => {
  const b = await bench({ pin: '1234' }, { 'pin-required': () => '1234' });
  try {
    const opts = creationOptions({ authenticatorSelection: { residentKey: 'required' }, extensions: { largeBlob: { support: 'required' } } });
    const reg = await b.client.create(opts);
    assert.deepEqual(reg.getClientExtensionResults(), { largeBlob: { supported: true } });
    await rpVerifyRegistration(reg, opts.challenge);
    const blob = new TextEncoder().encode('hello large blob');
    const w = await b.client.get({ challenge: challenge(), rpId: RP_ID, allowCredentials: [{ type: 'public-key', id: reg.rawId }], extensions: { largeBlob: { write: blob } } });
    assert.deepEqual(w.getClientExtensionResults(), { largeBlob: { written: true } });
    const r = await b.client.get({ challenge: challenge(), rpId: RP_ID, extensions: { largeBlob: { read: true } } });
    const got = r.getClientExtensionResults() as { largeBlob: { blob: ArrayBuffer } };
    assert.deepEqual(new Uint8Array(got.largeBlob.blob), blob);
    assert.equal(JSON.parse(JSON.stringify(r)).clientExtensionResults.largeBlob.blob, base64urlEncode(blob));
  } finally {
    await b.close();
  }
});

test('credProtect: userVerificationRequired is enforced; such a credential is invisible without UV', async () => {
  const b = await bench({ pin: '1234' }, { 'pin-required': () => '1234' });
  try {
    const opts = creationOptions({
      authenticatorSelection: { residentKey: 'required' },
      extensions: { credentialProtectionPolicy: 'userVerificationRequired', enforceCredentialProtectionPolicy: true },
    });
    const reg = await b.client.create(opts);
    const info = await rpVerifyRegistration(reg, opts.challenge);
    const ext = decodeCbor(new Uint8Array(reg.response.getAuthenticatorData()).subarray(37 + 16 + 2 + reg.rawId.byteLength + info.credential.publicKey.length)).value as Map<string, unknown>;
    assert.equal(ext.get('credProtect'), 3);
    await assert.rejects(
      b.client.get({ challenge: challenge(), rpId: RP_ID, userVerification: 'discouraged', allowCredentials: [{ type: 'public-key', id: reg.rawId }] }),
      isName('NotAllowedError'),
    );
    const c = challenge();
    const ok = await b.client.get({ challenge: c, rpId: RP_ID, userVerification: 'required', allowCredentials: [{ type: 'public-key', id: reg.rawId }] });
    await rpVerifyAuthentication(ok, c, info.credential, true);
  } finally {
    await b.close();
  }
  // enforce on a key without credProtect: refused, not silently unprotected; without enforce it goes ahead.
  const plain = await bench({ features: { credProtect: false } });
  try {
    const ext = { credentialProtectionPolicy: 'userVerificationRequired', enforceCredentialProtectionPolicy: true };
    await assert.rejects(plain.client.create(creationOptions({ extensions: ext })), (e: unknown) => e instanceof WebAuthnError && e.ctap === 'CTAP2_ERR_UNSUPPORTED_EXTENSION');
    assert.equal(plain.events.length, 0, 'refused before any touch');
    const reg = await plain.client.create(creationOptions({ extensions: { ...ext, enforceCredentialProtectionPolicy: false } }));
    assert.equal(reg.type, 'public-key');
  } finally {
    await plain.close();
  }
});

test('hmac-secret-mc missing: prf is enabled at create without results; credBlob and getCredBlob', async () => {
  const b = await bench({ features: { hmacSecretMc: false } });
  try {
    const blob = new Uint8Array([1, 2, 3, 4]);
    const reg = await b.client.create(creationOptions({ authenticatorSelection: { residentKey: 'required' }, extensions: { prf: { eval: { first: new Uint8Array(1) } }, credBlob: blob, hmacCreateSecret: true } }));
    assert.deepEqual(reg.getClientExtensionResults(), { prf: { enabled: true }, hmacCreateSecret: true, credBlob: true });
    const mpl = await b.client.create(creationOptions({ extensions: { minPinLength: true } }));
    assert.deepEqual(mpl.getClientExtensionResults(), {}, 'minPinLength has no client output (the key reports it in authData, for RPs on its list)');
    const login = await b.client.get({ challenge: challenge(), rpId: RP_ID, extensions: { getCredBlob: true } });
    assert.deepEqual(new Uint8Array((login.getClientExtensionResults() as { getCredBlob: ArrayBuffer }).getCredBlob), blob);
  } finally {
    await b.close();
  }
});

test('a U2F-only key: fido-u2f registration and an assertion, both verified by the RP; appid', async () => {
  const b = await bench({ u2fOnly: true });
  try {
    const opts = creationOptions({ attestation: 'direct', pubKeyCredParams: [{ type: 'public-key', alg: -7 }] });
    const reg = await b.client.create(opts);
    assert.equal(attObj(reg.response.attestationObject).fmt, 'fido-u2f');
    const info = await rpVerifyRegistration(reg, opts.challenge);
    const c = challenge();
    const login = await b.client.get({ challenge: c, rpId: RP_ID, allowCredentials: [{ type: 'public-key', id: reg.rawId }], extensions: { appid: 'https://example.com/appid.json' } });
    assert.equal(login.response.userHandle, null);
    assert.deepEqual(login.getClientExtensionResults(), { appid: false });
    await rpVerifyAuthentication(login, c, info.credential);
    const none = await b.client.create(creationOptions({ pubKeyCredParams: [{ type: 'public-key', alg: -7 }] }));
    assert.equal(attObj(none.response.attestationObject).fmt, 'none');
  } finally {
    await b.close();
  }
});

test('an excluded credential ends in InvalidStateError after a touch; an unknown one in NotAllowedError after a touch', async () => {
  const b = await bench();
  try {
    const reg = await b.client.create(creationOptions());
    b.events.length = 0;
    await assert.rejects(b.client.create(creationOptions({ excludeCredentials: [{ type: 'public-key', id: reg.rawId }] })), isName('InvalidStateError'));
    assert.ok(b.events.some((e) => e.type === 'touch-required'));
    b.events.length = 0;
    await assert.rejects(b.client.get({ challenge: challenge(), rpId: RP_ID, allowCredentials: [{ type: 'public-key', id: new Uint8Array(48).fill(3) }] }), isName('NotAllowedError'));
    assert.ok(b.events.some((e) => e.type === 'touch-required'));
  } finally {
    await b.close();
  }
});

test('long credential lists: too-long ids dropped, the rest batched by maxCredentialCountInList and probed silently', async () => {
  const b = await bench();
  try {
    const reg = await b.client.create(creationOptions());
    const decoys = Array.from({ length: 40 }, (_, i) => ({ type: 'public-key', id: new Uint8Array(64).fill(i + 1) }));
    const tooLong = { type: 'public-key', id: new Uint8Array(2000) };
    const allow = [tooLong, ...decoys, { type: 'public-key', id: reg.rawId }];
    const login = await b.client.get({ challenge: challenge(), rpId: RP_ID, allowCredentials: allow });
    assert.equal(login.id, reg.id);
    await assert.rejects(b.client.create(creationOptions({ excludeCredentials: allow })), isName('InvalidStateError'));
    await assert.rejects(b.client.get({ challenge: challenge(), rpId: RP_ID, allowCredentials: [tooLong] }), isName('NotAllowedError'));
  } finally {
    await b.close();
  }
});

test('long lists on a PIN-protected key: the silent probes use the PIN token (credProtect 3 credentials too)', async () => {
  const b = await bench({ pin: '1234' }, { 'pin-required': () => '1234' });
  try {
    const reg = await b.client.create(creationOptions({ extensions: { credentialProtectionPolicy: 'userVerificationRequired' } }));
    const decoys = Array.from({ length: 40 }, (_, i) => ({ type: 'public-key', id: new Uint8Array(64).fill(i + 1) }));
    const allow = [...decoys, { type: 'public-key', id: reg.rawId }];
    await assert.rejects(b.client.create(creationOptions({ excludeCredentials: allow })), isName('InvalidStateError'));
    const login = await b.client.get({ challenge: challenge(), rpId: RP_ID, userVerification: 'required', allowCredentials: allow });
    assert.equal(login.id, reg.id);
  } finally {
    await b.close();
  }
});

test('several discoverable accounts: select-account lists them and the choice decides the userHandle', async () => {
  const seen: { id: Uint8Array; name?: string | undefined }[][] = [];
  // Without UV the key returns only user.id (CTAP 2.1 §6.2.2: no name or displayName), so choose by id.
  const b = await bench({}, { 'select-account': (e) => { seen.push(e.accounts); return e.accounts.findIndex((a) => a.id[0] === 2); } });
  try {
    const alice = new Uint8Array([1, 1, 1]);
    const bob = new Uint8Array([2, 2, 2]);
    await b.client.create({ ...creationOptions({ authenticatorSelection: { residentKey: 'required' } }, alice) });
    const o = creationOptions({ authenticatorSelection: { residentKey: 'required' } }, bob);
    await b.client.create({ ...o, user: { id: bob, name: 'bob', displayName: 'Bob' } });
    const login = await b.client.get({ challenge: challenge(), rpId: RP_ID });
    assert.equal(seen.length, 1);
    assert.equal(seen[0]!.length, 2);
    assert.deepEqual(new Uint8Array(login.response.userHandle!), bob);
  } finally {
    await b.close();
  }
});

test('SecurityError and option errors come before the key is touched; an abort is an AbortError', async () => {
  const b = await bench();
  try {
    await assert.rejects(b.client.create(creationOptions({ rp: { id: 'evil.com', name: 'x' } })), isName('SecurityError'));
    await assert.rejects(b.client.get({ challenge: challenge(), rpId: 'github.io' }), isName('SecurityError'));
    await assert.rejects(b.client.create(creationOptions({}, new Uint8Array(65))), isName('TypeError'));
    await assert.rejects(b.client.create(creationOptions({ authenticatorSelection: { authenticatorAttachment: 'platform' } })), isName('NotAllowedError'));
    assert.equal(b.events.length, 0, 'no touch was asked for');
    const ac = new AbortController();
    ac.abort();
    await assert.rejects(b.client.create(creationOptions(), { signal: ac.signal }), isName('AbortError'));
  } finally {
    await b.close();
  }
  const slow = await bench({ presence: { delayMs: 60_000 } });
  try {
    const ac = new AbortController();
    const p = slow.client.create(creationOptions(), { signal: ac.signal });
    setTimeout(() => ac.abort(), 50);
    await assert.rejects(p, isName('AbortError'));
  } finally {
    await slow.close();
  }
});

test('a CTAP 2.0 key with a PIN: getPinToken for every makeCredential, the 2.0 touch (dummy makeCredential) before "nothing matched"', async () => {
  const b = await bench(
    { pin: '1234', versions: ['U2F_V2', 'FIDO_2_0'], pinUvAuthProtocols: [1], features: { selection: false, makeCredUvNotRqd: false, credMgmt: false, largeBlobs: false, config: false } },
    { 'pin-required': () => '1234' },
  );
  try {
    const opts = creationOptions({ authenticatorSelection: { userVerification: 'discouraged' } });
    const reg = await b.client.create(opts);
    assert.equal(b.events.filter((e) => e.type === 'pin-required').length, 1, 'a 2.0 key with a PIN set wants pinAuth even when UV is discouraged');
    const info = await rpVerifyRegistration(reg, opts.challenge);
    const c = challenge();
    const login = await b.client.get({ challenge: c, rpId: RP_ID, userVerification: 'discouraged', allowCredentials: [{ type: 'public-key', id: new Uint8Array(20) }, { type: 'public-key', id: reg.rawId }] });
    await rpVerifyAuthentication(login, c, info.credential);
    b.events.length = 0;
    await assert.rejects(b.client.get({ challenge: challenge(), rpId: RP_ID, userVerification: 'discouraged', allowCredentials: [{ type: 'public-key', id: new Uint8Array(20) }] }), isName('NotAllowedError'));
    assert.ok(b.events.some((e) => e.type === 'touch-required'));
  } finally {
    await b.close();
  }
});

test('one ceremony at a time: a second call while one is pending is NotAllowedError', async () => {
  const b = await bench({ presence: { delayMs: 200 } });
  try {
    const first = b.client.create(creationOptions());
    await assert.rejects(b.client.create(creationOptions()), (e: unknown) => isName('NotAllowedError')(e) && /already pending/.test((e as Error).message));
    assert.equal((await first).type, 'public-key');
    assert.equal((await b.client.create(creationOptions())).type, 'public-key', 'the next one after it is fine');
  } finally {
    await b.close();
  }
});

test('L3 JSON options work as well as BufferSource ones', async () => {
  const b = await bench();
  try {
    const c = challenge();
    const reg = await b.client.create({
      rp: { id: RP_ID, name: 'Example' },
      user: { id: 'AQID', name: 'u', displayName: 'U' },
      challenge: base64urlEncode(c),
      pubKeyCredParams: [{ type: 'public-key', alg: -7 }],
    });
    const info = await rpVerifyRegistration(reg, c);
    const c2 = challenge();
    const login = await b.client.get({ challenge: base64urlEncode(c2), rpId: RP_ID, allowCredentials: [{ type: 'public-key', id: reg.id }] });
    await rpVerifyAuthentication(login, c2, info.credential);
    await assert.rejects(b.client.get({ challenge: base64urlEncode(c2) + '=' }), isName('EncodingError'));
  } finally {
    await b.close();
  }
});

test('an embedded caller (topOrigin): clientDataJSON says crossOrigin true and names the top origin', async () => {
  const b = await bench({}, {}, { topOrigin: 'https://portal.example.org' });
  try {
    const reg = await b.client.create(creationOptions());
    const cd = JSON.parse(new TextDecoder().decode(reg.response.clientDataJSON)) as Record<string, unknown>;
    assert.deepEqual(Object.keys(cd), ['type', 'challenge', 'origin', 'crossOrigin', 'topOrigin']);
    assert.equal(cd.crossOrigin, true);
    assert.equal(cd.topOrigin, 'https://portal.example.org');
  } finally {
    await b.close();
  }
});
