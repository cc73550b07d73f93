"""Personal MCP servers run once per person's account: a run reaches the instances of the
accounts its person owns or was given a share of, and no other, whatever the model asks."""

from __future__ import annotations

import asyncio
import os
import sys
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from pydantic_ai import Agent
from pydantic_ai.messages import (
    ModelMessage,
    ModelResponse,
    TextPart,
    ToolCallPart,
    ToolReturnPart,
)
from pydantic_ai.models.function import AgentInfo, FunctionModel

from angie.agents.journal import EffectJournal
from angie.agents.policy import ApprovalPolicy, ServerPolicy
from angie.agents.toolbox import Toolbox
from angie.db import migrate
from angie.db.engine import Database
from angie.db.models import ApprovalMode, TaskKind, User
from angie.mcp.accounts import account_spec, create_account, share_account
from angie.mcp.registry import ServerSpec, builtin_specs
from angie.mcp.supervisor import Supervisor, child_environ
from angie.tasks.service import TaskService
from angie_mcp_core.manifest import ServerManifest

MAILBOX = Path(__file__).resolve().parent / "fakes" / "mailbox_server.py"

pytestmark = pytest.mark.slow


def personal(name: str) -> ServerSpec:
    manifest = ServerManifest(
        name=name,
        scope="personal",
        content_trust="trusted",
        description=f"Reads the person's {name}.",
        prompt=f"agents/{name}.md",
    )
    return ServerSpec(
        name=name,
        transport="stdio",
        command=(sys.executable, str(MAILBOX)),
        env={"MAILBOX_PREFIX": f"ANGIE_{name.upper()}_"},
        builtin=True,
        manifest=manifest,
    )


@dataclass
class Household:
    db: Database
    toolbox: Toolbox
    root: Path
    ann: int
    bob: int

    async def account(self, user_id: int, server: str, label: str, holds: str) -> int:
        """Connect an account, as ``angie mcp connect`` leaves it: a token file in its dir."""
        async with self.db.session() as session:
            row = await create_account(
                session, user_id=user_id, server=server, label=label, root=self.root
            )
            (Path(row.state_dir) / "tokens.enc").write_text(holds, encoding="utf-8")
            return row.id

    async def share(self, owner: int, account_id: int, with_user: int) -> None:
        async with self.db.session() as session:
            await share_account(session, owner, account_id, with_user)

    async def run(
        self, user_id: int, model: FunctionModel, server: str, *, journal: bool = False
    ) -> list[ModelMessage]:
        """One agent run of ``user_id`` with ``server``'s tools (every call allowed)."""
        task, _ = await TaskService(self.db).submit(TaskKind.CHAT, user_id=user_id, input={})
        policy = ApprovalPolicy([ServerPolicy(server, mode=ApprovalMode.ALLOW)])
        servers = [server]
        toolsets = self.toolbox.toolsets(
            servers,
            [],
            policy=policy,
            task_id=task.id,
            untrusted=False,
            journal=EffectJournal(self.db, task.id) if journal else None,
            accounts=await self.toolbox.accounts_for(user_id, servers),
        )
        result = await Agent(model, toolsets=toolsets).run("read my mail")
        return result.all_messages()


@pytest.fixture
async def home(tmp_path: Path) -> AsyncIterator[Household]:
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'angie.db'}")
    await migrate.upgrade(database.engine)
    async with database.session() as session:
        ann = User(email="ann@example.org", display_name="Ann")
        bob = User(email="bob@example.org", display_name="Bob")
        session.add_all([ann, bob])
        await session.flush()
        ids = ann.id, bob.id
    specs = {"mail": personal("mail"), "cal": personal("cal")}
    environ = {"PATH": os.environ["PATH"], "HOME": str(tmp_path)}
    toolbox = Toolbox(database, servers=lambda: specs, supervisor=None, timeout=10, environ=environ)
    try:
        yield Household(database, toolbox, tmp_path / "mcp", *ids)
    finally:
        await toolbox.aclose()
        await database.dispose()


def script(*calls: ToolCallPart) -> tuple[FunctionModel, list[list[str]]]:
    """A model that makes ``calls`` one per turn, then ends; it records the tools it was offered."""
    offered: list[list[str]] = []

    def respond(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
        # The kit adds a status tool to every server; the inboxes are what tell accounts apart.
        offered.append(sorted(t.name for t in info.function_tools if t.name.endswith("inbox")))
        turn = sum(isinstance(m, ModelResponse) for m in messages)
        if turn < len(calls):
            return ModelResponse(parts=[calls[turn]])
        return ModelResponse(parts=[TextPart("done")])

    return FunctionModel(respond), offered


def returned(messages: list[ModelMessage]) -> list[str]:
    return [
        str(part.content)
        for message in messages
        for part in message.parts
        if isinstance(part, ToolReturnPart)
    ]


def everything_said(messages: list[ModelMessage]) -> str:
    return "\n".join(str(part) for message in messages for part in message.parts)


async def test_anns_run_reads_her_mail_and_cannot_reach_bobs(home: Household) -> None:
    await home.account(home.ann, "mail", "ann@example.org", "Ann's inbox: dentist on Monday")
    bobs = await home.account(home.bob, "mail", "bob@example.org", "Bob's inbox: the surprise")
    model, offered = script(
        ToolCallPart("mail_inbox", {}),
        # What a prompt-injected or confused model would try: Bob's account by its label.
        ToolCallPart("mail_bob_example_org_inbox", {}),
        ToolCallPart("mail_inbox", {"account": "bob@example.org"}),
    )

    messages = await home.run(home.ann, model, "mail")

    assert offered[0] == ["mail_inbox"]
    assert returned(messages)[0] == "Ann's inbox: dentist on Monday"
    assert "surprise" not in everything_said(messages)
    assert bobs not in home.toolbox.accounts.running  # Bob's process never served Ann's run


async def test_a_shared_family_calendar_is_read_by_both(home: Household) -> None:
    family = await home.account(home.bob, "cal", "family", "Saturday: grandma's birthday")
    await home.share(home.bob, family, home.ann)

    for person in (home.ann, home.bob):
        model, offered = script(ToolCallPart("cal_inbox", {}))
        messages = await home.run(person, model, "cal")
        assert offered[0] == ["cal_inbox"]
        assert returned(messages) == ["Saturday: grandma's birthday"]


async def test_several_accounts_of_one_server_are_named_by_label(home: Household) -> None:
    await home.account(home.ann, "mail", "home", "Ann's home inbox")
    await home.account(home.ann, "mail", "work", "Ann's work inbox")
    model, offered = script(
        ToolCallPart("mail_work_inbox", {}), ToolCallPart("mail_home_inbox", {})
    )

    messages = await home.run(home.ann, model, "mail")

    assert offered[0] == ["mail_home_inbox", "mail_work_inbox"]
    assert returned(messages) == ["Ann's work inbox", "Ann's home inbox"]


async def test_a_household_run_gets_no_personal_account(home: Household) -> None:
    await home.account(home.ann, "mail", "ann@example.org", "Ann's inbox")
    task_tools = await home.toolbox.accounts_for(None, ["mail"])

    assert task_tools.servers == {"mail": []}


async def test_a_personal_server_nobody_connected_stays_household_wide(home: Household) -> None:
    await home.account(home.ann, "cal", "family", "Saturday: grandma's birthday")

    found = await home.toolbox.accounts_for(home.bob, ["mail", "cal"])

    # mail keeps its household instance (its environment's credentials), as before accounts.
    assert "mail" not in found.servers
    assert found.servers == {"cal": []}


async def test_the_same_call_on_two_accounts_is_made_on_each(home: Household) -> None:
    home_id = await home.account(home.ann, "mail", "home", "home")
    work_id = await home.account(home.ann, "mail", "work", "work")
    model, _ = script(
        ToolCallPart("mail_home_mark_all_read", {"folder": "news"}),
        ToolCallPart("mail_work_mark_all_read", {"folder": "news"}),
    )

    messages = await home.run(home.ann, model, "mail", journal=True)

    # The task's journal keys each call by the account's own tool name: not one call twice.
    assert returned(messages) == ["marked news read in home", "marked news read in work"]
    for account_id in (home_id, work_id):
        marks = home.root / "accounts" / "mail" / str(account_id) / "marked"
        assert marks.read_text(encoding="utf-8") == "news\n"


def test_a_persons_instance_never_reads_the_households_typed_credentials(tmp_path: Path) -> None:
    [yahoo] = builtin_specs(["yahoo"]).values()
    household = {
        "PATH": os.environ["PATH"],
        "ANGIE_YAHOO_ADDRESS": "household@yahoo.test",
        "ANGIE_YAHOO_APP_PASSWORD": "the household's app password",
        "ANGIE_YAHOO_IMAP_HOST": "imap.example.test",
    }
    env = child_environ(account_spec(yahoo, tmp_path), household)
    # Blank is unset to the server's settings: without her own sign-in it is not configured.
    assert env["ANGIE_YAHOO_ADDRESS"] == ""
    assert env["ANGIE_YAHOO_APP_PASSWORD"] == ""
    assert env["ANGIE_YAHOO_IMAP_HOST"] == "imap.example.test"  # where, not whose: shared
    assert env["ANGIE_YAHOO_TOKEN_FILE"] == str(tmp_path / "tokens.enc")
    # A server signed in by OAuth keeps the household's app registration.
    [gmail] = builtin_specs(["gmail"]).values()
    env = child_environ(account_spec(gmail, tmp_path), {"ANGIE_GMAIL_CLIENT_ID": "the app"})
    assert env["ANGIE_GMAIL_CLIENT_ID"] == "the app"


async def test_accounts_are_forked_from_the_households_launcher_and_rest_as_its_servers_do(
    home: Household, tmp_path: Path
) -> None:
    household = Supervisor(
        [personal("cal")],
        environ={"PATH": os.environ["PATH"], "HOME": str(tmp_path)},
        state_dir=tmp_path / "household",
        launcher="fork",
    )
    await household.start()
    try:
        launcher = household.launcher_pid
        assert launcher is not None
        home.toolbox.accounts.fork_from(household, idle_after=2.0)
        anns = await home.account(home.ann, "mail", "ann@example.org", "Ann's inbox: dentist")
        messages = await home.run(home.ann, script(ToolCallPart("mail_inbox", {}))[0], "mail")
        assert returned(messages) == ["Ann's inbox: dentist"]

        (instance,) = home.toolbox.accounts.supervisor_of(anns).states()
        assert instance.pid is not None
        assert parent_of(instance.pid) == launcher  # a fork, not a Python of its own
        await wait_until(lambda: home.toolbox.accounts.supervisor_of(anns).states()[0].idle)
        # Rested, it is forked again for the next run, still with Ann's own token file.
        messages = await home.run(home.ann, script(ToolCallPart("mail_inbox", {}))[0], "mail")
        assert returned(messages) == ["Ann's inbox: dentist"]
    finally:
        await home.toolbox.accounts.aclose()
        await household.stop()


def parent_of(pid: int) -> int:
    return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])


async def wait_until(condition: Callable[[], bool], seconds: float = 20.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.05)
