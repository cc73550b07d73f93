"""The database itself enforces Angie's invariants, on SQLite and on MariaDB."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError, OperationalError, StatementError

from angie.db.engine import Database
from angie.db.models import (
    Agent,
    Approval,
    ChannelIdentity,
    ChannelKind,
    Conversation,
    Event,
    EventType,
    McpServer,
    McpTransport,
    Prompt,
    PromptKind,
    Schedule,
    Task,
    TaskKind,
    TaskStatus,
    Team,
    TeamMember,
    User,
    Workflow,
    WorkflowStep,
)

# A violated CHECK is an IntegrityError on SQLite and an OperationalError (4025) on MariaDB.
REFUSED = (IntegrityError, OperationalError)


async def _user(db: Database, email: str = "sam@example.org") -> int:
    async with db.session() as s:
        user = User(email=email, display_name="Sam")
        s.add(user)
        await s.flush()
        return user.id


async def _agent(db: Database, name: str = "hue") -> int:
    async with db.session() as s:
        agent = Agent(name=name)
        s.add(agent)
        await s.flush()
        return agent.id


async def test_user_email_is_unique(db: Database) -> None:
    await _user(db)
    with pytest.raises(IntegrityError):
        await _user(db)


async def test_channel_identity_belongs_to_one_user(db: Database) -> None:
    first, second = await _user(db, "a@example.org"), await _user(db, "b@example.org")
    async with db.session() as s:
        s.add(ChannelIdentity(user_id=first, channel=ChannelKind.SLACK, external_id="U123"))
    with pytest.raises(IntegrityError):
        async with db.session() as s:
            s.add(ChannelIdentity(user_id=second, channel=ChannelKind.SLACK, external_id="U123"))


async def test_foreign_key_to_a_missing_user_is_refused(db: Database) -> None:
    with pytest.raises(IntegrityError):
        async with db.session() as s:
            s.add(Conversation(user_id=9999, channel=ChannelKind.CLI))


async def test_unknown_enum_value_is_refused_by_the_database(db: Database) -> None:
    with pytest.raises(REFUSED):
        async with db.session() as s:
            await s.execute(
                text(
                    "INSERT INTO tasks (kind, status, input, attempts, max_attempts, created_at,"
                    " updated_at) VALUES ('chat', 'exploded', '{}', 0, 3, :now, :now)"
                ),
                {"now": "2026-01-01 00:00:00"},
            )


async def test_unknown_enum_value_is_refused_before_the_database(db: Database) -> None:
    with pytest.raises(StatementError, match="exploded"):
        async with db.session() as s:
            s.add(Task(kind=TaskKind.CHAT, status="exploded"))


async def test_negative_attempts_are_refused(db: Database) -> None:
    with pytest.raises(REFUSED):
        async with db.session() as s:
            s.add(Task(kind=TaskKind.CHAT, attempts=-1))


async def test_idempotency_key_is_unique(db: Database) -> None:
    async with db.session() as s:
        s.add(Task(kind=TaskKind.TOOL, idempotency_key="send-mail:42"))
    with pytest.raises(IntegrityError):
        async with db.session() as s:
            s.add(Task(kind=TaskKind.TOOL, idempotency_key="send-mail:42"))


async def test_event_delivered_twice_is_one_row(db: Database) -> None:
    async with db.session() as s:
        s.add(Event(type=EventType.WEBHOOK, source="hook:1", dedupe_key="delivery-7"))
    with pytest.raises(IntegrityError):
        async with db.session() as s:
            s.add(Event(type=EventType.WEBHOOK, source="hook:1", dedupe_key="delivery-7"))


async def test_stdio_server_needs_a_command(db: Database) -> None:
    with pytest.raises(REFUSED):
        async with db.session() as s:
            s.add(McpServer(name="hue", transport=McpTransport.STDIO))


async def test_http_server_with_url_is_accepted(db: Database) -> None:
    async with db.session() as s:
        s.add(McpServer(name="hue", transport=McpTransport.HTTP, url="http://127.0.0.1:9/mcp"))
    async with db.session() as s:
        server = (await s.scalars(select(McpServer))).one()
    assert server.enabled
    assert server.tool_policies == {}
    assert server.env_keys == []


async def test_agent_names_are_unique(db: Database) -> None:
    await _agent(db)
    with pytest.raises(IntegrityError):
        await _agent(db)


async def test_shared_prompt_versions_are_unique(db: Database) -> None:
    async with db.session() as s:
        s.add(Prompt(kind=PromptKind.SYSTEM, name="system", version=1, body="one"))
    with pytest.raises(IntegrityError):
        async with db.session() as s:
            s.add(Prompt(kind=PromptKind.SYSTEM, name="system", version=1, body="two"))


async def test_user_prompts_of_two_users_may_share_a_name(db: Database) -> None:
    first, second = await _user(db, "a@example.org"), await _user(db, "b@example.org")
    async with db.session() as s:
        for user_id in (first, second):
            s.add(Prompt(kind=PromptKind.USER, name="profile", user_id=user_id, body="hi"))
    async with db.session() as s:
        keys = sorted((await s.scalars(select(Prompt.owner_key))).all())
    assert keys == sorted([first, second])


async def test_user_prompt_without_a_user_is_refused(db: Database) -> None:
    with pytest.raises(ValueError, match="belongs to a user"):
        async with db.session() as s:
            s.add(Prompt(kind=PromptKind.USER, name="profile", body="hi"))


async def test_prompt_version_must_be_positive(db: Database) -> None:
    with pytest.raises(REFUSED):
        async with db.session() as s:
            s.add(Prompt(kind=PromptKind.ANGIE, name="angie", version=0, body="x"))


async def test_workflow_step_has_exactly_one_runner(db: Database) -> None:
    agent_id = await _agent(db)
    async with db.session() as s:
        team = Team(name="home")
        s.add(team)
        await s.flush()
        team_id = team.id
    workflow = Workflow(name="morning")
    workflow.steps.append(
        WorkflowStep(position=0, name="x", agent_id=agent_id, team_id=team_id, instruction="go")
    )
    with pytest.raises(REFUSED):
        async with db.session() as s:
            s.add(workflow)


async def test_workflow_steps_keep_their_order(db: Database) -> None:
    agent_id = await _agent(db)
    async with db.session() as s:
        workflow = Workflow(name="morning")
        for position in (2, 0, 1):
            workflow.steps.append(
                WorkflowStep(
                    position=position, name=f"s{position}", agent_id=agent_id, instruction="go"
                )
            )
        s.add(workflow)
    async with db.session() as s:
        loaded = (await s.scalars(select(Workflow))).one()
        assert [step.name for step in loaded.steps] == ["s0", "s1", "s2"]


async def test_agent_used_by_a_workflow_cannot_be_deleted(db: Database) -> None:
    agent_id = await _agent(db)
    async with db.session() as s:
        workflow = Workflow(name="morning")
        workflow.steps.append(
            WorkflowStep(position=0, name="a", agent_id=agent_id, instruction="go")
        )
        s.add(workflow)
    with pytest.raises(IntegrityError):
        async with db.session() as s:
            await s.execute(text("DELETE FROM agents WHERE id = :id"), {"id": agent_id})


async def test_schedule_has_at_most_one_target(db: Database) -> None:
    user_id, agent_id = await _user(db), await _agent(db)
    async with db.session() as s:
        workflow = Workflow(name="w", user_id=user_id)
        s.add(workflow)
        await s.flush()
        workflow_id = workflow.id
    with pytest.raises(REFUSED):
        async with db.session() as s:
            s.add(
                Schedule(
                    user_id=user_id,
                    name="digest",
                    cron="0 9 * * 1-5",
                    agent_id=agent_id,
                    workflow_id=workflow_id,
                )
            )


async def test_deleting_a_user_removes_what_is_theirs_and_keeps_the_history(db: Database) -> None:
    user_id = await _user(db)
    async with db.session() as s:
        s.add(ChannelIdentity(user_id=user_id, channel=ChannelKind.EMAIL, external_id="s@x.org"))
        s.add(Conversation(user_id=user_id, channel=ChannelKind.CLI))
        s.add(Task(kind=TaskKind.CHAT, user_id=user_id))
    async with db.session() as s:
        await s.execute(text("DELETE FROM users WHERE id = :id"), {"id": user_id})
    async with db.session() as s:
        assert (await s.scalars(select(ChannelIdentity))).all() == []
        assert (await s.scalars(select(Conversation))).all() == []
        task = (await s.scalars(select(Task))).one()
    assert task.user_id is None
    assert task.status is TaskStatus.QUEUED


async def test_team_members_are_ordered_and_unique(db: Database) -> None:
    hue, spotify = await _agent(db, "hue"), await _agent(db, "spotify")
    async with db.session() as s:
        team = Team(name="home")
        team.members.extend(
            [TeamMember(agent_id=spotify, position=1), TeamMember(agent_id=hue, position=0)]
        )
        s.add(team)
    async with db.session() as s:
        loaded = (await s.scalars(select(Team))).one()
        assert [m.agent.name for m in loaded.members] == ["hue", "spotify"]
    with pytest.raises(IntegrityError):
        async with db.session() as s:
            s.add(TeamMember(team_id=loaded.id, agent_id=hue, position=5))


async def test_pending_approval_cannot_carry_a_decision_time(db: Database) -> None:
    async with db.session() as s:
        task = Task(kind=TaskKind.AGENT)
        s.add(task)
        await s.flush()
        task_id = task.id
    now = datetime.now(UTC)
    with pytest.raises(REFUSED):
        async with db.session() as s:
            s.add(
                Approval(
                    task_id=task_id,
                    tool_call_id="call-1",
                    server="hue",
                    tool="set_light",
                    args_hash="0" * 64,
                    decided_at=now,
                    expires_at=now + timedelta(hours=1),
                )
            )


async def test_datetimes_round_trip_as_aware_utc_with_microseconds(db: Database) -> None:
    moment = datetime(2026, 3, 29, 1, 30, 15, 123456, tzinfo=UTC)
    async with db.session() as s:
        s.add(Task(kind=TaskKind.CHAT, started_at=moment.astimezone(timezone(timedelta(hours=5)))))
    async with db.session() as s:
        task = (await s.scalars(select(Task))).one()
    assert task.started_at == moment
    assert task.started_at is not None
    assert task.started_at.tzinfo is UTC


async def test_naive_datetime_is_refused(db: Database) -> None:
    with pytest.raises(StatementError, match="timezone-aware"):
        async with db.session() as s:
            s.add(Task(kind=TaskKind.CHAT, started_at=datetime(2026, 1, 1)))  # noqa: DTZ001
