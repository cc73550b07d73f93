"""Bearer-token auth for a server on streamable HTTP: one token, compared in constant time."""

from __future__ import annotations

import hmac

from fastmcp.server.auth import AccessToken, TokenVerifier

from angie_mcp_core.settings import MIN_TOKEN_LENGTH

__all__ = ("BearerTokenVerifier",)


class BearerTokenVerifier(TokenVerifier):
    """Accepts exactly one token (the supervisor gives each server a fresh random one)."""

    def __init__(self, token: str, client_id: str = "angie") -> None:
        if len(token) < MIN_TOKEN_LENGTH:
            raise ValueError(f"a bearer token needs at least {MIN_TOKEN_LENGTH} characters")
        super().__init__()
        self._token = token.encode("utf-8")
        self._client_id = client_id

    async def verify_token(self, token: str) -> AccessToken | None:
        if hmac.compare_digest(token.encode("utf-8"), self._token):
            return AccessToken(token=token, client_id=self._client_id, scopes=[])
        return None
