#!/usr/bin/python3
"""Drive `ctap virtual serve --udp` with python-fido2 0.9 beyond the basic ceremonies.

Mode "ctap2" (a fresh CTAP2 key) checks, each through python-fido2's own classes:
  - ClientPin with PIN protocol 1 chosen explicitly, for a whole makeCredential and
    getAssertion built by hand (pin_uv_param = PinProtocolV1.authenticate(token, cdh));
  - CredentialManagement: metadata, RPs and credentials listed, update_user_info, delete;
  - credProtect (userVerificationRequired) through Fido2Client: hidden without UV, listed
    with its policy by CredentialManagement;
  - LargeBlobs: a blob stored under a credential's largeBlobKey, read back, deleted;
  - Config: enterprise attestation, alwaysUv and the minimum PIN length, seen in getInfo;
  - hmac-secret through Fido2Client (hmacCreateSecret / hmacGetSecret): the same salt gives
    the same output, another credential another one;
  - ClientPin.change_pin: the old PIN is refused afterwards, the new one works.
Mode "u2f" (a `--u2f-only` key) checks python-fido2's Ctap1 (register / authenticate with
RegistrationData.verify and SignatureData.verify, check-only requests, key handles bound
to their app id) and Fido2Client falling back to CTAP1,
verified by Fido2Server with the fido-u2f attestation.

Prints one "ok <step>" line per step; any failure raises and exits non-zero.
Usage: pyfido2_extras.py HOST PORT ctap2|u2f
"""
import hashlib
import os
import sys

from cryptography.exceptions import InvalidSignature
from fido2.client import Fido2Client
from fido2.ctap import CtapError
from fido2.ctap1 import APDU, ApduError, Ctap1
from fido2.ctap2 import Config, Ctap2, ClientPin, CredentialManagement, LargeBlobs
from fido2.ctap2.extensions import CredProtectExtension
from fido2.ctap2.pin import PinProtocolV1
from fido2.server import Fido2Server
from fido2.webauthn import PublicKeyCredentialRpEntity

from pyfido2_interop import ok, verify_attestation
from udp_hid import open_device

PIN = "6274-extras"
NEW_PIN = "9135-extras-changed"  # 19 code points: satisfies the raised minimum length
ORIGIN = "https://extras.example.com"
RP = PublicKeyCredentialRpEntity("extras.example.com", "Extras RP")
ES256 = [{"type": "public-key", "alg": -7}]


def expect_ctap_error(code, fn, *args, **kwargs):
    """fn(*args) must raise CtapError with `code` (a CtapError.ERR)."""
    try:
        fn(*args, **kwargs)
    except CtapError as e:
        assert e.code == code, "expected %r, got %r" % (code, e.code)
        return
    raise AssertionError("expected CtapError %r, the call succeeded" % code)


def make_resident(ctap2, client_pin, rp, user, extensions=None):
    """A PIN-authenticated resident ES256 credential (protocol of client_pin); returns the response."""
    cdh = os.urandom(32)
    token = client_pin.get_pin_token(PIN, ClientPin.PERMISSION.MAKE_CREDENTIAL, rp["id"])
    proto = client_pin.protocol
    att = ctap2.make_credential(
        cdh, rp, user, ES256, options={"rk": True}, extensions=extensions,
        pin_uv_param=proto.authenticate(token, cdh), pin_uv_protocol=proto.VERSION,
    )
    verify_attestation(att, cdh)
    return att


def token_for(client_pin, permissions, rp_id=None, pin=PIN):
    return client_pin.get_pin_token(pin, permissions, rp_id)


def step_pin_protocol_1(ctap2):
    """A whole PIN-authenticated makeCredential + getAssertion with PIN protocol 1 chosen explicitly."""
    cp1 = ClientPin(ctap2, protocol=PinProtocolV1())
    assert cp1.protocol.VERSION == 1
    cdh = os.urandom(32)
    token = cp1.get_pin_token(PIN, ClientPin.PERMISSION.MAKE_CREDENTIAL | ClientPin.PERMISSION.GET_ASSERTION, RP.id)
    rp = {"id": RP.id, "name": RP.name}
    att = ctap2.make_credential(
        cdh, rp, {"id": b"pp1-user", "name": "pp1"}, ES256,
        pin_uv_param=cp1.protocol.authenticate(token, cdh), pin_uv_protocol=1,
    )
    verify_attestation(att, cdh)
    assert att.auth_data.flags & 0x04, "UV flag after a protocol-1 PIN makeCredential"
    cred = att.auth_data.credential_data
    # CTAP 2.1 §6.1.2 step 11: a makeCredential with user presence clears the token's
    # permissions (clearPinUvAuthTokenPermissionsExceptLbw), so getAssertion needs a new token.
    token = cp1.get_pin_token(PIN, ClientPin.PERMISSION.GET_ASSERTION, RP.id)
    cdh2 = os.urandom(32)
    assertion = ctap2.get_assertion(
        RP.id, cdh2, [{"type": "public-key", "id": cred.credential_id}],
        pin_uv_param=cp1.protocol.authenticate(token, cdh2), pin_uv_protocol=1,
    )
    assertion.verify(cdh2, cred.public_key)
    assert assertion.auth_data.flags & 0x04, "UV flag after a protocol-1 PIN getAssertion"
    # A pin_uv_param computed with another token must be refused (the check above can fail).
    cdh3 = os.urandom(32)
    expect_ctap_error(
        CtapError.ERR.PIN_AUTH_INVALID, ctap2.make_credential, cdh3, rp, {"id": b"pp1-bad", "name": "bad"}, ES256,
        pin_uv_param=cp1.protocol.authenticate(os.urandom(32), cdh3), pin_uv_protocol=1,
    )
    ok("PIN protocol 1 makeCredential+getAssertion with pin_uv_param (UV set, forged param refused)")


def step_credential_management(ctap2, client_pin):
    rp_a = {"id": "alpha.extras.example.com", "name": "Alpha"}
    rp_b = {"id": "beta.extras.example.com", "name": "Beta"}
    creds = {}
    for rp, name in [(rp_a, "ann"), (rp_a, "ben"), (rp_b, "cat")]:
        att = make_resident(ctap2, client_pin, rp, {"id": name.encode(), "name": name, "displayName": name.title()})
        creds[name] = att.auth_data.credential_data

    R = CredentialManagement.RESULT

    def credman():
        # A token lives until the next getPinToken; take a fresh one per use.
        return CredentialManagement(ctap2, client_pin.protocol, token_for(client_pin, ClientPin.PERMISSION.CREDENTIAL_MGMT))

    cm = credman()
    meta = cm.get_metadata()
    assert meta[R.EXISTING_CRED_COUNT] == 3, meta
    ok("credman metadata existing=%d remaining=%d" % (meta[R.EXISTING_CRED_COUNT], meta[R.MAX_REMAINING_COUNT]))

    rps = cm.enumerate_rps()
    listed = {r[R.RP]["id"]: r[R.RP_ID_HASH] for r in rps}
    assert set(listed) == {rp_a["id"], rp_b["id"]}, listed
    for rp_id, rp_hash in listed.items():
        assert rp_hash == hashlib.sha256(rp_id.encode()).digest(), rp_id
    ok("credman enumerate_rps %s" % ",".join(sorted(listed)))

    listed_a = cm.enumerate_creds(listed[rp_a["id"]])
    users = sorted(c[R.USER]["name"] for c in listed_a)
    assert users == ["ann", "ben"], users
    for c in listed_a:
        cred = creds[c[R.USER]["name"]]
        assert c[R.CREDENTIAL_ID]["id"] == cred.credential_id
        assert c[R.PUBLIC_KEY] == dict(cred.public_key), "listed public key differs from the attested one"
    ok("credman enumerate_creds %s users=%s" % (rp_a["id"], ",".join(users)))

    # update_user_info: the new display name is what enumeration returns afterwards.
    ben_desc = {"type": "public-key", "id": creds["ben"].credential_id}
    cm.update_user_info(ben_desc, {"id": b"ben", "name": "ben", "displayName": "Benjamin"})
    listed_a = credman().enumerate_creds(listed[rp_a["id"]])
    ben = [c for c in listed_a if c[R.USER]["id"] == b"ben"][0]
    assert ben[R.USER].get("displayName") == "Benjamin", ben[R.USER]
    ok("credman update_user_info displayName=Benjamin")

    cm = credman()
    cm.delete_cred(ben_desc)
    meta = cm.get_metadata()
    assert meta[R.EXISTING_CRED_COUNT] == 2, meta
    listed_a = cm.enumerate_creds(listed[rp_a["id"]])
    assert [c[R.USER]["name"] for c in listed_a] == ["ann"], listed_a
    expect_ctap_error(CtapError.ERR.NO_CREDENTIALS, credman().delete_cred, ben_desc)
    ok("credman delete_cred count 3 -> 2")


def step_cred_protect(dev, ctap2, client_pin):
    """credProtect through Fido2Client: level 3 hides the credential from a request without UV."""
    client = Fido2Client(dev, ORIGIN)  # a new client: it reads getInfo (clientPin now set) once
    server = Fido2Server(RP, attestation="direct", verify_attestation=verify_attestation)
    options, state = server.register_begin({"id": b"protected", "name": "protected"}, resident_key=True,
                                           user_verification="required")
    # python-fido2 0.9.1 looks the policy up with list(POLICY).index(value), so it needs the
    # enum member, not the WebAuthn string "userVerificationRequired" (its quirk, not ours).
    options["publicKey"]["extensions"] = {"credentialProtectionPolicy": CredProtectExtension.POLICY.REQUIRED,
                                          "enforceCredentialProtectionPolicy": True}
    response = client.make_credential(options["publicKey"], pin=PIN)
    auth_data = server.register_complete(state, response.client_data, response.attestation_object)
    assert auth_data.extensions.get("credProtect") == 3, auth_data.extensions
    cred = auth_data.credential_data
    # Without UV (no pinUvAuthParam) the credential is invisible, even when named in the allow list.
    cdh = os.urandom(32)
    expect_ctap_error(CtapError.ERR.NO_CREDENTIALS, ctap2.get_assertion, RP.id, cdh)
    expect_ctap_error(CtapError.ERR.NO_CREDENTIALS, ctap2.get_assertion, RP.id, cdh,
                      [{"type": "public-key", "id": cred.credential_id}])
    # With the PIN, Fido2Server verifies the assertion.
    options, state = server.authenticate_begin(None, user_verification="required")
    assertion = client.get_assertion(options["publicKey"], pin=PIN).get_response(0)
    server.authenticate_complete(state, [cred], assertion.credential_id, assertion.client_data,
                                 assertion.authenticator_data, assertion.signature)
    # Credential management reports the policy.
    R = CredentialManagement.RESULT
    token = token_for(client_pin, ClientPin.PERMISSION.CREDENTIAL_MGMT)
    listed = CredentialManagement(ctap2, client_pin.protocol, token).enumerate_creds(hashlib.sha256(RP.id.encode()).digest())
    assert [c[R.CRED_PROTECT] for c in listed] == [3], listed
    ok("credProtect userVerificationRequired through Fido2Client (hidden without UV, credman credProtect=3)")


def step_large_blobs(ctap2, client_pin):
    assert ctap2.info.options.get("largeBlobs") is True, ctap2.info.options
    rp = {"id": "blobs.extras.example.com", "name": "Blobs"}
    att = make_resident(ctap2, client_pin, rp, {"id": b"blob-user", "name": "blob"}, extensions={"largeBlobKey": True})
    key = att.large_blob_key
    assert key is not None and len(key) == 32, "largeBlobKey missing from makeCredential"
    data = os.urandom(500)  # random: incompressible, like real encrypted payloads

    def blobs(write):
        if not write:
            return LargeBlobs(ctap2)  # reading needs no token
        return LargeBlobs(ctap2, client_pin.protocol, token_for(client_pin, ClientPin.PERMISSION.LARGE_BLOB_WRITE))

    blobs(True).put_blob(key, data)
    assert blobs(False).get_blob(key) == data, "large blob round trip"
    assert blobs(False).get_blob(os.urandom(32)) is None, "another key must not decrypt the blob"
    ok("largeBlobs put_blob/get_blob %d bytes" % len(data))
    blobs(True).delete_blob(key)
    assert blobs(False).get_blob(key) is None, "blob still there after delete_blob"
    assert blobs(False).read_blob_array() == [], "blob array not empty after delete_blob"
    ok("largeBlobs delete_blob")


def step_config(ctap2, client_pin):
    def config():
        return Config(ctap2, client_pin.protocol, token_for(client_pin, ClientPin.PERMISSION.AUTHENTICATOR_CFG))

    assert ctap2.get_info().options.get("ep") is False
    # python-fido2 0.9.1's Config has no helper for enableEnterpriseAttestation: call the subcommand.
    config()._call(Config.CMD.ENABLE_ENTERPRISE_ATT)
    assert ctap2.get_info().options.get("ep") is True
    ok("config enterprise attestation (getInfo ep=true)")

    config().toggle_always_uv()
    assert ctap2.get_info().options.get("alwaysUv") is True
    config().toggle_always_uv()
    assert ctap2.get_info().options.get("alwaysUv") is False
    ok("config toggle_always_uv on/off")

    # The current PIN (11 code points) satisfies 8: CTAP 2.1 §6.11.4 forces a PIN change only
    # when the stored PINCodePointLength is below the new minimum, while a key that does not
    # remember the length (this virtual key with an old state file) forces it whenever the
    # minimum rises. Either is accepted; force_change_pin=True then forces it explicitly.
    config().set_min_pin_length(8)
    info = ctap2.get_info()
    assert info.min_pin_length == 8, info.min_pin_length
    ok("config set_min_pin_length 8 (getInfo minPINLength=8 forcePINChange=%s)" % info.force_pin_change)
    if not info.force_pin_change:
        config().set_min_pin_length(force_change_pin=True)
    assert ctap2.get_info().force_pin_change is True
    # While forcePINChange is set no PIN token is issued; step_change_pin clears it.
    expect_ctap_error(CtapError.ERR.PIN_POLICY_VIOLATION, client_pin.get_pin_token, PIN, ClientPin.PERMISSION.AUTHENTICATOR_CFG)
    ok("config force_change_pin (getInfo forcePINChange=true, PIN tokens refused)")


def step_hmac_secret(dev):
    """Runs before setPIN (no UV); returns the check to run once the PIN is set."""
    client = Fido2Client(dev, ORIGIN)
    server = Fido2Server(RP, attestation="direct", verify_attestation=verify_attestation)
    creds = []
    for name in (b"hmac-1", b"hmac-2"):
        options, state = server.register_begin({"id": name, "name": name.decode()}, user_verification="discouraged")
        options["publicKey"]["extensions"] = {"hmacCreateSecret": True}
        response = client.make_credential(options["publicKey"])
        assert response.extension_results.get("hmacCreateSecret") is True, response.extension_results
        creds.append(server.register_complete(state, response.client_data, response.attestation_object).credential_data)
    ok("hmac-secret hmacCreateSecret=true through Fido2Client")

    salt = os.urandom(32)

    def secret(cred, pin=None, client=client):
        options, state = server.authenticate_begin([cred], user_verification="discouraged")
        options["publicKey"]["extensions"] = {"hmacGetSecret": {"salt1": salt}}
        kwargs = {"pin": pin} if pin else {}
        response = client.get_assertion(options["publicKey"], **kwargs).get_response(0)
        server.authenticate_complete(state, [cred], response.credential_id, response.client_data,
                                     response.authenticator_data, response.signature)
        return response.extension_results["hmacGetSecret"]["output1"]

    first, again, other = secret(creds[0]), secret(creds[0]), secret(creds[1])
    assert len(first) == 32
    assert first == again, "the same credential and salt must give the same secret"
    assert first != other, "another credential must give another secret"
    ok("hmac-secret hmacGetSecret same salt -> same output, other credential -> other output")

    def after_pin_set():
        # python-fido2 0.9.1 asks for the PIN on every ceremony once one is set, so the
        # secret with UV is taken later, after setPIN, by a new client (Fido2Client reads getInfo once).
        client_with_pin = Fido2Client(dev, ORIGIN)
        with_uv = secret(creds[0], pin=PIN, client=client_with_pin)
        assert with_uv != first, "CTAP 2.1 §12.5: the secret with UV (CredRandomWithUV) differs from the one without"
        assert secret(creds[0], pin=PIN, client=client_with_pin) == with_uv
        ok("hmac-secret with PIN (UV) -> another output, stable")

    return after_pin_set


def step_change_pin(ctap2, client_pin):
    client_pin.change_pin(PIN, NEW_PIN)
    before = client_pin.get_pin_retries()[0]
    expect_ctap_error(CtapError.ERR.PIN_INVALID, client_pin.get_pin_token, PIN, ClientPin.PERMISSION.GET_ASSERTION, RP.id)
    assert client_pin.get_pin_retries()[0] == before - 1
    client_pin.get_pin_token(NEW_PIN, ClientPin.PERMISSION.GET_ASSERTION, RP.id)
    assert client_pin.get_pin_retries()[0] == before, "the right PIN restores the retry count"
    assert ctap2.get_info().force_pin_change is False, "forcePINChange must clear after change_pin"
    token = token_for(client_pin, ClientPin.PERMISSION.AUTHENTICATOR_CFG, pin=NEW_PIN)
    expect_ctap_error(CtapError.ERR.PIN_POLICY_VIOLATION, Config(ctap2, client_pin.protocol, token).set_min_pin_length, 4)
    ok("change_pin old PIN refused (retries %d -> %d), new PIN works, minPINLength not lowered" % (before, before - 1))


def run_ctap2(dev):
    ctap2 = Ctap2(dev)
    assert ctap2.info.options.get("clientPin") is False, "a fresh key must have no PIN"
    hmac_with_uv = step_hmac_secret(dev)
    client_pin = ClientPin(ctap2)
    client_pin.set_pin(PIN)
    ok("setPIN protocol=%d" % client_pin.protocol.VERSION)
    hmac_with_uv()
    step_pin_protocol_1(ctap2)
    step_credential_management(ctap2, client_pin)
    step_cred_protect(dev, ctap2, client_pin)
    step_large_blobs(ctap2, client_pin)
    step_config(ctap2, client_pin)
    step_change_pin(ctap2, client_pin)


def run_u2f(dev):
    # The key answers INIT without the CBOR capability: python-fido2 will not speak CTAP2 to it.
    try:
        Ctap2(dev)
        raise AssertionError("Ctap2() accepted a U2F-only key")
    except ValueError:
        pass
    ctap1 = Ctap1(dev)
    assert ctap1.get_version() == "U2F_V2"
    ok("Ctap1 get_version U2F_V2")

    app_param = hashlib.sha256(b"u2f.extras.example.com").digest()
    client_param = os.urandom(32)
    reg = ctap1.register(client_param, app_param)
    reg.verify(app_param, client_param)  # the attestation signature over the registration
    ok("Ctap1 register RegistrationData.verify keyHandleLen=%d" % len(reg.key_handle))

    challenge = os.urandom(32)
    sig1 = ctap1.authenticate(challenge, app_param, reg.key_handle)
    sig1.verify(app_param, challenge, reg.public_key)
    sig2 = ctap1.authenticate(challenge, app_param, reg.key_handle)
    sig2.verify(app_param, challenge, reg.public_key)
    assert sig2.counter > sig1.counter, (sig1.counter, sig2.counter)
    try:  # the check above can fail: the same signature over another challenge does not verify
        sig2.verify(app_param, os.urandom(32), reg.public_key)
    except InvalidSignature:
        pass
    else:
        raise AssertionError("a signature verified against another challenge")
    ok("Ctap1 authenticate SignatureData.verify counter %d -> %d" % (sig1.counter, sig2.counter))

    # check-only (P1=0x07): a known key handle answers "conditions not satisfied" (FIDO U2F raw
    # message formats §5.1), the same handle under another app id "wrong data".
    try:
        ctap1.authenticate(challenge, app_param, reg.key_handle, check_only=True)
        raise AssertionError("check-only authenticate returned a signature")
    except ApduError as e:
        assert e.code == APDU.USE_NOT_SATISFIED, hex(e.code)
    other_app = hashlib.sha256(b"other.example.com").digest()
    for check_only in (True, False):
        try:
            ctap1.authenticate(challenge, other_app, reg.key_handle, check_only=check_only)
            raise AssertionError("a key handle was accepted under another app id")
        except ApduError as e:
            assert e.code == APDU.WRONG_DATA, hex(e.code)
    ok("Ctap1 check-only known handle -> USE_NOT_SATISFIED, other app id -> WRONG_DATA")

    # Fido2Client falls back to CTAP1; Fido2Server verifies the fido-u2f attestation and assertion.
    client = Fido2Client(dev, ORIGIN)
    assert client.info.versions == ["U2F_V2"], client.info.versions
    server = Fido2Server(RP, attestation="direct", verify_attestation=verify_attestation)
    options, state = server.register_begin({"id": b"u2f-user", "name": "u2f"}, user_verification="discouraged")
    response = client.make_credential(options["publicKey"])
    assert response.attestation_object.fmt == "fido-u2f", response.attestation_object.fmt
    cred = server.register_complete(state, response.client_data, response.attestation_object).credential_data
    ok("Fido2Client over CTAP1 make_credential fmt=fido-u2f verified by Fido2Server")
    options, state = server.authenticate_begin([cred], user_verification="discouraged")
    assertion = client.get_assertion(options["publicKey"]).get_response(0)
    server.authenticate_complete(state, [cred], assertion.credential_id, assertion.client_data,
                                 assertion.authenticator_data, assertion.signature)
    ok("Fido2Client over CTAP1 get_assertion verified by Fido2Server")


def main():
    host, port, mode = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    dev = open_device(host, port)
    if mode == "ctap2":
        run_ctap2(dev)
    elif mode == "u2f":
        run_u2f(dev)
    else:
        raise SystemExit("mode must be ctap2 or u2f")
    print("interop: all steps passed", flush=True)


if __name__ == "__main__":
    main()
