/**
 * The virtual key's simulated fingerprint sensor at the byte level (raw
 * CBOR through TestCtapHidHost): what getInfo says with and without it,
 * request checks, built-in UV gating, the state file and the CLI options.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CborMapReader, encodeCbor, type CborValue } from '../../src/cbor/index.js';
import { randomBytes } from '../../src/crypto/primitives.js';
import { CTAP2_CMD } from '../../src/ctap2/commands.js';
import { decodeGetInfo } from '../../src/ctap2/get-info.js';
import { PERMISSION } from '../../src/ctap2/permissions.js';
import { CTAP2_STATUS } from '../../src/ctap2/status.js';
import { KEEPALIVE_STATUS } from '../../src/ctaphid/constants.js';
import { concatBytes, utf8Encode } from '../../src/util/bytes.js';
import { VirtualAuthenticator } from '../../src/virtual/index.js';
import { virtualOptionsFromCli } from '../../src/virtual/cli-options.js';
import { resolveOptions } from '../../src/virtual/options.js';
import { VirtualStateError } from '../../src/virtual/state.js';
import { TestCtapHidHost } from '../helpers/virtual-driver.js';
import { keyAgreement, pinToken } from './pin-client.js';

const PIN = '1234';
const S = CTAP2_STATUS;

async function setup(opts: Parameters<typeof VirtualAuthenticator.create>[0] = {}): Promise<{ key: VirtualAuthenticator; host: TestCtapHidHost }> {
  const key = await VirtualAuthenticator.create({ pin: PIN, resetWindowMs: Infinity, ...opts });
  return { key, host: await TestCtapHidHost.open(key.port()) };
}

async function info(host: TestCtapHidHost) {
  const r = await host.cbor(CTAP2_CMD.getInfo);
  assert.equal(r.status, 0);
  return decodeGetInfo(r.value);
}

/** A bioEnrollment request signed with a token (protocol 2 unless told). */
async function signedBio(host: TestCtapHidHost, token: { token: Uint8Array; proto: { authenticate(k: Uint8Array, m: Uint8Array): Uint8Array; version: number } }, sub: number, params?: Map<number, CborValue>, command: number = CTAP2_CMD.bioEnrollment) {
  const msg = concatBytes(Uint8Array.of(1, sub), params ? encodeCbor(params) : new Uint8Array(0));
  const req = new Map<number, CborValue>([[1, 1], [2, sub], [4, token.proto.version], [5, token.proto.authenticate(token.token, msg)]]);
  if (params) req.set(3, params);
  return host.cbor(command, req);
}

async function beToken(host: TestCtapHidHost, version: 1 | 2 = 2) {
  const t = await pinToken(host, version, PIN, PERMISSION.be);
  assert.equal(t.status, 0);
  return { token: t.token!, proto: t.proto };
}

test('no sensor by default: getInfo has no bioEnroll / uvModality, 0x09 and 0x40 are unknown commands, the be permission is refused', async () => {
  const { key, host } = await setup();
  try {
    const i = await info(host);
    assert.equal(i.options.bioEnroll, undefined);
    assert.equal(i.options.uv, undefined);
    assert.equal(i.uvModality, undefined);
    assert.equal((await host.cbor(CTAP2_CMD.bioEnrollment, new Map([[6, true]]))).status, S.CTAP1_ERR_INVALID_COMMAND);
    assert.equal((await host.cbor(CTAP2_CMD.bioEnrollmentPreview, new Map([[6, true]]))).status, S.CTAP1_ERR_INVALID_COMMAND);
    assert.equal((await pinToken(host, 2, PIN, PERMISSION.be)).status, S.CTAP2_ERR_UNAUTHORIZED_PERMISSION);
  } finally {
    await host.port.close();
    await key.close();
  }
});

test('sensor, nothing enrolled: getInfo per CTAP 2.1 §6.4, built-in UV refused (NOT_ALLOWED / INVALID_OPTION), requests checked', async () => {
  const { key, host } = await setup({ bio: { samplesRequired: 2, maxTemplateFriendlyName: 8 } });
  try {
    const i = await info(host);
    assert.equal(i.options.bioEnroll, false);
    assert.equal(i.options.uv, false);
    assert.equal(i.uvModality, 0x02);
    assert.equal(i.preferredPlatformUvAttempts, 3);
    assert.deepEqual(i.versions, ['U2F_V2', 'FIDO_2_0', 'FIDO_2_1']);
    // getUVRetries: the sensor answers before any finger is enrolled
    const uvRetries = await host.cbor(CTAP2_CMD.clientPin, new Map([[1, 2], [2, 7]]));
    assert.equal(uvRetries.status, 0);
    assert.equal(CborMapReader.from(uvRetries.value, 'uvRetries').uint(5), 8);
    // getPinUvAuthTokenUsingUvWithPermissions without a finger to match
    const s = await keyAgreement(host, 2);
    const uvReq = new Map<number, CborValue>([[1, 2], [2, 6], [3, s.keyAgreement], [9, PERMISSION.mc], [10, 'example.com']]);
    assert.equal((await host.cbor(CTAP2_CMD.clientPin, uvReq)).status, S.CTAP2_ERR_NOT_ALLOWED);
    // makeCredential with the uv option
    const mc = new Map<number, CborValue>([[1, randomBytes(32)], [2, { id: 'example.com' }], [3, { id: utf8Encode('u') }], [4, [{ alg: -7, type: 'public-key' }]], [7, { uv: true }]]);
    assert.equal((await host.cbor(CTAP2_CMD.makeCredential, mc)).status, S.CTAP2_ERR_INVALID_OPTION);

    // unauthenticated parts
    const mod = await host.cbor(CTAP2_CMD.bioEnrollment, new Map([[6, true]]));
    assert.equal(mod.status, 0);
    assert.equal(CborMapReader.from(mod.value, 'm').uint(1), 1);
    const sensor = await host.cbor(CTAP2_CMD.bioEnrollment, new Map([[1, 1], [2, 7]]));
    const sr = CborMapReader.from(sensor.value, 'sensor');
    assert.deepEqual([sr.uint(2), sr.uint(3), sr.uint(8)], [1, 2, 8]);
    assert.equal((await host.cbor(CTAP2_CMD.bioEnrollment, new Map([[1, 2], [2, 7]]))).status, S.CTAP2_ERR_UNSUPPORTED_OPTION, 'modality 2 is not a fingerprint');
    assert.equal((await host.cbor(CTAP2_CMD.bioEnrollment, new Map([[1, 1]]))).status, S.CTAP2_ERR_MISSING_PARAMETER);
    assert.equal((await host.cbor(CTAP2_CMD.bioEnrollment, new Map<number, CborValue>([[1, 1], [2, 1], [5, new Uint8Array(32)]]))).status, S.CTAP2_ERR_MISSING_PARAMETER, 'no pinUvAuthProtocol');

    const be = await beToken(host);
    assert.equal((await signedBio(host, be, 4)).status, S.CTAP2_ERR_INVALID_OPTION, 'enumerate with no templates');
    assert.equal((await signedBio(host, be, 2, new Map([[1, Uint8Array.of(1, 2)]]))).status, S.CTAP2_ERR_NOT_ALLOWED, 'capture with no enrollment begun');
    assert.equal((await signedBio(host, be, 1, new Map([[3, 0]]))).status, S.CTAP1_ERR_INVALID_PARAMETER, 'a zero sample timeout');
    const begin = await signedBio(host, be, 1);
    assert.equal(begin.status, 0);
    const b = CborMapReader.from(begin.value, 'begin');
    const templateId = b.bytes(4);
    assert.deepEqual([b.uint(5), b.uint(6)], [0, 1]);
    assert.equal((await signedBio(host, be, 2, new Map([[1, Uint8Array.of(templateId[0]! ^ 0xff, templateId[1]!)]]))).status, S.CTAP1_ERR_INVALID_PARAMETER, 'another template');
    assert.equal((await signedBio(host, be, 2)).status, S.CTAP2_ERR_MISSING_PARAMETER);
    // a power cycle drops the half-made enrollment
    key.powerCycle();
    const be2 = await beToken(host);
    assert.equal((await signedBio(host, be2, 2, new Map([[1, templateId]]))).status, S.CTAP2_ERR_NOT_ALLOWED);
    assert.equal((await signedBio(host, be2, 4)).status, S.CTAP2_ERR_INVALID_OPTION);
    // the friendly name limit is in UTF-8 bytes
    const begin2 = CborMapReader.from((await signedBio(host, be2, 1)).value, 'b2').bytes(4);
    const last = CborMapReader.from((await signedBio(host, be2, 2, new Map([[1, begin2]]))).value, 'last');
    assert.equal(last.uint(6), 0);
    assert.equal((await signedBio(host, be2, 5, new Map<number, CborValue>([[1, begin2], [2, 'ééééé']]))).status, S.CTAP1_ERR_INVALID_LENGTH, '10 bytes > 8');
    assert.equal((await signedBio(host, be2, 5, new Map<number, CborValue>([[1, begin2], [2, 'éééé']]))).status, 0);
    assert.equal((await signedBio(host, be2, 5, new Map<number, CborValue>([[1, begin2]]))).status, S.CTAP2_ERR_MISSING_PARAMETER);
    const after = await info(host);
    assert.equal(after.options.bioEnroll, true);
    assert.equal(after.options.uv, true);
    assert.equal((await host.cbor(CTAP2_CMD.clientPin, new Map<number, CborValue>([[1, 2], [2, 6], [3, (await keyAgreement(host, 2)).keyAgreement], [9, PERMISSION.mc], [10, 'example.com']]))).status, 0);
  } finally {
    await host.port.close();
    await key.close();
  }
});

test('a sample waits for the finger with KEEPALIVE UPNEEDED; a bad sampleStatus value is CTAP1_ERR_OTHER', async () => {
  const { key, host } = await setup({ bio: { samplesRequired: 1, sampleStatus: () => 300 } });
  try {
    const be = await beToken(host);
    key.presence = { delayMs: 250 };
    host.keepalives.length = 0;
    assert.equal((await signedBio(host, be, 1)).status, S.CTAP1_ERR_OTHER);
    assert.ok(host.keepalives.includes(KEEPALIVE_STATUS.UPNEEDED));
    assert.equal((await signedBio(host, be, 4)).status, S.CTAP2_ERR_INVALID_OPTION, 'nothing stored');
  } finally {
    await host.port.close();
    await key.close();
  }
});

test('preview without a sensor: FIDO_2_1_PRE with credentialMgmtPreview only', async () => {
  const { key, host } = await setup({ preview: true });
  try {
    const i = await info(host);
    assert.deepEqual(i.versions, ['U2F_V2', 'FIDO_2_0', 'FIDO_2_1_PRE']);
    assert.equal(i.options.credentialMgmtPreview, true);
    assert.equal(i.options.credMgmt, undefined);
    assert.equal(i.options.userVerificationMgmtPreview, undefined);
    assert.equal((await host.cbor(CTAP2_CMD.bioEnrollmentPreview, new Map([[6, true]]))).status, S.CTAP1_ERR_INVALID_COMMAND);
    assert.equal((await host.cbor(CTAP2_CMD.credentialManagement, new Map([[1, 1]]))).status, S.CTAP1_ERR_INVALID_COMMAND);
    assert.equal((await host.cbor(CTAP2_CMD.credentialManagementPreview, new Map([[1, 1]]))).status, S.CTAP2_ERR_PUAT_REQUIRED);
  } finally {
    await host.port.close();
    await key.close();
  }
});

test('state file: the sensor and its templates are stored; a corrupt bio entry is reported, never replaced', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ctap-vbio-'));
  try {
    const file = join(dir, 'k.json');
    const a = await setup({ statePath: file, bio: { samplesRequired: 1 }, preview: true });
    const be = await beToken(a.host);
    assert.equal((await signedBio(a.host, be, 1, undefined, CTAP2_CMD.bioEnrollmentPreview)).status, 0);
    await a.host.port.close();
    await a.key.close();
    const stored = JSON.parse(readFileSync(file, 'utf8')) as { bio: { samplesRequired: number; preview: boolean; templates: unknown[] } };
    assert.equal(stored.bio.samplesRequired, 1);
    assert.equal(stored.bio.preview, true);
    assert.equal(stored.bio.templates.length, 1);
    // reopened from the file alone: preview sensor, uv on
    const b = await setup({ stateFile: file });
    const i = await info(b.host);
    assert.equal(i.options.userVerificationMgmtPreview, true);
    assert.equal(i.options.uv, true);
    assert.ok(i.versions.includes('FIDO_2_1_PRE'));
    // bio: false turns the stored sensor off for this run
    await b.host.port.close();
    await b.key.close();
    const c = await setup({ stateFile: file, bio: false });
    assert.equal((await info(c.host)).options.userVerificationMgmtPreview, undefined);
    await c.host.port.close();
    await c.key.close();
    stored.bio.templates = [{ friendlyName: 3 }];
    const text = JSON.stringify(stored);
    writeFileSync(file, text);
    await assert.rejects(VirtualAuthenticator.create({ stateFile: file }), (e: unknown) => e instanceof VirtualStateError && e.code === 'STATE_CORRUPT' && /bio/.test(e.message));
    assert.equal(readFileSync(file, 'utf8'), text, 'left as it was');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('options: bio validation and defaults; the CLI flags --bio / --preview', async () => {
  assert.throws(() => resolveOptions({ bio: { samplesRequired: 0 } }), /bio.samplesRequired/);
  assert.throws(() => resolveOptions({ bio: { maxTemplates: 1.5 } }), /bio.maxTemplates/);
  const r = resolveOptions({ bio: true });
  assert.deepEqual([r.bio?.samplesRequired, r.bio?.maxTemplates, r.uv, r.preview], [4, 5, 'auto', false]);
  assert.equal(resolveOptions({ bio: true, uv: 'deny' }).uv, 'deny');
  assert.equal(resolveOptions({}).bio, undefined);
  const cli = await virtualOptionsFromCli({ bio: true, preview: true });
  assert.deepEqual([cli.bio, cli.preview, cli.uv], [true, true, undefined]);
  assert.equal((await virtualOptionsFromCli({ bio: true, uv: 'deny' })).uv, 'deny');
  assert.equal((await virtualOptionsFromCli({})).bio, undefined);
});
