"""Sign-ins that expire: Angie asks each signed-in server's ``status`` tool when its sign-in
stops working (Google's 7-day limit for OAuth apps in Testing) and tells whoever must renew it,
once per expiry, before it happens.

A person's own account (``mcp_accounts``) is renewed by that person; a household-wide server's
sign-in by the household's admins. The expiry is kept on the row (the API shows it) with the
expiry last warned about, set by a conditional ``UPDATE`` so that two Angie processes checking
at once still send one message. Angie never reads the token files: the server does, and says
only the account, its scopes and the date.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

import httpx2
from fastmcp import Client
from mcp import MCPError
from pydantic import ValidationError
from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from angie.db.base import utcnow
from angie.db.engine import Database
from angie.db.models import (
    AccountStatus,
    ChannelKind,
    Conversation,
    McpAccount,
    McpServer,
    Message,
    User,
)
from angie.feedback import DeliveryKind, Feedback
from angie.mcp.accounts import AccountInstances, AccountRef, is_personal
from angie.mcp.registry import ServerSpec
from angie.mcp.store import server_row
from angie.mcp.supervisor import Supervisor, SupervisorError
from angie.timezones import UnknownTimezone, zone
from angie_mcp_core.server import ServerStatus, SignIn

__all__ = ("CHECK_EVERY", "WARN_BEFORE", "Expiring", "SignInWatch", "sign_in_of")

log = logging.getLogger(__name__)

#: How long before a sign-in expires the person hears of it (a day's check cannot miss it).
WARN_BEFORE: Final = timedelta(days=2)
#: How often the sign-ins are checked.
CHECK_EVERY: Final = timedelta(hours=24)
_ASK_WITHIN = 30.0  # seconds a server has to start and answer its status


async def sign_in_of(supervisor: Supervisor, name: str) -> SignIn | None:
    """What ``name``'s ``status`` tool says of its sign-in; None when it has none to say (not
    signed in, not configured, a server that does not sign in) or does not answer."""
    try:
        endpoint = await supervisor.ready(name, within=_ASK_WITHIN)
        async with Client(endpoint.url, auth=endpoint.token, timeout=_ASK_WITHIN) as client:
            result = await client.call_tool("status", {}, raise_on_error=False)
        if result.is_error or result.structured_content is None:
            return None
        return ServerStatus.model_validate(result.structured_content).sign_in
    except (SupervisorError, TimeoutError, OSError, MCPError, httpx2.HTTPError) as err:
        log.info("could not ask MCP server %s about its sign-in: %r", name, err)
    except ValidationError:
        log.info("MCP server %s has a status Angie does not understand", name)
    return None


@dataclass(frozen=True, slots=True)
class Expiring:
    """A warning sent: whose sign-in on which server, and when it expires."""

    server: str
    account_id: int | None
    user_ids: tuple[int, ...]
    expires_at: datetime


def _when(expires_at: datetime, timezone: str) -> str:
    try:
        local = expires_at.astimezone(zone(timezone))
    except UnknownTimezone:
        local, timezone = expires_at, "UTC"
    return f"{local:%A %d %B at %H:%M} ({timezone})"


def _text(spec: ServerSpec, sign_in: SignIn, timezone: str, *, account: AccountRef | None) -> str:
    title = sign_in.service
    assert sign_in.expires_at is not None
    when = _when(sign_in.expires_at, timezone)
    if account is not None:
        how = f"`angie mcp connect {spec.name} --label {account.label}`"
        whose = f"your {title} sign-in ({sign_in.account})"
    else:
        how = f"`{sign_in.renew_with}` on Angie's machine"
        whose = f"the household's {title} sign-in ({sign_in.account})"
    return (
        f"Heads-up: {whose} stops working on {when}, and I will not be able to use "
        f"{title} after that. Reconnect it before then: run {how}."
    )


class SignInWatch:
    """Checks every signed-in server now and then, and warns once per expiry."""

    def __init__(
        self,
        database: Database,
        feedback: Feedback,
        *,
        specs: Callable[[], Mapping[str, ServerSpec]],
        supervisor: Supervisor | None,
        accounts: AccountInstances,
        warn_before: timedelta = WARN_BEFORE,
    ) -> None:
        self._database = database
        self._feedback = feedback
        self._specs = specs
        self._supervisor = supervisor
        self._accounts = accounts
        self._warn_before = warn_before

    async def forever(
        self, *, first_after: timedelta = timedelta(0), every: timedelta = CHECK_EVERY
    ) -> None:
        await asyncio.sleep(first_after.total_seconds())
        while True:
            try:
                await self.check()
            except Exception:
                log.exception("checking the MCP servers' sign-ins failed; trying again later")
            await asyncio.sleep(every.total_seconds())

    async def check(self) -> list[Expiring]:
        """Ask each signed-in server, record the expiries, warn those about to pass."""
        sent: list[Expiring] = []
        specs = self._specs()
        personal = [s for s in specs.values() if s.builtin and is_personal(s)]
        async with self._database.session() as session:
            rows = (
                await session.scalars(
                    select(McpAccount).where(
                        McpAccount.server.in_([s.name for s in personal]),
                        McpAccount.status == AccountStatus.CONNECTED,
                    )
                )
            ).all()
            accounts = [AccountRef.of(row) for row in rows]
        for account in accounts:
            spec = specs[account.server]
            found = await self._account_sign_in(spec, account)
            if found is not None and (warning := await self._account(spec, account, found)):
                sent.append(warning)
        if self._supervisor is not None:
            names = self._supervisor.names
            for spec in specs.values():
                if spec.builtin and spec.name in names:
                    found = await sign_in_of(self._supervisor, spec.name)
                    if found is not None and (warning := await self._household(spec, found)):
                        sent.append(warning)
        return sent

    async def _account_sign_in(self, spec: ServerSpec, account: AccountRef) -> SignIn | None:
        try:
            return await self._accounts.ask(
                spec, account, lambda supervisor: sign_in_of(supervisor, spec.name)
            )
        except SupervisorError as err:
            log.info("could not start %s for account %d: %s", spec.name, account.id, err)
            return None

    def _due(self, sign_in: SignIn) -> bool:
        expires = sign_in.expires_at
        return expires is not None and expires - utcnow() <= self._warn_before

    async def _account(
        self, spec: ServerSpec, account: AccountRef, sign_in: SignIn
    ) -> Expiring | None:
        async with self._database.session() as session:
            await session.execute(
                update(McpAccount)
                .where(McpAccount.id == account.id)
                .values(sign_in_expires_at=sign_in.expires_at)
            )
            if not self._due(sign_in) or not await _claim(session, McpAccount, account.id, sign_in):
                return None
            user = await session.get(User, account.user_id)
            if user is None or not user.is_active:
                return None
            text = _text(spec, sign_in, user.timezone, account=account)
        await self._tell([user], text)
        assert sign_in.expires_at is not None
        return Expiring(spec.name, account.id, (user.id,), sign_in.expires_at)

    async def _household(self, spec: ServerSpec, sign_in: SignIn) -> Expiring | None:
        async with self._database.session() as session:
            row = await server_row(session, spec)
            row.sign_in_expires_at = sign_in.expires_at
            await session.flush()
            if not self._due(sign_in) or not await _claim(session, McpServer, row.id, sign_in):
                return None
            admins = list(
                (
                    await session.scalars(
                        select(User).where(User.is_admin.is_(True), User.is_active.is_(True))
                    )
                ).all()
            )
            texts = {u.id: _text(spec, sign_in, u.timezone, account=None) for u in admins}
        for admin in admins:
            await self._tell([admin], texts[admin.id])
        assert sign_in.expires_at is not None
        return Expiring(spec.name, None, tuple(a.id for a in admins), sign_in.expires_at)

    async def _tell(self, users: Iterable[User], text: str) -> None:
        for user in users:
            channel, thread = await _where(self._database, user.id)
            await self._feedback.send(
                DeliveryKind.NOTICE, user_id=user.id, channel=channel, thread=thread, text=text
            )


async def _where(database: Database, user_id: int) -> tuple[ChannelKind, str]:
    """Where the person talked with Angie last (their Slack thread, their Discord channel);
    the web when they never did."""
    async with database.session() as session:
        last = (
            await session.execute(
                select(Conversation.channel, Conversation.thread)
                .join(Message, Message.conversation_id == Conversation.id)
                .where(Conversation.user_id == user_id)
                .order_by(Message.id.desc())
                .limit(1)
            )
        ).one_or_none()
    return (last[0], last[1]) if last is not None else (ChannelKind.WEB, "")


async def _claim(
    session: AsyncSession, table: type[McpAccount] | type[McpServer], row_id: int, sign_in: SignIn
) -> bool:
    """Mark this expiry as warned about; False when it already was (by this process or another)."""
    result = await session.execute(
        update(table)
        .where(
            table.id == row_id,
            or_(
                table.expiry_warned_for.is_(None),
                table.expiry_warned_for != sign_in.expires_at,
            ),
        )
        .values(expiry_warned_for=sign_in.expires_at)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]
