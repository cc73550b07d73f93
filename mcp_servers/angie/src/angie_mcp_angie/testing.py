"""A fake of Angie's REST API on 127.0.0.1 for the client's own tests: it enforces the bearer
token, a token's scopes (403 naming the missing one) and rate limits (429 with Retry-After),
and keeps a small list of schedules. The server's end-to-end tests use the real API instead."""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import SecretStr

from angie_mcp_angie.settings import AngieSettings
from angie_mcp_core.fakes import FakeService, Reply, Request

__all__ = ("FakeAngie",)


def _error(status: int, message: str, headers: dict[str, str] | None = None) -> Reply:
    return Reply.json(status, {"error": {"code": str(status), "message": message}}, headers)


class FakeAngie(FakeService):
    """``/api/health`` and ``/api/schedules`` (list, create), as the real routes answer them."""

    TOKEN: ClassVar[str] = "angie_pat_fake-token-for-tests"

    def __init__(self, scopes: tuple[str, ...] = ("*",)) -> None:
        super().__init__()
        self.scopes = set(scopes)
        self.schedules: list[dict[str, Any]] = []

    def settings(self, token: str | None = None) -> AngieSettings:
        """The server's settings pointing at this fake, with its token or ``token``."""
        return AngieSettings(_env_file=None, url=self.url, api_token=SecretStr(token or self.TOKEN))

    def _lacks(self, scope: str) -> Reply | None:
        if "*" in self.scopes or scope in self.scopes:
            return None
        return _error(403, f"this API token lacks the scope {scope}; make one that has it")

    def answer(self, request: Request) -> Reply:
        if request.path == "/api/health":
            return Reply.json(200, {"status": "ok", "version": "9.9.9"})
        if request.headers.get("authorization") != f"Bearer {self.TOKEN}":
            return _error(401, "the API token is not valid (unknown or revoked)")
        if request.path != "/api/schedules":
            return _error(404, f"no route {request.path}")
        if request.method == "GET":
            limit = int(request.query.get("limit", ["50"])[0])
            items = self.schedules[:limit]
            return self._lacks("crons:read") or Reply.json(
                200, {"items": items, "total": len(self.schedules), "limit": limit, "offset": 0}
            )
        refused = self._lacks("crons:write")
        if refused is not None:
            return refused
        body = request.json()
        if len(str(body.get("cron", "")).split()) != 5:
            return _error(422, "body: cron: five fields are needed")
        made = {
            "id": len(self.schedules) + 1,
            "name": body["name"],
            "cron": body["cron"],
            "timezone": body.get("timezone") or "UTC",
            "instruction": body.get("instruction", ""),
            "enabled": True,
            "next_run_at": "2026-12-07T07:00:00Z",
        }
        self.schedules.append(made)
        return Reply.json(201, made)
