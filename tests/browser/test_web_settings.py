"""The web UI's pages past the first hour, in a real browser against a real ``angie serve``:
a channel set up and checked, an agent over the Hue server's live tools, a team, a workflow
built step by step and run, a cron, the profile, a prompt and an API token that works.

Skips without Chromium or a built UI, like the other browser tests (see conftest.py).
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import httpx
import pytest
from api_support import PASSWORD
from browser.web_support import EMAIL, WAIT_MS, Served, accessible, account, opened
from playwright.sync_api import Browser, Page, expect

from angie.api.routes.webhook_deliveries import signature
from angie_mcp_core.testing import free_port

PAGES = (
    ("/settings/channels", "Channels"),
    ("/agents", "Agents"),
    ("/teams", "Teams"),
    ("/workflows", "Workflows"),
    ("/events", "Events"),
    ("/settings/profile", "Profile and prompts"),
    ("/settings/tokens", "API tokens"),
    ("/settings/webhooks", "Webhooks"),
    ("/settings/household", "Household"),
    ("/settings/mcp", "MCP servers"),
)


def _sign_in(page: Page, served: Served, path: str) -> None:
    account(served)
    page.goto(f"{served.url}{path}")
    page.get_by_label("Email").fill(EMAIL)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("navigation", name="Main")).to_be_visible(timeout=WAIT_MS)


@pytest.mark.slow
def test_channel_agent_team_workflow_cron_profile_and_token(served: Served, page: Page) -> None:
    _sign_in(page, served, "/settings/channels")

    # Channels: the email form comes from the channel's own fields; the check says what is wrong.
    expect(page.get_by_role("heading", name="Channels")).to_be_visible(timeout=WAIT_MS)
    email = page.get_by_role("form", name="Email settings")
    expect(email.get_by_label("IMAP port")).to_have_value("993", timeout=WAIT_MS)
    closed = str(free_port())
    email.get_by_label("Email address (needed)").fill("angie@home.test")
    email.get_by_label("IMAP server (needed)").fill("127.0.0.1")
    email.get_by_label("IMAP port").fill(closed)
    email.get_by_label("SMTP server (needed)").fill("127.0.0.1")
    email.get_by_label("SMTP port").fill(closed)
    email.get_by_label("Password (needed)").fill("app-password")
    email.get_by_label("Angie uses Email").uncheck()
    email.get_by_role("button", name="Save Email").click()
    expect(email.get_by_text("Saved.")).to_be_visible(timeout=WAIT_MS)
    expect(email.get_by_label("Password (needed)")).to_have_value("")
    expect(email.get_by_label("Password (needed)")).to_have_attribute(
        "placeholder", "saved; type to replace"
    )
    email.get_by_role("button", name="Check Email").click()
    expect(email.get_by_text("Does not work:")).to_be_visible(timeout=WAIT_MS)
    expect(page.get_by_label("Pairing code")).to_be_visible()
    accessible(page)

    # Agents: the tool picker lists the Hue server's live tools with their annotations.
    page.get_by_role("link", name="Agents").click()
    page.get_by_role("link", name="New agent").click()
    page.get_by_label("Name").fill("lights")
    page.get_by_label("Prompt").fill("You look after the lights.")
    page.get_by_role("checkbox", name="hue", exact=True).check()
    scenes = page.get_by_role("checkbox", name="Activate Scene hue_activate_scene")
    expect(scenes).to_be_checked(timeout=WAIT_MS)
    expect(page.get_by_text("reads only").first).to_be_visible()
    expect(page.get_by_text("approval: ask").first).to_be_visible()
    scenes.uncheck()
    expect(page.get_by_text("!hue_activate_scene")).to_be_visible()
    accessible(page)
    page.get_by_role("button", name="Create agent").click()
    expect(page.get_by_role("heading", name="Agent lights")).to_be_visible(timeout=WAIT_MS)

    # Teams: the new agent in a team.
    page.get_by_role("link", name="Teams").click()
    page.get_by_role("button", name="New team").click()
    page.get_by_label("Team name").fill("lamps")
    page.get_by_label("Agent to add").select_option("lights")
    page.get_by_role("button", name="Add to team").click()
    page.get_by_role("button", name="Create team").click()
    expect(page.get_by_role("button", name="Edit lamps")).to_be_visible(timeout=WAIT_MS)
    accessible(page)

    # Workflows: two steps, reordered, saved, run, each step watched to the end.
    page.get_by_role("link", name="Workflows").click()
    page.get_by_role("link", name="New workflow").click()
    page.get_by_label("Name", exact=True).fill("evening")
    steps = page.get_by_role("list", name="Steps")
    first = steps.get_by_role("listitem").nth(0)
    first.get_by_label("Step name").fill("look")
    first.get_by_label("Run by").select_option("lights")
    first.get_by_label("Instruction").fill("Are the lights on?")
    page.get_by_role("button", name="Add step").click()
    second = steps.get_by_role("listitem").nth(1)
    second.get_by_label("Step name").fill("tell")
    second.get_by_label("Run by").select_option("team lamps")
    second.get_by_label("Instruction").fill("Say this: {{ previous }}")
    second.get_by_role("button", name="Move tell up").press("Enter")
    expect(steps.get_by_role("listitem").nth(0)).to_have_accessible_name("Step 1: tell")
    steps.get_by_role("button", name="Move tell down").press("Enter")
    accessible(page)
    page.get_by_role("button", name="Create workflow").click()
    expect(page.get_by_role("heading", name="Workflow evening")).to_be_visible(timeout=WAIT_MS)
    page.get_by_role("button", name="Run now").click()
    run = page.get_by_role("list", name="Steps of this run")
    expect(run.get_by_role("link", name="look: succeeded")).to_be_visible(timeout=WAIT_MS)
    expect(run.get_by_role("link", name="tell: succeeded")).to_be_visible(timeout=WAIT_MS)

    # Events: the run's event with its task; a cron with the next run Angie gives, paused.
    page.get_by_role("link", name="Events").click()
    events = page.get_by_role("list", name="Events")
    expect(events.get_by_role("link", name="task #").first).to_be_visible(timeout=WAIT_MS)
    page.get_by_label("Name").fill("nightly")
    page.get_by_label("When (crontab)").fill("0 22 * * *")
    page.get_by_label("Who does it").select_option("workflow evening")
    page.get_by_role("button", name="Create cron").click()
    expect(page.get_by_text("Made nightly; it first runs")).to_be_visible(timeout=WAIT_MS)
    crons = page.get_by_role("list", name="Crons")
    expect(crons.get_by_text("Next: ")).to_be_visible(timeout=WAIT_MS)
    accessible(page)
    page.get_by_role("button", name="Pause nightly").click()
    expect(page.get_by_role("button", name="Resume nightly")).to_be_visible(timeout=WAIT_MS)

    # Profile and prompts.
    page.get_by_role("link", name="Profile").click()
    page.get_by_label("What Angie calls you").fill("Sammy")
    page.get_by_role("button", name="Save profile").click()
    expect(page.get_by_text("Profile saved.")).to_be_visible(timeout=WAIT_MS)
    documents = page.get_by_role("list", name="Prompt documents")
    documents.get_by_role("button").first.click()
    body = page.locator("#prompt-body")
    body.fill("I like the lights warm.")
    page.get_by_role("button", name="prompt").click()
    expect(page.get_by_text("Saved the ")).to_be_visible(timeout=WAIT_MS)
    accessible(page)

    # A personal API token, shown once, that works and then no longer does.
    page.get_by_role("link", name="API tokens").click()
    page.get_by_label("Token name").fill("script")
    page.get_by_role("button", name="Create token").click()
    token = page.get_by_test_id("new-token").inner_text(timeout=WAIT_MS).strip()
    me = httpx.get(f"{served.url}/api/me", headers={"Authorization": f"Bearer {token}"}, timeout=30)
    assert me.status_code == 200, me.text
    assert me.json()["preferred_name"] == "Sammy"
    accessible(page)
    # Revoking asks first in a dialog; keeping the token leaves it working.
    page.get_by_role("button", name="Revoke script").click()
    ask = page.get_by_role("alertdialog", name="Revoke the token script?")
    expect(ask).to_be_visible(timeout=WAIT_MS)
    accessible(page)
    ask.get_by_role("button", name="Keep it").click()
    expect(ask).to_be_hidden()
    kept = httpx.get(
        f"{served.url}/api/me", headers={"Authorization": f"Bearer {token}"}, timeout=30
    )
    assert kept.status_code == 200, kept.text
    page.get_by_role("button", name="Revoke script").click()
    page.get_by_role("alertdialog").get_by_role("button", name="Revoke token").click()
    expect(page.get_by_text("revoked")).to_be_visible(timeout=WAIT_MS)
    gone = httpx.get(
        f"{served.url}/api/me", headers={"Authorization": f"Bearer {token}"}, timeout=30
    )
    assert gone.status_code == 401, gone.text


def _deliver(url: str, secret: str, delivery: str | None = None) -> httpx.Response:
    """A delivery signed as the page's recipe says."""
    body = json.dumps({"door": "garage"}).encode()
    ts = str(int(time.time()))
    headers = {
        "Content-Type": "application/json",
        "X-Angie-Timestamp": ts,
        "X-Angie-Signature": signature(secret, ts, body),
    }
    if delivery is not None:
        headers["X-Angie-Delivery"] = delivery
    return httpx.post(url, content=body, headers=headers, timeout=30)


@pytest.mark.slow
def test_webhook_made_and_its_secret_rotated(served: Served, page: Page) -> None:
    _sign_in(page, served, "/settings/webhooks")
    expect(page.get_by_role("heading", name="Webhooks", exact=True)).to_be_visible(timeout=WAIT_MS)
    page.get_by_label("Webhook name").fill("garage")
    page.get_by_label("What to do with each delivery").fill("Tell me if the door opened.")
    page.get_by_role("button", name="Create webhook").click()
    first = page.get_by_test_id("new-secret").inner_text(timeout=WAIT_MS).strip()
    hooks = page.get_by_role("list", name="Webhooks")
    url = hooks.get_by_test_id("hook-url").inner_text(timeout=WAIT_MS).strip()
    assert url.startswith(f"{served.url}/api/hooks/"), url
    accepted = _deliver(url, first, delivery="garage-1")
    assert accepted.status_code == 202, accepted.text
    accessible(page)

    # The delivery is listed with the task it started.
    hooks.get_by_role("button", name="Deliveries of garage").click()
    deliveries = page.get_by_role("table", name="Recent deliveries of garage")
    row = deliveries.get_by_role("row").filter(has_text="garage-1")
    task = f"Task {accepted.json()['task_id']}"
    expect(row.get_by_role("link", name=task)).to_be_visible(timeout=WAIT_MS)
    accessible(page)

    # Rotating asks first; the new secret is shown once and the old one stops working.
    hooks.get_by_role("button", name="Rotate secret of garage").click()
    ask = page.get_by_role("alertdialog", name="Give garage a new secret?")
    expect(ask).to_be_visible(timeout=WAIT_MS)
    accessible(page)
    ask.get_by_role("button", name="Rotate secret").click()
    expect(page.get_by_text("Rotated the secret of garage")).to_be_visible(timeout=WAIT_MS)
    second = page.get_by_test_id("new-secret").inner_text(timeout=WAIT_MS).strip()
    assert second != first
    assert _deliver(url, first).status_code == 401
    assert _deliver(url, second).status_code == 202
    accessible(page)


@pytest.mark.slow
def test_invitation_made_and_used_in_another_browser(
    served: Served, page: Page, browser: Browser, tmp_path: Path
) -> None:
    _sign_in(page, served, "/settings/household")
    expect(page.get_by_role("heading", name="Household", exact=True)).to_be_visible(timeout=WAIT_MS)
    page.get_by_label("Their email (optional)").fill("kim@home.test")
    page.get_by_role("button", name="Create invitation").click()
    link = page.get_by_test_id("invite-link").inner_text(timeout=WAIT_MS).strip()
    assert link.startswith(f"{served.url}/invite/"), link
    accessible(page)

    with opened(browser, tmp_path / "invited.png") as invited:
        invited.goto(link)
        invited.get_by_label("Your name").fill("Kim")
        invited.get_by_label("Email").fill("kim@home.test")
        invited.get_by_label("Password").fill(PASSWORD)
        accessible(invited)
        invited.get_by_role("button", name="Create account").click()
        expect(invited.get_by_role("navigation", name="Main")).to_be_visible(timeout=WAIT_MS)
        # A member is not offered the household page.
        expect(invited.get_by_role("link", name="Household")).to_have_count(0)

    page.reload()
    people = page.get_by_role("list", name="People")
    expect(people.get_by_text("kim@home.test")).to_be_visible(timeout=WAIT_MS)
    expect(
        page.get_by_role("list", name="Invitations").get_by_text("used", exact=True)
    ).to_be_visible()
    accessible(page)


@pytest.mark.slow
def test_each_page_on_a_phone_in_the_dark(served: Served, phone: Page) -> None:
    _sign_in(phone, served, "/settings/channels")
    for path, heading in PAGES:
        phone.goto(f"{served.url}{path}")
        expect(phone.get_by_role("heading", name=heading, exact=True)).to_be_visible(
            timeout=WAIT_MS
        )
        # Not "networkidle": the live-updates stream keeps a request open on every page.
        expect(phone.get_by_text("Loading…")).to_have_count(0, timeout=WAIT_MS)
        accessible(phone)


@pytest.mark.slow
def test_a_servers_trust_and_a_tools_rule_set_from_the_page(served: Served, page: Page) -> None:
    _sign_in(page, served, "/settings/mcp")
    expect(page.get_by_role("heading", name="MCP servers", exact=True)).to_be_visible(
        timeout=WAIT_MS
    )
    hue = page.get_by_role("listitem", name="hue")
    trust = hue.get_by_label("What it returns (set by server)")
    expect(trust).to_have_value("trusted", timeout=WAIT_MS)
    trust.select_option("untrusted")
    expect(hue.get_by_label("What it returns (set by admin)")).to_have_value(
        "untrusted", timeout=WAIT_MS
    )
    # The tools come live from the running server, each with what a call does now.
    hue.get_by_role("button", name="Show tools").click()
    rule = hue.get_by_label("Rule for set_light")
    expect(rule).to_be_visible(timeout=WAIT_MS)
    rule.select_option("never")
    expect(hue.get_by_label("Rule for set_light")).to_have_value("never", timeout=WAIT_MS)
    accessible(page)
    # Kept by Angie, not only by the page.
    page.reload()
    hue = page.get_by_role("listitem", name="hue")
    expect(hue.get_by_label("What it returns (set by admin)")).to_have_value(
        "untrusted", timeout=WAIT_MS
    )
