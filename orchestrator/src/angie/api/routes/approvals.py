"""``/api/approvals``: the side-effecting calls waiting for your yes or no, and your answers."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query
from pydantic import Field
from sqlalchemy import select

from angie.api.deps import CurrentUser, ServicesDep, SessionDep
from angie.api.routes.tasks import ApprovalOut
from angie.api.schemas import Body, ListParams, Page, order_by, paginate
from angie.db.models import Approval, ApprovalStatus, User
from angie.errors import NotFound
from angie.services import Services

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
    services: Services, approval_id: int, user: User, *, approve: bool, body: DecisionIn | None
) -> ApprovalOut:
    # Only the owner, only once, only in time: the executor enforces it (someone else's or a
    # missing approval is not found, a decided or expired one a conflict) and, once nothing of
    # the task is pending, puts the task back on the queue.
    await services.executor.decide(
        approval_id, approve=approve, user_id=user.id, reason=body.reason if body else None
    )
    return ApprovalOut.model_validate(await services.approvals.get(approval_id, user.id))


@router.post("/{approval_id}/approve", operation_id="approve_call", responses={404: {}, 409: {}})
async def approve(
    approval_id: Id,
    user: CurrentUser,
    services: ServicesDep,
    body: DecisionIn | None = None,
) -> ApprovalOut:
    """Let the call go ahead with exactly the arguments shown; the task then runs on."""
    return await _decide(services, approval_id, user, approve=True, body=body)


@router.post("/{approval_id}/deny", operation_id="deny_call", responses={404: {}, 409: {}})
async def deny(
    approval_id: Id,
    user: CurrentUser,
    services: ServicesDep,
    body: DecisionIn | None = None,
) -> ApprovalOut:
    """Refuse the call; the task goes on without it and tells you so."""
    return await _decide(services, approval_id, user, approve=False, body=body)
