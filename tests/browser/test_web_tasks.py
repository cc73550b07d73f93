"""The task list in a real browser over a thousand tasks: only the rows in view are in the page,
the keyboard walks it to the oldest task while further pages load, and Enter opens that task.

Skips without Chromium or a built UI, like the other browser tests (see conftest.py).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from api_support import PASSWORD
from browser.web_support import EMAIL, WAIT_MS, Served, accessible, account
from playwright.sync_api import Page, expect
from sqlalchemy import create_engine, insert, select

from angie.db.models import Task, TaskKind, TaskStatus, User

TASKS = 1_000


def seed(served: Served) -> list[int]:
    """A thousand finished tasks of Sam's, a minute apart up to now, in one insert; their ids."""
    engine = create_engine(f"sqlite:///{served.data_dir.parent / 'angie.db'}")
    now = datetime.now(UTC)
    try:
        with engine.begin() as conn:
            user_id = conn.scalar(select(User.id).where(User.email == EMAIL))
            created = [now - timedelta(minutes=TASKS - i) for i in range(TASKS)]
            conn.execute(
                insert(Task),
                [
                    {
                        "kind": TaskKind.CHAT,
                        "status": TaskStatus.SUCCEEDED,
                        "user_id": user_id,
                        "input": {"text": f"turn on lamp number {i}"},
                        "attempts": 1,
                        "max_attempts": 3,
                        "created_at": at,
                        "updated_at": at,
                        "finished_at": at,
                    }
                    for i, at in enumerate(created)
                ],
            )
            return list(conn.scalars(select(Task.id).order_by(Task.created_at, Task.id)))
    finally:
        engine.dispose()


@pytest.mark.slow
def test_task_list_draws_the_rows_in_view_and_walks_to_the_oldest(
    served: Served, page: Page
) -> None:
    account(served)
    ids = seed(served)
    oldest, newest = ids[0], ids[-1]
    page.goto(f"{served.url}/tasks")
    page.get_by_label("Email").fill(EMAIL)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()

    table = page.get_by_role("table", name="Tasks")
    expect(page.get_by_text(f"{len(ids):,} tasks")).to_be_visible(timeout=WAIT_MS)
    expect(table).to_have_attribute("aria-rowcount", str(len(ids)))
    first = table.get_by_role("link", name=f"#{newest}", exact=True)
    expect(first).to_be_visible()
    assert table.get_by_role("row").count() < 60
    accessible(page)  # with the pointer over a row, as the sign-in left it

    # End goes to the last row loaded, which asks for the next page: again until the oldest.
    first.focus()
    last = table.get_by_role("link", name=f"#{oldest}", exact=True)
    for _ in range(len(ids) // 100 + 5):
        page.keyboard.press("End")
        try:
            expect(last).to_be_focused(timeout=2_000)
            break
        except AssertionError:
            continue
    expect(last).to_be_focused()
    assert table.get_by_role("row").count() < 60
    expect(last.locator("xpath=ancestor::*[@role='row']")).to_have_attribute(
        "aria-rowindex", str(len(ids))
    )
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name=f"Task #{oldest}")).to_be_visible(timeout=WAIT_MS)
