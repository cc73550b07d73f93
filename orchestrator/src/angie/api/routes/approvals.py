"""``/api/approvals``: the side-effecting calls waiting for your yes or no, and your answers."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query
from pydantic import Field
from sqlalchemy import select

from angie.agents.approvals import ApprovalError
from angie.api.deps import AngieDep, CurrentUser, SessionDep, release
from angie.api.errors import Conflict, NotFound
from angie.api.routes.tasks import ApprovalOut
from angie.api.schemas import Body, ListParams, Page, order_by, paginate
from angie.daemon import Angie
from angie.db.models import Approval, ApprovalStatus, User

__all__ = ("DecisionIn", "router")

router = APIRouter(prefix="/approvals", tags=["approvals"])
Id = Annotated[int, Path(ge=1, le=2**31 - 1)]


class DecisionIn(Body):
    reason: str | None = Field(default=None, max_length=1000, description="Why, if you like.")


@router.get("", operation_id="list_approvals")
async def list_approvals(
    user: CurrentUser,
    session: SessionDep,
    params: ListParams,
    status: Annotated[
        list[ApprovalStatus] | None,
        Query(description="Any of these statuses (repeatable); pending when not given."),
    ] = None,
) -> Page[ApprovalOut]:
    """Your approvals, newest first; the pending ones unless you ask for other statuses."""
    wanted = list(dict.fromkeys(status or [ApprovalStatus.PENDING]))
    stmt = order_by(
        select(Approval).where(Approval.user_id == user.id, Approval.status.in_(wanted)),
        params.sort,
        {"created_at": Approval.created_at, "expires_at": Approval.expires_at, "id": Approval.id},
        "-created_at",
        Approval.id,
    )
    rows, total = await paginate(session, stmt, params)
    return Page(
        items=[ApprovalOut.model_validate(r) for r in rows],
        total=total,
        limit=params.limit,
        offset=params.offset,
    )


@router.get("/{approval_id}", operation_id="get_approval", responses={404: {}})
async def get_approval(approval_id: Id, user: CurrentUser, session: SessionDep) -> ApprovalOut:
    """One of your approvals."""
    row = await session.scalar(
        select(Approval).where(Approval.id == approval_id, Approval.user_id == user.id)
    )
    if row is None:
        raise NotFound(f"there is no approval {approval_id}")
    return ApprovalOut.model_validate(row)


async def _decide(
    angie: Angie, approval_id: int, user: User, *, approve: bool, body: DecisionIn | None
) -> ApprovalOut:
    try:
        await angie.approvals.get(approval_id, user.id)
    except ApprovalError as err:
        raise NotFound(str(err)) from None
    try:
        # Only the owner, only once, only in time: the executor enforces it and, once nothing
        # of the task is pending, puts the task back on the queue.
        await angie.executor.decide(
            approval_id, approve=approve, user_id=user.id, reason=body.reason if body else None
        )
    except ApprovalError as err:
        raise Conflict(str(err)) from None
    return ApprovalOut.model_validate(await angie.approvals.get(approval_id, user.id))


@router.post("/{approval_id}/approve", operation_id="approve_call", responses={404: {}, 409: {}})
async def approve(
    approval_id: Id,
    user: CurrentUser,
    session: SessionDep,
    angie: AngieDep,
    body: DecisionIn | None = None,
) -> ApprovalOut:
    """Let the call go ahead with exactly the arguments shown; the task then runs on."""
    await release(session)
    return await _decide(angie, approval_id, user, approve=True, body=body)


@router.post("/{approval_id}/deny", operation_id="deny_call", responses={404: {}, 409: {}})
async def deny(
    approval_id: Id,
    user: CurrentUser,
    session: SessionDep,
    angie: AngieDep,
    body: DecisionIn | None = None,
) -> ApprovalOut:
    """Refuse the call; the task goes on without it and tells you so."""
    await release(session)
    return await _decide(angie, approval_id, user, approve=False, body=body)
