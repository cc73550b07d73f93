"""Approvals: a side-effecting call waits for its person. Each approval is bound to a hash of
the exact arguments, survives restarts in the database, and expires politely."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from pydantic_ai import ToolDenied
from pydantic_ai.messages import ToolCallPart
from sqlalchemy import select, update

from angie.agents.audit import redact
from angie.agents.policy import args_hash
from angie.db.base import utcnow
from angie.db.engine import Database
from angie.db.models import DELEGATIONS, Approval, ApprovalStatus, Plan, PlanStatus, Task
from angie.errors import Conflict, NotFound
from angie.live import LiveBus, LiveType

__all__ = (
    "ApprovalError",
    "ApprovalNotFound",
    "ApprovalService",
    "approval_metadata",
    "deferred_approvals",
    "split_tool_name",
)


class ApprovalError(Conflict):
    """The approval cannot be decided (one sentence for the user)."""


class ApprovalNotFound(ApprovalError, NotFound):
    """No such approval for this person."""


def split_tool_name(name: str, servers: Iterable[str]) -> tuple[str, str]:
    """``home_assistant_call_service`` → (``home_assistant``, ``call_service``)."""
    for server in sorted(servers, key=len, reverse=True):
        if name.startswith(f"{server}_"):
            return server, name[len(server) + 1 :]
    return "", name


class ApprovalService:
    def __init__(
        self,
        database: Database,
        *,
        ttl: float,
        servers: Callable[[], Iterable[str]],
        clock: Callable[[], datetime] = utcnow,
        live: LiveBus | None = None,
    ) -> None:
        self.db = database
        self.ttl = timedelta(seconds=ttl)
        self._servers = servers
        self._clock = clock
        # Approvals are announced on it; a chat run streams its text there too (session.py).
        self.live = live

    async def request(
        self,
        task: Task,
        calls: Sequence[ToolCallPart],
        reasons: Mapping[str, str] | None = None,
    ) -> list[Approval]:
        """Pending approvals for the calls a run stopped at (a call asked twice is one row);
        ``reasons`` says, by tool call id, why Angie asks where her policy alone would not."""
        now = self._clock()
        created: list[Approval] = []
        new: list[Approval] = []
        async with self.db.session() as session:
            existing = {
                a.tool_call_id: a
                for a in await session.scalars(select(Approval).where(Approval.task_id == task.id))
            }
            for call in calls:
                asked = existing.get(call.tool_call_id)
                if asked is not None and asked.status is ApprovalStatus.APPROVED:
                    # Approved, then asked again: the approved call was out when Angie
                    # stopped (journal.py), and the person decides afresh whether to repeat it.
                    asked.status = ApprovalStatus.PENDING
                    asked.decided_at = asked.decided_by_id = asked.reason = None
                    asked.created_at = now
                    asked.expires_at = now + self.ttl
                    asked.asked_because = (reasons or {}).get(call.tool_call_id)
                    new.append(asked)
                if asked is not None:
                    created.append(asked)
                    continue
                args = call.args_as_dict()
                server, tool = split_tool_name(call.tool_name, self._servers())
                # A tool of no server is one of Angie's own (make_plan).
                server = server or DELEGATIONS
                approval = Approval(
                    task_id=task.id,
                    user_id=task.user_id,
                    tool_call_id=call.tool_call_id,
                    server=server,
                    tool=tool,
                    args_hash=args_hash(call.tool_name, args),
                    arguments=redact(args),
                    asked_because=(reasons or {}).get(call.tool_call_id),
                    expires_at=now + self.ttl,
                )
                session.add(approval)
                created.append(approval)
                new.append(approval)
        if self.live is not None:
            for approval in new:
                await self.live.announce(
                    task.id,
                    LiveType.APPROVAL,
                    approval_id=approval.id,
                    server=approval.server,
                    tool=approval.tool,
                    arguments=approval.arguments,
                )
        return created

    async def get(self, approval_id: int, user_id: int | None = None) -> Approval:
        async with self.db.session() as session:
            approval = await session.get(Approval, approval_id)
        if approval is None or (user_id is not None and approval.user_id != user_id):
            raise ApprovalNotFound(f"there is no approval {approval_id}")
        return approval

    async def decide(
        self, approval_id: int, *, approve: bool, user_id: int | None, reason: str | None = None
    ) -> Approval:
        """Approve or deny a pending approval; deciding twice or too late is an error."""
        approval = await self.get(approval_id, user_id)
        if approval.status is not ApprovalStatus.PENDING:
            raise ApprovalError(f"approval {approval_id} is already {approval.status.value}")
        if approval.expires_at <= self._clock():
            raise ApprovalError(f"approval {approval_id} has expired")
        status = ApprovalStatus.APPROVED if approve else ApprovalStatus.DENIED
        async with self.db.session() as session:
            result = await session.execute(
                update(Approval)
                .where(
                    Approval.id == approval_id,
                    Approval.status == ApprovalStatus.PENDING,
                    Approval.expires_at > self._clock(),
                )
                .values(
                    status=status,
                    reason=(reason or None) and reason[:1000],
                    decided_by_id=user_id,
                    decided_at=self._clock(),
                )
                .execution_options(synchronize_session=False)
            )
            if result.rowcount != 1:  # type: ignore[attr-defined]
                raise ApprovalError(f"approval {approval_id} was decided meanwhile")
            if not approve and (approval.server, approval.tool) == (DELEGATIONS, "make_plan"):
                # A plan the person turned down is kept as such: nothing of it ever ran.
                await session.execute(
                    update(Plan)
                    .where(
                        Plan.task_id == approval.task_id,
                        Plan.tool_call_id == approval.tool_call_id,
                    )
                    .values(status=PlanStatus.DENIED)
                    .execution_options(synchronize_session=False)
                )
        if self.live is not None:
            await self.live.announce(
                approval.task_id, LiveType.DECISION, approval_id=approval_id, status=status.value
            )
        return await self.get(approval_id)

    async def for_task(self, task_id: int) -> list[Approval]:
        async with self.db.session() as session:
            rows = await session.scalars(
                select(Approval).where(Approval.task_id == task_id).order_by(Approval.id)
            )
            return list(rows)

    async def pending(self, user_id: int | None = None) -> list[Approval]:
        query = select(Approval).where(Approval.status == ApprovalStatus.PENDING)
        if user_id is not None:
            query = query.where(Approval.user_id == user_id)
        async with self.db.session() as session:
            return list(await session.scalars(query.order_by(Approval.id)))

    async def expire_due(self, *, user_id: int | None = None) -> list[Approval]:
        """Mark the pending approvals whose time ran out, or (``user_id``) all of one person's
        (their account was deactivated); returns them."""
        now = self._clock()
        query = select(Approval).where(Approval.status == ApprovalStatus.PENDING)
        if user_id is None:
            query = query.where(Approval.expires_at <= now)
        else:
            query = query.where(Approval.user_id == user_id)
        expired: list[Approval] = []
        async with self.db.session() as session:
            for approval in list(await session.scalars(query)):
                # Only if still pending: an answer given meanwhile is not overwritten.
                result = await session.execute(
                    update(Approval)
                    .where(Approval.id == approval.id, Approval.status == ApprovalStatus.PENDING)
                    .values(status=ApprovalStatus.EXPIRED, decided_at=now)
                    .execution_options(synchronize_session=False)
                )
                if result.rowcount == 1:  # type: ignore[attr-defined]
                    expired.append(approval)
        for approval in expired:  # detached now: these only say what was written
            approval.status = ApprovalStatus.EXPIRED
            approval.decided_at = now
        return expired


def deferred_approvals(
    approvals: Sequence[Approval], calls: dict[str, ToolCallPart]
) -> dict[str, Any]:
    """The answers to give a resumed run: approved only for exactly the arguments approved."""
    answers: dict[str, Any] = {}
    for approval in approvals:
        call = calls.get(approval.tool_call_id)
        if call is None:
            continue
        if approval.status is ApprovalStatus.APPROVED:
            if args_hash(call.tool_name, call.args_as_dict()) == approval.args_hash:
                answers[approval.tool_call_id] = True
            else:
                answers[approval.tool_call_id] = ToolDenied(
                    "The arguments changed after the user approved them, so the call was not made."
                )
        elif approval.status is ApprovalStatus.DENIED:
            why = f": {approval.reason}" if approval.reason else ""
            answers[approval.tool_call_id] = ToolDenied(f"The user declined this call{why}.")
    return answers


def approval_metadata(approvals: Sequence[Approval]) -> dict[str, dict[str, Any]]:
    """What a resumed run's approved calls carry (``RunContext.tool_call_metadata``): the hash
    of the arguments approved and when the person decided."""
    return {
        approval.tool_call_id: {
            "args_hash": approval.args_hash,
            "decided_at": approval.decided_at.isoformat() if approval.decided_at else None,
        }
        for approval in approvals
        if approval.status is ApprovalStatus.APPROVED
    }
