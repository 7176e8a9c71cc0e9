"""Test settings: the real settings, with a fast password hasher and no HTTPS redirect."""

import os

os.environ.setdefault("SECRET_KEY", "tests-only-secret-key-" + "x" * 40)
os.environ.setdefault("HTTPS", "0")
# E-mailed links start with the test client's origin; the OpenID Connect issuer stays each
# request's origin, as on a laptop (live-server tests run on a port of their own).
os.environ.setdefault("PUBLIC_URL", "http://testserver")

from mitel_portal.settings import *  # noqa: E402,F403

# Argon2 at OWASP's cost is the production hasher (see test_settings); tests hash hundreds of
# passwords, so they use the cheapest Argon2 (same code path, same hash-call counts).
PASSWORD_HASHERS = [
    "tests.hashers.FastArgon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
STORAGES = {**STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}  # noqa: F405,E501
ALLOWED_HOSTS = [*ALLOWED_HOSTS, "testserver"]  # noqa: F405
# The SSO tests run real OpenID Connect providers on 127.0.0.1; tests of SECURITY.md 45 switch this off.
SSO_ALLOW_LOOPBACK_ISSUERS = True
# Domain verification never asks the internet's DNS: tests that verify start their own server on
# loopback (tests/dns_server.py); anything else asks a closed loopback port and is refused at once.
DOMAIN_VERIFICATION_NAMESERVERS = ["127.0.0.1:9"]
DOMAIN_VERIFICATION_TIMEOUT = 2

# The provider signs with a key made for this run (production's comes from OIDC_RSA_PRIVATE_KEY).
from applications.keys import generate_pem  # noqa: E402

OAUTH2_PROVIDER = {**OAUTH2_PROVIDER, "OIDC_RSA_PRIVATE_KEY": generate_pem(),  # noqa: F405
                   "OIDC_ISS_ENDPOINT": ""}
# Tasks run when enqueued; tests/accounts/test_password_reset_mail.py runs the database worker once.
TASKS = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}

# Passkeys: the test client's software authenticator (tests/passkey_authenticator.py) and Chromium's
# virtual one both speak for http://localhost; live-server tests add their port (tests/browser).
OTP_WEBAUTHN_RP_ID = "localhost"
OTP_WEBAUTHN_ALLOWED_ORIGINS = ["http://localhost"]
