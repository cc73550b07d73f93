"""The spam MCP server through MCP (in memory, stdio, HTTP): tools, errors, the demo data."""

from __future__ import annotations

import os
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import httpx2
import pytest
from angie_mcp_spam.server import build
from angie_mcp_spam.settings import SpamSettings
from angie_mcp_spam.testing import NEWSLETTER, PERSONAL, PHISHING, SAMPLES, SampleMailbox, demo
from fastmcp import Client
from fastmcp.exceptions import ToolError
from mcp import ClientSession, StdioServerParameters, stdio_client
from mcp.client.streamable_http import streamable_http_client

from angie_mcp_core.testing import serve_http

TOKEN = "spam-test-bearer-token-0123456789"
READS = {"status", "score_messages", "explain_score", "list_lists", "sender_history"}
WRITES = {"allow_sender", "block_sender", "remove_from_lists", "record_verdict"}


def _structured(result: Any) -> Any:
    assert result.structured_content is not None
    return result.structured_content


@pytest.fixture
async def spam(spam_settings: SpamSettings) -> AsyncIterator[Client[Any]]:
    async with Client(build(spam_settings)) as client:
        yield client


async def test_tools_and_their_hints(spam: Client[Any]) -> None:
    tools = {t.name: t for t in await spam.list_tools()}

    assert set(tools) == READS | WRITES
    for name in READS:
        hints = tools[name].annotations
        assert hints is not None
        assert hints.read_only_hint is True, name
    for name in WRITES:
        hints = tools[name].annotations
        assert hints is not None
        assert (hints.read_only_hint, hints.destructive_hint) == (False, False), name
        assert hints.idempotent_hint is True, name


async def test_status_reports_the_local_lists_as_reachable(spam: Client[Any]) -> None:
    status = _structured(await spam.call_tool("status", {}))

    assert (status["configured"], status["upstream_reachable"]) == (True, True)
    assert "0 allowed, 0 blocked" in status["upstream"]


async def test_score_messages_returns_a_score_per_message_in_order(spam: Client[Any]) -> None:
    messages = [{"id": "1", "raw": PHISHING}, {"id": "2", "raw": NEWSLETTER}]

    scores = _structured(await spam.call_tool("score_messages", {"messages": messages}))["result"]

    assert [(s["id"], s["verdict"], s["bulk"]) for s in scores] == [
        ("1", "spam", False),
        ("2", "ham", True),
    ]
    assert {"code", "weight", "detail"} == set(scores[0]["reasons"][0])


async def test_explain_score_shows_what_the_score_came_from(spam: Client[Any]) -> None:
    found = _structured(await spam.call_tool("explain_score", {"message": {"raw": PHISHING}}))

    assert found["authentication"] == {"spf": "fail", "dkim": "none", "dmarc": "fail"}
    assert found["reply_to"] == "support-desk@account-verify.ru"
    assert found["display_name"] == "PayPal Service"
    assert "https://www.paypal.com.account-verify.ru/signin?id=77812" in found["links"]
    assert found["summary"].startswith("Spam (100/100). The sender's domain paypa1.com imitates")


async def test_lists_through_the_tools_survive_a_restart(spam_settings: SpamSettings) -> None:
    async with Client(build(spam_settings)) as first:
        await first.call_tool(
            "allow_sender", {"entries": ["rose.miller@gmail.com"], "note": "Gran"}
        )
        await first.call_tool("block_sender", {"entries": ["@promo-deals.example"]})
        verdict = {"message_id": "<p1@x>", "sender": "a@promo-deals.example", "verdict": "spam"}
        await first.call_tool("record_verdict", {"verdicts": [verdict]})
    async with Client(build(spam_settings)) as restarted:
        lists = _structured(await restarted.call_tool("list_lists", {}))
        history = _structured(
            await restarted.call_tool("sender_history", {"senders": ["a@promo-deals.example"]})
        )["result"]
        [personal] = _structured(
            await restarted.call_tool("score_messages", {"messages": [{"raw": PERSONAL}]})
        )["result"]
        removed = _structured(
            await restarted.call_tool("remove_from_lists", {"entries": ["rose.miller@gmail.com"]})
        )

    assert [(e["entry"], e["note"]) for e in lists["allow"]] == [("rose.miller@gmail.com", "Gran")]
    assert [e["entry"] for e in lists["block"]] == ["@promo-deals.example"]
    assert (history[0]["spam"], history[0]["ham"]) == (1, 0)
    assert personal["score"] == 0
    assert removed["changed"] == ["rose.miller@gmail.com"]


@pytest.mark.parametrize(
    ("tool", "arguments", "message"),
    [
        ("score_messages", {"messages": [{"raw": "no headers at all"}]}, "is not a mail message"),
        ("score_messages", {"messages": [{"raw": PERSONAL + "x" * 3_000}]}, "over the limit"),
        ("score_messages", {"messages": [{"id": "a"}]}, "give either raw"),
        ("allow_sender", {"entries": ["bob at example"]}, "Not an address or domain"),
        ("record_verdict", {"verdicts": [{"message_id": "m", "sender": "nobody",
                                          "verdict": "spam"}]}, "not a sender address"),
    ],
)  # fmt: skip
async def test_bad_input_is_a_tool_error_the_model_can_act_on(
    data_dir: Path, tool: str, arguments: dict[str, Any], message: str
) -> None:
    settings = SpamSettings(_env_file=None, data_dir=data_dir, max_message_bytes=2_000)
    async with Client(build(settings)) as spam:
        with pytest.raises(ToolError, match=message):
            await spam.call_tool(tool, arguments)
        after = await spam.call_tool("list_lists", {})

    assert _structured(after) == {"allow": [], "block": []}


@pytest.fixture
def foreign_file(data_dir: Path) -> Path:
    data_dir.mkdir()
    path = data_dir / "spam.json"
    path.write_text("[]")
    return path


@pytest.mark.usefixtures("foreign_file")
async def test_a_foreign_lists_file_is_a_tool_error(spam: Client[Any]) -> None:
    with pytest.raises(ToolError, match="not one this server wrote"):
        await spam.call_tool("list_lists", {})
    status = _structured(await spam.call_tool("status", {}))

    assert status["upstream_reachable"] is False
    assert "move it away" in status["error"]


async def test_mail_fetched_from_a_mailbox_is_scored_as_text(spam: Client[Any]) -> None:
    with SampleMailbox() as mailbox:
        async with httpx.AsyncClient(base_url=mailbox.url) as http:
            listing = (await http.get("/messages")).json()
            refused = (await http.delete("/messages/phishing")).status_code

    scores = _structured(await spam.call_tool("score_messages", {"messages": listing}))["result"]

    assert refused == 405
    assert {s["id"]: s["verdict"] for s in scores} == {
        "phishing": "spam",
        "newsletter": "ham",
        "personal": "ham",
        "malware": "spam",
    }
    assert len(listing) == len(SAMPLES)


async def test_the_demo_data_has_lists_and_a_known_sender(tmp_path: Path) -> None:
    with demo(tmp_path / "state") as environ:
        settings = SpamSettings(_env_file=None, data_dir=Path(environ["ANGIE_SPAM_DATA_DIR"]))
        async with Client(build(settings)) as spam:
            lists = _structured(await spam.call_tool("list_lists", {}))
            [personal] = _structured(
                await spam.call_tool("score_messages", {"messages": [{"raw": PERSONAL}]})
            )["result"]

    assert set(environ) == {"ANGIE_SPAM_DATA_DIR"}
    assert {e["entry"] for e in lists["allow"]} == {"rose.miller@gmail.com", "@mybank.example"}
    assert [e["entry"] for e in lists["block"]] == ["@promo-deals.example"]
    assert personal["verdict"] == "ham"


# Over stdio and HTTP --------------------------------------------------------------------------


def _env(home: Path, **extra: str) -> dict[str, str]:
    return {
        "PATH": os.environ["PATH"],
        "HOME": str(home),
        "ANGIE_SPAM_DATA_DIR": str(home / "spam-data"),
        **extra,
    }


async def test_official_sdk_client_over_stdio(tmp_path: Path) -> None:
    params = StdioServerParameters(command=sys.executable, args=["-m", "angie_mcp_spam"],
                                   env=_env(tmp_path))  # fmt: skip
    async with stdio_client(params) as (read, write), ClientSession(read, write) as session:
        await session.initialize()
        tools = await session.list_tools()
        result = await session.call_tool("block_sender", {"entries": ["@promo-deals.example"]})

    assert {tool.name for tool in tools.tools} == READS | WRITES
    assert result.structured_content is not None
    assert result.structured_content["changed"] == ["@promo-deals.example"]
    assert (tmp_path / "spam-data" / "spam.json").is_file()


@pytest.fixture(scope="module")
def http_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    home = tmp_path_factory.mktemp("home")
    env = _env(home, ANGIE_SPAM_TOKEN=TOKEN, ANGIE_SPAM_LOG_LEVEL="WARNING")
    with serve_http([sys.executable, "-m", "angie_mcp_spam"], env=env) as url:
        yield url


def test_http_without_the_bearer_token_is_401(http_server: str) -> None:
    listing = {"jsonrpc": "2.0", "id": 1, "method": "tools/list"}

    assert httpx.post(http_server, json=listing).status_code == 401


async def test_official_sdk_client_over_http_with_the_token(http_server: str) -> None:
    async with (
        httpx2.AsyncClient(headers={"Authorization": f"Bearer {TOKEN}"}) as http,
        streamable_http_client(http_server, http_client=http) as (read, write),
        ClientSession(read, write) as session,
    ):
        await session.initialize()
        result = await session.call_tool("score_messages", {"messages": [{"raw": PHISHING}]})

    assert result.structured_content is not None
    assert result.structured_content["result"][0]["verdict"] == "spam"
