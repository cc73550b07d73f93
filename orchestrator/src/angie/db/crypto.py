"""Encryption at rest for the credentials Angie keeps, keyed from ``ANGIE_SECRET_KEY``."""

from __future__ import annotations

from functools import partial

from angie_mcp_core.crypto import DecryptError, SecretBox

__all__ = ("CredentialDecryptError", "SecretBox", "credential_box")

CredentialDecryptError = DecryptError

#: The box for ``credentials`` rows: ``credential_box(settings.secret, *old_secrets)``.
credential_box = partial(SecretBox, purpose="angie/credentials/v1", key_name="ANGIE_SECRET_KEY")
