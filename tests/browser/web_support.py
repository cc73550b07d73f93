"""What the browser tests share: a real ``angie serve`` with the fake model and the fake Hue
bridge, Debian's Chromium, the axe-core scan, and Sam's account."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from angie_mcp_hue.testing import FakeHueBridge
from api_support import PASSWORD
from fakes.openai_server import FakeOpenAI, Respond
from playwright.sync_api import Browser, Page

from angie.api.web import WEB_DIST
from angie_mcp_core.testing import free_port

__all__ = (
    "CHROMIUM",
    "EMAIL",
    "WAIT_MS",
    "Served",
    "accessible",
    "account",
    "opened",
    "require_browser",
    "serving",
)

# Debian's Chromium; ANGIE_TEST_CHROMIUM names another Chromium-based browser already installed
# (a CI image's Chrome). Never one Playwright downloads.
CHROMIUM = Path(os.environ.get("ANGIE_TEST_CHROMIUM", "/usr/bin/chromium"))
# axe-core, from the web UI's own npm packages (`make install`), for the accessibility scans.
AXE = Path(__file__).resolve().parents[2] / "frontend" / "node_modules" / "axe-core" / "axe.min.js"
_SERIOUS = """async () => (await axe.run()).violations
    .filter((v) => v.impact === "serious" || v.impact === "critical")
    .map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(" ")).join(", ")})`)"""
EMAIL = "sam@home.test"
# Long enough for a loaded machine; nothing is asserted about how long things take.
WAIT_MS = 30_000


def missing(what: str) -> None:
    if os.environ.get("CI", "").lower() in {"1", "true", "yes"}:
        pytest.fail(f"{what} (CI=true: the browser tests must run)", pytrace=False)
    pytest.skip(what)


def require_browser() -> None:
    if not CHROMIUM.is_file():
        missing(f"no Chromium at {CHROMIUM}: apt-get install chromium")
    if not (WEB_DIST / "index.html").is_file():
        missing(f"the web UI is not built in {WEB_DIST}: run `make install`")


@dataclass
class Served:
    url: str
    data_dir: Path
    bridge: FakeHueBridge
    llm: FakeOpenAI


def wait_ready(url: str, process: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            _, err = process.communicate()
            pytest.fail(f"angie serve exited with {process.returncode}: {err[-2000:]}")
        try:
            if httpx.get(f"{url}/api/ready", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    pytest.fail("angie serve did not get ready")


def _lost_port(url: str, process: subprocess.Popen[str]) -> bool:
    """Whether Angie exited at once because her port was taken meanwhile."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            _, err = process.communicate()
            if "is in use" in err:
                return True
            pytest.fail(f"angie serve exited with {process.returncode}: {err[-2000:]}")
        try:
            if httpx.get(f"{url}/api/ready", timeout=1).status_code == 200:
                return False
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    return False


@contextmanager
def serving(model: Respond, home: Path) -> Iterator[Served]:
    """A real ``angie serve`` in ``home``: the Hue server against the fake bridge, ``model`` as
    the language model, a fresh data dir (so she prints a setup code)."""
    angie = Path(sys.executable).with_name("angie")
    with FakeHueBridge() as bridge, FakeOpenAI(model, api_key="sk-web") as llm:
        env = {
            "PATH": os.environ["PATH"],
            "HOME": str(home),
            "ANGIE_DATA_DIR": str(home / "data"),
            "ANGIE_DATABASE_URL": f"sqlite+aiosqlite:///{home / 'angie.db'}",
            "ANGIE_HUE_BRIDGE_HOST": bridge.host,
            "ANGIE_HUE_USERNAME": bridge.username,
            "ANGIE_MODEL": "openai:local-model",
            "ANGIE_MODEL_BASE_URL": llm.url,
            "ANGIE_MODEL_API_KEY": "sk-web",
        }
        # A free port can be taken by another process (a test beside this one, an MCP server)
        # before Angie binds it: she says so and exits, and a new port is tried.
        for attempt in range(3):
            port = free_port()
            process = subprocess.Popen(
                [str(angie), "serve", "--port", str(port)],
                env=env,
                cwd=home,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                text=True,
            )
            url = f"http://127.0.0.1:{port}"
            if attempt < 2 and _lost_port(url, process):
                continue
            break
        try:
            wait_ready(url, process)
            yield Served(url, home / "data", bridge, llm)
        finally:
            process.terminate()
            try:
                process.communicate(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.communicate()


def accessible(page: Page) -> None:
    """axe-core finds no serious or critical accessibility problem on the page as it is."""
    if not AXE.is_file():
        missing(f"axe-core is not installed at {AXE}: run `make install`")
    if not page.evaluate("() => typeof axe !== 'undefined'"):
        # Evaluated by the browser's debugging protocol, which the page's content policy
        # does not govern (a script tag would be refused, as it should).
        page.evaluate(AXE.read_text(encoding="utf-8"))
    problems = page.evaluate(_SERIOUS)
    assert problems == [], problems


@contextmanager
def opened(browser: Browser, shot: Path, **options: Any) -> Iterator[Page]:
    """A page in a fresh browser context (no cookies); its screenshot is saved at the end, and
    any script error, refused content policy or failed request fails the test."""
    context = browser.new_context(**options)
    opened = context.new_page()
    problems: list[str] = []
    opened.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    opened.on("pageerror", lambda err: problems.append(str(err)))
    opened.on(
        "response",
        lambda r: problems.append(f"{r.status} {r.url}") if r.status >= 400 else None,
    )
    try:
        yield opened
    finally:
        opened.screenshot(path=str(shot), full_page=True)
        context.close()
    assert not problems, problems


def account(served: Served) -> dict[str, str]:
    """Sam's account (made now, through the API, unless the first test made it) and a
    bearer header for the API."""
    code_file = served.data_dir / "setup-code"
    if code_file.exists():
        code = code_file.read_text().strip()
        made = httpx.post(
            f"{served.url}/api/auth/register",
            json={"email": EMAIL, "password": PASSWORD, "setup_code": code},
            timeout=30,
        )
        assert made.status_code == 201, made.text
    login = httpx.post(
        f"{served.url}/api/auth/login", json={"email": EMAIL, "password": PASSWORD}, timeout=30
    )
    assert login.status_code == 200, login.text
    return {"Authorization": f"Bearer {login.json()['access_token']}"}
