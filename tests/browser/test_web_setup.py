"""The first run in a real browser against a real ``angie serve``: the first account, then the
setup interview a topic at a time, saved as
the same USER_PROMPTS documents ``angie setup`` writes, then the tour.

Skips without Chromium or a built UI, like the other browser tests (see conftest.py).
"""

from __future__ import annotations

import httpx
import pytest
from api_support import PASSWORD
from browser.web_support import EMAIL, WAIT_MS, Served, accessible, account
from playwright.sync_api import Page, expect

from angie import onboarding

NEXT = "Save and continue"


@pytest.mark.slow
def test_first_account_then_the_interview_then_the_tour(served: Served, page: Page) -> None:
    page.goto(f"{served.url}/setup")
    code = (served.data_dir / "setup-code").read_text().strip()
    page.get_by_label("Setup code").fill(code)
    page.get_by_label("Your name").fill("Sam Doe")
    page.get_by_label("Email").fill(EMAIL)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()

    expect(page.get_by_role("heading", name="Getting to know you")).to_be_visible(timeout=WAIT_MS)
    expect(page.get_by_label("What's your name?")).to_have_value("Sam Doe", timeout=WAIT_MS)
    expect(page.get_by_label("What should I call you?")).to_have_value("Sam")
    accessible(page)
    page.get_by_label("What should I call you?").fill("Sammy")
    page.get_by_role("button", name=NEXT).click()
    expect(page.get_by_label("How should I talk to you?")).to_have_value(
        "warm and brief", timeout=WAIT_MS
    )
    page.get_by_role("button", name=NEXT).click()

    zone = page.get_by_label("Which timezone are you in? (e.g. Europe/Paris)")
    zone.fill("Europe/Paris")
    page.get_by_role("button", name=NEXT).click()
    page.get_by_label("What matters most to you right now?", exact=False).fill(
        "the garden; my thesis"
    )
    for _ in range(3):  # priorities, people, autonomy: the defaults do
        page.get_by_role("button", name=NEXT).click()
    expect(page.get_by_role("button", name="Save and finish")).to_be_visible(timeout=WAIT_MS)
    page.get_by_role("button", name="Save and finish").click()

    tour = page.get_by_role("region", name="Tour")
    expect(tour).to_contain_text("Step 1 of 4", timeout=WAIT_MS)
    expect(page.get_by_role("heading", name="Chat", level=1)).to_be_visible()
    accessible(page)
    for _ in range(3):
        tour.get_by_role("button", name="Next").click()
    tour.get_by_role("button", name="Done").click()
    expect(tour).to_be_hidden()
    page.reload()
    expect(page.get_by_role("heading", name="Chat", level=1)).to_be_visible(timeout=WAIT_MS)
    expect(page.get_by_role("region", name="Tour")).to_be_hidden()

    # The same documents as `angie setup` writes for these answers.
    headers = account(served)
    with httpx.Client(base_url=served.url, headers=headers) as api:
        me = api.get("/api/me").json()
        bodies = {
            t.name: api.get(f"/api/prompts/{t.name}").json()["body"] for t in onboarding.TOPICS
        }
    assert (me["preferred_name"], me["timezone"]) == ("Sammy", "Europe/Paris")
    answers = onboarding.earlier(bodies, me)
    assert answers["priorities"]["items"] == ["the garden", "my thesis"]
    for topic in onboarding.TOPICS:
        assert bodies[topic.name] == onboarding.document(topic, answers[topic.name]), topic.name
