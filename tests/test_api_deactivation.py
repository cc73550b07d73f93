"""Deactivating a person stops everything that acts for them: their webhooks answer as unknown,
their crons pause, their pending approvals expire; reactivating turns none of it back on."""

from __future__ import annotations

from datetime import timedelta

from api_support import Account, ApiHarness, events_and_tasks, make_schedule
from sqlalchemy import select
from test_api_webhooks import deliver, make_hook, signed

from angie.db.base import utcnow
from angie.db.models import (
    Approval,
    ApprovalStatus,
    ChannelKind,
    Message,
    Schedule,
    Task,
    TaskKind,
    TaskStatus,
)
from angie.scheduler.jobs import CronFire
from angie.services import on_cron


async def set_active(api: ApiHarness, admin: Account, who: Account, active: bool) -> None:
    changed = await api.client.patch(
        f"/api/users/{who.id}", json={"is_active": active}, headers=admin.headers
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["is_active"] is active


async def test_a_deactivated_persons_webhook_answers_as_unknown(api: ApiHarness) -> None:
    admin = await api.signup("admin")
    lee = await api.signup("lee")
    hook = await make_hook(api, lee)
    body = b"{}"

    await set_active(api, admin, lee, False)
    refused = await deliver(api, hook, body, signed(hook["secret"], body))
    unknown = await api.client.post(
        "/api/hooks/no-such-hook", content=body, headers=signed(hook["secret"], body)
    )

    assert (refused.status_code, unknown.status_code) == (404, 404)
    assert refused.json()["error"] == unknown.json()["error"]
    assert await events_and_tasks(api) == (0, 0)


async def test_a_deactivated_persons_crons_pause_and_stay_paused_on_reactivation(
    api: ApiHarness,
) -> None:
    admin = await api.signup("admin")
    lee = await api.signup("lee")
    doors = await make_schedule(api, lee)
    await make_schedule(api, lee, name="plants", enabled=False)
    mine = await make_schedule(api, admin, name="admin's")

    await set_active(api, admin, lee, False)
    async with api.angie.services.database.session() as session:
        paused = dict((await session.execute(select(Schedule.name, Schedule.enabled))).all())
    await set_active(api, admin, lee, True)
    async with api.angie.services.database.session() as session:
        after = await session.get(Schedule, doors["id"])

    assert paused == {"doors": False, "plants": False, "admin's": True}
    assert mine["enabled"] is True
    assert after is not None
    assert (after.enabled, after.next_run_at) == (False, None)


async def test_a_deactivated_persons_pending_approvals_expire(api: ApiHarness) -> None:
    admin = await api.signup("admin")
    lee = await api.signup("lee")
    async with api.angie.services.database.session() as session:
        task = Task(
            kind=TaskKind.CHAT,
            user_id=lee.id,
            status=TaskStatus.AWAITING_APPROVAL,
            input={"text": "hue: lamp on"},
            channel=ChannelKind.WEB,
            thread="kitchen",
        )
        session.add(task)
        await session.flush()
        session.add(
            Approval(
                task_id=task.id,
                user_id=lee.id,
                tool_call_id="call-1",
                server="hue",
                tool="set_light",
                args_hash="0" * 64,
                arguments={"name": "Floor lamp", "on": True},
                expires_at=utcnow() + timedelta(hours=1),
            )
        )
        task_id = task.id

    await set_active(api, admin, lee, False)

    async with api.angie.services.database.session() as session:
        approval = (await session.scalars(select(Approval))).one()
        settled = await session.get(Task, task_id)
        told = list(
            await session.scalars(select(Message.content).where(Message.task_id == task_id))
        )
    assert approval.status is ApprovalStatus.EXPIRED
    assert settled is not None
    assert settled.status is TaskStatus.FAILED
    assert "the account was deactivated before hue.set_light was approved" in (settled.error or "")
    assert len(told) == 1


async def test_a_tick_already_due_for_a_deactivated_person_acts_for_nobody(
    api: ApiHarness,
) -> None:
    # A daemon in another process learns of the pause at its next reconcile; a tick it fires
    # before then must not run as the deactivated person.
    admin = await api.signup("admin")
    lee = await api.signup("lee")
    doors = await make_schedule(api, lee)
    await set_active(api, admin, lee, False)
    at = utcnow()

    services = api.angie.services
    await on_cron(services.database, services.events, CronFire(doors["id"], lee.id, at, at, False))

    assert await events_and_tasks(api) == (0, 0)
