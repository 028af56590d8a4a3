/**
 * `ctap decode` against the third-party vectors: the CLI must reproduce the
 * vectors' spec-named fields, and reject (exit 7) streams that break CTAPHID.
 * The sweeps run the CLI's runCli in-process (the same function the bin
 * calls) to keep ~40 vectors fast; a few cases run the real bin as a child.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadVectors, type Vector } from '../helpers/vectors.js';
import { assertMatches } from '../ctap2/match.js';
import { ctap, ctapInProcess } from './helpers.js';
import { describeAttestationObject, describeCoseKey } from '../../src/ctap2/describe.js';
import { fromHex } from '../../src/util/bytes.js';

const packets = loadVectors('ctaphid-packets');
const responses = loadVectors('ctap2-responses');

interface ExpectedPacket { cid: string; type: string; cmd?: number; cmd_name?: string; bcnt?: number; seq?: number }
interface ExpectedMessage { cid: string; cmd: number; cmd_name: string; bcnt: number; packet_count: number; payload: string; interpretation?: Record<string, unknown> }

/** Vectors whose stream breaks the protocol (the vectors list them as anomalies). */
const broken = (v: Vector): boolean => ((v.expected['anomalies'] as unknown[]) ?? []).length > 0;

for (const v of packets) {
  test(`decode ctaphid ${v.id}`, async () => {
    const r = await ctapInProcess(['decode', 'ctaphid', v.input, '--json']);
    if (broken(v)) {
      // libfido2-wiredata-cbor-assert: continuations on CID 0092000e after an init on 00220002.
      // The vector notes that a strict host rejects it; python-fido2 "reassembles" it. We reject.
      assert.equal(r.code, 7, r.stderr);
      assert.equal(r.stdout, '');
      const err = JSON.parse(r.stderr) as { error: { name: string; message: string } };
      assert.match(err.error.message, /channel/);
      return;
    }
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout) as { packets: Record<string, unknown>[]; messages: Record<string, unknown>[] };
    const ep = v.expected['packets'] as ExpectedPacket[];
    assert.equal(out.packets.length, ep.length);
    ep.forEach((p, i) => {
      const a = out.packets[i]!;
      assert.equal(a['cid'], p.cid);
      assert.equal(a['type'], p.type);
      if (p.type === 'init') {
        assert.equal(a['cmd'], p.cmd);
        assert.equal(a['cmdName'], p.cmd_name);
        assert.equal(a['bcnt'], p.bcnt);
      } else assert.equal(a['seq'], p.seq);
    });
    const em = v.expected['messages'] as ExpectedMessage[];
    assert.equal(out.messages.length, em.length);
    em.forEach((m, i) => {
      const a = out.messages[i]!;
      assert.equal(a['cid'], m.cid);
      assert.equal(a['cmd'], m.cmd);
      assert.equal(a['cmdName'], m.cmd_name);
      assert.equal(a['bcnt'], m.bcnt);
      assert.equal(a['packetCount'], m.packet_count);
      assert.equal(a['payload'], m.payload);
      const want = m.interpretation ?? {};
      const got = a['interpretation'] as Record<string, unknown>;
      if (m.cmd_name === 'INIT') {
        assert.equal(got['nonce'], want['nonce']);
        assert.equal(got['cid'], want['cid']);
        assert.equal(got['protocolVersion'], want['ctaphid_protocol_version']);
        assert.deepEqual(got['deviceVersion'], want['device_version']);
        assert.equal(got['capabilities'], want['capabilities']);
        assert.deepEqual(got['capabilityFlags'], want['capabilities_decoded']);
      } else if (m.cmd_name === 'KEEPALIVE') {
        assert.equal(got['status'], want['keepalive_status']);
        assert.equal(got['statusName'], want['keepalive_status_name']);
      } else if (m.cmd_name === 'CBOR') {
        assert.equal(got['status'], want['status']);
        if (want['status_name']) assert.equal(got['statusName'], want['status_name']);
      } else if (m.cmd_name === 'MSG') {
        assert.equal(got['statusWord'], want['status_word']);
      }
    });
  });
}

test('decode ctaphid --command decodes CBOR replies as that command', async () => {
  const v = packets.find((x) => x.id === 'libfido2-wiredata-cbor-retries')!;
  const r = await ctapInProcess(['decode', 'ctaphid', v.input, '--command', 'clientPin', '--json']);
  assert.equal(r.code, 0, r.stderr);
  const msg = (JSON.parse(r.stdout) as { messages: { interpretation: { decoded: unknown } }[] }).messages[0]!;
  assert.deepEqual(msg.interpretation.decoded, { pinRetries: 8 });
});

for (const v of responses) {
  test(`decode ctap2 --command ${String(v.expected['command'])} ${v.id}`, async () => {
    const r = await ctapInProcess(['decode', 'ctap2', '--command', v.expected['command'] as string, v.input, '--json']);
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout) as Record<string, unknown>;
    assert.equal(out['framing'], v.expected['framing']);
    assert.equal(out['status'], v.expected['status']);
    assertMatches(out['decoded'], v.expected['decoded']);
  });
}

test('the bin: decode a getInfo response with and without its status byte (child process)', async () => {
  const v = responses.find((x) => x.expected['command'] === 'getInfo' && x.expected['framing'] === 'cbor')!;
  const body = v.input;
  const a = await ctap(['decode', 'ctap2', '--command', 'getInfo', body, '--json']);
  const b = await ctap(['decode', 'ctap2', '--command', 'getInfo', `00${body}`, '--json']);
  assert.equal(a.code, 0, a.stderr);
  assert.equal(b.code, 0, b.stderr);
  const da = JSON.parse(a.stdout) as Record<string, unknown>;
  const db = JSON.parse(b.stdout) as Record<string, unknown>;
  assert.deepEqual(da['decoded'], db['decoded']);
  assert.equal(db['statusName'], 'CTAP2_OK');
  assertMatches(da['decoded'], v.expected['decoded']);
  // human output names the members as the spec does
  const h = await ctap(['decode', 'ctap2', '--command', 'getInfo', body]);
  assert.equal(h.code, 0);
  assert.match(h.stdout, /versions:\s+U2F_V2, FIDO_2_0/);
  assert.match(h.stdout, /aaguid:\s+f8a011f38c0a4d15800617111f9edc7d/);
});

test('the bin: a continuation on another channel is an error, not repaired (child process)', async () => {
  const v = packets.find((x) => x.id === 'libfido2-wiredata-cbor-assert')!;
  const json = await ctap(['decode', 'ctaphid', v.input, '--json']);
  assert.equal(json.code, 7);
  assert.equal(json.stdout, '');
  const err = JSON.parse(json.stderr) as { error: { name: string; ctap?: string; message: string } };
  assert.equal(typeof err.error.name, 'string');
  assert.match(err.error.message, /packet 1: .*channel 0x0*92000e/);
  const human = await ctap(['decode', 'ctaphid', v.input]);
  assert.equal(human.code, 7);
  assert.equal(human.stderr.trim().split('\n').length, 1, 'one line for a human');
});

test('decode: bad SEQ and a length past the data are errors', async () => {
  const v = packets.find((x) => x.id === 'libfido2-wiredata-cbor-info')!;
  const bytes = Buffer.from(v.input, 'hex');
  const badSeq = Buffer.from(bytes);
  badSeq[64 * 2 + 4] = 5; // third report: SEQ 1 -> 5
  const r1 = await ctapInProcess(['decode', 'ctaphid', badSeq.toString('hex'), '--json']);
  assert.equal(r1.code, 7);
  assert.match(r1.stderr, /expected SEQ 1, got 5/);
  const short = Buffer.from(bytes.subarray(0, 64 * 3)); // declared 597 bytes, only 3 reports
  const r2 = await ctapInProcess(['decode', 'ctaphid', short.toString('hex'), '--json']);
  // the stream ends inside the message: reported as incomplete, never as a message
  assert.equal(r2.code, 0, r2.stderr);
  const out = JSON.parse(r2.stdout) as { messages: unknown[]; incomplete: { bcnt: number } };
  assert.equal(out.messages.length, 0);
  assert.equal(out.incomplete.bcnt, 597);
  const ragged = await ctapInProcess(['decode', 'ctaphid', bytes.subarray(0, 100).toString('hex')]);
  assert.equal(ragged.code, 7, 'a stream that is not whole 64-byte reports');
});

test('decode authdata, cose, attestation, u2f reproduce their vectors', async () => {
  // authData: the vector's decoded fields; cose and attestation: exactly what the library's
  // describe functions give (their own tests hold those to the vectors).
  for (const v of loadVectors('authenticator-data')) {
    const r = await ctapInProcess(['decode', 'authdata', v.input, '--json']);
    assert.equal(r.code, 0, `${v.id}: ${r.stderr}`);
    // -INVALID here: a COSE key with unsorted map keys, which a strict client rejects;
    // decode describes it anyway and says why (ctap2_canonical false).
    const { signature_check: _sc, must_reject: mustReject, reject_reason: _rr, ...expected } = v.expected;
    assertMatches(JSON.parse(r.stdout), expected);
    if (mustReject === true) assert.match(r.stdout, /"ctap2_canonical": false/, v.id);
  }
  for (const [file, kind, describe] of [
    ['cose-keys', 'cose', describeCoseKey],
    ['attestation-objects', 'attestation', describeAttestationObject],
  ] as const) {
    for (const v of loadVectors(file)) {
      const r = await ctapInProcess(['decode', kind, v.input, '--json']);
      let lib: unknown;
      try {
        lib = describe(fromHex(v.input));
      } catch {
        assert.notEqual(r.code, 0, `${v.id}: the library rejects it, so must the CLI`);
        continue;
      }
      assert.equal(r.code, 0, `${v.id}: ${r.stderr}`);
      assert.deepEqual(JSON.parse(r.stdout), lib, v.id);
    }
  }
  for (const v of loadVectors('u2f-responses')) {
    const type = v.expected['type'] as string;
    const kind = type.startsWith('U2F_REGISTER') ? 'u2f-register' : type.startsWith('U2F_AUTHENTICATE') ? 'u2f-authenticate' : undefined;
    if (!kind) continue;
    const r = await ctapInProcess(['decode', kind, v.input, '--json']);
    assert.equal(r.code, 0, `${v.id}: ${r.stderr}`);
    const out = JSON.parse(r.stdout) as Record<string, unknown>;
    assert.equal(out['type'], type, v.id);
    assert.equal(out['statusWord'], v.expected['status_word'], v.id);
    if (kind === 'u2f-register') {
      assert.equal(out['publicKey'], v.expected['public_key']);
      assert.equal(out['keyHandle'], v.expected['key_handle']);
      assert.equal(out['keyHandleLength'], v.expected['key_handle_length']);
    } else {
      assert.equal(out['counter'], v.expected['counter']);
      assert.equal(out['userPresence'], v.expected['user_presence']);
      assert.equal(out['signature'], v.expected['signature']);
    }
  }
});

test('decode: usage errors exit 2, non-hex exits 7', async () => {
  assert.equal((await ctapInProcess(['decode'])).code, 2);
  assert.equal((await ctapInProcess(['decode', 'nope', '00'])).code, 2);
  assert.equal((await ctapInProcess(['decode', 'ctap2', 'a0'])).code, 2, '--command is required');
  assert.equal((await ctapInProcess(['decode', 'ctap2', '--command', 'frobnicate', 'a0'])).code, 2);
  assert.equal((await ctapInProcess(['decode', 'authdata', 'zz'])).code, 7);
});
