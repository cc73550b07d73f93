"""The client against the fake API: the token is sent, and every error becomes the kit's."""

from __future__ import annotations

import pytest
from angie_mcp_angie.client import AngieClient
from angie_mcp_angie.settings import AngieSettings
from angie_mcp_angie.testing import FakeAngie

from angie_mcp_core.errors import (
    InvalidArgumentError,
    NotConfiguredError,
    RateLimitedError,
    UnauthorizedError,
)
from angie_mcp_core.fakes import Reply


async def test_lists_with_the_token() -> None:
    with FakeAngie() as fake:
        client = AngieClient(fake.settings())
        answer = await client.get("/schedules", limit=5)
        await client.aclose()
    assert answer["items"] == []
    assert fake.log[-1].headers["authorization"] == f"Bearer {FakeAngie.TOKEN}"
    assert fake.log[-1].query["limit"] == ["5"]


async def test_a_revoked_token_says_to_reconnect() -> None:
    with FakeAngie() as fake:
        client = AngieClient(fake.settings("angie_pat_revoked-one"))
        with pytest.raises(UnauthorizedError, match="angie mcp connect angie") as caught:
            await client.get("/schedules")
        await client.aclose()
    assert "revoked-one" not in str(caught.value)


async def test_a_missing_scope_is_named() -> None:
    with FakeAngie(scopes=("crons:read",)) as fake:
        client = AngieClient(fake.settings())
        with pytest.raises(InvalidArgumentError, match="lacks the scope crons:write"):
            await client.post("/schedules", {"name": "x", "cron": "0 7 * * *"})
        await client.aclose()


async def test_a_refused_field_carries_the_apis_message() -> None:
    with FakeAngie() as fake:
        client = AngieClient(fake.settings())
        with pytest.raises(InvalidArgumentError, match="five fields are needed"):
            await client.post("/schedules", {"name": "x", "cron": "daily"})
        await client.aclose()


async def test_rate_limit_gives_the_wait() -> None:
    with FakeAngie() as fake:
        fake.inject(Reply.json(429, {"error": {}}, {"Retry-After": "7"}), path="/api/schedules")
        client = AngieClient(fake.settings())
        with pytest.raises(RateLimitedError, match="7 seconds"):
            await client.get("/schedules")
        await client.aclose()


async def test_not_configured_names_the_settings() -> None:
    client = AngieClient(AngieSettings(_env_file=None))
    with pytest.raises(NotConfiguredError, match="ANGIE_ANGIE_URL, ANGIE_ANGIE_API_TOKEN"):
        await client.get("/schedules")


def test_a_url_that_is_not_http_is_refused() -> None:
    with pytest.raises(ValueError, match="not an http"):
        AngieSettings(_env_file=None, url="ftp://angie")
    assert AngieSettings(_env_file=None, url="http://h:8000/api/").url == "http://h:8000"
