"""`angie mcp`: list servers, show tools and call one directly, against real servers."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from angie.cli import cli

SAMPLE = (
    Path(__file__).resolve().parents[1] / "mcp_servers" / "_core" / "tests" / "sample_server.py"
)

pytestmark = pytest.mark.slow


@pytest.fixture(autouse=True)
def sample_config(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    config = data_dir / "mcp.json"
    server = {
        "command": sys.executable,
        "args": [str(SAMPLE)],
        "env": {"ANGIE_SAMPLE_API_KEY": "k"},
    }
    config.write_text(json.dumps({"mcpServers": {"sample": server}}))
    monkeypatch.setenv("ANGIE_DATA_DIR", str(data_dir))
    return config


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def test_call_prints_the_structured_result() -> None:
    code, out, _ = run("mcp", "call", "sample", "brightness", "--args", '{"room": "Kitchen"}')
    assert code == 0
    assert json.loads(out) == {"result": 40}


def test_call_accepts_the_prefixed_tool_name() -> None:
    code, out, _ = run(
        "mcp", "call", "sample", "sample_brightness", "--args", '{"room": "kitchen"}'
    )
    assert code == 0
    assert json.loads(out) == {"result": 40}


def test_tool_error_is_one_line() -> None:
    code, out, err = run("mcp", "call", "sample", "brightness", "--args", '{"room": "Kitchn"}')
    assert code == 1
    assert out == ""
    assert (
        err.strip() == "error: sample_brightness: No room named 'Kitchn'. Did you mean 'kitchen'?"
    )


def test_bad_json_arguments_are_refused_before_anything_starts() -> None:
    code, _, err = run("mcp", "call", "sample", "brightness", "--args", "{room: 1}")
    assert code == 2
    assert "--args is not valid JSON" in err


def test_unknown_server_lists_the_known_ones() -> None:
    code, _, err = run("mcp", "call", "nope", "x")
    assert code == 1
    assert "no MCP server named 'nope'" in err
    assert "sample" in err


def test_tools_shows_prefixed_names_and_kinds() -> None:
    code, out, _ = run("mcp", "tools", "sample")
    assert code == 0
    assert "sample_brightness" in out
    assert "read-only" in out


def test_builtin_server_reports_what_to_configure() -> None:
    code, out, _ = run("mcp", "call", "hue", "status")
    assert code == 0
    assert json.loads(out)["missing_settings"] == ["ANGIE_HUE_BRIDGE_HOST", "ANGIE_HUE_USERNAME"]


def test_bad_config_file_is_one_line_and_exit_2(sample_config: Path) -> None:
    sample_config.write_text('{"servers": ["x"]}')
    code, _, err = run("mcp", "tools", "sample")
    assert code == 2
    assert 'expected an object with an "mcpServers" or "servers" object' in err


def test_list_shows_the_entries_skipped_and_why(sample_config: Path) -> None:
    config = json.loads(sample_config.read_text())
    config["mcpServers"]["9lives"] = {"command": "x"}
    sample_config.write_text(json.dumps(config))
    code, out, _ = run("mcp", "list")
    assert code == 0
    assert "ok" in sample_row(out)
    assert "skipped 9lives:" in out


def test_a_pasted_server_is_found_by_the_name_it_was_written_with(sample_config: Path) -> None:
    config = json.loads(sample_config.read_text())
    sample_config.write_text(
        json.dumps({"mcpServers": {"Sample-Lamp": config["mcpServers"]["sample"]}})
    )
    code, out, _ = run("mcp", "tools", "Sample-Lamp")
    assert code == 0
    assert "sample_lamp_brightness" in out


def sample_row(out: str) -> str:
    return next(line for line in out.splitlines() if "sample" in line)


def test_disable_is_remembered_and_enable_undoes_it() -> None:
    assert run("mcp", "disable", "sample")[0] == 0
    assert "disabled" in sample_row(run("mcp", "list")[1])
    assert run("mcp", "enable", "sample")[0] == 0
    assert "disabled" not in sample_row(run("mcp", "list")[1])


def test_a_third_party_server_is_untrusted_unless_an_admin_said_otherwise() -> None:
    assert "untrusted" in sample_row(run("mcp", "list")[1])


def test_disabling_an_unknown_server_is_refused() -> None:
    code, _, err = run("mcp", "disable", "nope")
    assert code == 1
    assert "no MCP server named 'nope'" in err


def test_serve_refuses_a_server_that_is_not_angies() -> None:
    code, _, err = run("mcp", "serve", "sample")
    assert code == 1
    assert "sample is not one of Angie's servers" in err
