"""Encryption at rest for the credentials Angie keeps, keyed from ``ANGIE_SECRET_KEY``."""

from __future__ import annotations

import base64

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

__all__ = ("CredentialDecryptError", "SecretBox")

_INFO = b"angie/credentials/v1"


class CredentialDecryptError(Exception):
    """A stored credential cannot be decrypted: the secret key changed or the data was altered."""


def _fernet_key(secret: str) -> bytes:
    # HKDF rather than the raw key: the secret key also signs tokens, and each use gets its own key.
    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_INFO).derive(
        secret.encode("utf-8")
    )
    return base64.urlsafe_b64encode(derived)


class SecretBox:
    """Fernet with a key derived from the secret key; older keys still decrypt after a rotation."""

    def __init__(self, secret: str, *previous_secrets: str) -> None:
        if not secret:
            raise ValueError("SecretBox needs a non-empty secret key")
        self._fernet = MultiFernet([Fernet(_fernet_key(s)) for s in (secret, *previous_secrets)])

    def encrypt(self, plaintext: str) -> bytes:
        return self._fernet.encrypt(plaintext.encode("utf-8"))

    def decrypt(self, token: bytes) -> str:
        try:
            return self._fernet.decrypt(token).decode("utf-8")
        except InvalidToken as err:
            raise CredentialDecryptError(
                "a stored credential could not be decrypted: was ANGIE_SECRET_KEY changed?"
            ) from err

    def rotate(self, token: bytes) -> bytes:
        """Re-encrypt a token under the current key."""
        try:
            return self._fernet.rotate(token)
        except InvalidToken as err:
            raise CredentialDecryptError("a stored credential could not be re-encrypted") from err
