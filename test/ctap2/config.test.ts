import { test } from 'node:test';
import assert from 'node:assert/strict';
import { encodeCbor, type CborValue } from '../../src/cbor/index.js';
import { CTAP2_CMD } from '../../src/ctap2/commands.js';
import { ClientPin } from '../../src/ctap2/client-pin.js';
import { AuthenticatorConfig, CONFIG_SUBCOMMAND, configAuthMessage } from '../../src/ctap2/config.js';
import { PERMISSION, UnsupportedFeatureError } from '../../src/ctap2/permissions.js';
import { toHex } from '../../src/util/bytes.js';
import { FakeKey } from './fake-ctap2-key.js';

test('config pinUvAuthParam message: 32×0xff || 0x0d || subCommand || CBOR(params)', () => {
  assert.equal(toHex(configAuthMessage(0x02)), 'ff'.repeat(32) + '0d02');
  const params = new Map<number, CborValue>([[1, 8], [2, ['example.com']], [3, true]]);
  assert.equal(toHex(configAuthMessage(0x03, params)), 'ff'.repeat(32) + '0d03' + 'a3010802816b6578616d706c652e636f6d03f5');
  assert.equal(toHex(encodeCbor(params)), 'a3010802816b6578616d706c652e636f6d03f5');
});

function configKey(extra: Record<string, boolean>): { key: FakeKey; state: { alwaysUv: boolean; ep: boolean; minPin: number; rpIds: string[]; force: boolean } } {
  const state = { alwaysUv: false, ep: false, minPin: 4, rpIds: [] as string[], force: false };
  const key = new FakeKey({ pin: '1234', options: { clientPin: true, pinUvAuthToken: true, authnrCfg: true, ...extra }, extraInfo: [[0x10, 2], [0x15, [0x1234]]] });
  key.handlers.set(CTAP2_CMD.config, (p) => {
    const sub = p!.uint(1);
    const params = p!.raw(2) as Map<number, CborValue> | undefined;
    key.verifyToken(p!.raw(3), configAuthMessage(sub, params), p!.raw(4), PERMISSION.acfg);
    if (sub === CONFIG_SUBCOMMAND.toggleAlwaysUv) state.alwaysUv = !state.alwaysUv;
    else if (sub === CONFIG_SUBCOMMAND.enableEnterpriseAttestation) state.ep = true;
    else if (sub === CONFIG_SUBCOMMAND.setMinPINLength) {
      if (params?.has(1)) state.minPin = params.get(1) as number;
      if (params?.has(2)) state.rpIds = params.get(2) as string[];
      state.force = (params?.get(3) as boolean | undefined) ?? false;
    } else if (sub === CONFIG_SUBCOMMAND.vendorPrototype) return new Map([[1, 'vendor ok']]);
    return undefined;
  });
  return { key, state };
}

for (const protocol of [1, 2] as const) {
  test(`protocol ${protocol}: toggleAlwaysUv, enableEnterpriseAttestation, setMinPINLength, vendorPrototype`, async () => {
    const { key, state } = configKey({ alwaysUv: false, ep: false, setMinPINLength: true });
    const session = key.session();
    const token = await new ClientPin(session, { protocol }).getPinUvAuthTokenUsingPin('1234', { permissions: ['acfg'] });
    const cfg = await AuthenticatorConfig.open(session, token);
    await cfg.toggleAlwaysUv();
    assert.equal(state.alwaysUv, true);
    const req = key.last(CTAP2_CMD.config).params!;
    assert.deepEqual([...req.keys()], [1, 3, 4]);
    assert.equal(req.get(3), protocol);
    await cfg.enableEnterpriseAttestation();
    assert.equal(state.ep, true);
    await cfg.setMinPINLength({ newMinPINLength: 8, minPinLengthRPIDs: ['example.com'], forceChangePin: true });
    assert.deepEqual(state, { alwaysUv: true, ep: true, minPin: 8, rpIds: ['example.com'], force: true });
    assert.deepEqual(await cfg.vendorPrototype(0x1234), new Map([[1, 'vendor ok']]));
  });
}

test('config features the key lacks, and bad arguments, are refused before sending', async () => {
  const { key } = configKey({});
  const session = key.session();
  const token = await new ClientPin(session).getPinUvAuthTokenUsingPin('1234', { permissions: ['acfg'] });
  const cfg = await AuthenticatorConfig.open(session, token);
  await assert.rejects(cfg.toggleAlwaysUv(), (e: UnsupportedFeatureError) => e.feature === 'alwaysUv');
  await assert.rejects(cfg.enableEnterpriseAttestation(), (e: UnsupportedFeatureError) => e.feature === 'ep');
  await assert.rejects(cfg.setMinPINLength({ newMinPINLength: 6 }), (e: UnsupportedFeatureError) => e.feature === 'setMinPINLength');
  await assert.rejects(cfg.vendorPrototype(0x99), /does not list vendor config command/);
  assert.equal(key.requests.filter((r) => r.command === CTAP2_CMD.config).length, 0);

  const { key: k2 } = configKey({ setMinPINLength: true });
  const t2 = await new ClientPin(k2.session()).getPinUvAuthTokenUsingPin('1234', { permissions: ['acfg'] });
  const c2 = await AuthenticatorConfig.open(k2.session(), t2);
  await assert.rejects(c2.setMinPINLength({ newMinPINLength: 3 }), RangeError);
  await assert.rejects(c2.setMinPINLength({ minPinLengthRPIDs: ['a', 'b', 'c'] }), /at most 2 RP ids/);

  const plain = new FakeKey({ pin: '1234' });
  await assert.rejects(AuthenticatorConfig.open(plain.session()), (e: Error) => /does not support authenticatorConfig/.test(e.message));
  const t3 = await new ClientPin(k2.session()).getPinUvAuthTokenUsingPin('1234', { permissions: ['cm'] });
  await assert.rejects(AuthenticatorConfig.open(k2.session(), t3), /lacks the acfg/);
});
