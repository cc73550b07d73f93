"""Fernet encryption keyed from a secret string: Angie's credentials and the servers' tokens."""

from __future__ import annotations

import base64

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

__all__ = ("DecryptError", "SecretBox")


class DecryptError(Exception):
    """Stored data cannot be decrypted: the key changed or the data was altered."""


def _fernet_key(secret: str, purpose: bytes) -> bytes:
    # HKDF per purpose: one secret can key several uses without any two sharing a key.
    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose).derive(
        secret.encode("utf-8")
    )
    return base64.urlsafe_b64encode(derived)


class SecretBox:
    """Encrypt and decrypt text; ``previous_secrets`` still decrypt after a key rotation.

    ``key_name`` names where the secret comes from (``ANGIE_SECRET_KEY``) so errors say what
    to check.
    """

    def __init__(
        self, secret: str, *previous_secrets: str, purpose: str, key_name: str = "the key"
    ) -> None:
        if not secret:
            raise ValueError("SecretBox needs a non-empty secret key")
        info = purpose.encode("utf-8")
        self._fernet = MultiFernet(
            [Fernet(_fernet_key(s, info)) for s in (secret, *previous_secrets)]
        )
        self._key_name = key_name

    def encrypt(self, plaintext: str) -> bytes:
        return self._fernet.encrypt(plaintext.encode("utf-8"))

    def decrypt(self, token: bytes) -> str:
        try:
            return self._fernet.decrypt(token).decode("utf-8")
        except InvalidToken as err:
            raise DecryptError(
                f"stored data could not be decrypted: was {self._key_name} changed?"
            ) from err

    def rotate(self, token: bytes) -> bytes:
        """Re-encrypt a token under the current key."""
        try:
            return self._fernet.rotate(token)
        except InvalidToken as err:
            raise DecryptError("stored data could not be re-encrypted") from err
