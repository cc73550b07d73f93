"""The server's tools through the MCP client against the fake API: annotations, the
never-when-tainted marks and a cron made with its preview. (tests/test_mcp_angie.py runs it
against Angie's real API.)"""

from __future__ import annotations

from typing import Any

from angie_mcp_angie.server import build, preview
from angie_mcp_angie.testing import FakeAngie
from fastmcp import Client

from angie_mcp_core.server import NEVER_WHEN_TAINTED

CHANGES_CRONS_OR_WORKFLOWS = {
    "cron_create",
    "cron_pause",
    "cron_resume",
    "cron_delete",
    "workflow_create",
}


async def test_reads_are_read_only_and_changes_are_marked() -> None:
    with FakeAngie() as fake:
        async with Client(build(fake.settings())) as client:
            tools = {t.name: t for t in await client.list_tools()}
    for name, tool in tools.items():
        assert tool.annotations is not None
        reads = name.endswith(("_list", "_show", "_today", "_upcoming")) or name == "status"
        assert tool.annotations.read_only_hint is reads, name
        marked = (tool.meta or {}).items() >= NEVER_WHEN_TAINTED.items()
        assert marked is (name in CHANGES_CRONS_OR_WORKFLOWS), name
    assert tools["cron_delete"].annotations is not None
    assert tools["cron_delete"].annotations.destructive_hint is True


async def test_creates_a_cron_and_previews_it_in_words() -> None:
    with FakeAngie() as fake:
        async with Client(build(fake.settings())) as client:
            made = await client.call_tool(
                "cron_create",
                {"name": "garden", "cron": "0 7 * * 1-5", "instruction": "check the garden"},
            )
    data: Any = made.structured_content
    assert data["preview"] == (
        "'garden' runs every weekday at 07:00 (UTC): check the garden. "
        "Next run: 2026-12-07T07:00:00Z UTC."
    )
    assert fake.schedules[0]["cron"] == "0 7 * * 1-5"


async def test_a_missing_scope_reaches_the_model_by_name() -> None:
    with FakeAngie(scopes=("crons:read",)) as fake:
        async with Client(build(fake.settings())) as client:
            answer = await client.call_tool(
                "cron_create",
                {"name": "g", "cron": "0 7 * * *", "instruction": "x"},
                raise_on_error=False,
            )
    assert answer.is_error
    assert "lacks the scope crons:write" in str(answer.content[0])


def test_preview_of_an_unusual_cron_quotes_it_and_a_paused_one_says_so() -> None:
    text = preview({"name": "odd", "cron": "*/5 * * * *", "timezone": "UTC", "next_run_at": None})
    assert text == "'odd' runs on the cron '*/5 * * * *' (UTC). It is paused."
