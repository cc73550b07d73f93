"""The task lifecycle in the database: idempotent submission, claiming, settling, cancel and
retry, and what a restarted embedded queue picks up again."""

from __future__ import annotations

import pytest

from angie.db.engine import Database
from angie.db.models import TaskKind, TaskStatus, User
from angie.tasks.service import TaskError, TaskService


async def user_id(db: Database) -> int:
    async with db.session() as session:
        user = User(email="sam@home.test", display_name="Sam")
        session.add(user)
        await session.flush()
        return user.id


async def test_the_same_idempotency_key_is_one_task(db: Database) -> None:
    tasks = TaskService(db)
    first, created = await tasks.submit(TaskKind.CHAT, user_id=None, idempotency_key="event:1")
    again, created_again = await tasks.submit(
        TaskKind.CHAT, user_id=None, idempotency_key="event:1"
    )
    assert created
    assert not created_again
    assert again.id == first.id


async def test_claim_counts_attempts_and_skips_finished_tasks(db: Database) -> None:
    tasks = TaskService(db)
    task, _ = await tasks.submit(TaskKind.CHAT, user_id=None)
    claimed = await tasks.claim(task.id)
    assert claimed is not None
    assert (claimed.status, claimed.attempts) == (TaskStatus.RUNNING, 1)
    # A redelivery of a task whose worker died claims it again.
    again = await tasks.claim(task.id)
    assert again is not None
    assert again.attempts == 2
    assert await tasks.succeed(task.id, {"text": "done"})
    assert await tasks.claim(task.id) is None
    assert not await tasks.fail(task.id, "too late")  # a finished task stays finished


async def test_a_task_interrupted_at_every_attempt_is_not_claimed_past_its_limit(
    db: Database,
) -> None:
    tasks = TaskService(db)
    task, _ = await tasks.submit(TaskKind.CHAT, user_id=None, max_attempts=3)
    for _ in range(3):  # each claim dies with the process: the task is left running
        assert await tasks.claim(task.id) is not None

    assert await tasks.claim(task.id) is None
    spent = await tasks.exhausted(task.id)
    assert spent is not None
    assert (spent.status, spent.attempts) == (TaskStatus.RUNNING, 3)


async def test_a_resumed_task_keeps_its_budget_for_failures(db: Database) -> None:
    tasks = TaskService(db)
    task, _ = await tasks.submit(TaskKind.CHAT, user_id=None, max_attempts=1)
    assert await tasks.claim(task.id) is not None
    assert await tasks.suspend(task.id, {"waiting": True})  # asks for an approval

    assert await tasks.resume(task.id)  # approved

    resumed = await tasks.claim(task.id)
    assert resumed is not None
    assert (resumed.attempts, resumed.max_attempts) == (2, 2)


async def test_cancel_reaches_unfinished_children(db: Database) -> None:
    tasks = TaskService(db)
    parent, _ = await tasks.submit(TaskKind.WORKFLOW, user_id=None)
    running, _ = await tasks.submit(TaskKind.WORKFLOW_STEP, user_id=None, parent_id=parent.id)
    done, _ = await tasks.submit(TaskKind.WORKFLOW_STEP, user_id=None, parent_id=parent.id)
    await tasks.claim(running.id)
    await tasks.succeed(done.id, {"text": "ok"})

    cancelled = await tasks.cancel(parent.id)

    assert cancelled.status is TaskStatus.CANCELLED
    assert (await tasks.require(running.id)).status is TaskStatus.CANCELLED
    assert (await tasks.require(done.id)).status is TaskStatus.SUCCEEDED
    with pytest.raises(TaskError, match="has already cancelled"):
        await tasks.cancel(parent.id)


async def test_retry_queues_a_failed_task_with_a_fresh_budget(db: Database) -> None:
    tasks = TaskService(db)
    task, _ = await tasks.submit(TaskKind.AGENT, user_id=None, max_attempts=1)
    await tasks.claim(task.id)
    await tasks.fail(task.id, "the bridge was down")

    retried = await tasks.retry(task.id)

    assert retried.status is TaskStatus.QUEUED
    assert retried.error is None
    assert retried.max_attempts == 2
    with pytest.raises(TaskError, match="only failed or cancelled tasks are retried"):
        await tasks.retry(task.id)


async def test_tasks_are_only_found_by_their_owner(db: Database) -> None:
    tasks = TaskService(db)
    owner = await user_id(db)
    task, _ = await tasks.submit(TaskKind.CHAT, user_id=owner)
    assert (await tasks.require(task.id, owner)).id == task.id
    with pytest.raises(TaskError, match=f"there is no task {task.id}"):
        await tasks.require(task.id, owner + 1)
    with pytest.raises(TaskError, match=f"there is no task {task.id}"):
        await tasks.cancel(task.id, owner + 1)


async def test_a_restart_picks_up_queued_and_running_tasks_not_children(db: Database) -> None:
    tasks = TaskService(db)
    queued, _ = await tasks.submit(TaskKind.CHAT, user_id=None)
    running, _ = await tasks.submit(TaskKind.CHAT, user_id=None)
    await tasks.claim(running.id)
    finished, _ = await tasks.submit(TaskKind.CHAT, user_id=None)
    await tasks.claim(finished.id)
    await tasks.succeed(finished.id, None)
    inline_child, _ = await tasks.submit(TaskKind.AGENT, user_id=None, parent_id=running.id)
    await tasks.claim(inline_child.id)
    waiting, _ = await tasks.submit(TaskKind.CHAT, user_id=None)
    await tasks.claim(waiting.id)
    await tasks.suspend(waiting.id, {"children": {}})
    resumed_child, _ = await tasks.submit(TaskKind.AGENT, user_id=None, parent_id=waiting.id)

    assert await tasks.unfinished() == [queued.id, running.id, resumed_child.id]
