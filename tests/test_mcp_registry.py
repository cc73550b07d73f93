"""The registry finds the built-in servers by their manifests, reads mcpServers files as Claude
Desktop and VS Code write them (with ${VAR} expansion) and merges the two."""

from __future__ import annotations

import json
import logging
import re
from importlib.metadata import EntryPoint
from pathlib import Path
from typing import Any

import pytest

from angie.mcp.manifests import discover, manifests_from
from angie.mcp.registry import (
    RegistryError,
    ServerSpec,
    builtin_specs,
    load_config_file,
    merge,
    tool_prefix,
)
from angie_mcp_core.manifest import ENTRY_POINT_GROUP, ServerManifest


def write(tmp_path: Path, servers: Any) -> Path:
    return paste(tmp_path, json.dumps({"mcpServers": servers}))


def paste(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "mcp.json"
    path.write_text(text)
    return path


def test_stdio_and_http_servers_are_read_with_variables_expanded(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        {
            "weather": {
                "command": "uvx",
                "args": ["mcp-weather", "--units=${UNITS:-metric}"],
                "env": {"WEATHER_KEY": "${WEATHER_KEY}"},
            },
            "remote": {
                "url": "https://mcp.example.org/${TENANT}/mcp",
                "headers": {"Authorization": "Bearer ${REMOTE_TOKEN}"},
            },
        },
    )
    environ = {"WEATHER_KEY": "w-1", "TENANT": "home", "REMOTE_TOKEN": "r-2"}
    specs = load_config_file(path, environ).servers
    assert specs["weather"].command == ("uvx", "mcp-weather", "--units=metric")
    assert specs["weather"].env == {"WEATHER_KEY": "w-1"}
    assert specs["remote"].url == "https://mcp.example.org/home/mcp"
    assert specs["remote"].headers == {"Authorization": "Bearer r-2"}


def test_a_whole_url_may_be_a_variable_and_is_checked_once_expanded(tmp_path: Path) -> None:
    path = write(tmp_path, {"hue": {"type": "http", "url": "${HUE_URL}"}, "bad": {"url": "${BAD}"}})
    found = load_config_file(path, {"HUE_URL": "http://mcp-hue:8000/mcp", "BAD": "ftp://x"})
    assert found.servers["hue"].url == "http://mcp-hue:8000/mcp"
    assert [(entry.name, entry.reason.rsplit(": ", 1)[-1]) for entry in found.skipped] == [
        ("bad", "must be an http:// or https:// URL")
    ]


def test_describe_never_shows_secrets(tmp_path: Path) -> None:
    path = write(tmp_path, {"remote": {"url": "https://x.org/mcp", "headers": {"A": "${T}"}}})
    spec = load_config_file(path, {"T": "very-secret"}).servers["remote"]
    assert "very-secret" not in spec.describe()


def test_missing_file_is_no_servers(tmp_path: Path) -> None:
    found = load_config_file(tmp_path / "absent.json")
    assert found.servers == {}
    assert found.skipped == ()


@pytest.mark.parametrize(
    ("servers", "message"),
    [
        (
            {"w": {"command": "x", "env": {"K": "${UNSET_VAR}"}}},
            "environment variable UNSET_VAR is not set",
        ),
        ({"9lives": {"command": "x"}}, "server name '9lives' must be letters"),
        ({"w": {"command": "x", "url": "http://a/mcp"}}, "either command or url, not both"),
        ({"w": {}}, "needs a command (stdio) or a url"),
        ({"w": {"url": "ftp://a"}}, "must be an http:// or https:// URL"),
        ({"w": {"command": "x", "args": "not-a-list"}}, "args: must be a list of strings"),
        ({"w": "uvx thing"}, "must be an object with a command or a url"),
    ],
)
def test_a_bad_entry_is_skipped_with_its_reason_and_the_others_kept(
    tmp_path: Path, servers: Any, message: str, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="angie.mcp.registry"):
        found = load_config_file(write(tmp_path, {**servers, "good": {"command": "ok"}}), {})
    assert list(found.servers) == ["good"]
    [skipped] = found.skipped
    assert skipped.name == next(iter(servers))
    assert message in skipped.reason
    assert str(tmp_path / "mcp.json") in skipped.reason
    assert "\n" not in skipped.reason
    assert skipped.reason in caplog.text


def test_invalid_json_says_where(tmp_path: Path) -> None:
    path = tmp_path / "mcp.json"
    path.write_text('{"mcpServers": {"w": {"command": "x",}}}')
    with pytest.raises(RegistryError, match="not valid JSON"):
        load_config_file(path)


def test_file_overrides_builtins_and_user_choices_win(tmp_path: Path) -> None:
    builtins = builtin_specs(["hue", "github"])
    configured = load_config_file(
        write(tmp_path, {"github": {"url": "http://127.0.0.1:9/mcp"}}), {}
    ).servers
    servers = merge(builtins, configured, enabled={"hue": False})
    assert servers["github"].transport == "http"
    assert servers["github"].builtin is False
    assert servers["hue"].enabled is False
    assert servers["hue"].builtin is True


def test_builtin_hue_is_started_as_its_module() -> None:
    spec = builtin_specs(["hue"])["hue"]
    assert spec.command[1:] == ("-m", "angie_mcp_hue")
    assert spec.env_prefix == "ANGIE_HUE_"
    assert isinstance(spec, ServerSpec)


def test_builtin_specs_carry_each_servers_manifest() -> None:
    spec = builtin_specs(["github"])["github"]
    assert spec.manifest is not None
    assert spec.manifest.content_trust == "untrusted"
    assert spec.manifest.scope == "personal"


def test_every_installed_server_is_discovered() -> None:
    assert {"hue", "home_assistant", "spotify", "github"} <= set(discover())


def test_a_broken_manifest_is_logged_with_its_name_and_skipped(
    caplog: pytest.LogCaptureFixture,
) -> None:
    points = [
        EntryPoint("hue", "angie_mcp_hue.manifest:MANIFEST", ENTRY_POINT_GROUP),
        EntryPoint("lamp", "angie_mcp_lamp_not_installed.manifest:MANIFEST", ENTRY_POINT_GROUP),
        EntryPoint("odd", "angie_mcp_hue.manifest:__all__", ENTRY_POINT_GROUP),
        EntryPoint("light", "angie_mcp_hue.manifest:MANIFEST", ENTRY_POINT_GROUP),
    ]
    with caplog.at_level(logging.ERROR, logger="angie.mcp.manifests"):
        found = manifests_from(points)
    assert list(found) == ["hue"]
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "MCP server 'lamp': its manifest" in logged
    assert "MCP server 'odd': angie_mcp_hue.manifest:__all__ is not a ServerManifest" in logged
    assert "MCP server 'light': its manifest is named 'hue'" in logged


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"name": "Hue Lights"}, "server name 'Hue Lights' must be lower-case"),
        ({"scope": "everyone"}, "scope 'everyone' must be one of household, personal"),
        ({"content_trust": "maybe"}, "content_trust 'maybe' must be one of trusted, untrusted"),
        ({"description": " "}, "the agent's description must not be empty"),
    ],
)
def test_a_manifest_refuses_what_angie_cannot_use(changes: dict[str, str], message: str) -> None:
    fields = {
        "name": "lamp",
        "scope": "household",
        "content_trust": "trusted",
        "description": "Lamps.",
        "prompt": "agents/lamp.md",
        **changes,
    }
    with pytest.raises(ValueError, match=re.escape(message)):
        ServerManifest(**fields)  # type: ignore[arg-type]


CLAUDE_DESKTOP = """
{
  "mcpServers": {
    "filesystem": {
      "command": "npx",
      "args": [
        "-y",
        "@modelcontextprotocol/server-filesystem",
        "/Users/username/Desktop",
        "/Users/username/Downloads"
      ]
    },
    "brave-search": {
      "command": "npx",
      "args": ["-y", "@modelcontextprotocol/server-brave-search"],
      "env": {"BRAVE_API_KEY": "${BRAVE_API_KEY}"}
    }
  }
}
"""

VS_CODE = """
{
  "inputs": [
    {
      "type": "promptString",
      "id": "perplexity-key",
      "description": "Perplexity API Key",
      "password": true
    }
  ],
  "servers": {
    "Perplexity": {
      "type": "stdio",
      "command": "npx",
      "args": ["-y", "server-perplexity-ask"],
      "env": {"PERPLEXITY_API_KEY": "${input:perplexity-key}"}
    },
    "fetch": {"type": "stdio", "command": "uvx", "args": ["mcp-server-fetch"]},
    "my-remote": {
      "type": "http",
      "url": "https://api.example.com/mcp/",
      "headers": {"Authorization": "Bearer ${env:REMOTE_TOKEN}"}
    }
  }
}
"""


def test_a_claude_desktop_block_is_read_with_its_names_made_tool_prefixes(tmp_path: Path) -> None:
    found = load_config_file(paste(tmp_path, CLAUDE_DESKTOP), {"BRAVE_API_KEY": "b-1"})
    assert found.skipped == ()
    assert list(found.servers) == ["filesystem", "brave_search"]
    brave = found.servers["brave_search"]
    assert brave.command == ("npx", "-y", "@modelcontextprotocol/server-brave-search")
    assert brave.env == {"BRAVE_API_KEY": "b-1"}
    assert brave.env_prefix == "ANGIE_BRAVE_SEARCH_"


def test_a_vs_code_block_is_read_and_an_entry_needing_an_input_is_skipped(
    tmp_path: Path,
) -> None:
    found = load_config_file(paste(tmp_path, VS_CODE), {"REMOTE_TOKEN": "r-1"})
    assert list(found.servers) == ["fetch", "my_remote"]
    assert found.servers["fetch"].command == ("uvx", "mcp-server-fetch")
    remote = found.servers["my_remote"]
    assert (remote.transport, remote.url) == ("http", "https://api.example.com/mcp/")
    assert remote.headers == {"Authorization": "Bearer r-1"}
    [skipped] = found.skipped
    assert skipped.name == "Perplexity"
    assert "${input:perplexity-key} is a VS Code input" in skipped.reason
    assert "servers.Perplexity.env.PERPLEXITY_API_KEY" in skipped.reason


def test_vs_code_settings_json_mcp_section_is_read(tmp_path: Path) -> None:
    text = json.dumps({"mcp": {"servers": {"fetch": {"command": "uvx"}}}, "editor.tabSize": 4})
    assert list(load_config_file(paste(tmp_path, text), {}).servers) == ["fetch"]


@pytest.mark.parametrize(
    ("written", "prefix"),
    [
        ("github", "github"),
        ("brave-search", "brave_search"),
        ("Brave Search", "brave_search"),
        ("mcp.server--fetch", "mcp_server_fetch"),
        ("9lives", None),
        ("-x", None),
        ("météo", None),
    ],
)
def test_tool_prefix_of_a_pasted_name(written: str, prefix: str | None) -> None:
    assert tool_prefix(written) == prefix


def test_a_name_already_in_angies_form_wins_a_clash_and_the_other_is_skipped(
    tmp_path: Path,
) -> None:
    path = write(tmp_path, {"Brave-Search": {"command": "a"}, "brave_search": {"command": "b"}})
    found = load_config_file(path, {})
    assert found.servers["brave_search"].command == ("b",)
    [skipped] = found.skipped
    assert skipped.name == "Brave-Search"
    assert "becomes 'brave_search', as 'brave_search' does; rename one" in skipped.reason


def test_of_two_names_that_clash_after_normalising_the_first_is_kept(tmp_path: Path) -> None:
    path = write(tmp_path, {"my.server": {"command": "a"}, "My-Server": {"command": "b"}})
    found = load_config_file(path, {})
    assert found.servers["my_server"].command == ("a",)
    assert [s.name for s in found.skipped] == ["My-Server"]


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ({"type": "sse", "url": "http://a/sse"}, "SSE servers are not supported"),
        ({"type": "ws", "url": "ws://a"}, "type: 'ws' must be stdio or http"),
        ({"type": "http", "command": "x"}, "a http server needs a url"),
        ({"type": "stdio", "url": "http://a/mcp"}, "a stdio server needs a command"),
        ({"command": "x", "args": ["${workspaceFolder}/s.py"]}, "workspaceFolder is not set"),
        ({"command": "x", "args": ["${config:path}"]}, "${config:path} is a VS Code variable"),
        ({"command": "x", "env": {"K": "${input:key}"}}, "${input:key} is a VS Code input"),
    ],
)
def test_an_entry_angie_cannot_reach_is_skipped_with_why(
    tmp_path: Path, entry: dict[str, Any], message: str
) -> None:
    found = load_config_file(write(tmp_path, {"w": entry}), {})
    assert found.servers == {}
    assert message in found.skipped[0].reason


def test_vs_code_types_and_env_syntax_are_understood(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        {
            "local": {"type": "stdio", "command": "x", "env": {"PORT": 8080, "K": "${env:K}"}},
            "remote": {"type": "streamable-http", "url": "https://a/${env:T:-t}/mcp"},
        },
    )
    found = load_config_file(path, {"K": "k-1"})
    assert found.servers["local"].env == {"PORT": "8080", "K": "k-1"}
    assert found.servers["remote"].url == "https://a/t/mcp"


def test_a_file_with_both_shapes_is_refused(tmp_path: Path) -> None:
    text = json.dumps({"mcpServers": {}, "servers": {}})
    with pytest.raises(RegistryError, match='both "mcpServers" and "servers"'):
        load_config_file(paste(tmp_path, text), {})


def test_variables_come_from_angies_env_file_too(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A key kept in Angie's .env (not exported to the shell) fills ``${VAR}``; the process
    environment still wins over the file."""
    from angie.mcp.catalog import catalog
    from angie.settings import load_settings

    env_file = tmp_path / ".env"
    env_file.write_text("BRAVE_API_KEY=from-dotenv\nREGION=from-dotenv\n")
    config = tmp_path / "mcp.json"
    server = {"command": "npx", "env": {"BRAVE_API_KEY": "${BRAVE_API_KEY}", "R": "${REGION}"}}
    config.write_text(json.dumps({"mcpServers": {"brave-search": server}}))
    monkeypatch.setenv("REGION", "from-shell")
    settings = load_settings(env_file, data_dir=tmp_path, mcp_config=config)

    found = catalog(settings).servers["brave_search"]

    assert dict(found.env) == {"BRAVE_API_KEY": "from-dotenv", "R": "from-shell"}
