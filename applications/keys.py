"""The provider's RSA signing keys: from the environment, or a development key made on first use.

Loaded by the settings, so this module imports nothing from Django's apps.
"""

import os
import re
from pathlib import Path

from django.utils.functional import SimpleLazyObject

PEM_BLOCK = re.compile(r"-----BEGIN [A-Z ]+-----.+?-----END [A-Z ]+-----", re.DOTALL)


def pem_blocks(text: str) -> list[str]:
    """The PEM blocks in ``text`` (an environment variable may hold several, or "\\n" escapes)."""
    return PEM_BLOCK.findall(text.replace("\\n", "\n"))


def generate_pem() -> str:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


def development_key(path: Path) -> str:
    """The key in ``path``, made there (mode 0600) the first time it is needed."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as file:
            file.write(generate_pem())
    return path.read_text()


def signing_key(environ_value: str, *, debug: bool, development_path: Path):
    """The signing key's PEM: the environment's, else (DEBUG only) a lazily made development key."""
    blocks = pem_blocks(environ_value)
    if blocks:
        return blocks[0]
    if debug:
        return SimpleLazyObject(lambda: development_key(development_path))
    return ""
