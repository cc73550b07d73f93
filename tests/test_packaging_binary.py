"""The standalone binary runs the built-in MCP servers: ``angie mcp-server NAME`` and what the
spec bundles for it. ``make build && make smoke`` checks the built binary itself; these run the
same entry script with this Python, so a broken entry fails here in seconds.
"""

from __future__ import annotations

import re
import runpy
import subprocess
import sys
from pathlib import Path

import googleapiclient
import pytest
from fastmcp import Client

from angie.db.models import ServerHealth
from angie.mcp.manifests import discover
from angie.mcp.registry import builtin_specs
from angie.mcp.supervisor import Supervisor, default_launcher

ROOT = Path(__file__).resolve().parents[1]
ENTRY = ROOT / "packaging" / "angie_entry.py"
GOOGLE_HOOK = ROOT / "packaging" / "hooks" / "hook-googleapiclient.model.py"


def _entry(*argv: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(ENTRY), *argv], capture_output=True, text=True, env=env, timeout=60
    )


def test_outside_the_binary_a_server_runs_as_a_module_of_this_python() -> None:
    spec = builtin_specs(["hue"])["hue"]
    assert spec.command == (sys.executable, "-m", "angie_mcp_hue")


def test_in_the_binary_a_server_runs_as_the_binarys_own_entry(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    specs = builtin_specs()
    assert specs
    for name, spec in specs.items():
        assert spec.command == (sys.executable, "mcp-server", name)


def test_the_entry_runs_a_builtin_server_by_name() -> None:
    done = _entry("mcp-server", "hue", "--help")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("usage: angie-mcp-hue")
    assert "pair" in done.stdout  # the server's own subcommands, not Angie's


def test_the_entry_names_the_known_servers_for_an_unknown_one() -> None:
    done = _entry("mcp-server", "nope")
    assert done.returncode == 2
    known = ", ".join(sorted(discover()))
    assert done.stderr.strip() == (
        f"angie mcp-server: no built-in MCP server named 'nope' in this binary (known: {known})"
    )


def test_the_entry_without_a_name_prints_its_usage() -> None:
    done = _entry("mcp-server")
    assert done.returncode == 2
    assert done.stderr.startswith("usage: angie mcp-server NAME [ARGS…] (NAME: ")


def test_the_entry_passes_a_servers_exit_code_on() -> None:
    # Over HTTP without its token the server refuses to start, naming the variable.
    env = {"PATH": "/usr/bin:/bin", "HOME": "/nonexistent"}
    done = _entry("mcp-server", "hue", "serve", "--transport", "http", env=env)
    assert done.returncode == 2
    assert "ANGIE_HUE_TOKEN must be set to serve over HTTP" in done.stderr


def test_the_entry_is_angies_cli_otherwise() -> None:
    done = _entry("--version")
    assert done.returncode == 0, done.stderr
    assert "angie" in done.stdout.lower()


def test_the_binary_bundles_the_google_documents_the_servers_build_and_no_others() -> None:
    datas = runpy.run_path(str(GOOGLE_HOOK))["datas"]
    documents = sorted(Path(source).name for source, _ in datas if source.endswith(".json"))
    assert documents == ["calendar.v3.json", "gmail.v1.json"]
    folder = Path(googleapiclient.__file__).parent / "discovery_cache" / "documents"
    assert all((folder / name).is_file() for name in documents)


def test_the_image_keeps_the_same_google_documents_as_the_binary() -> None:
    datas = runpy.run_path(str(GOOGLE_HOOK))["datas"]
    documents = {Path(source).name for source, _ in datas if source.endswith(".json")}
    dockerfile = (ROOT / "docker" / "Dockerfile").read_text(encoding="utf-8")
    pruning = dockerfile[dockerfile.index("discovery_cache/documents") :].split("\n\n", 1)[0]
    assert set(re.findall(r"! -name (\S+\.json)", pruning)) == documents
    assert "-delete" in pruning


def test_the_entry_runs_the_launcher() -> None:
    done = _entry("mcp-launcher", "--help")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("usage: angie-mcp-launcher")


@pytest.mark.slow
async def test_in_the_binary_the_servers_are_forked_from_its_own_launcher(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The binary's supervisor runs ``angie mcp-launcher`` and has it fork each server as its
    package's module; played here by a stand-in for the binary that runs the entry script."""
    binary = tmp_path / "angie"
    binary.write_text(f'#!/bin/sh\nexec "{sys.executable}" "{ENTRY}" "$@"\n')
    binary.chmod(0o755)
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    monkeypatch.setattr(sys, "executable", str(binary))
    spec = builtin_specs(["hue"])["hue"]
    assert spec.command == (str(binary), "mcp-server", "hue")
    assert default_launcher() == "fork"
    sup = Supervisor([spec], environ={"PATH": "/usr/bin:/bin"}, state_dir=tmp_path / "mcp")
    await sup.start()
    try:
        (state,) = sup.states()
        assert (state.health, state.configured) == (ServerHealth.HEALTHY, False)
        assert state.pid is not None
        launcher = sup.launcher_pid
        assert launcher is not None
        # A fork of the launcher (which the stand-in exec'd as itself), not a binary of its own.
        assert _parent_of(state.pid) == launcher
        endpoint = sup.endpoint("hue")
        async with Client(endpoint.url, auth=endpoint.token) as client:
            assert "list_lights" in {t.name for t in await client.list_tools()}
    finally:
        await sup.stop()


def _parent_of(pid: int) -> int:
    return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
