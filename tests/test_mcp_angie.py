"""Angie's own manager server through the real MCP client against her real API, served by
uvicorn on 127.0.0.1: a scoped token works within its scopes, a token with too few scopes hears
which it lacks, and a revoked token is told to reconnect."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import uvicorn
from angie_mcp_angie.server import build
from angie_mcp_angie.settings import AngieSettings
from api_support import Account, ApiHarness
from fastmcp import Client
from pydantic import SecretStr

from angie.api.app import create_app

NEEDED = ["crons:read", "crons:write", "tasks:read", "events:read", "workflows:read"]


@asynccontextmanager
async def served(api: ApiHarness) -> AsyncIterator[str]:
    """Angie's app on a free loopback port for as long as the block runs."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    app = create_app(api.angie.services, bind_host="127.0.0.1")
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    )
    task = asyncio.create_task(server.serve())
    while not server.started:  # noqa: ASYNC110 - uvicorn offers no event for it
        await asyncio.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


async def _token(api: ApiHarness, account: Account, scopes: list[str]) -> dict[str, Any]:
    made = await api.client.post(
        "/api/me/tokens", json={"name": "mcp-angie", "scopes": scopes}, headers=account.headers
    )
    assert made.status_code == 201, made.text
    created: dict[str, Any] = made.json()
    return created


def _settings(url: str, token: str) -> AngieSettings:
    return AngieSettings(_env_file=None, url=url, api_token=SecretStr(token))


async def test_crons_made_listed_paused_and_deleted_through_the_server(api: ApiHarness) -> None:
    sam = await api.signup("sam")
    token = (await _token(api, sam, NEEDED))["token"]
    async with served(api) as url, Client(build(_settings(url, token))) as client:
        made = await client.call_tool(
            "cron_create",
            {"name": "garden", "cron": "0 7 * * 1-5", "instruction": "check the garden"},
        )
        data: Any = made.structured_content
        assert data["preview"].startswith("'garden' runs every weekday at 07:00 (")
        assert "Next run: " in data["preview"]
        cron_id = data["schedule"]["id"]
        listed: Any = (await client.call_tool("cron_list", {})).structured_content
        assert [s["name"] for s in listed["items"]] == ["garden"]
        paused: Any = (
            await client.call_tool("cron_pause", {"cron_id": cron_id})
        ).structured_content
        assert paused["enabled"] is False
        upcoming: Any = (await client.call_tool("event_upcoming", {})).structured_content
        assert upcoming["items"] == []  # paused: nothing comes
        await client.call_tool("cron_resume", {"cron_id": cron_id})
        upcoming = (await client.call_tool("event_upcoming", {})).structured_content
        assert upcoming["items"]
        failed: Any = (await client.call_tool("task_failed_today", {})).structured_content
        assert failed["items"] == []
        await client.call_tool("cron_delete", {"cron_id": cron_id})
        listed = (await client.call_tool("cron_list", {})).structured_content
        assert listed["items"] == []
        missing = await client.call_tool("task_show", {"task_id": 999999}, raise_on_error=False)
        assert missing.is_error
        assert "Not found: there is no task 999999" in str(missing.content[0])


async def test_a_token_with_too_few_scopes_hears_which_it_lacks(api: ApiHarness) -> None:
    sam = await api.signup("sam")
    token = (await _token(api, sam, ["crons:read"]))["token"]
    async with served(api) as url, Client(build(_settings(url, token))) as client:
        assert (await client.call_tool("cron_list", {})).structured_content is not None
        refused = await client.call_tool(
            "cron_create",
            {"name": "g", "cron": "0 7 * * *", "instruction": "x"},
            raise_on_error=False,
        )
        assert refused.is_error
        assert "lacks the scope crons:write" in str(refused.content[0])
        tasks = await client.call_tool("task_list", {}, raise_on_error=False)
        assert "lacks the scope tasks:read" in str(tasks.content[0])


async def test_a_revoked_token_is_told_to_reconnect(api: ApiHarness) -> None:
    sam = await api.signup("sam")
    made = await _token(api, sam, NEEDED)
    gone = await api.client.delete(f"/api/me/tokens/{made['id']}", headers=sam.headers)
    assert gone.status_code == 204
    async with served(api) as url, Client(build(_settings(url, made["token"]))) as client:
        refused = await client.call_tool("cron_list", {}, raise_on_error=False)
    assert refused.is_error
    text = str(refused.content[0])
    assert "angie mcp connect angie" in text
    assert made["token"] not in text


async def test_another_persons_cron_is_not_found(api: ApiHarness) -> None:
    sam, lee = await api.signup("sam"), await api.signup("lee")
    made = await api.client.post(
        "/api/schedules",
        json={"name": "mine", "cron": "0 8 * * *", "instruction": "x"},
        headers=sam.headers,
    )
    assert made.status_code == 201, made.text
    token = (await _token(api, lee, NEEDED))["token"]
    async with served(api) as url, Client(build(_settings(url, token))) as client:
        refused = await client.call_tool(
            "cron_delete", {"cron_id": made.json()["id"]}, raise_on_error=False
        )
    assert refused.is_error
    assert "Not found" in str(refused.content[0])
