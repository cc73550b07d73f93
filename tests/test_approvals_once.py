"""An approval is decided once: an answer and the expiry sweep racing for it (on SQLite and
MariaDB) leave the one that won, and each says truthfully whether it did."""

from __future__ import annotations

import asyncio

from pydantic_ai.messages import ToolCallPart

from angie.agents.approvals import ApprovalError, ApprovalService
from angie.db.engine import Database
from angie.db.models import Approval, ApprovalStatus, Task, TaskKind, TaskStatus, User

ROUNDS = 12


async def test_an_answer_and_the_expiry_sweep_never_both_win(db: Database) -> None:
    service = ApprovalService(db, ttl=60, servers=lambda: ["home"])
    async with db.session() as session:
        user = User(email="sam@home.test", display_name="sam", password_hash="x")
        session.add(user)
        await session.flush()
        task = Task(kind=TaskKind.AGENT, status=TaskStatus.RUNNING, input={}, user_id=user.id)
        session.add(task)
        await session.flush()
    outcomes = []
    for n in range(ROUNDS):
        call = ToolCallPart("home_ring_bell", {"times": n}, tool_call_id=f"call-{n}")
        [approval] = await service.request(task, [call])

        async def answer(approval_id: int = approval.id) -> bool:
            try:
                await service.decide(approval_id, approve=True, user_id=user.id)
            except ApprovalError:
                return False
            return True

        answered, expired = await asyncio.gather(answer(), service.expire_due(user_id=user.id))
        async with db.session() as session:
            stored = await session.get(Approval, approval.id)
        assert stored is not None
        swept = [a.id for a in expired] == [approval.id]
        assert answered != swept, (n, answered, swept)
        wanted = ApprovalStatus.APPROVED if answered else ApprovalStatus.EXPIRED
        assert stored.status is wanted
        outcomes.append(answered)
    assert len(outcomes) == ROUNDS
