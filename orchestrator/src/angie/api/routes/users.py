"""``/api/me`` (profile, password, personal API tokens) and ``/api/users`` (admins: people and
invites)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Path, status
from pydantic import Field, field_validator
from sqlalchemy import select

from angie.accounts.scopes import ALL, KNOWN_SCOPES, parse_scopes, split_scopes
from angie.api.deps import (
    AdminUser,
    AuthDep,
    CurrentSignIn,
    CurrentUser,
    ServicesDep,
    SessionDep,
    SettingsDep,
)
from angie.api.schemas import Body, Email, ListParams, Out, Page, order_by, paginate
from angie.db.models import ApiToken, Invite, User
from angie.errors import Conflict, Forbidden, Invalid, NotFound
from angie.timezones import check_timezone

__all__ = ("UserOut", "me_router", "users_router")

me_router = APIRouter(prefix="/me", tags=["me"])
users_router = APIRouter(prefix="/users", tags=["users"])
Id = Annotated[int, Path(ge=1, le=2**31 - 1)]


class UserOut(Out):
    id: int
    email: str
    display_name: str
    preferred_name: str | None
    timezone: str
    is_admin: bool
    is_active: bool
    created_at: datetime
    last_login_at: datetime | None


def _check_timezone(value: str | None) -> str | None:
    return None if value is None else check_timezone(value)


class MeIn(Body):
    display_name: str | None = Field(default=None, min_length=1, max_length=120)
    preferred_name: str | None = Field(default=None, max_length=120)
    timezone: str | None = Field(default=None, max_length=64)

    _tz = field_validator("timezone")(_check_timezone)


class PasswordIn(Body):
    current_password: str = Field(min_length=1, max_length=256)
    new_password: str = Field(min_length=8, max_length=256)


def _parse_scopes(value: list[str]) -> list[str]:
    return list(parse_scopes(value))


class TokenIn(Body):
    name: str = Field(min_length=1, max_length=120)
    expires_in_days: int | None = Field(default=None, ge=1, le=3650)
    scopes: list[str] = Field(
        default_factory=lambda: [ALL],
        max_length=len(KNOWN_SCOPES),
        description="What the token may do, e.g. tasks:read crons:write; * is everything.",
    )

    _scopes = field_validator("scopes")(_parse_scopes)


class TokenOut(Out):
    id: int
    name: str
    prefix: str
    scopes: list[str]
    created_at: datetime
    last_used_at: datetime | None
    expires_at: datetime | None
    revoked_at: datetime | None

    @field_validator("scopes", mode="before")
    @classmethod
    def _split(cls, value: object) -> object:
        return list(split_scopes(value)) if isinstance(value, str) else value


class NewTokenOut(TokenOut):
    token: str = Field(description="Shown once: keep it now.")


class InviteIn(Body):
    email: Email | None = None
    is_admin: bool = False


class InviteOut(Out):
    id: int
    email: str | None
    is_admin: bool
    created_at: datetime
    expires_at: datetime
    used_at: datetime | None


class NewInviteOut(InviteOut):
    code: str = Field(description="Shown once: give it to the person you invite.")


class UserAdminIn(Body):
    is_admin: bool | None = None
    is_active: bool | None = None


# -- me ------------------------------------------------------------------------------------------


@me_router.get("", operation_id="get_me")
async def get_me(user: CurrentUser) -> UserOut:
    """The signed-in person."""
    return UserOut.model_validate(user)


@me_router.patch("", operation_id="update_me")
async def update_me(body: MeIn, user: CurrentUser, session: SessionDep) -> UserOut:
    """Change your name, how Angie addresses you, or your timezone."""
    for key, value in body.model_dump(exclude_unset=True).items():
        if value is None and key != "preferred_name":
            raise Invalid(f"{key} cannot be null")
        setattr(user, key, value)
    await session.flush()
    return UserOut.model_validate(user)


@me_router.post("/password", operation_id="change_password", status_code=204)
async def change_password(
    body: PasswordIn, user: CurrentUser, session: SessionDep, auth: AuthDep, settings: SettingsDep
) -> None:
    """Change your password (the current one is checked); every login ends, so sign in again.

    Your personal API tokens are revoked too, unless this Angie runs with
    ANGIE_REVOKE_TOKENS_ON_PASSWORD_CHANGE=false.
    """
    await auth.change_password(
        session,
        user,
        current=body.current_password,
        new=body.new_password,
        revoke_api_tokens=settings.revoke_tokens_on_password_change,
    )


@me_router.get("/tokens", operation_id="list_api_tokens")
async def list_tokens(user: CurrentUser, session: SessionDep, params: ListParams) -> Page[TokenOut]:
    """Your personal API tokens (never their values)."""
    stmt = order_by(
        select(ApiToken).where(ApiToken.user_id == user.id),
        params.sort,
        {"created_at": ApiToken.created_at, "name": ApiToken.name},
        "-created_at",
        ApiToken.id,
    )
    rows, total = await paginate(session, stmt, params)
    return Page(
        items=[TokenOut.model_validate(r) for r in rows],
        total=total,
        limit=params.limit,
        offset=params.offset,
    )


@me_router.post(
    "/tokens",
    operation_id="create_api_token",
    status_code=status.HTTP_201_CREATED,
    responses={403: {"description": "Asked with a personal API token"}},
)
async def create_token(
    body: TokenIn, signed_in: CurrentSignIn, session: SessionDep, auth: AuthDep
) -> NewTokenOut:
    """Make a personal API token for the CLI or a script; the value is shown only now.

    Only a login (email and password) makes tokens: a token cannot make another, which could
    outlive it once it is revoked."""
    if signed_in.by_api_token:
        raise Forbidden(
            "a personal API token cannot make API tokens; log in with your password to make one"
        )
    row, plain = await auth.create_api_token(
        session, signed_in.user, body.name, body.expires_in_days, body.scopes
    )
    return NewTokenOut.model_validate({**TokenOut.model_validate(row).model_dump(), "token": plain})


@me_router.delete("/tokens/{token_id}", operation_id="revoke_api_token", status_code=204)
async def revoke_token(token_id: Id, user: CurrentUser, session: SessionDep) -> None:
    """Revoke one of your API tokens."""
    row = await session.get(ApiToken, token_id)
    if row is None or row.user_id != user.id:
        raise NotFound(f"there is no API token {token_id}")
    if row.revoked_at is None:
        row.revoked_at = datetime.now(UTC)


# -- users (admins) ------------------------------------------------------------------------------


@users_router.get("", operation_id="list_users")
async def list_users(_: AdminUser, session: SessionDep, params: ListParams) -> Page[UserOut]:
    """Everyone with an account (admins only)."""
    stmt = order_by(
        select(User),
        params.sort,
        {"created_at": User.created_at, "email": User.email, "display_name": User.display_name},
        "created_at",
        User.id,
    )
    rows, total = await paginate(session, stmt, params)
    return Page(
        items=[UserOut.model_validate(r) for r in rows],
        total=total,
        limit=params.limit,
        offset=params.offset,
    )


@users_router.patch("/{user_id}", operation_id="update_user")
async def update_user(
    user_id: Id, body: UserAdminIn, admin: AdminUser, session: SessionDep, services: ServicesDep
) -> UserOut:
    """Make someone an admin or not, deactivate or reactivate them (admins only).

    Deactivating stops what acts for them: their tokens, webhooks, crons (paused) and pending
    approvals (expired). Reactivating turns none of it back on by itself."""
    user = await session.get(User, user_id)
    if user is None:
        raise NotFound(f"there is no user {user_id}")
    if user.id == admin.id and (body.is_admin is False or body.is_active is False):
        raise Conflict("you cannot remove your own admin rights or deactivate yourself")
    was_active = user.is_active
    for key, value in body.model_dump(exclude_unset=True, exclude_none=True).items():
        setattr(user, key, value)
    await session.flush()
    out = UserOut.model_validate(user)
    if was_active and not user.is_active:
        await session.commit()  # their webhooks answer as unknown from here on
        await services.deactivated(user.id)
    return out


@users_router.get("/invites", operation_id="list_invites")
async def list_invites(_: AdminUser, session: SessionDep, params: ListParams) -> Page[InviteOut]:
    """Invitations (admins only)."""
    stmt = order_by(
        select(Invite), params.sort, {"created_at": Invite.created_at}, "-created_at", Invite.id
    )
    rows, total = await paginate(session, stmt, params)
    return Page(
        items=[InviteOut.model_validate(r) for r in rows],
        total=total,
        limit=params.limit,
        offset=params.offset,
    )


@users_router.post("/invites", operation_id="create_invite", status_code=status.HTTP_201_CREATED)
async def create_invite(
    body: InviteIn, admin: AdminUser, session: SessionDep, auth: AuthDep
) -> NewInviteOut:
    """Invite someone (valid 7 days, once); the code is shown only now."""
    row, code = await auth.create_invite(
        session, admin, str(body.email) if body.email else None, body.is_admin
    )
    return NewInviteOut.model_validate({**InviteOut.model_validate(row).model_dump(), "code": code})


@users_router.delete("/invites/{invite_id}", operation_id="delete_invite", status_code=204)
async def delete_invite(invite_id: Id, admin: AdminUser, session: SessionDep) -> None:
    """Withdraw an invitation (admins only)."""
    row = await session.get(Invite, invite_id)
    if row is None:
        raise NotFound(f"there is no invite {invite_id}")
    await session.delete(row)
