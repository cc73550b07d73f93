"""A worker that dies after settling a task but before writing its answer: when the queue
delivers the task again, the answer is written then, once; a task already answered is not
answered twice."""

from __future__ import annotations

import asyncio
from pathlib import Path

from api_support import api_harness, make_api_angie
from fakes.brain import Brain
from sqlalchemy import delete, func, select

from angie.daemon import Angie
from angie.db.models import Message, MessageRole, TaskStatus


async def _answers(angie: Angie, task_id: int) -> list[str]:
    async with angie.services.database.session() as session:
        rows = await session.scalars(
            select(Message.content).where(
                Message.task_id == task_id, Message.role == MessageRole.ASSISTANT
            )
        )
        return list(rows)


async def test_a_settled_task_delivered_again_is_answered_once(
    sqlite_url: str, data_dir: Path
) -> None:
    angie = make_api_angie(sqlite_url, data_dir, Brain())
    async with api_harness(angie) as api:
        ann = await api.signup("ann")
        sent = await api.client.post(
            "/api/events", json={"instruction": "what is on today?"}, headers=ann.headers
        )
        task_id = int(sent.json()["task_id"])
        deadline = asyncio.get_running_loop().time() + 30
        while True:
            task = await angie.services.tasks.require(task_id)
            if task.status is TaskStatus.SUCCEEDED and await _answers(angie, task_id):
                break
            assert asyncio.get_running_loop().time() < deadline, task.status
            await asyncio.sleep(0.05)
        [answer] = await _answers(angie, task_id)

        # Delivered again while answered: nothing more is said.
        await angie.services.executor.handle(task_id)
        assert await _answers(angie, task_id) == [answer]

        # As if the worker had died between settling and answering.
        async with angie.services.database.session() as session:
            await session.execute(delete(Message).where(Message.task_id == task_id))
            await session.commit()
        await angie.services.executor.handle(task_id)
        assert await _answers(angie, task_id) == [answer]
        await angie.services.executor.handle(task_id)
        async with angie.services.database.session() as session:
            count = await session.scalar(
                select(func.count()).select_from(Message).where(Message.task_id == task_id)
            )
        assert count == 1
