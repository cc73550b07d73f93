"""``/api/mcp/accounts``: each person's own accounts on personal MCP servers (their Gmail,
their calendar) and the ones shared with them. Nobody sees, shares or deletes another's."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Path, status
from pydantic import Field
from sqlalchemy.ext.asyncio import AsyncSession

from angie.api.deps import CurrentUser, ServicesDep, SessionDep
from angie.api.schemas import Body, Out
from angie.api.validation import PathId
from angie.db.models import AccountStatus, McpAccount
from angie.errors import Invalid
from angie.mcp.accounts import (
    MAX_LABEL,
    create_account,
    delete_account,
    is_personal,
    share_account,
    visible_accounts,
)
from angie.mcp.web_sign_in import MAX_PASTE, SignInFlow
from angie.services import Services

__all__ = ("AccountIn", "AccountOut", "AccountsOut", "ShareIn", "router")

router = APIRouter(prefix="/mcp/accounts", tags=["mcp"])

SignInId = Annotated[str, Path(min_length=8, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]


class AccountIn(Body):
    server: str = Field(min_length=1, max_length=64, description="A personal server: gmail, gcal…")
    label: str = Field(
        min_length=1, max_length=MAX_LABEL, description="What you call it: the address, work."
    )


class ShareIn(Body):
    user_id: int = Field(gt=0, description="The person who may use the account in their runs.")


class AccountOut(Out):
    id: int
    server: str
    label: str
    status: AccountStatus
    owner_id: int
    mine: bool = Field(description="Whether it is your own (else it was shared with you).")
    shared_with: list[int] = Field(description="Who else may use it; only its owner sees this.")
    running: bool = Field(description="Whether its server instance runs in this process now.")
    sign_in_expires_at: datetime | None = Field(
        description="When its sign-in stops working unless reconnected (Google's 7-day limit "
        "for apps in Testing), as its server last said; null when it does not expire or is "
        "not known yet."
    )
    created_at: datetime


class AccountsOut(Out):
    accounts: list[AccountOut]


class SignInIn(AccountIn):
    credentials: dict[str, str] = Field(
        default_factory=dict,
        max_length=8,
        description="What the server asks to be typed to sign in (its typed_credentials), "
        "passed to its sign-in and never kept by Angie; empty for a sign-in on a page.",
    )


class PasteIn(Body):
    address: str = Field(
        min_length=1,
        max_length=MAX_PASTE,
        description="The address the browser ended on after allowing Angie (it may not load).",
    )


class SignInOut(Out):
    id: str
    server: str
    label: str
    account_id: int = Field(description="The account being connected (gone if it fails).")
    state: Literal["waiting", "connected", "failed"]
    instructions: list[str] = Field(description="What the server's sign-in says, line by line.")
    links: list[str] = Field(description="The addresses in it, to open in a browser.")
    can_paste: bool = Field(
        description="Whether the address the sign-in ended on can be pasted back (a browser on "
        "another device cannot reach Angie's one-off page on her machine)."
    )
    error: str | None = Field(description="Why it failed.")


def _sign_in_out(flow: SignInFlow) -> SignInOut:
    return SignInOut(
        id=flow.id,
        server=flow.server,
        label=flow.label,
        account_id=flow.account_id,
        state=flow.state,
        instructions=list(flow.lines),
        links=flow.links,
        can_paste=flow.can_paste,
        error=flow.error,
    )


def _out(row: McpAccount, user_id: int, running: Iterable[int] = ()) -> AccountOut:
    mine = row.user_id == user_id
    return AccountOut(
        id=row.id,
        server=row.server,
        label=row.label,
        status=row.status,
        owner_id=row.user_id,
        mine=mine,
        shared_with=sorted(s.user_id for s in row.shares) if mine else [],
        running=row.id in running,
        sign_in_expires_at=row.sign_in_expires_at,
        created_at=row.created_at,
    )


def _personal(services: Services, server: str) -> None:
    spec = services.servers.specs.get(server)
    if spec is None:
        raise Invalid(f"there is no MCP server named {server!r}")
    if not is_personal(spec):
        raise Invalid(
            f"the {server} server is the household's: it has one account, set in its settings"
        )


@router.get("", operation_id="list_mcp_accounts")
async def list_accounts(
    user: CurrentUser, session: SessionDep, services: ServicesDep
) -> AccountsOut:
    """Your accounts on personal servers and those shared with you, oldest first."""
    rows = await visible_accounts(session, user.id)
    running = services.toolbox.accounts.running
    return AccountsOut(accounts=[_out(row, user.id, running) for row in rows])


@router.post(
    "",
    operation_id="add_mcp_account",
    status_code=status.HTTP_201_CREATED,
    responses={409: {}, 422: {}},
)
async def add_account(
    body: AccountIn, user: CurrentUser, session: SessionDep, services: ServicesDep
) -> AccountOut:
    """Record a new account of yours (``angie mcp connect`` does, once its server signed in)."""
    _personal(services, body.server)
    row = await _created(session, user.id, body, services)
    await session.refresh(row, ["shares", "created_at"])
    return _out(row, user.id)


async def _created(
    session: AsyncSession, user_id: int, body: AccountIn, services: Services
) -> McpAccount:
    root = services.settings.data_dir / "mcp"
    return await create_account(
        session, user_id=user_id, server=body.server, label=body.label, root=root
    )


@router.post(
    "/sign-ins",
    operation_id="start_mcp_sign_in",
    status_code=status.HTTP_201_CREATED,
    responses={409: {}, 422: {}},
)
async def start_sign_in(body: SignInIn, user: CurrentUser, services: ServicesDep) -> SignInOut:
    """Connect an account of yours from the browser: Angie runs the server's sign-in on her
    machine and answers with what it says (the provider's page to open, a code to enter)."""
    _personal(services, body.server)
    spec = services.servers.specs[body.server]
    flow = await services.sign_ins.start(user.id, spec, body.label, body.credentials)
    return _sign_in_out(flow)


@router.get("/sign-ins/{sign_in_id}", operation_id="get_mcp_sign_in", responses={404: {}})
async def get_sign_in(sign_in_id: SignInId, user: CurrentUser, services: ServicesDep) -> SignInOut:
    """How your sign-in is going: waiting for you, connected, or failed and why."""
    return _sign_in_out(services.sign_ins.get(sign_in_id, user.id))


@router.post(
    "/sign-ins/{sign_in_id}/paste",
    operation_id="paste_mcp_sign_in",
    responses={404: {}, 422: {}},
)
async def paste_sign_in(
    sign_in_id: SignInId, body: PasteIn, user: CurrentUser, services: ServicesDep
) -> SignInOut:
    """Give your sign-in the address the browser ended on, when that page did not load."""
    return _sign_in_out(await services.sign_ins.paste(sign_in_id, user.id, body.address))


@router.delete(
    "/sign-ins/{sign_in_id}",
    operation_id="cancel_mcp_sign_in",
    status_code=204,
    responses={404: {}},
)
async def cancel_sign_in(sign_in_id: SignInId, user: CurrentUser, services: ServicesDep) -> None:
    """Stop a sign-in of yours; a sign-in that did not finish leaves no account behind."""
    await services.sign_ins.cancel(sign_in_id, user.id)


@router.delete(
    "/{account_id}", operation_id="delete_mcp_account", status_code=204, responses={404: {}}
)
async def delete_mcp_account(
    account_id: PathId, user: CurrentUser, session: SessionDep, services: ServicesDep
) -> None:
    """Forget one of your accounts: its token file is deleted and its server stopped."""
    await delete_account(session, user.id, account_id)
    await services.toolbox.accounts.stop(account_id)


@router.post("/{account_id}/shares", operation_id="share_mcp_account", responses={404: {}})
async def share(
    account_id: PathId, body: ShareIn, user: CurrentUser, session: SessionDep
) -> AccountOut:
    """Let someone of the household use one of your accounts (a family calendar)."""
    row = await share_account(session, user.id, account_id, body.user_id)
    await session.refresh(row, ["shares"])
    return _out(row, user.id)
