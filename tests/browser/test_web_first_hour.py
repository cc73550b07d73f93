"""The web UI in a real browser (Debian's Chromium, driven by Playwright) against a real
``angie serve`` with the fake language model and the fake Hue bridge: the first account with the
setup code, a chat that needs an approval, the approval given in place, the reply.

Without Chromium (/usr/bin/chromium, or ANGIE_TEST_CHROMIUM) or a built UI these tests skip
with a message; with ``CI=true`` they fail. Each test saves a screenshot in its tmp dir (the
fixtures are in conftest.py, the helpers in web_support.py).
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from api_support import PASSWORD, bridge_puts
from browser.web_support import EMAIL, WAIT_MS, Served, accessible, account
from fakes.openai_server import Reply, Respond, last_user_text, tool_results
from playwright.sync_api import Page, expect


@pytest.fixture(scope="module")
def model() -> Respond:
    return lamp


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

    # The setup interview comes next; it can wait, and so can the tour.
    expect(page.get_by_role("heading", name="Getting to know you")).to_be_visible(timeout=WAIT_MS)
    page.get_by_role("button", name="Skip for now").click()
    page.get_by_role("region", name="Tour").get_by_role("button", name="Skip the tour").click()
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


@pytest.mark.slow
def test_sign_in_survives_a_reload_shows_the_work_and_signs_out(
    served: Served, phone: Page
) -> None:
    page = phone
    headers = account(served)
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

    # The sign-in page shows at once; the reload waits for the logout that clears the cookies
    # (a reload before it would still send the refresh cookie the logout revoked).
    with page.expect_response("**/api/auth/browser/logout", timeout=WAIT_MS):
        page.get_by_role("button", name="Sign out").locator("visible=true").click()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible(timeout=WAIT_MS)
    page.reload()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible(timeout=WAIT_MS)
