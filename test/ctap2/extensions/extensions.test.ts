import { test } from 'node:test';
import assert from 'node:assert/strict';
import { encodeCbor } from '../../../src/cbor/index.js';
import { OperationContext, prepareExtensions, processExtensions, credProtectLevel, type ExtensionContext } from '../../../src/ctap2/extensions/index.js';
import { UnsupportedFeatureError, type FeatureInfo } from '../../../src/ctap2/permissions.js';
import { toHex } from '../../../src/util/bytes.js';

function ctx(info: FeatureInfo): ExtensionContext {
  return new OperationContext(info, () => Promise.reject(new Error('no shared secret needed')));
}

const ALL: FeatureInfo = { extensions: ['credProtect', 'credBlob', 'largeBlobKey', 'minPinLength'], maxCredBlobLength: 32 };

test('makeCredential extensions map: canonical CBOR with each plug-in\'s input value', async () => {
  const m = await prepareExtensions(
    'create',
    { credProtect: { credentialProtectionPolicy: 'userVerificationRequired' }, credBlob: Uint8Array.of(1, 2, 3), largeBlobKey: true, minPinLength: true },
    ctx(ALL),
  );
  // {"credBlob": h'010203', "credProtect": 3, "largeBlobKey": true, "minPinLength": true} in canonical order
  assert.equal(
    toHex(encodeCbor(m!)),
    'a4' + '68' + toHex(new TextEncoder().encode('credBlob')) + '43010203' + '6b' + toHex(new TextEncoder().encode('credProtect')) + '03' + '6c' + toHex(new TextEncoder().encode('largeBlobKey')) + 'f5' + '6c' + toHex(new TextEncoder().encode('minPinLength')) + 'f5',
  );
});

test('outputs: authData extension values and the unsigned largeBlobKey', async () => {
  const key = new Uint8Array(32).fill(5);
  const out = await processExtensions(
    'create',
    ['credProtect', 'credBlob', 'largeBlobKey', 'minPinLength'],
    new Map<string, unknown>([['credProtect', 2], ['credBlob', true], ['minPinLength', 8], ['unasked', 1]]),
    { largeBlobKey: key },
    ctx(ALL),
  );
  assert.deepEqual(out, { credProtect: 2, credBlob: true, largeBlobKey: key, minPinLength: 8 });
  const got = await processExtensions('get', ['credBlob', 'largeBlobKey'], new Map([['credBlob', Uint8Array.of(7)]]), {}, ctx(ALL));
  assert.deepEqual(got, { credBlob: Uint8Array.of(7) });
  await assert.rejects(processExtensions('get', ['largeBlobKey'], undefined, { largeBlobKey: new Uint8Array(31) }, ctx(ALL)), /32 bytes/);
  await assert.rejects(processExtensions('create', ['credProtect'], new Map([['credProtect', 'x']]), {}, ctx(ALL)), /unsigned integer/);
});

test('credProtect: levels 1-3 by number or name; enforce refuses a key without it, otherwise it is left out', async () => {
  assert.equal(credProtectLevel('userVerificationOptional'), 1);
  assert.equal(credProtectLevel('userVerificationOptionalWithCredentialIDList'), 2);
  assert.equal(credProtectLevel(3), 3);
  assert.throws(() => credProtectLevel(4 as 3), RangeError);
  const bare = ctx({ extensions: [] });
  const err = await prepareExtensions('create', { credProtect: { credentialProtectionPolicy: 2, enforceCredentialProtectionPolicy: true } }, bare).catch((e: unknown) => e);
  assert.ok(err instanceof UnsupportedFeatureError);
  assert.equal(err.specName, 'CTAP2_ERR_UNSUPPORTED_EXTENSION');
  assert.match(err.message, /credProtect/);
  assert.equal(await prepareExtensions('create', { credProtect: { credentialProtectionPolicy: 3 } }, bare), undefined);
  assert.equal(await prepareExtensions('create', { credProtect: { credentialProtectionPolicy: 1, enforceCredentialProtectionPolicy: true } }, bare), undefined, 'level 1 is every key\'s default');
});

test('credBlob: at most maxCredBlobLength bytes (32 when getInfo omits it); the key must support it', async () => {
  await assert.rejects(prepareExtensions('create', { credBlob: new Uint8Array(33) }, ctx(ALL)), /at most 32/);
  const big = ctx({ extensions: ['credBlob'], maxCredBlobLength: 64 });
  assert.equal(((await prepareExtensions('create', { credBlob: new Uint8Array(64) }, big))!.get('credBlob') as Uint8Array).length, 64);
  await assert.rejects(prepareExtensions('create', { credBlob: new Uint8Array(4) }, ctx({ extensions: [] })), UnsupportedFeatureError);
  assert.equal((await prepareExtensions('get', { credBlob: true }, ctx(ALL)))!.get('credBlob'), true);
});

test('unknown extension ids and inputs for the wrong phase are caller errors', async () => {
  await assert.rejects(prepareExtensions('create', { nope: true }, ctx(ALL)), /no CTAP2 extension plug-in named nope/);
  await assert.rejects(prepareExtensions('get', { minPinLength: true }, ctx(ALL)), /has no getAssertion input/);
  assert.equal(await prepareExtensions('create', { largeBlobKey: false }, ctx(ALL)), undefined);
});
