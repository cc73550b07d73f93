"""Each MCP server as a person installs it from its README: ``uvx`` held to uv.lock's versions
(the server's ``requirements.txt`` as constraints and the workspace's ``overrides.txt``, both
written by ``make requirements``), in an environment of its own. In the workspace one
environment holds every server, so a dependency one server brings (Home Assistant's
urllib3-future, which replaces urllib3) would hide what another server does without it; here
each runs alone, against its simulated vendor."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from angie_mcp_angie.testing import FakeAngie
from fakes.mail_servers import MailServers, require_dovecot
from fastmcp import Client
from fastmcp.client.transports import StdioTransport
from test_conventions import REAL_SERVERS, SERVERS, project, tools

from angie.demo import demo_home
from angie.settings import ENV_PREFIX

ROOT = Path(__file__).resolve().parents[1]
OVERRIDES = ROOT / "mcp_servers" / "overrides.txt"
UV = os.environ.get("UV") or shutil.which("uv")

pytestmark = pytest.mark.skipif(UV is None, reason="uv is not on PATH (run the tests with make)")


def _exported(name: str) -> str:
    """What ``make requirements`` writes for the server, from the lock as it is now."""
    assert UV is not None
    done = subprocess.run(
        [
            UV, "export", "--frozen", "--quiet", "--package", project(name)["name"], "--no-dev",
            "--no-hashes", "--no-emit-workspace", "--no-header",
        ],
        cwd=ROOT, capture_output=True, text=True, check=True, timeout=60,
    )  # fmt: skip
    return done.stdout


@pytest.mark.parametrize("name", SERVERS)
def test_the_requirements_are_the_lock(name: str) -> None:
    written = (ROOT / "mcp_servers" / name / "requirements.txt").read_text()
    stale = f"mcp_servers/{name}/requirements.txt is not uv.lock's: run make requirements"
    assert written == _exported(name), stale


def test_the_overrides_are_the_workspaces() -> None:
    workspace = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["uv"]
    written = (ROOT / "mcp_servers" / "overrides.txt").read_text().splitlines()
    assert written == workspace["override-dependencies"], "run make requirements"


@pytest.mark.parametrize("name", SERVERS)
def test_the_readme_installs_the_locked_versions_with_python_313(name: str) -> None:
    readme = (ROOT / "mcp_servers" / name / "README.md").read_text()
    recipe = (
        f"-c ./mcp_servers/{name}/requirements.txt --overrides ./mcp_servers/overrides.txt "
        f"--from ./mcp_servers/{name}"
    )
    assert recipe in readme, f"mcp_servers/{name}/README.md: uvx needs {recipe!r}"
    assert "--python 3.13" in readme


@pytest.mark.slow
@pytest.mark.timeout(300)
async def test_each_server_installed_alone_serves_its_tools_against_its_vendor(
    tmp_path: Path,
) -> None:
    assert UV is not None
    base = {k: v for k, v in os.environ.items() if not k.startswith(ENV_PREFIX)}
    # The mail-protocol servers have no demo vendor: they run against a real Dovecot. Angie's
    # own server has none either (in a demo it would reach the Angie that runs it): its fake.
    require_dovecot()
    with demo_home(tmp_path) as home, FakeAngie() as angie:
        simulated = sorted(set(SERVERS) - set(REAL_SERVERS) - {"angie"})
        assert sorted(home.specs) == simulated, "every server has a demo vendor to run against"
        async with MailServers("sam@yahoo.test", folders=True) as mail:
            real = {
                "ANGIE_YAHOO_ADDRESS": mail.address,
                "ANGIE_YAHOO_APP_PASSWORD": mail.password,
                "ANGIE_YAHOO_IMAP_HOST": "127.0.0.1",
                "ANGIE_YAHOO_IMAP_PORT": str(mail.imaps_port),
                "ANGIE_YAHOO_CA_FILE": str(mail.ca_file),
                "ANGIE_ANGIE_URL": angie.url,
                "ANGIE_ANGIE_API_TOKEN": FakeAngie.TOKEN,
            }
            await _each_alone(tmp_path, base, {**home.environ, **real})


async def _each_alone(tmp_path: Path, base: dict[str, str], environ: dict[str, str]) -> None:
    """Each server installed alone (uvx, the locked versions) answers its tools and status."""
    assert UV is not None
    for name in SERVERS:
        script = next(iter(project(name)["scripts"]))
        folder = ROOT / "mcp_servers" / name
        settings = {k: v for k, v in environ.items() if k.startswith(ENV_PREFIX)}
        transport = StdioTransport(
            UV,
            [
                "tool", "run", "--isolated", "--python", sys.executable,
                "-c", str(folder / "requirements.txt"), "--overrides", str(OVERRIDES),
                "--from", str(folder), script,
            ],
            env={**base, **settings},
            cwd=str(tmp_path),
            keep_alive=False,
        )  # fmt: skip
        async with Client(transport, timeout=240) as client:
            installed = sorted(t.name for t in await client.list_tools())
            status = await client.call_tool("status", {})
        assert installed == sorted(t.name for t in await tools(name)), name
        assert status.structured_content is not None, name
        found = status.structured_content
        assert (found["configured"], found["upstream_reachable"]) == (True, True), found
