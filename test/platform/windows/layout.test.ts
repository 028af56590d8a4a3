import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ALL_STRUCTS, layoutOf, WEBAUTHN_ASSERTION, WEBAUTHN_AUTHENTICATOR_MAKE_CREDENTIAL_OPTIONS, WEBAUTHN_CREDENTIAL_ATTESTATION } from '../../../src/platform/windows/layout.js';
import { runC, stubSkipReason } from '../../helpers/webauthn-dll-stub/build.js';

/**
 * The C compiler lays out webauthn-types.h (a transcription of webauthn.h with
 * fixed-width types); we print every offset our tables name and compare. A
 * field our table has and the C struct lacks fails to compile; a field the C
 * struct has and our table lacks shows up as a size mismatch.
 */
function offsetsProgram(): string {
  const lines = ['#include <stdio.h>', '#include <stddef.h>', '#include "webauthn-types.h"', 'int main(void) {', 'printf("{");'];
  ALL_STRUCTS.forEach((s, i) => {
    lines.push(`printf("%s\\"${s.name}\\":{\\"size\\":%zu,\\"align\\":%zu,\\"fields\\":{", ${i ? '","' : '""'}, sizeof(${s.name}), _Alignof(${s.name}));`);
    s.fields.forEach((f, j) => {
      lines.push(`printf("%s\\"${f.name}\\":%zu", ${j ? '","' : '""'}, offsetof(${s.name}, ${f.name}));`);
    });
    lines.push('printf("}}");');
  });
  lines.push('printf("}\\n");', 'return 0;', '}');
  return lines.join('\n');
}

test('struct offsets and sizes match the C layout of webauthn.h (64-bit)', (t) => {
  const skip = stubSkipReason();
  if (skip) return t.skip(skip);
  const c = JSON.parse(runC(offsetsProgram())) as Record<string, { size: number; align: number; fields: Record<string, number> }>;
  for (const def of ALL_STRUCTS) {
    const l = layoutOf(def, 8);
    const cs = c[def.name]!;
    assert.equal(l.size, cs.size, `${def.name} size`);
    assert.equal(l.align, cs.align, `${def.name} alignment`);
    for (const f of l.fields) assert.equal(f.offset, cs.fields[f.name], `${def.name}.${f.name}`);
  }
});

test('struct offsets match the C layout with 4-byte pointers (x86 Windows) when gcc -m32 works', (t) => {
  const skip = stubSkipReason();
  if (skip) return t.skip(skip);
  let out: string;
  try {
    out = runC(offsetsProgram(), ['-m32']);
  } catch {
    return t.skip('gcc -m32 cannot build here (apt-get install gcc-multilib)');
  }
  const c = JSON.parse(out) as Record<string, { size: number; fields: Record<string, number> }>;
  for (const def of ALL_STRUCTS) {
    const l = layoutOf(def, 4);
    assert.equal(l.size, c[def.name]!.size, `${def.name} size (32-bit)`);
    for (const f of l.fields) assert.equal(f.offset, c[def.name]!.fields[f.name], `${def.name}.${f.name} (32-bit)`);
  }
});

test('sizeForVersion ends at the last field of that version', () => {
  const att = layoutOf(WEBAUTHN_CREDENTIAL_ATTESTATION, 8);
  // v1 ends with pbCredentialId; v3 adds dwUsedTransport right after the v2 Extensions struct.
  assert.equal(att.sizeForVersion(1), att.offset('pbCredentialId') + 8);
  assert.equal(att.sizeForVersion(3), att.offset('dwUsedTransport') + 4);
  assert.equal(att.sizeForVersion(8), att.size);
  const asn = layoutOf(WEBAUTHN_ASSERTION, 8);
  assert.equal(asn.sizeForVersion(1), asn.offset('pbUserId') + 8);
  assert.ok(asn.sizeForVersion(2) < asn.sizeForVersion(3));
  const mc = layoutOf(WEBAUTHN_AUTHENTICATOR_MAKE_CREDENTIAL_OPTIONS, 8);
  assert.equal(mc.maxVersion, 9);
  // Versions only grow the struct.
  for (let v = 1; v < 9; v++) assert.ok(mc.sizeForVersion(v) <= mc.sizeForVersion(v + 1));
});

test('every field version is within 1..maxVersion and versions never go down along the struct', () => {
  for (const def of ALL_STRUCTS) {
    let last = 1;
    for (const f of def.fields) {
      assert.ok(f.since >= last, `${def.name}.${f.name} added in ${f.since} after a field of ${last}`);
      last = f.since;
    }
  }
});
