"""Each person's own accounts on personal MCP servers: who may use which, and where each lives.

A personal server (Gmail, a calendar, Spotify, GitHub) is started once per account, with the
server's token file pointed into that account's own directory (``ANGIE_<NAME>_TOKEN_FILE``), so
one person's tokens never sit in a process that serves another. A run gets the instances of the
accounts its person owns or was given a share of, and no other: what the model asks for cannot
reach an instance that was never put in its toolsets.

A personal server with no account at all keeps working as it did, household-wide with the
credentials of its environment; once someone connects an account to it, runs see accounts only.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import shutil
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from angie.db.models import AccountStatus, McpAccount, McpAccountShare, User
from angie.errors import Conflict, Invalid, NotFound
from angie.mcp.health import HealthRecorder
from angie.mcp.registry import ServerSpec
from angie.mcp.supervisor import Supervisor
from angie.mcp.toolsets import ServerToolset

__all__ = (
    "AccountInstances",
    "AccountRef",
    "AccountTools",
    "RunAccounts",
    "account_dir",
    "account_names",
    "account_spec",
    "create_account",
    "delete_account",
    "is_personal",
    "label_slug",
    "owned_account",
    "run_accounts",
    "servers_with_accounts",
    "share_account",
    "visible_accounts",
)

log = logging.getLogger(__name__)

_SLUG = re.compile(r"[^a-z0-9]+")
MAX_LABEL = 120


@dataclass(frozen=True, slots=True)
class AccountRef:
    """What an instance needs of an account row, detached from its database session."""

    id: int
    user_id: int
    server: str
    label: str
    state_dir: Path

    @classmethod
    def of(cls, row: McpAccount) -> AccountRef:
        return cls(row.id, row.user_id, row.server, row.label, Path(row.state_dir))


def is_personal(spec: ServerSpec) -> bool:
    """Whether each person connects their own account (the manifest's ``scope``); servers of
    the mcpServers file declare nothing and stay household-wide."""
    return spec.manifest is not None and spec.manifest.scope == "personal"


def label_slug(label: str) -> str:
    """The label as it goes into tool names when a person has several accounts of one server:
    ``ann@example.org`` -> ``ann_example_org``."""
    return _SLUG.sub("_", label.lower()).strip("_")[:40] or "account"


def account_dir(root: Path, server: str, account_id: int) -> Path:
    """Where one account's server keeps its token file: ``<root>/accounts/<server>/<id>``."""
    return root / "accounts" / server / str(account_id)


def account_spec(spec: ServerSpec, state_dir: Path) -> ServerSpec:
    """``spec`` for one account's instance: the kit's token file (and Gmail's downloads) inside
    the account's directory. These win over the household's environment (:func:`child_environ`
    applies a spec's own env last), so the instance never reads the household's token file,
    nor the household's values of the credentials a person types to sign in."""
    prefix = spec.env_prefix
    env = {
        **spec.env,
        f"{prefix}TOKEN_FILE": str(state_dir / "tokens.enc"),
        f"{prefix}DOWNLOAD_DIR": str(state_dir / "downloads"),
    }
    # What a person types to sign in (Yahoo's app password, a GitHub token) is theirs alone:
    # blank, the household's value is not read, and the instance reads the account's token file.
    typed = spec.manifest.typed_credentials if spec.manifest is not None else ()
    env.update({f"{prefix}{name.upper()}": "" for name in typed})
    return replace(spec, env=env)


async def visible_accounts(
    session: AsyncSession, user_id: int, servers: Iterable[str] | None = None
) -> list[McpAccount]:
    """The connected accounts ``user_id`` may use: their own and those shared with them."""
    shared = select(McpAccountShare.account_id).where(McpAccountShare.user_id == user_id)
    query = select(McpAccount).where(
        or_(McpAccount.user_id == user_id, McpAccount.id.in_(shared)),
        McpAccount.status == AccountStatus.CONNECTED,
    )
    if servers is not None:
        query = query.where(McpAccount.server.in_(list(servers)))
    return list((await session.scalars(query.order_by(McpAccount.id))).all())


async def servers_with_accounts(session: AsyncSession, servers: Iterable[str]) -> set[str]:
    """Which of ``servers`` anyone has connected an account to: those are no longer offered
    household-wide."""
    query = select(McpAccount.server).where(
        McpAccount.server.in_(list(servers)), McpAccount.status == AccountStatus.CONNECTED
    )
    return set((await session.scalars(query.distinct())).all())


async def create_account(
    session: AsyncSession, *, user_id: int, server: str, label: str, root: Path
) -> McpAccount:
    """Record ``user_id``'s new account and give it its own directory (mode 0700)."""
    label = label.strip()
    if not label or len(label) > MAX_LABEL:
        raise Invalid(f"an account label must be 1 to {MAX_LABEL} characters, like the address")
    taken = await session.scalar(
        select(McpAccount.id).where(
            McpAccount.user_id == user_id, McpAccount.server == server, McpAccount.label == label
        )
    )
    if taken is not None:
        raise Conflict(f"you already have a {server} account labelled {label!r}")
    row = McpAccount(user_id=user_id, server=server, label=label, state_dir="")
    session.add(row)
    await session.flush()
    where = account_dir(root, server, row.id)
    where.mkdir(parents=True, exist_ok=True, mode=0o700)
    row.state_dir = str(where)
    return row


async def owned_account(session: AsyncSession, user_id: int, account_id: int) -> McpAccount:
    """``user_id``'s own account ``account_id``; another person's is not found, not forbidden,
    so its existence is not told either."""
    row = await session.get(McpAccount, account_id)
    if row is None or row.user_id != user_id:
        raise NotFound(f"you have no MCP account {account_id}")
    return row


async def delete_account(session: AsyncSession, user_id: int, account_id: int) -> AccountRef:
    """Remove ``user_id``'s account and its directory (its token file with it); returns what
    it was, for the caller to stop its instance."""
    row = await owned_account(session, user_id, account_id)
    ref = AccountRef.of(row)
    await session.delete(row)
    await session.flush()
    shutil.rmtree(ref.state_dir, ignore_errors=True)
    return ref


async def share_account(
    session: AsyncSession, user_id: int, account_id: int, with_user: int
) -> McpAccount:
    """Let ``with_user`` use ``user_id``'s account in their own runs (sharing twice is once)."""
    row = await owned_account(session, user_id, account_id)
    if with_user == user_id:
        raise Invalid("an account is already its owner's; share it with someone else")
    person = await session.get(User, with_user)
    if person is None or not person.is_active:
        raise NotFound(f"there is no active user {with_user} to share with")
    if all(share.user_id != with_user for share in row.shares):
        row.shares.append(McpAccountShare(account_id=row.id, user_id=with_user))
        await session.flush()
    return row


class AccountInstances:
    """One supervised server process per account, started when a run first needs it.

    Each instance has a supervisor of its own (its own port, bearer token and restarts), so
    instances are keyed by account id and never by server name alone.
    """

    def __init__(
        self,
        *,
        environ: Mapping[str, str],
        timeout: float = 30.0,
        start_timeout: float = 30.0,
        health: HealthRecorder | None = None,
    ) -> None:
        self._environ = dict(environ)
        self._timeout = timeout
        self._start_timeout = start_timeout
        self._health = health
        self._running: dict[int, tuple[Supervisor, ServerToolset]] = {}
        self._lock = asyncio.Lock()
        self._lender: Supervisor | None = None
        self._idle_after: float | None = None

    def fork_from(self, supervisor: Supervisor, *, idle_after: float | None = None) -> None:
        """Fork instances from ``supervisor``'s launcher (which imported every built-in server
        once) instead of exec'ing a Python each, and let them rest after ``idle_after``
        seconds without a call as the household's servers do."""
        self._lender, self._idle_after = supervisor, idle_after

    def _supervisor(self, spec: ServerSpec, account: AccountRef) -> Supervisor:
        lender = self._lender
        return Supervisor(
            [account_spec(spec, account.state_dir)],
            environ=self._environ,
            state_dir=account.state_dir,
            start_timeout=self._start_timeout,
            # Without a launcher to borrow, exec: one of its own would be one more process.
            launcher="exec" if lender is None else None,
            lender=lender,
            idle_after=self._idle_after,
        )

    @property
    def running(self) -> list[int]:
        """Ids of the accounts whose instance runs now."""
        return sorted(self._running)

    def supervisor_of(self, account_id: int) -> Supervisor:
        """The supervisor of ``account_id``'s running instance (KeyError when none runs)."""
        return self._running[account_id][0]

    async def toolset(self, spec: ServerSpec, account: AccountRef) -> ServerToolset:
        """The tools of ``account``'s own instance of ``spec``, starting it on first use."""
        async with self._lock:
            known = self._running.get(account.id)
            if known is not None:
                return known[1]
            supervisor = self._supervisor(spec, account)
            await supervisor.start()
            own = account_spec(spec, account.state_dir)
            tools = ServerToolset(own, supervisor, timeout=self._timeout, health=self._health)
            self._running[account.id] = (supervisor, tools)
            log.info("started %s for account %d (user %d)", spec.name, account.id, account.user_id)
            return tools

    async def ask[T](
        self,
        spec: ServerSpec,
        account: AccountRef,
        question: Callable[[Supervisor], Awaitable[T]],
    ) -> T:
        """``question`` put to ``account``'s instance: the running one, else one started for
        the question alone and stopped after it (never handed to a run, so stopping it cannot
        pull a server from under one)."""
        async with self._lock:
            known = self._running.get(account.id)
        if known is not None:
            return await question(known[0])
        supervisor = self._supervisor(spec, account)
        await supervisor.start()
        try:
            return await question(supervisor)
        finally:
            await supervisor.stop()

    async def stop(self, account_id: int) -> None:
        """Stop one account's instance (it was disconnected); no instance is no news."""
        async with self._lock:
            known = self._running.pop(account_id, None)
        if known is not None:
            supervisor, tools = known
            with contextlib.suppress(Exception):
                await tools.aclose()
            await supervisor.stop()

    async def aclose(self) -> None:
        """Stop every instance (Angie is stopping)."""
        for account_id in list(self._running):
            await self.stop(account_id)


def account_names(accounts: Sequence[AccountRef]) -> dict[int, str | None]:
    """The label each account's tools carry: none when it is its server's only account in the
    run (``gmail_search``), else its slug (``gmail_work_search``), numbered if slugs clash."""
    by_server: dict[str, list[AccountRef]] = {}
    for account in accounts:
        by_server.setdefault(account.server, []).append(account)
    names: dict[int, str | None] = {}
    for group in by_server.values():
        if len(group) == 1:
            names[group[0].id] = None
            continue
        seen: set[str] = set()
        for account in group:
            slug = label_slug(account.label)
            if slug in seen:
                slug = f"{slug}_{account.id}"
            seen.add(slug)
            names[account.id] = slug
    return names


@dataclass(frozen=True, slots=True)
class AccountTools:
    """One account's instance as a run gets it, with the name its tools carry (None: plain)."""

    account: AccountRef
    name: str | None
    tools: ServerToolset


@dataclass(frozen=True, slots=True)
class RunAccounts:
    """For one run: the personal servers reached through accounts, each with the accounts the
    run's person may use (possibly none: then the run has no tools of that server)."""

    servers: Mapping[str, Sequence[AccountTools]]


async def run_accounts(
    session: AsyncSession,
    instances: AccountInstances,
    specs: Mapping[str, ServerSpec],
    user_id: int | None,
    servers: Iterable[str],
) -> RunAccounts:
    """Which account instances a run of ``user_id`` gets for ``servers``, started as needed.

    A personal server nobody connected an account to is left out (household-wide as before);
    one that has accounts maps to this person's own and shared ones only, so a household run
    (no person) gets none of them."""
    named = dict.fromkeys(servers)
    personal = [name for name in named if name in specs and is_personal(specs[name])]
    if not personal:
        return RunAccounts({})
    with_accounts = await servers_with_accounts(session, personal)
    if not with_accounts:
        return RunAccounts({})
    rows = [] if user_id is None else await visible_accounts(session, user_id, with_accounts)
    refs = [AccountRef.of(row) for row in rows]
    names = account_names(refs)
    found: dict[str, list[AccountTools]] = {name: [] for name in with_accounts}
    for ref in refs:
        tools = await instances.toolset(specs[ref.server], ref)
        found[ref.server].append(AccountTools(ref, names[ref.id], tools))
    return RunAccounts(found)
