"""The task lifecycle in the database: queued → running → succeeded | failed | cancelled, with
awaiting_approval in between. The database is the truth; the queue only carries task ids."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from angie.db.base import utcnow
from angie.db.engine import Database
from angie.db.models import DELEGATIONS, Task, TaskKind, TaskStatus, ToolCall
from angie.errors import Conflict, NotFound

__all__ = ("TERMINAL", "ModelUse", "TaskError", "TaskService")

TERMINAL = frozenset({TaskStatus.SUCCEEDED, TaskStatus.FAILED, TaskStatus.CANCELLED})
# A delivery may start a task that is queued, or one left running by a worker that died.
_CLAIMABLE = (TaskStatus.QUEUED, TaskStatus.RUNNING)


@dataclass(frozen=True, slots=True)
class ModelUse:
    """One run's use of the language model, not yet added to its task."""

    input_tokens: int
    output_tokens: int
    cost_usd: Decimal | None = None

    def added(self) -> dict[str, Any]:
        """The task's columns with this use added (summed in the database, so a resumed run
        adds to what the run before it used)."""
        values: dict[str, Any] = {
            "input_tokens": func.coalesce(Task.input_tokens, 0) + self.input_tokens,
            "output_tokens": func.coalesce(Task.output_tokens, 0) + self.output_tokens,
        }
        if self.cost_usd is not None:
            values["cost_usd"] = func.coalesce(Task.cost_usd, 0) + self.cost_usd
        return values


class TaskError(Conflict):
    """A task cannot do what was asked (one sentence for the user)."""


class TaskNotFound(TaskError, NotFound):
    """No such task for this person."""


class TaskService:
    def __init__(self, database: Database) -> None:
        self.db = database

    async def submit(
        self,
        kind: TaskKind,
        *,
        user_id: int | None,
        input: dict[str, Any] | None = None,
        idempotency_key: str | None = None,
        **fields: Any,
    ) -> tuple[Task, bool]:
        """Create a queued task; with a key already used, the existing task and False."""
        if idempotency_key is not None:
            existing = await self.by_key(idempotency_key)
            if existing is not None:
                return existing, False
        task = Task(
            kind=kind,
            user_id=user_id,
            input=input or {},
            idempotency_key=idempotency_key,
            status=TaskStatus.QUEUED,
            **fields,
        )
        try:
            async with self.db.session() as session:
                session.add(task)
        except IntegrityError:
            # Two submitters raced on the same key: the winner's task is the task.
            existing = await self.by_key(idempotency_key) if idempotency_key else None
            if existing is None:
                raise
            return existing, False
        return task, True

    async def by_key(self, key: str) -> Task | None:
        async with self.db.session() as session:
            return (
                await session.scalars(select(Task).where(Task.idempotency_key == key))
            ).one_or_none()

    async def get(self, task_id: int) -> Task | None:
        async with self.db.session() as session:
            return await session.get(Task, task_id)

    async def require(self, task_id: int, user_id: int | None = None) -> Task:
        task = await self.get(task_id)
        if task is None or (user_id is not None and task.user_id != user_id):
            raise TaskNotFound(f"there is no task {task_id}")
        return task

    async def claim(self, task_id: int) -> Task | None:
        """Mark a task running and count the attempt; None when it is not to be run now.

        Every claim counts, a task found ``running`` by a restarted process included, and
        none goes past ``max_attempts``: a task that kills Angie cannot crash-loop her.
        """
        async with self.db.session() as session:
            result = await session.execute(
                update(Task)
                .where(
                    Task.id == task_id,
                    Task.status.in_(_CLAIMABLE),
                    Task.attempts < Task.max_attempts,
                )
                .values(
                    status=TaskStatus.RUNNING,
                    attempts=Task.attempts + 1,
                    started_at=utcnow(),
                    updated_at=utcnow(),
                )
                .execution_options(synchronize_session=False)
            )
            if result.rowcount != 1:  # type: ignore[attr-defined]
                return None
            return await session.get(Task, task_id, populate_existing=True)

    async def exhausted(self, task_id: int) -> Task | None:
        """The task, if it is still to be run but has used all its attempts."""
        task = await self.get(task_id)
        if task is None or task.status not in _CLAIMABLE or task.attempts < task.max_attempts:
            return None
        return task

    async def _finish(
        self,
        task_id: int,
        status: TaskStatus,
        *,
        session: AsyncSession | None = None,
        **values: Any,
    ) -> bool:
        """Move a task that has not ended to ``status``; in the caller's transaction when
        given ``session``. Says whether it moved."""
        if session is None:
            async with self.db.session() as own:
                return await self._finish(task_id, status, session=own, **values)
        result = await session.execute(
            update(Task)
            .where(Task.id == task_id, Task.status.not_in(TERMINAL))
            .values(status=status, updated_at=utcnow(), **values)
            .execution_options(synchronize_session=False)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def succeed(
        self,
        task_id: int,
        result: Any,
        *,
        session: AsyncSession | None = None,
        used: ModelUse | None = None,
    ) -> bool:
        """Settle the task as succeeded, adding its last run's ``used`` in the same statement
        (or, for a task that ended meanwhile, in one of its own: the use is never lost)."""
        if session is None:
            async with self.db.session() as own:
                return await self.succeed(task_id, result, session=own, used=used)
        settled = await self._finish(
            task_id,
            TaskStatus.SUCCEEDED,
            session=session,
            result=result,
            error=None,
            finished_at=utcnow(),
            state=None,
            **(used.added() if used is not None else {}),
        )
        if not settled and used is not None:
            await self.add_usage(task_id, used, session=session)
        return settled

    async def fail(self, task_id: int, error: str, *, session: AsyncSession | None = None) -> bool:
        return await self._finish(
            task_id, TaskStatus.FAILED, session=session, error=error[:4000], finished_at=utcnow()
        )

    async def requeue(self, task_id: int, *, error: str | None = None) -> bool:
        """Back to the queue for another attempt after a transient failure."""
        return await self._finish(task_id, TaskStatus.QUEUED, error=error)

    async def resume(self, task_id: int) -> bool:
        """Back to the queue once what it waited for has come; the claim that resumes it is
        not a failed attempt, so it gets one more."""
        return await self._finish(task_id, TaskStatus.QUEUED, max_attempts=Task.max_attempts + 1)

    async def suspend(self, task_id: int, state: dict[str, Any]) -> bool:
        """Park a running task until the user (or a child task) answers."""
        return await self._finish(task_id, TaskStatus.AWAITING_APPROVAL, state=state)

    async def add_usage(
        self, task_id: int, used: ModelUse, *, session: AsyncSession | None = None
    ) -> None:
        """Add one run's use of the language model to its task; in the caller's transaction
        when given ``session``."""
        if session is None:
            async with self.db.session() as own:
                await self.add_usage(task_id, used, session=own)
            return
        await session.execute(
            update(Task)
            .where(Task.id == task_id)
            .values(**used.added())
            .execution_options(synchronize_session=False)
        )

    @asynccontextmanager
    async def usage_kept(self, task_id: int, used: ModelUse | None) -> AsyncIterator[None]:
        """Around the work that is to add ``used`` to the task as it settles: if that work
        fails, the use is added on its own, so no run's use of the model is lost."""
        try:
            yield
        except BaseException:
            if used is not None:
                await self.add_usage(task_id, used)
            raise

    async def tree_usage(self, task_id: int, *, is_root: bool = False) -> tuple[int, int]:
        """(tool calls, tokens) used so far by the request ``task_id`` belongs to: its root task
        and every task under it, over all their runs. ``is_root``: the caller knows the task
        has no parent (no walk up)."""
        async with self.db.session() as session:
            root = task_id
            for _ in range(0 if is_root else 64):  # delegations nest a few levels, no cycle
                parent = await session.scalar(select(Task.parent_id).where(Task.id == root))
                if parent is None:
                    break
                root = parent
            tree, level = [root], [root]
            while level and len(tree) < 10_000:
                level = list(
                    await session.scalars(select(Task.id).where(Task.parent_id.in_(level)))
                )
                tree.extend(level)
            # What the request did through MCP servers (handing work on is not counted), and
            # its tokens: one statement.
            calls = (
                select(func.count())
                .select_from(ToolCall)
                .where(ToolCall.task_id.in_(tree), ToolCall.server != DELEGATIONS)
                .scalar_subquery()
            )
            tokens = (
                select(
                    func.coalesce(
                        func.sum(
                            func.coalesce(Task.input_tokens, 0)
                            + func.coalesce(Task.output_tokens, 0)
                        ),
                        0,
                    )
                )
                .where(Task.id.in_(tree))
                .scalar_subquery()
            )
            used = (await session.execute(select(calls, tokens))).one()
        return int(used[0] or 0), int(used[1] or 0)

    async def save_state(self, task_id: int, state: dict[str, Any]) -> None:
        async with self.db.session() as session:
            await session.execute(
                update(Task)
                .where(Task.id == task_id)
                .values(state=state)
                .execution_options(synchronize_session=False)
            )

    async def cancel(self, task_id: int, user_id: int | None = None) -> Task:
        """Cancel a task that has not finished, and its unfinished children."""
        task = await self.require(task_id, user_id)
        if task.status in TERMINAL:
            raise TaskError(f"task {task_id} has already {task.status.value}")
        async with self.db.session() as session:
            ids = [task_id, *await self._descendants(session, task_id)]
            await session.execute(
                update(Task)
                .where(Task.id.in_(ids), Task.status.not_in(TERMINAL))
                .values(status=TaskStatus.CANCELLED, finished_at=utcnow(), updated_at=utcnow())
                .execution_options(synchronize_session=False)
            )
        return await self.require(task_id)

    async def retry(self, task_id: int, user_id: int | None = None) -> Task:
        """Queue a failed or cancelled task again, with a fresh budget of attempts."""
        task = await self.require(task_id, user_id)
        if task.status not in (TaskStatus.FAILED, TaskStatus.CANCELLED):
            raise TaskError(
                f"task {task_id} is {task.status.value}; only failed or cancelled tasks are retried"
            )
        async with self.db.session() as session:
            await session.execute(
                update(Task)
                .where(Task.id == task_id)
                .values(
                    status=TaskStatus.QUEUED,
                    max_attempts=Task.attempts + max(task.max_attempts, 1),
                    error=None,
                    finished_at=None,
                    updated_at=utcnow(),
                )
                .execution_options(synchronize_session=False)
            )
        return await self.require(task_id)

    async def children(self, task_id: int) -> list[Task]:
        async with self.db.session() as session:
            rows = await session.scalars(
                select(Task).where(Task.parent_id == task_id).order_by(Task.id)
            )
            return list(rows)

    @staticmethod
    async def _descendants(session: Any, task_id: int) -> list[int]:
        found: list[int] = []
        frontier = [task_id]
        while frontier:
            rows = await session.scalars(select(Task.id).where(Task.parent_id.in_(frontier)))
            frontier = list(rows)
            found.extend(frontier)
        return found

    async def unfinished(self, statuses: Sequence[TaskStatus] = _CLAIMABLE) -> list[int]:
        """Tasks a restarted embedded queue must pick up again, oldest first."""
        parent = aliased(Task)
        async with self.db.session() as session:
            rows = await session.scalars(
                select(Task.id)
                .outerjoin(parent, Task.parent_id == parent.id)
                .where(
                    Task.status.in_(statuses),
                    # Children run inside their parent; one resumed on its own (after an
                    # approval) runs alone while the parent waits for it.
                    or_(Task.parent_id.is_(None), parent.status == TaskStatus.AWAITING_APPROVAL),
                )
                .order_by(Task.id)
            )
            return list(rows)

    async def stale_queued(self, older_than: timedelta) -> list[int]:
        """Queued top-level tasks nobody picked up for a while (a message lost before sending)."""
        async with self.db.session() as session:
            rows = await session.scalars(
                select(Task.id)
                .where(
                    Task.status == TaskStatus.QUEUED,
                    Task.parent_id.is_(None),
                    Task.updated_at < utcnow() - older_than,
                )
                .order_by(Task.id)
            )
            return list(rows)
