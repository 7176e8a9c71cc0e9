"""Password hashers, and the form of a password that they hash."""

import unicodedata

from django.contrib.auth.hashers import Argon2PasswordHasher


class Argon2idPasswordHasher(Argon2PasswordHasher):
    """Argon2id at OWASP's recommended minimum: 19 MiB of memory, 2 iterations, 1 lane.

    Django's defaults (100 MiB, 8 lanes) cost several times more per sign-in on two cores for no
    gain against offline attacks that OWASP's parameters do not already give. Hashes made with
    other parameters are upgraded on the next successful sign-in (``must_update``).
    """

    algorithm = "argon2"
    time_cost = 2
    memory_cost = 19 * 1024
    parallelism = 1


def typed_password(raw_password: str) -> str:
    """The form of a password that is hashed and checked: NFKC (NIST SP 800-63B-4, 3.1.1.2).

    The same visible text can arrive composed (NFC, most keyboards) or decomposed (NFD, some
    phones and password managers), or in compatibility forms (full-width letters); NFKC makes
    them one password. Nothing else changes: spaces and case are part of the password.
    """
    return unicodedata.normalize("NFKC", raw_password)
