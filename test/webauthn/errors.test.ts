import { test } from 'node:test';
import assert from 'node:assert/strict';
import { toWebAuthnError, WebAuthnError } from '../../src/webauthn/errors.js';
import { CtapError, CTAP2_STATUS } from '../../src/ctap2/status.js';
import { CtapHidError } from '../../src/ctaphid/errors.js';
import { HidError } from '../../src/hid/errors.js';
import { AbortedError, TimeoutError } from '../../src/util/errors.js';
import { CborError } from '../../src/cbor/index.js';

test('CTAP statuses map to the names browsers use, keeping the CTAP cause', () => {
  const cases: [number, string][] = [
    [CTAP2_STATUS.CTAP2_ERR_CREDENTIAL_EXCLUDED, 'InvalidStateError'],
    [CTAP2_STATUS.CTAP2_ERR_NO_CREDENTIALS, 'NotAllowedError'],
    [CTAP2_STATUS.CTAP2_ERR_OPERATION_DENIED, 'NotAllowedError'],
    [CTAP2_STATUS.CTAP2_ERR_UNSUPPORTED_ALGORITHM, 'NotAllowedError'],
    [CTAP2_STATUS.CTAP2_ERR_KEY_STORE_FULL, 'ConstraintError'],
    [CTAP2_STATUS.CTAP2_ERR_KEEPALIVE_CANCEL, 'AbortError'],
    [CTAP2_STATUS.CTAP2_ERR_PIN_INVALID, 'NotAllowedError'],
    [CTAP2_STATUS.CTAP2_ERR_PIN_BLOCKED, 'NotAllowedError'],
    [CTAP2_STATUS.CTAP2_ERR_USER_ACTION_TIMEOUT, 'NotAllowedError'],
    [CTAP2_STATUS.CTAP2_ERR_INVALID_CBOR, 'UnknownError'],
    [0x5a, 'NotAllowedError'],
  ];
  for (const [status, name] of cases) {
    const cause = new CtapError(status);
    const e = toWebAuthnError(cause);
    assert.ok(e instanceof WebAuthnError);
    assert.equal(e.name, name, cause.specName);
    assert.equal(e.ctap, cause.specName);
    assert.equal(e.cause, cause);
  }
  assert.equal(toWebAuthnError(new CtapError(0x19)).message, 'The user attempted to register an authenticator that contains one of the credentials already registered with the relying party.');
});

test('lower-layer errors map once; WebAuthnErrors pass through', () => {
  assert.equal(toWebAuthnError(new AbortedError()).name, 'AbortError');
  assert.equal(toWebAuthnError(new TimeoutError()).name, 'NotAllowedError');
  assert.equal(toWebAuthnError(new HidError('DEVICE_REMOVED', 'the key was removed')).name, 'NotAllowedError');
  const hid = toWebAuthnError(new CtapHidError('CTAPHID_ERROR', 'x', { hidError: 0x06 }));
  assert.equal(hid.name, 'NotAllowedError');
  assert.ok(hid.ctap);
  assert.equal(toWebAuthnError(new CborError('CBOR_TYPE', 'bad', '$')).name, 'UnknownError');
  assert.equal(toWebAuthnError(new TypeError('x')).name, 'TypeError');
  assert.equal(toWebAuthnError('weird').name, 'UnknownError');
  const w = new WebAuthnError('SecurityError', 'no');
  assert.equal(toWebAuthnError(w), w);
  assert.equal(w.code, 'WEBAUTHN_SECURITY');
  assert.deepEqual(JSON.parse(JSON.stringify(toWebAuthnError(new CtapError(0x31)))), { name: 'NotAllowedError', ctap: 'CTAP2_ERR_PIN_INVALID', message: 'CTAP2_ERR_PIN_INVALID: the PIN was wrong' });
});
