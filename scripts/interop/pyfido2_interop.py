#!/usr/bin/python3
"""Drive a CTAPHID-over-UDP authenticator (`ctap virtual serve --udp`) with python-fido2 0.9.

An independent client checks our virtual key: getInfo, makeCredential (resident and not),
getAssertion with and without an allowList (the registered user.id must come back), setPIN,
a PIN token, a wrong PIN that lowers the retry count, and verification of every attestation
(python-fido2's own attestation verifiers) and assertion (Fido2Server). Prints one
"ok <step>" line per step; any failure raises and exits non-zero.

Usage: pyfido2_interop.py HOST PORT
"""
import sys

from fido2.attestation import Attestation, AttestationType
from fido2.client import Fido2Client
from fido2.ctap import CtapError
from fido2.ctap2 import Ctap2, ClientPin
from fido2.ctap2.pin import PinProtocolV1
from fido2.server import Fido2Server
from fido2.webauthn import PublicKeyCredentialRpEntity

from udp_hid import open_device

PIN = "4821-interop"
ORIGIN = "https://interop.example.com"
RP = PublicKeyCredentialRpEntity("interop.example.com", "Interop RP")


def verify_attestation(attestation_object, client_data_hash):
    """python-fido2's own verifier for the statement's format (packed, fido-u2f)."""
    verifier = Attestation.for_type(attestation_object.fmt)()
    result = verifier.verify(attestation_object.att_statement, attestation_object.auth_data, client_data_hash)
    if result.attestation_type not in (AttestationType.BASIC, AttestationType.SELF):
        raise ValueError("unexpected attestation type %r" % result.attestation_type)
    return result


def ok(step):
    print("ok", step, flush=True)


def register(client, server, user, resident, uv, pin=None):
    options, state = server.register_begin(user, resident_key=resident, user_verification=uv)
    kwargs = {"pin": pin} if pin else {}
    response = client.make_credential(options["publicKey"], **kwargs)
    auth_data = server.register_complete(state, response.client_data, response.attestation_object)
    return auth_data.credential_data, response.attestation_object


def authenticate(client, server, credentials, allow, uv, pin=None):
    options, state = server.authenticate_begin(credentials if allow else None, user_verification=uv)
    kwargs = {"pin": pin} if pin else {}
    selection = client.get_assertion(options["publicKey"], **kwargs)
    assertions = selection.get_assertions()
    response = selection.get_response(0)
    server.authenticate_complete(
        state, credentials, response.credential_id, response.client_data,
        response.authenticator_data, response.signature,
    )
    return assertions[0], response


def main():
    host, port = sys.argv[1], int(sys.argv[2])
    dev = open_device(host, port)
    ctap2 = Ctap2(dev)
    info = ctap2.info
    assert "FIDO_2_1" in info.versions and "FIDO_2_0" in info.versions, info.versions
    assert info.options.get("rk") is True, info.options
    assert info.options.get("clientPin") is False, "a fresh key must have no PIN: %r" % info.options
    ok("getInfo versions=%s aaguid=%s" % (",".join(info.versions), info.aaguid.hex()))

    client = Fido2Client(dev, ORIGIN)
    server = Fido2Server(RP, attestation="direct", verify_attestation=verify_attestation)

    # Non-resident credential, packed attestation verified by python-fido2.
    user1 = {"id": b"user-non-resident", "name": "alice", "displayName": "Alice"}
    cred1, att1 = register(client, server, user1, resident=False, uv="discouraged")
    assert att1.fmt == "packed", att1.fmt
    ok("makeCredential non-resident fmt=%s credIdLen=%d" % (att1.fmt, len(cred1.credential_id)))

    assertion, _ = authenticate(client, server, [cred1], allow=True, uv="discouraged")
    ok("getAssertion allowList counter=%d" % assertion.auth_data.counter)

    # Resident credential: without an allowList the registered user.id comes back.
    user2 = {"id": b"user-resident-0042", "name": "bob", "displayName": "Bob"}
    cred2, att2 = register(client, server, user2, resident=True, uv="discouraged")
    ok("makeCredential resident fmt=%s" % att2.fmt)
    assertion, _ = authenticate(client, server, [cred1, cred2], allow=False, uv="discouraged")
    assert assertion.user is not None and assertion.user["id"] == user2["id"], assertion.user
    ok("getAssertion discoverable user.id=%s" % assertion.user["id"].decode())

    # PIN: set it, take a token (CTAP 2.1 keys require permissions with subcommand 0x09), a wrong PIN lowers the retry count, the right one restores it.
    client_pin = ClientPin(ctap2)
    client_pin.set_pin(PIN)
    info = ctap2.get_info()
    assert info.options.get("clientPin") is True, info.options
    ok("setPIN")
    token = client_pin.get_pin_token(PIN, ClientPin.PERMISSION.MAKE_CREDENTIAL | ClientPin.PERMISSION.GET_ASSERTION, RP.id)
    assert len(token) in (16, 32), len(token)
    ok("getPinToken protocol=%d" % client_pin.protocol.VERSION)
    retries_before = client_pin.get_pin_retries()[0]
    try:
        client_pin.get_pin_token("0000-wrong", ClientPin.PERMISSION.GET_ASSERTION, RP.id)
        raise AssertionError("a wrong PIN was accepted")
    except CtapError as e:
        assert e.code == CtapError.ERR.PIN_INVALID, e
    retries_after = client_pin.get_pin_retries()[0]
    assert retries_after == retries_before - 1, (retries_before, retries_after)
    ok("wrong PIN retries %d -> %d" % (retries_before, retries_after))
    client_pin.get_pin_token(PIN, ClientPin.PERMISSION.GET_ASSERTION, RP.id)
    assert client_pin.get_pin_retries()[0] == 8
    ok("right PIN restores retries")
    v1 = ClientPin(ctap2, protocol=PinProtocolV1())
    token1 = v1.get_pin_token(PIN, ClientPin.PERMISSION.GET_ASSERTION, RP.id)
    assert len(token1) in (16, 32), len(token1)
    ok("getPinToken protocol=1")

    # With the PIN: UV is set in both ceremonies, verified by the server as required.
    client = Fido2Client(dev, ORIGIN)
    user3 = {"id": b"user-with-pin", "name": "carol", "displayName": "Carol"}
    cred3, att3 = register(client, server, user3, resident=True, uv="required", pin=PIN)
    assert att3.auth_data.is_user_verified()
    ok("makeCredential with PIN (UV)")
    assertion, _ = authenticate(client, server, [cred3], allow=True, uv="required", pin=PIN)
    assert assertion.auth_data.is_user_verified()
    ok("getAssertion with PIN (UV)")
    print("interop: all steps passed", flush=True)


if __name__ == "__main__":
    main()
