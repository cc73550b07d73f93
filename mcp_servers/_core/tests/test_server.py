"""A kit-built server: its status tool, error masking, the runner, stdio and HTTP with a token."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import httpx2
import pytest
from fastmcp import Client
from fastmcp.exceptions import ToolError
from mcp import ClientSession, StdioServerParameters, stdio_client
from mcp.client.streamable_http import streamable_http_client
from mcp.types import TextResourceContents

from angie_mcp_core.configuration import CONFIGURATION_URI, Configuration
from angie_mcp_core.runner import ConfigError, load_settings
from angie_mcp_core.testing import serve_http

SAMPLE = Path(__file__).with_name("sample_server.py")
TOKEN = "sample-bearer-token-0123456789"


def settings(sample: ModuleType, **values: Any) -> Any:
    return sample.SampleSettings(**values)


async def test_status_reports_missing_settings(sample: ModuleType) -> None:
    async with Client(sample.build(settings(sample))) as client:
        result = await client.call_tool("status", {})
    assert result.structured_content is not None
    assert result.structured_content["configured"] is False
    assert result.structured_content["missing_settings"] == ["ANGIE_SAMPLE_API_KEY"]
    assert result.structured_content["upstream_reachable"] is None


async def test_status_reports_a_reachable_upstream(sample: ModuleType) -> None:
    async with Client(sample.build(settings(sample, api_key="k-123"))) as client:
        status = (await client.call_tool("status", {})).structured_content
    assert status is not None
    assert (status["configured"], status["upstream_reachable"], status["upstream"]) == (
        True,
        True,
        "sample 1.0",
    )
    assert "k-123" not in str(status)


async def test_status_reports_an_unreachable_upstream(sample: ModuleType) -> None:
    server = sample.build(settings(sample, api_key="k-123", upstream_down=True))
    async with Client(server) as client:
        status = (await client.call_tool("status", {})).structured_content
    assert status is not None
    assert status["upstream_reachable"] is False
    assert "cannot connect" in status["error"]


async def test_configuration_resource_names_missing_settings(sample: ModuleType) -> None:
    async with Client(sample.build(settings(sample))) as client:
        contents = await client.read_resource(CONFIGURATION_URI)
    assert isinstance(contents[0], TextResourceContents)
    said = Configuration.model_validate_json(contents[0].text)
    assert said == Configuration(configured=False, missing_settings=["ANGIE_SAMPLE_API_KEY"])


async def test_configuration_resource_never_holds_a_value(sample: ModuleType) -> None:
    async with Client(sample.build(settings(sample, api_key="k-secret-123"))) as client:
        contents = await client.read_resource(CONFIGURATION_URI)
    assert isinstance(contents[0], TextResourceContents)
    text = contents[0].text
    assert Configuration.model_validate_json(text) == Configuration(configured=True)
    assert "k-secret-123" not in text


async def test_tool_error_message_reaches_the_model(sample: ModuleType) -> None:
    async with Client(sample.build(settings(sample))) as client:
        with pytest.raises(ToolError, match=r"Did you mean 'kitchen'\?"):
            await client.call_tool("brightness", {"room": "Kitchn"})


async def test_unexpected_errors_are_masked(sample: ModuleType) -> None:
    async with Client(sample.build(settings(sample))) as client:
        result = await client.call_tool("crash", {}, raise_on_error=False)
    assert result.is_error
    assert "hunter2" not in str(result.content)


async def test_every_tool_is_annotated(sample: ModuleType) -> None:
    async with Client(sample.build(settings(sample))) as client:
        tools = await client.list_tools()
    assert {t.name for t in tools} == {"status", "brightness", "slow", "crash"}
    assert all(t.annotations and t.annotations.read_only_hint is True for t in tools)


def test_http_without_a_token_is_refused(sample: ModuleType) -> None:
    with pytest.raises(ConfigError, match=r"^ANGIE_SAMPLE_TOKEN must be set to serve over HTTP"):
        load_settings(sample.SampleSettings, transport="http")


def test_bad_port_is_one_line_and_exit_code_2(
    sample: ModuleType, capsys: pytest.CaptureFixture[str]
) -> None:
    assert sample.main(["--port", "70000"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("angie-mcp-sample: error: ANGIE_SAMPLE_PORT: Input should be less than")
    assert len(err.splitlines()) == 1


def test_a_short_token_is_one_line_and_exit_code_2_from_the_command(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, str(SAMPLE), "--transport", "http"],
        env=_env(ANGIE_SAMPLE_TOKEN="short"),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert done.returncode == 2
    assert done.stderr.splitlines() == [
        "angie-mcp-sample: error: ANGIE_SAMPLE_TOKEN: a bearer token needs at least 16 "
        'characters (generate one with python -c "import secrets; '
        'print(secrets.token_urlsafe(32))")'
    ]


def test_allowed_hosts_and_origins_are_comma_separated(
    sample: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ANGIE_SAMPLE_ALLOWED_HOSTS", "Hue.lan, 192.168.1.20,")
    monkeypatch.setenv("ANGIE_SAMPLE_ALLOWED_ORIGINS", "https://app.example")
    loaded = load_settings(sample.SampleSettings)
    assert loaded.allowed_hosts == ["hue.lan", "192.168.1.20"]
    assert loaded.allowed_origins == ["https://app.example"]


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("ALLOWED_HOSTS", "http://hue.lan", "'http://hue.lan' is not a host name"),
        ("ALLOWED_HOSTS", "hue.lan:8765", "'hue.lan:8765' is not a host name"),
        ("ALLOWED_ORIGINS", "app.example", "'app.example' is not an origin"),
        ("ALLOWED_ORIGINS", "https://app.example/page", "'https://app.example/page' is not an"),
    ],
)
def test_a_bad_allow_list_entry_is_one_line_naming_it(
    sample: ModuleType, monkeypatch: pytest.MonkeyPatch, name: str, value: str, message: str
) -> None:
    monkeypatch.setenv(f"ANGIE_SAMPLE_{name}", value)
    with pytest.raises(ConfigError, match=rf"^ANGIE_SAMPLE_{name}: {message}"):
        load_settings(sample.SampleSettings)


def _env(**extra: str) -> dict[str, str]:
    return {"PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", "/tmp"), **extra}


def test_fastmcps_own_log_lines_are_plain_single_lines_in_the_kits_format() -> None:
    done = subprocess.run(
        [sys.executable, str(SAMPLE), "--transport", "stdio"],
        env=_env(),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    # Not rich's box-drawn, column-wrapped rendering (a timestamp, padding, the source file).
    assert (
        "INFO fastmcp.server.mixins.transport: Starting MCP server 'sample' with transport "
        "'stdio'" in done.stderr.splitlines()
    )


async def test_official_sdk_client_over_stdio() -> None:
    params = StdioServerParameters(
        command=sys.executable, args=[str(SAMPLE)], env=_env(ANGIE_SAMPLE_API_KEY="k-1")
    )
    async with stdio_client(params) as (read, write), ClientSession(read, write) as session:
        await session.initialize()
        tools = await session.list_tools()
        result = await session.call_tool("brightness", {"room": "Living Room"})
    assert "brightness" in {t.name for t in tools.tools}
    assert result.structured_content == {"result": 80}


@pytest.fixture(scope="module")
def http_server() -> Iterator[str]:
    env = _env(ANGIE_SAMPLE_TOKEN=TOKEN, ANGIE_SAMPLE_LOG_LEVEL="WARNING")
    with serve_http([sys.executable, str(SAMPLE)], env=env) as url:
        yield url


def test_http_without_a_bearer_token_is_401(http_server: str) -> None:
    response = httpx.post(http_server, json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"})
    assert response.status_code == 401


def test_http_with_a_wrong_token_is_401(http_server: str) -> None:
    response = httpx.post(
        http_server,
        json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"},
        headers={"Authorization": "Bearer not-the-token-at-all"},
    )
    assert response.status_code == 401


async def test_official_sdk_client_over_http_with_the_token(http_server: str) -> None:
    async with (
        httpx2.AsyncClient(headers={"Authorization": f"Bearer {TOKEN}"}) as http,
        streamable_http_client(http_server, http_client=http) as (read, write),
        ClientSession(read, write) as session,
    ):
        await session.initialize()
        result = await session.call_tool("brightness", {"room": "kitchen"})
    assert result.structured_content == {"result": 40}
