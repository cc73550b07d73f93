"""The registry reads mcpServers files (with ${VAR} expansion) and merges them with built-ins."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from angie.mcp.registry import RegistryError, ServerSpec, builtin_specs, load_config_file, merge


def write(tmp_path: Path, servers: Any) -> Path:
    path = tmp_path / "mcp.json"
    path.write_text(json.dumps({"mcpServers": servers}))
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
    specs = load_config_file(path, environ)
    assert specs["weather"].command == ("uvx", "mcp-weather", "--units=metric")
    assert specs["weather"].env == {"WEATHER_KEY": "w-1"}
    assert specs["remote"].url == "https://mcp.example.org/home/mcp"
    assert specs["remote"].headers == {"Authorization": "Bearer r-2"}


def test_describe_never_shows_secrets(tmp_path: Path) -> None:
    path = write(tmp_path, {"remote": {"url": "https://x.org/mcp", "headers": {"A": "${T}"}}})
    spec = load_config_file(path, {"T": "very-secret"})["remote"]
    assert "very-secret" not in spec.describe()


def test_missing_file_is_no_servers(tmp_path: Path) -> None:
    assert load_config_file(tmp_path / "absent.json") == {}


@pytest.mark.parametrize(
    ("servers", "message"),
    [
        (
            {"w": {"command": "x", "env": {"K": "${UNSET_VAR}"}}},
            "environment variable UNSET_VAR is not set",
        ),
        ({"Bad-Name": {"command": "x"}}, "server name 'Bad-Name' must be lower-case"),
        ({"w": {"command": "x", "url": "http://a/mcp"}}, "either command or url, not both"),
        ({"w": {}}, "needs a command (stdio) or a url"),
        ({"w": {"url": "ftp://a"}}, "must be an http:// or https:// URL"),
        ({"w": {"command": "x", "args": "not-a-list"}}, "args: must be a list of strings"),
        ({"w": "uvx thing"}, "must be an object with a command or a url"),
    ],
)
def test_bad_definitions_name_the_server_and_the_problem(
    tmp_path: Path, servers: Any, message: str
) -> None:
    with pytest.raises(RegistryError) as caught:
        load_config_file(write(tmp_path, servers), {})
    assert message in str(caught.value)
    assert str(tmp_path / "mcp.json") in str(caught.value)


def test_invalid_json_says_where(tmp_path: Path) -> None:
    path = tmp_path / "mcp.json"
    path.write_text('{"mcpServers": {"w": {"command": "x",}}}')
    with pytest.raises(RegistryError, match="not valid JSON"):
        load_config_file(path)


def test_file_overrides_builtins_and_user_choices_win(tmp_path: Path) -> None:
    builtins = builtin_specs(["hue", "github"])
    configured = load_config_file(
        write(tmp_path, {"github": {"url": "http://127.0.0.1:9/mcp"}}), {}
    )
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
