"""A software WebAuthn authenticator for the Django test client: real P-256 keys, real signatures.

It answers the options our views send as a browser and a platform authenticator would (attestation
"none", discoverable credentials), so the server's checks run in full: challenge, origin, RP ID
hash, flags, signature, sign counter. The browser tests use Chromium's virtual authenticator instead.
"""

import hashlib
import json
import os
from base64 import urlsafe_b64decode, urlsafe_b64encode
from dataclasses import dataclass

import cbor2
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

ORIGIN = "http://localhost"
UP, UV, BE, BS, AT = 0x01, 0x04, 0x08, 0x10, 0x40


def b64(data: bytes) -> str:
    return urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64(text: str) -> bytes:
    return urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass
class Credential:
    id: bytes
    key: ec.EllipticCurvePrivateKey
    user_handle: bytes
    rp_id: str
    sign_count: int = 0


class SoftwareAuthenticator:
    def __init__(self, origin: str = ORIGIN) -> None:
        self.origin = origin
        self.credentials: list[Credential] = []

    def create(self, options: dict, *, user_verified: bool = True) -> dict:
        """The browser's answer to ``navigator.credentials.create(options)``."""
        key = ec.generate_private_key(ec.SECP256R1())
        credential = Credential(os.urandom(16), key, unb64(options["user"]["id"]), options["rp"]["id"])
        self.credentials.append(credential)
        numbers = key.public_key().public_numbers()
        cose_key = cbor2.dumps({1: 2, 3: -7, -1: 1, -2: numbers.x.to_bytes(32, "big"),
                                -3: numbers.y.to_bytes(32, "big")})
        attested = bytes(16) + len(credential.id).to_bytes(2, "big") + credential.id + cose_key
        flags = UP | AT | (UV if user_verified else 0)
        auth_data = self._rp_hash(credential) + bytes([flags]) + (0).to_bytes(4, "big") + attested
        client_data = self._client_data("webauthn.create", options["challenge"])
        attestation = cbor2.dumps({"fmt": "none", "attStmt": {}, "authData": auth_data})
        return {
            "id": b64(credential.id), "rawId": b64(credential.id), "type": "public-key",
            "response": {"clientDataJSON": b64(client_data), "attestationObject": b64(attestation),
                         "transports": ["internal"]},
            "clientExtensionResults": {"credProps": {"rk": True}},
            "authenticatorAttachment": "platform",
        }

    def get(self, options: dict, *, credential: Credential | None = None, user_verified: bool = True,
            user_handle: bytes | None = None, origin: str | None = None) -> dict:
        """The answer to ``navigator.credentials.get(options)``: with ``credential`` (else the one
        the options allow, else the only one), signed over the options' challenge."""
        allowed = {unb64(c["id"]) for c in options.get("allowCredentials") or []}
        if credential is None:
            matching = [c for c in self.credentials if not allowed or c.id in allowed]
            credential = matching[0] if matching else self.credentials[0]
        credential.sign_count += 1
        flags = UP | (UV if user_verified else 0)
        auth_data = self._rp_hash(credential) + bytes([flags]) + credential.sign_count.to_bytes(4, "big")
        client_data = self._client_data("webauthn.get", options["challenge"], origin)
        signature = credential.key.sign(auth_data + hashlib.sha256(client_data).digest(),
                                        ec.ECDSA(hashes.SHA256()))
        handle = credential.user_handle if user_handle is None else user_handle
        return {
            "id": b64(credential.id), "rawId": b64(credential.id), "type": "public-key",
            "response": {"authenticatorData": b64(auth_data), "clientDataJSON": b64(client_data),
                         "signature": b64(signature), "userHandle": b64(handle)},
            "clientExtensionResults": {}, "authenticatorAttachment": "platform",
        }

    @staticmethod
    def _rp_hash(credential: Credential) -> bytes:
        return hashlib.sha256(credential.rp_id.encode()).digest()

    def _client_data(self, kind: str, challenge: str, origin: str | None = None) -> bytes:
        return json.dumps({"type": kind, "challenge": challenge, "origin": origin or self.origin,
                           "crossOrigin": False}).encode()


# --- driving our pages with it ------------------------------------------------------------------

def post_json(client, url: str, data: dict | None = None):
    return client.post(url, json.dumps(data or {}), content_type="application/json")


def add_passkey(client, authenticator: SoftwareAuthenticator, *, name: str = "My laptop",
                password: str = "Mitel-demo-2026!"):
    """On /me/passkeys/ of the signed-in ``client``: name it, the password, then the ceremony.
    Returns the response of the last step (JSON with the new passkey's id)."""
    response = client.post("/me/passkeys/add/", {"name": name, "password": password})
    assert response.status_code == 302, response.content.decode()[:2000]
    options = post_json(client, "/me/passkeys/add/begin/").json()
    return post_json(client, "/me/passkeys/add/complete/", authenticator.create(options))


def passkey_sign_in(client, authenticator: SoftwareAuthenticator, query: str = "", **get_kwargs):
    """"Sign in with a passkey" on the username screen; returns the JSON response."""
    options = post_json(client, f"/signin/passkey/begin/{query}").json()
    return post_json(client, f"/signin/passkey/complete/{query}", authenticator.get(options, **get_kwargs))


def passkey_instead_of_code(client, authenticator: SoftwareAuthenticator, **get_kwargs):
    """At the MFA step: the passkey in place of a code; returns the JSON response."""
    options = post_json(client, "/signin/code/passkey/begin/").json()
    return post_json(client, "/signin/code/passkey/complete/", authenticator.get(options, **get_kwargs))
