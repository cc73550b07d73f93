"""Passwords (argon2), the API's JWTs (HS256, issuer, audience, expiry) and opaque tokens.

The JWT key is derived from ``ANGIE_SECRET_KEY`` for this purpose only, so a token can never
be confused with a credential ciphertext made from the same secret.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

import jwt
from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher

from angie.errors import Unauthenticated

__all__ = (
    "ACCESS_TTL",
    "API_TOKEN_PREFIX",
    "REFRESH_TTL",
    "Claims",
    "Passwords",
    "TokenError",
    "Tokens",
    "digest",
    "new_api_token",
    "new_secret",
)

ISSUER = "angie"
AUDIENCE = "angie-api"
ALGORITHM = "HS256"
ACCESS_TTL = timedelta(minutes=15)
REFRESH_TTL = timedelta(days=30)
API_TOKEN_PREFIX = "angie_pat_"  # noqa: S105 - a visible prefix, not a secret
_LEEWAY = timedelta(seconds=10)
# Ids a database can hold: a signed token with a larger one must be a 401, not a driver error.
_MAX_ID = 2**63 - 1

TokenKind = Literal["access", "refresh"]


class TokenError(Unauthenticated):
    """A token is missing, malformed, forged, expired or of the wrong kind (one sentence)."""


def digest(value: str) -> str:
    """SHA-256 hex of an opaque token: what the database keeps instead of the token."""
    return hashlib.sha256(value.encode()).hexdigest()


def new_secret(nbytes: int = 32) -> str:
    return secrets.token_urlsafe(nbytes)


def new_api_token() -> str:
    return API_TOKEN_PREFIX + secrets.token_urlsafe(32)


class Passwords:
    """argon2id through pwdlib; verification also says when a stored hash needs upgrading."""

    def __init__(self, hasher: Argon2Hasher | None = None) -> None:
        self._hash = PasswordHash((hasher or Argon2Hasher(),))
        # Compared against when the email is unknown, so a login takes as long either way.
        self._dummy = self._hash.hash(secrets.token_urlsafe(16))

    def hash(self, password: str) -> str:
        return self._hash.hash(password)

    def verify(self, password: str, stored: str | None) -> tuple[bool, str | None]:
        """``(ok, new_hash)``; ``new_hash`` is set when the stored hash should be replaced."""
        if stored is None:
            self._hash.verify(password, self._dummy)
            return False, None
        try:
            return self._hash.verify_and_update(password, stored)
        except ValueError:  # not a hash pwdlib knows: treat as a failed login, never a 500
            return False, None


@dataclass(frozen=True, slots=True)
class Claims:
    user_id: int
    session_id: int
    kind: TokenKind
    jti: str
    expires_at: datetime


class Tokens:
    """Issue and verify the API's JWTs; the algorithm is pinned, the claims are required."""

    def __init__(self, secret: str, *, access_ttl: timedelta = ACCESS_TTL) -> None:
        self._key = hmac.new(secret.encode(), b"angie/api-jwt/v1", hashlib.sha256).digest()
        self.access_ttl = access_ttl

    def issue(self, user_id: int, session_id: int, kind: TokenKind) -> tuple[str, Claims]:
        now = datetime.now(UTC)
        ttl = self.access_ttl if kind == "access" else REFRESH_TTL
        claims = Claims(user_id, session_id, kind, secrets.token_urlsafe(16), now + ttl)
        payload: dict[str, Any] = {
            "iss": ISSUER,
            "aud": AUDIENCE,
            "sub": str(user_id),
            "sid": session_id,
            "typ": kind,
            "jti": claims.jti,
            "iat": now,
            "nbf": now,
            "exp": claims.expires_at,
        }
        return jwt.encode(payload, self._key, algorithm=ALGORITHM), claims

    def verify(self, token: str, kind: TokenKind) -> Claims:
        try:
            payload = jwt.decode(
                token,
                self._key,
                algorithms=[ALGORITHM],
                audience=AUDIENCE,
                issuer=ISSUER,
                leeway=_LEEWAY,
                options={"require": ["exp", "iat", "iss", "aud", "sub", "jti"]},
            )
        except jwt.ExpiredSignatureError:
            raise TokenError("the token has expired; log in again") from None
        except jwt.InvalidTokenError:
            raise TokenError("the token is not valid") from None
        if payload.get("typ") != kind:
            raise TokenError(
                f"this is not an {kind} token"
                if kind == "access"
                else f"this is not a {kind} token"
            )
        try:
            user_id = int(payload["sub"])
            session_id = int(payload["sid"])
        except (KeyError, TypeError, ValueError):
            raise TokenError("the token is not valid") from None
        if not (0 < user_id <= _MAX_ID and 0 < session_id <= _MAX_ID):
            raise TokenError("the token is not valid")
        expires = datetime.fromtimestamp(int(payload["exp"]), UTC)
        return Claims(user_id, session_id, kind, str(payload["jti"]), expires)
