"""The web UI in a real browser (Debian's Chromium, driven by Playwright) against a real
``angie serve`` with the fake language model and the fake Hue bridge: the first account with the
setup code, a chat that needs an approval, the approval given in place, the reply.

Without Chromium (/usr/bin/chromium, or ANGIE_TEST_CHROMIUM) or a built UI these tests skip
with a message; with ``CI=true`` they fail. Each test saves a screenshot in its tmp dir.
"""

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
from api_support import PASSWORD, bridge_puts
from fakes.openai_server import FakeOpenAI, Reply, last_user_text, tool_results
from playwright.sync_api import Browser, Page, expect, sync_playwright

from angie.api.web import WEB_DIST
from angie_mcp_core.testing import free_port

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


def _missing(what: str) -> None:
    if os.environ.get("CI", "").lower() in {"1", "true", "yes"}:
        pytest.fail(f"{what} (CI=true: the browser tests must run)", pytrace=False)
    pytest.skip(what)


def _require_browser() -> None:
    if not CHROMIUM.is_file():
        _missing(f"no Chromium at {CHROMIUM}: apt-get install chromium")
    if not (WEB_DIST / "index.html").is_file():
        _missing(f"the web UI is not built in {WEB_DIST}: run `make install`")


def lamp(request: dict[str, Any]) -> Reply:
    """The model: Angie hands the lamp to the hue agent, who switches it on."""
    tools = [t["function"]["name"] for t in request.get("tools", [])]
    results = tool_results(request)
    if "ask_hue" in tools:
        if results:
            return Reply.say("The floor lamp is on.")
        return Reply.call("ask_hue", {"request": last_user_text(request)})
    if "hue_set_light" in tools:
        if results:
            return Reply.say("Switched on the floor lamp.")
        return Reply.call("hue_set_light", {"name": "Floor lamp", "on": True})
    return Reply.say("I cannot do that here.")


@dataclass
class Served:
    url: str
    data_dir: Path
    bridge: FakeHueBridge
    llm: FakeOpenAI


def _wait_ready(url: str, process: subprocess.Popen[str]) -> None:
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


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """One real ``angie serve`` for the module: the Hue server against the fake bridge, the
    fake model, a fresh data dir (so she prints a setup code)."""
    _require_browser()  # before starting Angie for nothing
    home = tmp_path_factory.mktemp("web-home")
    port = free_port()
    angie = Path(sys.executable).with_name("angie")
    with FakeHueBridge() as bridge, FakeOpenAI(lamp, api_key="sk-web") as llm:
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
        process = subprocess.Popen(
            [str(angie), "serve", "--port", str(port)],
            env=env,
            cwd=home,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            url = f"http://127.0.0.1:{port}"
            _wait_ready(url, process)
            yield Served(url, home / "data", bridge, llm)
        finally:
            process.terminate()
            try:
                process.communicate(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.communicate()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    _require_browser()
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True)
        try:
            yield launched
        finally:
            launched.close()


def accessible(page: Page) -> None:
    """axe-core finds no serious or critical accessibility problem on the page as it is."""
    if not AXE.is_file():
        _missing(f"axe-core is not installed at {AXE}: run `make install`")
    if not page.evaluate("() => typeof axe !== 'undefined'"):
        # Evaluated by the browser's debugging protocol, which the page's content policy
        # does not govern (a script tag would be refused, as it should).
        page.evaluate(AXE.read_text(encoding="utf-8"))
    problems = page.evaluate(_SERIOUS)
    assert problems == [], problems


@contextmanager
def _opened(browser: Browser, shot: Path, **options: Any) -> Iterator[Page]:
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


@pytest.fixture
def page(browser: Browser, tmp_path: Path) -> Iterator[Page]:
    """A desktop-sized page in the light theme."""
    with _opened(browser, tmp_path / "screenshot.png") as opened:
        yield opened


@pytest.fixture
def phone(browser: Browser, tmp_path: Path) -> Iterator[Page]:
    """A phone-sized page in the dark theme."""
    size = {"width": 390, "height": 844}
    with _opened(browser, tmp_path / "screenshot.png", viewport=size, color_scheme="dark") as p:
        yield p


@pytest.mark.slow
def test_first_account_then_a_lamp_switched_on_after_approval(served: Served, page: Page) -> None:
    page.goto(served.url)
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible(timeout=WAIT_MS)
    accessible(page)
    page.get_by_role("link", name="Create the first account").click()
    accessible(page)
    code = (served.data_dir / "setup-code").read_text().strip()
    page.get_by_label("Setup code").fill(code)
    page.get_by_label("Your name").fill("Sam")
    page.get_by_label("Email").fill(EMAIL)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()

    expect(page.get_by_role("heading", name="Chat")).to_be_visible(timeout=WAIT_MS)
    page.get_by_label("Message to Angie").fill("turn on the floor lamp")
    page.get_by_label("Message to Angie").press("Enter")

    card = page.get_by_role("group", name="Approve hue.set_light?")
    expect(card).to_be_visible(timeout=WAIT_MS)
    expect(card).to_contain_text("Floor lamp")
    assert bridge_puts(served.bridge) == []
    card.get_by_role("button", name="Approve").click()
    expect(card.get_by_role("status")).to_have_text("Approved", timeout=WAIT_MS)
    accessible(page)

    expect(page.get_by_test_id("reply")).to_have_text("The floor lamp is on.", timeout=WAIT_MS)
    puts = bridge_puts(served.bridge)
    assert len(puts) == 1, puts
    floor = [light for light in served.bridge.lights.values() if light["name"] == "Floor lamp"]
    assert floor[0]["state"]["on"] is True

    # A reload signs in again from the cookie and shows the conversation so far.
    page.reload()
    conversation = page.get_by_role("list", name="Conversation")
    expect(conversation).to_contain_text("turn on the floor lamp", timeout=WAIT_MS)
    expect(page.get_by_test_id("reply")).to_have_text("The floor lamp is on.")


def _account(served: Served) -> dict[str, str]:
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


@pytest.mark.slow
def test_sign_in_survives_a_reload_shows_the_work_and_signs_out(
    served: Served, phone: Page
) -> None:
    page = phone
    headers = _account(served)
    looked = httpx.post(
        f"{served.url}/api/chat",
        json={"text": '/tool hue.get_light {"name": "Sofa lamp"}'},
        headers=headers,
        timeout=60,
    )
    assert looked.status_code == 200, looked.text
    task_id = looked.json()["task_id"]

    page.goto(f"{served.url}/tasks")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible(timeout=WAIT_MS)
    page.get_by_label("Email").fill(EMAIL)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Tasks")).to_be_visible(timeout=WAIT_MS)

    # The access token lived in memory only: the refresh cookie signs the page in again.
    page.reload()
    expect(page.get_by_role("heading", name="Tasks")).to_be_visible(timeout=WAIT_MS)
    page.get_by_label("Status").select_option("succeeded")
    page.get_by_role("link", name=f"#{task_id}").click()
    expect(page.get_by_role("heading", name=f"Task #{task_id}")).to_be_visible(timeout=WAIT_MS)
    expect(page.get_by_text("hue.get_light", exact=True)).to_be_visible()
    accessible(page)

    page.get_by_role("link", name="Tasks").click()
    expect(page.get_by_role("heading", name="Tasks")).to_be_visible(timeout=WAIT_MS)
    accessible(page)
    page.get_by_role("link", name="Approvals").click()
    expect(page.get_by_text("Nothing waits for your answer.")).to_be_visible(timeout=WAIT_MS)
    accessible(page)
    page.get_by_role("link", name="Dashboard").click()
    servers = page.get_by_role("heading", name="MCP servers").locator("xpath=../..")
    expect(servers).to_contain_text("hue", timeout=WAIT_MS)
    accessible(page)

    page.get_by_role("button", name="Sign out").locator("visible=true").click()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible(timeout=WAIT_MS)
    page.reload()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible(timeout=WAIT_MS)
