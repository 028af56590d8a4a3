"""A second, independent relying party: python-fido2 0.9's Fido2Server verifies
a registration and a login produced by ctap-bridge's WebAuthnClient (JSON on
stdin: {rpId, origin, reg: RegistrationResponseJSON, regChallenge, login:
AuthenticationResponseJSON, loginChallenge, attestation}). Prints "ok" and
the credential id, or raises."""
import json
import sys

from fido2.client import ClientData
from fido2.ctap2 import AttestationObject, AuthenticatorData
from fido2.server import Fido2Server
from fido2.utils import websafe_decode, websafe_encode
from fido2.webauthn import PublicKeyCredentialRpEntity

d = json.load(sys.stdin)
server = Fido2Server(PublicKeyCredentialRpEntity(d["rpId"], "Example"), attestation=d["attestation"], verify_origin=lambda o: o == d["origin"])
reg = d["reg"]["response"]
auth_data = server.register_complete(
    {"challenge": d["regChallenge"], "user_verification": "discouraged"},
    ClientData(websafe_decode(reg["clientDataJSON"])),
    AttestationObject(websafe_decode(reg["attestationObject"])),
)
cred = auth_data.credential_data
login = d["login"]["response"]
server.authenticate_complete(
    {"challenge": d["loginChallenge"], "user_verification": "discouraged"},
    [cred],
    websafe_decode(d["login"]["rawId"]),
    ClientData(websafe_decode(login["clientDataJSON"])),
    AuthenticatorData(websafe_decode(login["authenticatorData"])),
    websafe_decode(login["signature"]),
)
print("ok", websafe_encode(cred.credential_id))
