"""``/api/status``: what Angie is doing for you now, what just happened and what comes next."""

from __future__ import annotations

from datetime import datetime, timedelta

from fastapi import APIRouter
from pydantic import Field
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from angie.api.deps import CurrentUser, ServicesDep, SessionDep
from angie.api.routes.approval_rules import ApprovalRuleOut
from angie.api.routes.events import CronTickOut, EventOut, event_out, event_rows, upcoming_ticks
from angie.api.routes.mcp import Configured, Health, MissingSettings
from angie.api.routes.tasks import TaskOut, task_rows
from angie.api.schemas import Out
from angie.channel_states import Connection
from angie.db.base import utcnow
from angie.db.models import (
    ApprovalRule,
    ChannelDelivery,
    ChannelIdentity,
    ChannelSetting,
    DeliveryState,
    Event,
    Lease,
    McpServer,
    ServerHealth,
    Task,
    TaskStatus,
)
from angie.scheduler.leader import LeaderState
from angie.scheduler.lease import SCHEDULER_LEASE
from angie.services import Services
from angie.tasks.spending import spent_on

__all__ = ("ChannelStatusOut", "SchedulerOut", "ServerOut", "SpendingOut", "StatusOut", "router")

router = APIRouter(prefix="/status", tags=["status"])
# Enough for a glance; the task list has the rest.
_TASKS_EACH = 50
_RECENT_EVENTS = 10
_NEXT_CRONS = 5


class ServerOut(Out):
    """One MCP server this Angie can start: a built-in whose package is installed here, or an
    entry of the mcpServers file."""

    name: str
    enabled: bool
    health: Health
    configured: Configured
    missing_settings: MissingSettings
    last_error: str | None
    idle: bool = Field(
        default=False,
        description="Stopped while nobody used it; the next call starts it again.",
    )


class SpendingOut(Out):
    """Today's (UTC) use of the language model by your tasks, and your daily budget."""

    input_tokens: int
    output_tokens: int
    cost_usd: float
    budget_usd: float | None


class SchedulerOut(Out):
    """Which Angie process fires the crons: the holder of the scheduler's lease (host:pid:id),
    when it last renewed it, and whether the process answering is that leader, a standby or
    runs no scheduler (``stopped``, e.g. ``angie api``)."""

    holder: str | None
    renewed_at: datetime | None
    this_process: LeaderState


class ChannelStatusOut(Out):
    """One of your chat channels: connected or why not, when you last wrote there, and what
    waits to be delivered or could not be."""

    channel: str
    enabled: bool
    connection: Connection
    connection_detail: str | None
    last_message_at: datetime | None
    waiting: int = Field(description="Messages waiting to be sent (the platform was away).")
    failed_today: int = Field(description="Messages the platform refused in the last day.")
    last_error: str | None


class StatusOut(Out):
    running: list[TaskOut]
    queued: list[TaskOut]
    awaiting_approval: list[TaskOut]
    recent_events: list[EventOut]
    next_crons: list[CronTickOut]
    servers: list[ServerOut]
    today: SpendingOut
    scheduler: SchedulerOut
    demo: bool = Field(
        description="A demo home (`angie serve --demo`): the devices and accounts are simulated."
    )
    # Your own approval rules (see /api/me/approval-rules).
    approval_rules: list[ApprovalRuleOut] = []
    # Your chat channels (only those you set up).
    channels: list[ChannelStatusOut] = []


async def _servers(session: AsyncSession, services: Services) -> list[ServerOut]:
    """The servers this Angie can start (seeded rows of servers not installed here are left
    out): live health and configuration from the supervisor where this process runs one, the
    stored health elsewhere."""
    installed = services.servers.specs
    live = {state.name: state for state in services.servers.states()}
    known = await session.scalars(select(McpServer).where(McpServer.name.in_(list(installed))))
    rows = {row.name: row for row in known}
    servers = []
    for name in sorted(installed):
        row, state = rows.get(name), live.get(name)
        stored_health = row.health if row is not None else ServerHealth.UNKNOWN
        stored_error = row.last_error if row is not None else None
        servers.append(
            ServerOut(
                name=name,
                # The household's choice (it applies at restart) once it made one.
                enabled=row.enabled if row is not None else installed[name].enabled,
                health=state.health if state else stored_health,
                configured=state.configured if state else None,
                missing_settings=list(state.missing_settings) if state else [],
                last_error=state.last_error if state else stored_error,
                idle=state.idle if state else False,
            )
        )
    return servers


@router.get("", operation_id="get_status")
async def get_status(user: CurrentUser, session: SessionDep, services: ServicesDep) -> StatusOut:
    """Your running, queued and waiting tasks, recent events, next crons, the MCP servers,
    what your tasks used of the language model today and which process fires the crons."""
    waiting: dict[TaskStatus, list[TaskOut]] = {}
    for wanted in (TaskStatus.RUNNING, TaskStatus.QUEUED, TaskStatus.AWAITING_APPROVAL):
        rows = await session.execute(
            task_rows(Task.user_id == user.id, Task.status == wanted, Task.parent_id.is_(None))
            .order_by(Task.created_at.desc(), Task.id.desc())
            .limit(_TASKS_EACH)
        )
        waiting[wanted] = [TaskOut.model_validate(row) for row in rows]
    events = await session.execute(
        event_rows(Event.user_id == user.id)
        .order_by(Event.created_at.desc(), Event.id.desc())
        .limit(_RECENT_EVENTS)
    )
    crons, _ = await upcoming_ticks(session, user.id, after=utcnow(), until=None, limit=_NEXT_CRONS)
    servers = await _servers(session, services)
    lease = await session.get(Lease, SCHEDULER_LEASE)
    spent = await spent_on(session, user.id, utcnow())
    budget = services.settings.daily_budget_usd
    return StatusOut(
        running=waiting[TaskStatus.RUNNING],
        queued=waiting[TaskStatus.QUEUED],
        awaiting_approval=waiting[TaskStatus.AWAITING_APPROVAL],
        recent_events=[event_out(event, task_id) for event, task_id in events],
        next_crons=crons,
        servers=servers,
        today=SpendingOut(
            input_tokens=spent.input_tokens,
            output_tokens=spent.output_tokens,
            cost_usd=float(spent.cost_usd),
            budget_usd=float(budget) if budget is not None else None,
        ),
        scheduler=SchedulerOut(
            holder=lease.holder if lease else None,
            renewed_at=lease.renewed_at if lease else None,
            this_process=services.scheduler_leader.state,
        ),
        demo=services.demo,
        approval_rules=await _approval_rules(session, user.id),
        channels=await _channels(session, services, user.id),
    )


async def _channels(
    session: AsyncSession, services: Services, user_id: int
) -> list[ChannelStatusOut]:
    settings = list(
        await session.scalars(select(ChannelSetting).where(ChannelSetting.user_id == user_id))
    )
    if not settings:
        return []
    seen = dict(
        (
            await session.execute(
                select(ChannelIdentity.channel, func.max(ChannelIdentity.last_seen_at))
                .where(ChannelIdentity.user_id == user_id)
                .group_by(ChannelIdentity.channel)
            )
        ).all()
    )
    since = utcnow() - timedelta(days=1)
    counts = (
        await session.execute(
            select(ChannelDelivery.channel, ChannelDelivery.state, func.count())
            .where(
                ChannelDelivery.user_id == user_id,
                ChannelDelivery.state.in_([DeliveryState.PENDING, DeliveryState.FAILED]),
                ChannelDelivery.created_at >= since,
            )
            .group_by(ChannelDelivery.channel, ChannelDelivery.state)
        )
    ).all()
    out = []
    for row in sorted(settings, key=lambda r: r.channel.value):
        now = services.channels.connection(user_id, row.channel.value, enabled=row.enabled)
        tally = {state: n for kind, state, n in counts if kind == row.channel}
        last_error = await session.scalar(
            select(ChannelDelivery.error)
            .where(
                ChannelDelivery.user_id == user_id,
                ChannelDelivery.channel == row.channel,
                ChannelDelivery.error.is_not(None),
                ChannelDelivery.created_at >= since,
            )
            .order_by(ChannelDelivery.id.desc())
            .limit(1)
        )
        out.append(
            ChannelStatusOut(
                channel=row.channel.value,
                enabled=row.enabled,
                connection=now.state,
                connection_detail=now.detail,
                last_message_at=seen.get(row.channel),
                waiting=tally.get(DeliveryState.PENDING, 0),
                failed_today=tally.get(DeliveryState.FAILED, 0),
                last_error=last_error,
            )
        )
    return out


async def _approval_rules(session: AsyncSession, user_id: int) -> list[ApprovalRuleOut]:
    rows = await session.scalars(
        select(ApprovalRule).where(ApprovalRule.user_id == user_id).order_by(ApprovalRule.id)
    )
    return [ApprovalRuleOut.model_validate(row) for row in rows]
