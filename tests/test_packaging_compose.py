"""The compose stack runs each built-in MCP server as a service of its own, and Angie reaches them.

No Docker engine is needed: the compose file is parsed and checked for what the deployment relies
on, and the pieces compose runs (docker/with-secrets, docker/mcp-servers.json, the server's own
command line) are run here as the containers would run them.
"""

from __future__ import annotations

import asyncio
import os
import re
import socket
import subprocess
import sys
import time
from functools import cache
from pathlib import Path
from typing import Any

import httpx2
import pytest
import yaml
from fastmcp import Client

from angie.mcp.registry import builtin_specs, load_config_file, merge
from angie.mcp.supervisor import Supervisor

ROOT = Path(__file__).resolve().parents[1]
COMPOSE = ROOT / "docker-compose.yml"
WITH_SECRETS = ROOT / "docker" / "with-secrets"
MCP_SERVERS_FILE = ROOT / "docker" / "mcp-servers.json"
MAKE_SECRETS = ROOT / "docker" / "make-secrets"
ANGIE_CALLERS = ("api", "worker", "daemon")
PORT = 8000  # every server listens on it, each in its own container
# Every built-in server: each folder of mcp_servers/ with a package, but the shared kit.
SERVERS = sorted(
    path.name
    for path in (ROOT / "mcp_servers").iterdir()
    if path.is_dir() and path.name != "_core" and (path / "pyproject.toml").is_file()
)


@cache
def _compose() -> dict[str, Any]:
    loaded = yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))
    assert isinstance(loaded, dict)
    return loaded


def _services() -> dict[str, dict[str, Any]]:
    services = _compose()["services"]
    assert isinstance(services, dict)
    return services


def _service_name(server: str) -> str:
    return f"mcp-{server.replace('_', '-')}"


def _environment(service: dict[str, Any]) -> dict[str, str]:
    raw = service.get("environment") or {}
    if isinstance(raw, list):  # the KEY=value form
        return dict(str(item).split("=", 1) for item in raw)
    return {str(key): str(value) for key, value in raw.items()}


def _secrets(service: dict[str, Any]) -> set[str]:
    return {
        str(entry["source"]) if isinstance(entry, dict) else str(entry)
        for entry in service.get("secrets") or []
    }


def _compose_environ(service: str) -> dict[str, str]:
    """What a caller's environment holds in its container: compose's environment entries, and
    the tokens docker/with-secrets exports from the secret files (fake ones here)."""
    environ = _environment(_services()[service])
    for server in SERVERS:
        environ[f"ANGIE_{server.upper()}_TOKEN"] = f"token-of-{server}-" + "x" * 16
    return environ


def test_the_list_of_servers_is_found() -> None:
    # Guards the folder scan: a layout change that found nothing would pass every check below.
    assert {"hue", "gmail", "angie"} <= set(SERVERS)
    assert set(SERVERS) == set(builtin_specs())


@pytest.mark.parametrize("server", SERVERS)
def test_every_builtin_server_is_a_service_of_its_own(server: str) -> None:
    assert _service_name(server) in _services(), f"{server} has no compose service"


@pytest.mark.parametrize("server", SERVERS)
def test_a_server_runs_its_own_command_over_http_on_every_interface(server: str) -> None:
    service = _services()[_service_name(server)]
    assert service["entrypoint"] == [
        "/app/docker/with-secrets",
        f"angie-mcp-{server.replace('_', '-')}",
    ]
    assert service["command"] == [
        "serve",
        "--transport",
        "http",
        "--host",
        "0.0.0.0",  # noqa: S104 - the container's interfaces; no port is published
        "--port",
        str(PORT),
    ]
    # Its Host on the compose network is its service name; the kit refuses any other Host.
    assert _environment(service)[f"ANGIE_{server.upper()}_ALLOWED_HOSTS"] == _service_name(server)


@pytest.mark.parametrize("server", SERVERS)
def test_a_server_has_a_healthcheck_and_restarts(server: str) -> None:
    service = _services()[_service_name(server)]
    assert service["restart"] == "unless-stopped"
    check = service["healthcheck"]
    assert not check.get("disable")
    assert check["test"][:3] == ["CMD", "python", "-c"]
    assert f"http://127.0.0.1:{PORT}/mcp" in check["test"][3]


@pytest.mark.parametrize("server", SERVERS)
def test_a_server_gets_its_token_only_from_a_secret_file(server: str) -> None:
    service = _services()[_service_name(server)]
    assert _secrets(service) == {f"angie_{server}_token"}
    declared = _compose()["secrets"][f"angie_{server}_token"]
    assert declared == {"file": f"./secrets/angie_{server}_token"}
    assert not any("TOKEN" in key for key in _environment(service))


@pytest.mark.parametrize("server", SERVERS)
def test_a_server_sees_its_own_settings_only(server: str) -> None:
    service = _services()[_service_name(server)]
    own = f"ANGIE_{server.upper()}_"
    assert service["env_file"] == [
        {"path": f"secrets/{_service_name(server)}.env", "required": False}
    ]
    assert all(key.startswith(own) for key in _environment(service)), server
    # Angie's .env (model keys, her database password) and other servers' tokens stay out.
    others = {f"angie_{other}_token" for other in SERVERS if other != server}
    assert not _secrets(service) & (others | {"angie_secret_key"})


@pytest.mark.parametrize("server", SERVERS)
def test_a_server_keeps_its_state_in_a_volume_of_its_own(server: str) -> None:
    volume = f"{_service_name(server)}-data"
    assert _services()[_service_name(server)]["volumes"] == [f"{volume}:/data"]
    assert volume in _compose()["volumes"]
    users = [name for name, s in _services().items() if f"{volume}:/data" in s.get("volumes", [])]
    assert users == [_service_name(server)]


@pytest.mark.parametrize("caller", ANGIE_CALLERS)
def test_angie_gets_every_servers_url_and_token(caller: str) -> None:
    service = _services()[caller]
    environ = _environment(service)
    assert environ["ANGIE_MCP_CONFIG"] == "/app/docker/mcp-servers.json"
    for server in SERVERS:
        url = f"http://{_service_name(server)}:{PORT}/mcp"
        assert environ[f"ANGIE_MCP_{server.upper()}_URL"] == url, server
        assert f"angie_{server}_token" in _secrets(service), server
    assert service["entrypoint"] == ["/app/docker/with-secrets", "angie"]


def test_no_service_holds_a_token_or_key_inline() -> None:
    inline = {
        (name, key)
        for name, service in _services().items()
        for key, value in _environment(service).items()
        if re.search(r"TOKEN|SECRET|KEY|PASSWORD", key)
        and not re.fullmatch(r"\$\{[A-Z0-9_]+:\?[^}]*\}", value)
    }
    assert inline == set()


def test_only_the_api_publishes_a_port_and_only_on_loopback() -> None:
    published = {name: s["ports"] for name, s in _services().items() if s.get("ports")}
    assert set(published) == {"api"}
    assert all(str(port).startswith("127.0.0.1:") for port in published["api"])


def test_make_secrets_creates_a_token_for_every_server() -> None:
    listed = re.search(r'^servers="([^"]*)"', MAKE_SECRETS.read_text(encoding="utf-8"), re.M)
    assert listed is not None
    assert sorted(listed.group(1).split()) == SERVERS


def test_make_secrets_creates_each_missing_file_readable_by_the_containers(tmp_path: Path) -> None:
    kept = tmp_path / "secrets" / "angie_hue_token"
    kept.parent.mkdir()
    kept.write_text("chosen-by-hand-0123456789\n")
    subprocess.run(["sh", str(MAKE_SECRETS)], cwd=tmp_path, check=True, capture_output=True)
    files = {path.name: path for path in (tmp_path / "secrets").iterdir()}
    assert set(files) == {"angie_secret_key", *(f"angie_{s}_token" for s in SERVERS)}
    assert kept.read_text() == "chosen-by-hand-0123456789\n"
    for path in files.values():
        if path != kept:
            assert len(path.read_text().strip()) >= 32
            assert path.stat().st_mode & 0o777 == 0o444


# --- Angie's side: the mcpServers file replaces every built-in with the remote service ---------


@pytest.mark.parametrize("caller", ANGIE_CALLERS)
def test_angie_reads_every_server_as_remote_streamable_http(caller: str) -> None:
    environ = _compose_environ(caller)
    found = load_config_file(MCP_SERVERS_FILE, environ)
    assert found.skipped == ()
    assert sorted(found.servers) == SERVERS
    for server, spec in found.servers.items():
        assert spec.transport == "http"
        assert spec.url == f"http://{_service_name(server)}:{PORT}/mcp"
        assert spec.headers == {
            "Authorization": f"Bearer {environ[f'ANGIE_{server.upper()}_TOKEN']}"
        }


def test_with_remote_servers_the_workers_start_no_child_process(tmp_path: Path) -> None:
    remote = load_config_file(MCP_SERVERS_FILE, _compose_environ("worker")).servers
    specs = merge(builtin_specs(), remote, {})
    supervisor = Supervisor(specs.values(), environ={}, state_dir=tmp_path)
    assert supervisor.names == []


def test_a_missing_token_names_the_variable() -> None:
    environ = _compose_environ("worker")
    del environ["ANGIE_HUE_TOKEN"]
    found = load_config_file(MCP_SERVERS_FILE, environ)
    assert "hue" not in found.servers
    (skipped,) = found.skipped
    assert "environment variable ANGIE_HUE_TOKEN is not set" in skipped.reason


# --- docker/with-secrets ---------------------------------------------------------------------


def _with_secrets(secrets: Path, *command: str, **env: str) -> subprocess.CompletedProcess[str]:
    environ = {"PATH": os.environ["PATH"], "ANGIE_SECRETS_DIR": str(secrets), **env}
    return subprocess.run(
        ["sh", str(WITH_SECRETS), *command], env=environ, capture_output=True, text=True
    )


def test_with_secrets_exports_each_token_file_under_its_variable(tmp_path: Path) -> None:
    (tmp_path / "angie_hue_token").write_text("hue-token-0123456789\n")
    (tmp_path / "angie_home_assistant_token").write_text("ha-token-0123456789")
    (tmp_path / "angie_secret_key").write_text("not-a-token")
    done = _with_secrets(tmp_path, "env")
    assert done.returncode == 0, done.stderr
    lines = set(done.stdout.splitlines())
    assert "ANGIE_HUE_TOKEN=hue-token-0123456789" in lines
    assert "ANGIE_HOME_ASSISTANT_TOKEN=ha-token-0123456789" in lines
    # The secret key keeps its own rules (Angie reads the file; .env wins over it).
    assert not any(line.startswith("ANGIE_SECRET_KEY=") for line in lines)


def test_with_secrets_lets_a_set_variable_win(tmp_path: Path) -> None:
    (tmp_path / "angie_hue_token").write_text("from-the-file-0123456789")
    done = _with_secrets(tmp_path, "env", ANGIE_HUE_TOKEN="from-the-env-0123456789")
    assert "ANGIE_HUE_TOKEN=from-the-env-0123456789" in done.stdout.splitlines()


def test_with_secrets_refuses_an_empty_token_file(tmp_path: Path) -> None:
    (tmp_path / "angie_hue_token").write_text("")
    done = _with_secrets(tmp_path, "env")
    assert done.returncode == 2
    assert done.stderr.strip() == (
        f"with-secrets: {tmp_path}/angie_hue_token is empty; write a token into it "
        "(docker/make-secrets)"
    )


def test_with_secrets_runs_the_command_without_a_secrets_folder(tmp_path: Path) -> None:
    done = _with_secrets(tmp_path / "none", "sh", "-c", "exit 7")
    assert done.returncode == 7


# --- end to end: a server started as its service starts, called as Angie calls it -----------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def _wait_listening(port: int, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"the server exited with {process.returncode}")
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            await asyncio.sleep(0.1)
            continue
        writer.close()
        return
    raise AssertionError("the server did not listen within 30 s")


async def test_hue_started_as_its_service_answers_angie_with_the_token(tmp_path: Path) -> None:
    service = _services()["mcp-hue"]
    secrets = tmp_path / "run-secrets"
    secrets.mkdir()
    token = "hue-token-" + "y" * 32
    (secrets / "angie_hue_token").write_text(token + "\n")
    port = _free_port()
    # The service's own command, but on loopback and a free port instead of the container's.
    command = [*service["command"]]
    command[command.index("--host") + 1] = "127.0.0.1"
    command[command.index("--port") + 1] = str(port)
    program = Path(sys.executable).with_name(service["entrypoint"][1])
    environ = {
        "PATH": os.environ["PATH"],
        "HOME": str(tmp_path),
        "ANGIE_SECRETS_DIR": str(secrets),
        "FASTMCP_SHOW_SERVER_BANNER": "false",
        # As compose fills them in when .env sets nothing: ${VAR:-default} is the default.
        **{
            key: re.sub(r"\$\{[A-Z0-9_]+:-([^}]*)\}", r"\1", value)
            for key, value in _environment(service).items()
        },
    }
    process = subprocess.Popen(  # noqa: ASYNC220 - ended in the finally below
        ["sh", str(WITH_SECRETS), str(program), *command],
        env=environ,
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        await _wait_listening(port, process)
        url = f"http://127.0.0.1:{port}/mcp"
        async with httpx2.AsyncClient() as http:
            refused = await http.get(url)
        assert refused.status_code == 401  # what the healthcheck counts on
        environ = _compose_environ("worker")
        environ["ANGIE_MCP_HUE_URL"] = url
        environ["ANGIE_HUE_TOKEN"] = token
        spec = load_config_file(MCP_SERVERS_FILE, environ).servers["hue"]
        assert spec.url is not None
        async with Client(
            spec.url, auth=spec.headers["Authorization"].removeprefix("Bearer ")
        ) as client:
            tools = await client.list_tools()
        assert any(tool.name.startswith("hue") or "light" in tool.name for tool in tools)
    finally:
        process.terminate()
        process.wait(timeout=10)
