"""The sidekick in a real browser: on a failed task's page the person asks "why did this fail?"
beside the page, and Angie's answer shows the task reached her prompt (the fake model names the
task it was told about).

Skips without Chromium or a built UI, like the other browser tests (see conftest.py).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import pytest
from api_support import PASSWORD
from browser.web_support import EMAIL, WAIT_MS, Served, accessible, account
from fakes.openai_server import Reply, Respond, last_user_text
from playwright.sync_api import Page, expect
from sqlalchemy import create_engine, insert, select

from angie.db.models import Task, TaskKind, TaskStatus, User

_LOOKING_AT = re.compile(r"The person is looking at task (\d+).*?Error: ([^\n]+)", re.S)


@pytest.fixture(scope="module")
def model() -> Respond:
    return explain


def explain(request: dict[str, Any]) -> Reply:
    """The model: tells why the task it is told about failed, from the note it was given."""
    said = last_user_text(request)
    seen = _LOOKING_AT.search(said)
    if seen is not None and "why did this fail?" in said:
        return Reply.say(f"Task {seen[1]} failed because {seen[2]}")
    return Reply.say("I do not know which task you mean.")


def failed_task(served: Served) -> int:
    """A task of Sam's that failed because the Hue bridge did not answer; its id."""
    engine = create_engine(f"sqlite:///{served.data_dir.parent / 'angie.db'}")
    now = datetime.now(UTC)
    try:
        with engine.begin() as conn:
            user_id = conn.scalar(select(User.id).where(User.email == EMAIL))
            return int(
                conn.execute(
                    insert(Task).returning(Task.id),
                    {
                        "kind": TaskKind.AGENT,
                        "status": TaskStatus.FAILED,
                        "user_id": user_id,
                        "input": {"text": "turn on the porch light"},
                        "error": "the Hue bridge did not answer",
                        "attempts": 3,
                        "max_attempts": 3,
                        "created_at": now,
                        "updated_at": now,
                        "finished_at": now,
                    },
                ).scalar_one()
            )
    finally:
        engine.dispose()


@pytest.mark.slow
def test_the_sidekick_on_a_failed_tasks_page_says_why_it_failed(served: Served, page: Page) -> None:
    account(served)
    task_id = failed_task(served)
    page.goto(f"{served.url}/tasks/{task_id}")
    page.get_by_label("Email").fill(EMAIL)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name=f"Task #{task_id}")).to_be_visible(timeout=WAIT_MS)

    ask = page.get_by_role("button", name="Ask Angie about this page").locator("visible=true")
    ask.click()
    panel = page.get_by_role("dialog", name="Ask Angie")
    expect(panel).to_contain_text(f"You are looking at task {task_id}.", timeout=WAIT_MS)
    say = panel.get_by_label("Message to Angie")
    expect(say).to_be_focused()
    accessible(page)
    say.fill("why did this fail?")
    say.press("Enter")

    expect(panel.get_by_test_id("reply")).to_have_text(
        f"Task {task_id} failed because the Hue bridge did not answer", timeout=WAIT_MS
    )
    expect(panel.get_by_text(f"about task {task_id}")).to_be_visible()
    # The page beside it stays as it was, and usable.
    expect(page.get_by_role("heading", name=f"Task #{task_id}")).to_be_visible()
    accessible(page)

    page.keyboard.press("Escape")
    expect(panel).to_be_hidden()
    expect(ask).to_be_focused()
