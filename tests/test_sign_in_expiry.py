"""Angie warns before a sign-in expires: Google expires the refresh tokens of an OAuth app in
"Testing" after 7 days, so she asks each signed-in server's ``status`` (the real gcal server,
against the fake Calendar API) when its sign-in stops working, and tells whoever must renew it
once per expiry: a person about their own account, the admins about a household-wide one."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from angie_mcp_gcal.scopes import READONLY
from angie_mcp_gcal.testing import CLIENT_ID, CLIENT_SECRET, FakeGoogleCalendar
from sqlalchemy import select

from angie.db import migrate
from angie.db.engine import Database
from angie.db.models import Conversation, McpAccount, McpServer, Message, User
from angie.feedback import Feedback
from angie.mcp.accounts import AccountInstances, create_account
from angie.mcp.registry import ServerSpec, builtin_specs
from angie.mcp.sign_ins import SignInWatch
from angie.mcp.supervisor import Supervisor
from angie_mcp_core.tokens import TokenFile

pytestmark = pytest.mark.slow

DAY = timedelta(days=1)


@dataclass
class Home:
    db: Database
    fake: FakeGoogleCalendar
    spec: ServerSpec
    environ: dict[str, str]
    accounts: AccountInstances
    root: Path
    ann: int
    bob: int
    admin: int

    async def connect(self, user_id: int, label: str, *, days_ago: float) -> int:
        """An account signed in ``days_ago`` days ago, as `angie mcp connect gcal` leaves it."""
        async with self.db.session() as session:
            row = await create_account(
                session, user_id=user_id, server="gcal", label=label, root=self.root
            )
            account_id, state_dir = row.id, Path(row.state_dir)
        self.sign_in(state_dir / "tokens.enc", days_ago=days_ago)
        return account_id

    def sign_in(self, token_file: Path, *, days_ago: float) -> None:
        granted = datetime.now(UTC) - timedelta(days=days_ago)
        TokenFile(token_file).save(self.fake.sign_in([READONLY], granted_at=granted))

    def watch(self, supervisor: Supervisor | None = None) -> SignInWatch:
        return SignInWatch(
            self.db,
            Feedback(self.db),
            specs=lambda: {"gcal": self.spec},
            supervisor=supervisor,
            accounts=self.accounts,
        )

    async def said_to(self, user_id: int) -> list[str]:
        async with self.db.session() as session:
            rows = await session.scalars(
                select(Message.content)
                .join(Conversation, Message.conversation_id == Conversation.id)
                .where(Conversation.user_id == user_id)
                .order_by(Message.id)
            )
            return list(rows)


@pytest.fixture
async def home(tmp_path: Path) -> AsyncIterator[Home]:
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'angie.db'}")
    await migrate.upgrade(database.engine)
    async with database.session() as session:
        ann = User(email="ann@example.org", display_name="Ann", timezone="Europe/Paris")
        bob = User(email="bob@example.org", display_name="Bob")
        admin = User(email="root@example.org", display_name="Root", is_admin=True)
        session.add_all([ann, bob, admin])
        await session.flush()
        ids = ann.id, bob.id, admin.id
    environ = {
        "PATH": os.environ["PATH"],
        "HOME": str(tmp_path),
    }
    with FakeGoogleCalendar() as fake:
        environ |= {
            "ANGIE_GCAL_CLIENT_ID": CLIENT_ID,
            "ANGIE_GCAL_CLIENT_SECRET": CLIENT_SECRET,
            "ANGIE_GCAL_API_URL": fake.api_url,
            "ANGIE_GCAL_TOKEN_URI": fake.token_uri,
            "ANGIE_GCAL_AUTH_URI": fake.auth_uri,
        }
        accounts = AccountInstances(environ=environ, start_timeout=60)
        spec = builtin_specs(["gcal"])["gcal"]
        try:
            yield Home(database, fake, spec, environ, accounts, tmp_path / "mcp", *ids)
        finally:
            await accounts.aclose()
            await database.dispose()


async def test_a_person_hears_once_before_their_own_sign_in_expires(home: Home) -> None:
    expiring = await home.connect(home.ann, "me@example.com", days_ago=6)
    fresh = await home.connect(home.bob, "bob", days_ago=0)
    watch = home.watch()

    sent = await watch.check()

    assert [(s.server, s.account_id, s.user_ids) for s in sent] == [("gcal", expiring, (home.ann,))]
    [said] = await home.said_to(home.ann)
    assert "your Google Calendar sign-in (me@example.com) stops working on" in said
    assert "(Europe/Paris)" in said
    assert "`angie mcp connect gcal --label me@example.com`" in said
    assert said.startswith("@Ann ")
    assert await home.said_to(home.bob) == []
    async with home.db.session() as session:
        rows = {r.id: r for r in (await session.scalars(select(McpAccount))).all()}
    for account_id, days_left in ((expiring, 1), (fresh, 7)):
        expires = rows[account_id].sign_in_expires_at
        assert expires is not None
        assert abs(expires - (datetime.now(UTC) + days_left * DAY)) < timedelta(minutes=5)
    # The instances were started for the question alone: no run holds them, none is left.
    assert home.accounts.running == []

    # The next day's check says nothing new about the same expiry.
    assert await watch.check() == []
    assert len(await home.said_to(home.ann)) == 1

    # Reconnected, the sign-in lasts another 7 days: nothing to say, the new expiry is kept.
    async with home.db.session() as session:
        row = await session.get(McpAccount, expiring)
        assert row is not None
        state_dir = Path(row.state_dir)
    home.sign_in(state_dir / "tokens.enc", days_ago=0)
    assert await watch.check() == []
    async with home.db.session() as session:
        row = await session.get(McpAccount, expiring)
        assert row is not None
        assert row.sign_in_expires_at is not None
        assert row.sign_in_expires_at - datetime.now(UTC) > 6 * DAY


async def test_a_revoked_sign_in_is_not_mistaken_for_a_fresh_one(home: Home) -> None:
    account_id = await home.connect(home.ann, "me", days_ago=6.5)
    async with home.db.session() as session:
        row = await session.get(McpAccount, account_id)
        assert row is not None
        stored = TokenFile(Path(row.state_dir) / "tokens.enc").load()
    assert stored is not None
    home.fake.revoke(stored["refresh_token"])
    home.fake.expire_access_tokens()
    # The server cannot reach Google with it, so it says nothing of a sign-in; Angie warns
    # about no date she does not know (a failing call already says "reconnect gcal").
    assert await home.watch().check() == []
    assert await home.said_to(home.ann) == []


async def test_the_admins_hear_about_a_household_wide_sign_in(home: Home, tmp_path: Path) -> None:
    token_file = tmp_path / "household-gcal.enc"
    home.sign_in(token_file, days_ago=6)
    supervisor = Supervisor(
        [home.spec],
        environ={**home.environ, "ANGIE_GCAL_TOKEN_FILE": str(token_file)},
        state_dir=tmp_path / "servers",
        start_timeout=60,
    )
    await supervisor.start()
    try:
        watch = home.watch(supervisor)
        [sent] = await watch.check()
        assert (sent.server, sent.account_id, sent.user_ids) == ("gcal", None, (home.admin,))
        [said] = await home.said_to(home.admin)
        assert "the household's Google Calendar sign-in (me@example.com)" in said
        assert "run `angie-mcp-gcal auth` on Angie's machine" in said
        assert "(UTC)" in said
        assert await home.said_to(home.ann) == []
        assert await home.said_to(home.bob) == []
        assert await watch.check() == []
        async with home.db.session() as session:
            row = (await session.scalars(select(McpServer).where(McpServer.name == "gcal"))).one()
            assert row.expiry_warned_for == sent.expires_at
    finally:
        await supervisor.stop()
