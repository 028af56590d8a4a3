import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { decodeCbor, encodeCbor, CborError } from '../../src/cbor/index.js';
import {
  decodeGetInfo,
  getOption,
  GET_INFO,
  hasOption,
  isCtap2,
  isCtap21,
  isCtap21Pre,
  isCtap22,
  preferredPinUvAuthProtocol,
  supportsAlgorithm,
  supportsExtension,
  supportsOption,
  supportsU2f,
} from '../../src/ctap2/get-info.js';
import { toJson } from '../../src/ctap2/json.js';
import { fromHex } from '../../src/util/bytes.js';
import { loadVectors } from '../helpers/vectors.js';

const getInfoVectors = loadVectors('ctap2-responses').filter((v) => v.expected['command'] === 'getInfo');

function body(v: { input: string; expected: Record<string, unknown> }): Uint8Array {
  const bytes = fromHex(v.input);
  if (v.expected['framing'] === 'status+cbor') {
    assert.equal(bytes[0], v.expected['status']);
    return bytes.subarray(1);
  }
  return bytes;
}

test('there are getInfo vectors to check', () => {
  assert.ok(getInfoVectors.length >= 4);
});

for (const v of getInfoVectors) {
  test(`getInfo vector ${v.id}: every member decodes under its spec name`, () => {
    const info = decodeGetInfo(decodeCbor(body(v)).value);
    assert.deepEqual(toJson(info), v.expected['decoded']);
    // python-fido2's own view (where the vector has it) agrees on the core members
    const py = v.expected['_pyfido2_info'] as Record<string, unknown> | undefined;
    if (py) {
      assert.deepEqual(info.versions, py['versions']);
      assert.equal(info.maxMsgSize, py['max_msg_size']);
      assert.deepEqual(info.pinUvAuthProtocols, py['pin_uv_protocols']);
    }
  });
}

test('yubikey-recent: CTAP 2.2/2.3 members 0x18..0x1f and version helpers', () => {
  const v = getInfoVectors.find((x) => x.id === 'libfido2-getinfo-yubikey-recent')!;
  const info = decodeGetInfo(decodeCbor(body(v)).value);
  assert.equal(info.longTouchForReset, true);
  assert.deepEqual(info.transportsForReset, ['usb', 'smart-card']);
  assert.equal(new TextDecoder().decode(info.pinComplexityPolicyURL), 'https://example.com');
  assert.equal(info.maxPINLength, 63);
  assert.deepEqual(info.authenticatorConfigCommands, [1, 2, 3]);
  assert.equal(info.unknownKeys.size, 0);
  assert.ok(isCtap21(info) && isCtap22(info) && isCtap21Pre(info) && isCtap2(info) && supportsU2f(info));
  assert.equal(supportsOption(info, 'clientPin'), false);
  assert.equal(hasOption(info, 'clientPin'), true);
  assert.equal(preferredPinUvAuthProtocol(info), 2);
  assert.ok(supportsAlgorithm(info, -8) && !supportsAlgorithm(info, -257));
  assert.ok(supportsExtension(info, 'hmac-secret-mc'));
});

test('security-key-by-yubico (CTAP 2.0): defaults and helpers', () => {
  const v = getInfoVectors.find((x) => x.id === 'pyfido2-getinfo-security-key-by-yubico')!;
  const info = decodeGetInfo(decodeCbor(body(v)).value);
  assert.equal(isCtap21(info), false);
  assert.equal(isCtap22(info), false);
  assert.equal(getOption(info, 'uv'), undefined);
  assert.equal(getOption(info, 'up'), true);
  assert.equal(supportsOption(info, 'rk'), true);
  assert.equal(supportsAlgorithm(info, -7), true, 'CTAP 2.0 keys without 0x0a support ES256');
  assert.equal(preferredPinUvAuthProtocol(info), 1);
});

test('unknown keys are kept, not dropped', () => {
  const m = new Map<number, unknown>([
    [GET_INFO.versions, ['FIDO_2_1']],
    [GET_INFO.aaguid, new Uint8Array(16)],
    [0x40, 'vendor'],
    [0x20, new Uint8Array([1, 2])],
  ]);
  const info = decodeGetInfo(decodeCbor(encodeCbor(m as never)).value);
  assert.equal(info.unknownKeys.get(0x40), 'vendor');
  assert.deepEqual((toJson(info) as Record<string, unknown>)['unknownKeys'], { '32': '0102', '64': 'vendor' });
});

test('hostile members are typed errors that name the member', () => {
  const base = (extra: [number, unknown][]) =>
    new Map<number, unknown>([[GET_INFO.versions, ['FIDO_2_0']], [GET_INFO.aaguid, new Uint8Array(16)], ...extra]);
  const cases: [string, Map<number, unknown>, RegExp][] = [
    ['short aaguid', new Map<number, unknown>([[1, ['FIDO_2_0']], [3, new Uint8Array(15)]]), /aaguid/],
    ['missing versions', new Map<number, unknown>([[3, new Uint8Array(16)]]), /versions/],
    ['option not boolean', base([[GET_INFO.options, new Map([['rk', 1]])]]), /options/],
    ['too many versions', base([[GET_INFO.versions, Array.from({ length: 65 }, () => 'X')]]), /versions/],
    ['huge version string', base([[GET_INFO.versions, ['x'.repeat(300)]]]), /versions/],
    ['negative maxMsgSize', base([[GET_INFO.maxMsgSize, -1]]), /maxMsgSize/],
    ['algorithm without alg', base([[GET_INFO.algorithms, [new Map([['type', 'public-key']])]]]), /algorithms/],
  ];
  for (const [what, m, re] of cases) {
    assert.throws(() => decodeGetInfo(decodeCbor(encodeCbor(m as never)).value), (e: unknown) => e instanceof CborError && re.test(e.message), what);
  }
  assert.throws(() => decodeGetInfo('not a map'), CborError);
});

test('property: random and mutated getInfo bytes only ever throw CborError', () => {
  const seeds = getInfoVectors.map((v) => body(v));
  fc.assert(
    fc.property(
      fc.oneof(
        fc.uint8Array({ maxLength: 300 }),
        fc.tuple(fc.constantFrom(...seeds), fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 8 }), fc.nat()).map(([s, muts, cut]) => {
          const b = s.slice(0, s.length - (cut % 4));
          for (const [i, x] of muts) b[i % b.length] = x;
          return b;
        }),
      ),
      (bytes) => {
        try {
          decodeGetInfo(decodeCbor(bytes).value);
        } catch (e) {
          if (!(e instanceof CborError)) throw e;
        }
      },
    ),
    { numRuns: 3000 },
  );
});
