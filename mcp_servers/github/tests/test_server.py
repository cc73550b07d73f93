"""The GitHub MCP server through MCP (in memory, stdio, HTTP) against the fake GitHub of testing."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import httpx2
import pytest
from angie_mcp_github.__main__ import main
from angie_mcp_github.client import RUN_STATUSES
from angie_mcp_github.server import build
from angie_mcp_github.settings import GitHubSettings
from angie_mcp_github.testing import FakeGitHub
from fastmcp import Client
from fastmcp.exceptions import ToolError
from mcp import ClientSession, StdioServerParameters, stdio_client
from mcp.client.streamable_http import streamable_http_client
from pydantic import SecretStr

from angie_mcp_core.testing import serve_http

HELLO = "octocat/Hello-World"
# The MCP bearer token (ANGIE_GITHUB_TOKEN), not the GitHub token (ANGIE_GITHUB_API_TOKEN).
BEARER = "github-mcp-bearer-token-0123456789"
READS = {
    "status",
    "notifications",
    "search_issues",
    "list_issues",
    "list_pull_requests",
    "get_issue",
    "pull_request_checks",
    "workflow_runs",
}
WRITES = {"create_issue", "comment"}


def _structured(result: Any) -> Any:
    assert result.structured_content is not None
    return result.structured_content


def _result(result: Any) -> Any:
    return _structured(result)["result"]


def _writes(fake: FakeGitHub) -> list[tuple[str, str]]:
    return [r for r in fake.requests if r[0] != "GET"]


@pytest.fixture
async def github(settings: GitHubSettings) -> AsyncIterator[Client[Any]]:
    async with Client(build(settings)) as client:
        yield client


@pytest.fixture
async def unconfigured(settings: GitHubSettings) -> AsyncIterator[Client[Any]]:
    # `settings` has already cleared ANGIE_GITHUB_* from the environment.
    async with Client(build(GitHubSettings(_env_file=None))) as client:
        yield client


# Reading --------------------------------------------------------------------------------------


async def test_notifications_returns_unread_threads_as_structured_output(
    github: Client[Any],
) -> None:
    threads = _result(await github.call_tool("notifications", {}))

    assert [(t["repo"], t["title"], t["reason"]) for t in threads] == [
        (HELLO, "Add a greeting", "review_requested"),
        (HELLO, "Found a bug", "mention"),
    ]
    assert set(threads[0]) == {
        "id",
        "repo",
        "title",
        "type",
        "reason",
        "unread",
        "updated_at",
        "url",
    }


async def test_notifications_include_read_of_one_repository(github: Client[Any]) -> None:
    args = {"include_read": True, "repo": "octocat/Spoon-Knife", "limit": 5}
    threads = _result(await github.call_tool("notifications", args))

    assert [(t["title"], t["unread"]) for t in threads] == [("v2.0", False)]


async def test_search_issues_passes_github_query_syntax(
    github: Client[Any], fake_github: FakeGitHub
) -> None:
    found = _result(await github.call_tool("search_issues", {"query": "greeting is:pr"}))

    assert [(i["repo"], i["number"], i["is_pull_request"]) for i in found] == [(HELLO, 2, True)]
    assert fake_github.paths() == ["/search/issues"]


async def test_list_issues_leaves_out_pull_requests(github: Client[Any]) -> None:
    issues = _result(await github.call_tool("list_issues", {"repo": HELLO}))

    assert [(i["number"], i["title"], i["labels"]) for i in issues] == [
        (5, "Document the API", ["documentation"]),
        (1, "Found a bug", ["bug"]),
    ]


async def test_list_pull_requests_with_state_all(github: Client[Any]) -> None:
    pulls = _result(await github.call_tool("list_pull_requests", {"repo": HELLO, "state": "all"}))

    assert [(p["number"], p["state"], p["merged"], p["head"]) for p in pulls] == [
        (2, "open", False, "feature/greeting"),
        (4, "closed", True, "fix/typo"),
    ]


async def test_get_issue_returns_body_latest_comments_and_review_state(
    github: Client[Any],
) -> None:
    pr = _structured(await github.call_tool("get_issue", {"number": 2, "repo": HELLO}))

    assert (pr["title"], pr["body"], pr["is_pull_request"]) == (
        "Add a greeting",
        "Says hello.",
        True,
    )
    assert [c["body"] for c in pr["recent_comments"]] == ["Nice!"]
    assert pr["pull_request"]["review_decision"] == "approved"
    assert pr["pull_request"]["requested_reviewers"] == ["carol"]


async def test_get_issue_limits_the_comments_to_the_latest(github: Client[Any]) -> None:
    args = {"number": 1, "repo": HELLO, "comments": 2}
    issue = _structured(await github.call_tool("get_issue", args))

    assert [c["author"] for c in issue["recent_comments"]] == ["alice", "bob"]
    assert issue["pull_request"] is None


async def test_pull_request_checks_reports_reviews_and_ci(github: Client[Any]) -> None:
    checks = _structured(
        await github.call_tool("pull_request_checks", {"number": 2, "repo": HELLO})
    )

    assert (checks["review_decision"], checks["overall"]) == ("approved", "pending")
    assert [s["context"] for s in checks["statuses"]] == ["ci/jenkins"]
    assert [(r["name"], r["conclusion"]) for r in checks["check_runs"]] == [
        ("build", "success"),
        ("lint", None),
    ]


async def test_workflow_runs_filters_by_branch_and_status(github: Client[Any]) -> None:
    args = {"repo": HELLO, "branch": "main", "status": "failure"}
    runs = _result(await github.call_tool("workflow_runs", args))

    assert [(r["name"], r["title"], r["conclusion"]) for r in runs] == [
        ("Release", "v1.0.0", "failure")
    ]


async def test_tools_given_no_repo_use_the_default_repository(settings: GitHubSettings) -> None:
    server = build(settings.model_copy(update={"default_repo": "octocat/Spoon-Knife"}))

    async with Client(server) as client:
        issues = _result(await client.call_tool("list_issues", {}))

    assert [(i["repo"], i["title"]) for i in issues] == [("octocat/Spoon-Knife", "Fork me")]
    assert "octocat/Spoon-Knife" in (server.instructions or "")


async def test_every_tool_declares_its_output_schema(unconfigured: Client[Any]) -> None:
    tools = {tool.name: tool for tool in await unconfigured.list_tools()}

    assert all(tool.output_schema is not None for tool in tools.values())
    details = tools["get_issue"].output_schema
    assert details is not None
    assert {"body", "recent_comments", "pull_request"} <= set(details["properties"])


# Writing --------------------------------------------------------------------------------------


async def test_create_issue_opens_it_with_existing_labels(
    github: Client[Any], fake_github: FakeGitHub
) -> None:
    args = {"title": "Crash on start", "repo": HELLO, "body": "Boom.", "labels": ["BUG"]}
    issue = _structured(await github.call_tool("create_issue", args))

    created = fake_github.repo(HELLO).items[6]
    assert (created.title, created.body, created.labels) == ("Crash on start", "Boom.", ["bug"])
    assert (issue["number"], issue["labels"]) == (6, ["bug"])
    assert issue["url"] == "https://github.com/octocat/Hello-World/issues/6"


async def test_comment_posts_on_the_issue(github: Client[Any], fake_github: FakeGitHub) -> None:
    args = {"number": 1, "body": "Still happens on 1.2.", "repo": HELLO}
    posted = _structured(await github.call_tool("comment", args))

    last = fake_github.repo(HELLO).comments[1][-1]
    assert (last["user"], last["body"]) == ("octocat", "Still happens on 1.2.")
    assert posted["id"] == last["id"]


# Refusals -------------------------------------------------------------------------------------


async def test_unknown_repository_error_suggests_the_close_name(github: Client[Any]) -> None:
    with pytest.raises(
        ToolError, match=r"No repository named 'octocat/Hello-Wrld'\. Did you mean 'octocat/Hello"
    ):
        await github.call_tool("list_issues", {"repo": "octocat/Hello-Wrld"})


async def test_unknown_label_is_refused_with_the_close_name_and_nothing_created(
    github: Client[Any], fake_github: FakeGitHub
) -> None:
    args = {"title": "Crash", "repo": HELLO, "labels": ["bgu"]}

    with pytest.raises(ToolError, match=r"No label named 'bgu'\. Did you mean 'bug'\?"):
        await github.call_tool("create_issue", args)

    assert _writes(fake_github) == []


async def test_no_repo_and_no_default_says_how_to_name_one(
    github: Client[Any], fake_github: FakeGitHub
) -> None:
    with pytest.raises(ToolError, match=r"pass repo as 'owner/name' or set ANGIE_GITHUB_DEFAULT"):
        await github.call_tool("list_pull_requests", {})

    assert fake_github.requests == []


@pytest.mark.parametrize(
    ("tool", "args"),
    [
        ("list_issues", {"repo": HELLO, "limit": 150}),
        ("list_issues", {"repo": HELLO, "state": "merged"}),
        ("get_issue", {"number": 0, "repo": HELLO}),
        ("get_issue", {"number": 1, "repo": HELLO, "comments": 101}),
        ("search_issues", {"query": ""}),
        ("create_issue", {"title": "", "repo": HELLO}),
        ("create_issue", {"title": "x" * 257, "repo": HELLO}),
        ("comment", {"number": 1, "body": "", "repo": HELLO}),
        ("workflow_runs", {"repo": HELLO, "status": "broken"}),
        ("notifications", {"unread": True}),
    ],
    ids=lambda value: value if isinstance(value, str) else str(sorted(value)),
)
async def test_invalid_argument_is_rejected_by_the_schema_before_github(
    github: Client[Any], fake_github: FakeGitHub, tool: str, args: dict[str, Any]
) -> None:
    result = await github.call_tool(tool, args, raise_on_error=False)

    assert result.is_error
    assert fake_github.requests == []


# Failures from GitHub -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "message"),
    [
        (401, r"^GitHub failed \(HTTP 401\): it rejected Angie's credentials\. "
         r"Set ANGIE_GITHUB_API_TOKEN to a valid personal access token"),
        (429, r"^GitHub is rate limiting requests\. Try again in 7 seconds\.$"),
        (500, r"^GitHub failed \(HTTP 500\): Server Error$"),
    ],
)  # fmt: skip
async def test_github_http_error_is_a_tool_error_and_the_server_keeps_serving(
    github: Client[Any], fake_github: FakeGitHub, status: int, message: str
) -> None:
    fake_github.fail_next(status, headers={"Retry-After": "7"})

    with pytest.raises(ToolError, match=message) as err:
        await github.call_tool("list_issues", {"repo": HELLO})
    after = _result(await github.call_tool("list_issues", {"repo": HELLO}))

    assert fake_github.token not in str(err.value)
    assert [i["number"] for i in after] == [5, 1]


async def test_slow_github_times_out_within_the_configured_timeout(
    settings: GitHubSettings, fake_github: FakeGitHub
) -> None:
    async with Client(build(settings.model_copy(update={"timeout": 0.3}))) as client:
        fake_github.delay = 60
        answered = fake_github.answered
        try:
            with pytest.raises(ToolError, match=r"^GitHub did not answer within 0\.3 seconds"):
                await client.call_tool("list_issues", {"repo": HELLO})
            assert fake_github.answered == answered
        finally:
            fake_github.release()


# Not configured -------------------------------------------------------------------------------


async def test_unconfigured_server_still_lists_its_tools(unconfigured: Client[Any]) -> None:
    names = {tool.name for tool in await unconfigured.list_tools()}

    assert names == READS | WRITES


async def test_unconfigured_status_names_the_missing_env_var(unconfigured: Client[Any]) -> None:
    status = _structured(await unconfigured.call_tool("status", {}))

    assert status["configured"] is False
    assert status["missing_settings"] == ["ANGIE_GITHUB_API_TOKEN"]
    assert status["upstream_reachable"] is None


async def test_unconfigured_tool_call_says_how_to_configure(unconfigured: Client[Any]) -> None:
    with pytest.raises(
        ToolError, match=r"^GitHub is not configured: set ANGIE_GITHUB_API_TOKEN in the server's"
    ):
        await unconfigured.call_tool("search_issues", {"query": "is:open"})


async def test_status_reports_the_reachable_github_and_its_user(
    github: Client[Any], fake_github: FakeGitHub
) -> None:
    status = _structured(await github.call_tool("status", {}))

    assert (status["server"], status["configured"], status["upstream_reachable"]) == (
        "github",
        True,
        True,
    )
    assert status["upstream"] == f"GitHub at {fake_github.base_url}, authenticated as octocat"
    assert fake_github.token not in str(status)


async def test_status_reports_a_token_github_rejects(settings: GitHubSettings) -> None:
    server = build(settings.model_copy(update={"api_token": SecretStr("ghp_revoked")}))

    async with Client(server) as client:
        status = _structured(await client.call_tool("status", {}))

    assert status["upstream_reachable"] is False
    assert "Set ANGIE_GITHUB_API_TOKEN" in status["error"]


# Tool metadata --------------------------------------------------------------------------------


async def test_every_tool_has_a_docstring_and_both_hints(unconfigured: Client[Any]) -> None:
    for tool in await unconfigured.list_tools():
        assert tool.description, tool.name
        assert tool.annotations is not None, tool.name
        assert tool.annotations.read_only_hint is not None, tool.name
        assert tool.annotations.destructive_hint is not None, tool.name


async def test_reads_are_read_only_and_writes_destroy_nothing(unconfigured: Client[Any]) -> None:
    hints = {
        tool.name: (tool.annotations.read_only_hint, tool.annotations.destructive_hint)
        for tool in await unconfigured.list_tools()
        if tool.annotations is not None
    }

    assert {name for name, hint in hints.items() if hint == (True, False)} == READS
    assert {name for name, hint in hints.items() if hint == (False, False)} == WRITES


async def test_every_argument_is_described(unconfigured: Client[Any]) -> None:
    for tool in await unconfigured.list_tools():
        for name, schema in tool.input_schema.get("properties", {}).items():
            assert schema.get("description"), f"{tool.name}.{name}"


async def test_workflow_status_choices_are_the_clients(unconfigured: Client[Any]) -> None:
    tools = {tool.name: tool for tool in await unconfigured.list_tools()}

    status = tools["workflow_runs"].input_schema["properties"]["status"]
    assert tuple(next(s["enum"] for s in status["anyOf"] if "enum" in s)) == RUN_STATUSES


# Lifecycle ------------------------------------------------------------------------------------


async def test_ending_the_session_closes_the_connections_to_github(
    settings: GitHubSettings, fake_github: FakeGitHub
) -> None:
    async with Client(build(settings)) as client:
        await client.call_tool("list_issues", {"repo": HELLO})
        assert fake_github._connections

    # The fake notices a closed connection on its own thread: give it up to two seconds.
    for _ in range(100):
        if not fake_github._connections:
            break
        await asyncio.sleep(0.02)
    assert not fake_github._connections


async def test_server_serves_a_new_session_after_the_last_one_closed_its_client(
    settings: GitHubSettings,
) -> None:
    server = build(settings)
    for _ in range(2):
        async with Client(server) as client:
            issues = _result(await client.call_tool("list_issues", {"repo": HELLO}))
        assert [i["number"] for i in issues] == [5, 1]


# The command line and the transports ----------------------------------------------------------


def test_http_without_the_mcp_bearer_token_exits_2_naming_it(
    settings: GitHubSettings,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("ANGIE_GITHUB_API_TOKEN", "ghp_set_but_not_a_bearer_token")

    code = main(["--transport", "http"])

    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("angie-mcp-github: error: ANGIE_GITHUB_TOKEN must be set")


def _env(fake: FakeGitHub, **extra: str) -> dict[str, str]:
    return {
        "PATH": os.environ["PATH"],
        "HOME": os.environ.get("HOME", "/tmp"),
        "ANGIE_GITHUB_API_TOKEN": fake.token,
        "ANGIE_GITHUB_API_URL": fake.base_url,
        "ANGIE_GITHUB_LOG_LEVEL": "WARNING",
        **extra,
    }


async def test_official_sdk_client_over_stdio(fake_github: FakeGitHub, tmp_path: Path) -> None:
    params = StdioServerParameters(
        command=sys.executable,
        args=["-m", "angie_mcp_github"],
        env=_env(fake_github, ANGIE_GITHUB_DEFAULT_REPO=HELLO),
        cwd=tmp_path,
    )
    async with stdio_client(params) as (read, write), ClientSession(read, write) as session:
        await session.initialize()
        tools = await session.list_tools()
        result = await session.call_tool("get_issue", {"number": 1, "comments": 0})

    assert {t.name for t in tools.tools} == READS | WRITES
    assert result.structured_content is not None
    assert (result.structured_content["repo"], result.structured_content["title"]) == (
        HELLO,
        "Found a bug",
    )


@pytest.fixture(scope="module")
def http_server(
    module_fake_github: FakeGitHub, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    env = _env(module_fake_github, ANGIE_GITHUB_TOKEN=BEARER)
    command = [sys.executable, "-m", "angie_mcp_github"]
    with serve_http(command, env=env, cwd=tmp_path_factory.mktemp("http")) as url:
        yield url


def test_http_without_a_bearer_token_is_401(http_server: str) -> None:
    response = httpx.post(http_server, json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"})

    assert response.status_code == 401


def test_http_with_the_github_token_as_bearer_is_401(
    http_server: str, module_fake_github: FakeGitHub
) -> None:
    response = httpx.post(
        http_server,
        json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"},
        headers={"Authorization": f"Bearer {module_fake_github.token}"},
    )

    assert response.status_code == 401


async def test_official_sdk_client_over_http_with_the_bearer_token(http_server: str) -> None:
    async with (
        httpx2.AsyncClient(headers={"Authorization": f"Bearer {BEARER}"}) as http,
        streamable_http_client(http_server, http_client=http) as (read, write),
        ClientSession(read, write) as session,
    ):
        await session.initialize()
        result = await session.call_tool("list_pull_requests", {"repo": HELLO})

    assert result.structured_content is not None
    assert [p["number"] for p in result.structured_content["result"]] == [2]
