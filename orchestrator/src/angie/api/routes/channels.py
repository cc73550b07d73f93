"""``/api/channels``: each person's chat channels (Slack, Discord, email, iMessage): settings in
``channel_settings``, secrets encrypted in ``credentials`` and never sent back."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path, status
from pydantic import BaseModel, Field, ValidationError
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from angie.api.deps import CurrentUser, ServicesDep, SessionDep, SettingsDep
from angie.api.schemas import Body, Page
from angie.api.validation import reject_nulls
from angie.channel_states import ChannelStates, Connection
from angie.db.credentials import CredentialStore
from angie.db.crypto import credential_box
from angie.db.models import ChannelKind, ChannelSetting, Credential, User
from angie.errors import Invalid, NotFound
from angie_channels.kinds import KINDS, ChannelSpec
from angie_channels.settings import ChannelSettings

__all__ = ("ChannelIn", "ChannelOut", "router")

router = APIRouter(prefix="/channels", tags=["channels"])

Kind = Annotated[str, Path(max_length=32, description="slack, discord, email or imessage")]


class ChannelIn(Body):
    enabled: bool | None = None
    config: dict[str, Any] | None = Field(
        default=None, description="The channel's settings; replaces them when given."
    )
    secrets: dict[str, str | None] | None = Field(
        default=None, description="Secrets to set (null removes one); others are kept."
    )


class ChannelOut(BaseModel):
    channel: str
    enabled: bool
    configured: bool = Field(description="Everything the channel needs is set.")
    missing: list[str] = Field(description="What is still needed before it can work.")
    config: dict[str, Any]
    secrets_set: list[str] = Field(description="Names of the secrets stored; never their values.")
    connection: Connection = Field(
        description="What is true now: off, not_running (saved, but this Angie does not run "
        "the channel), connecting, connected or failed."
    )
    connection_detail: str | None = Field(description="Why it is not connected, when known.")
    updated_at: datetime | None


def _spec(kind: str) -> ChannelSpec:
    spec = KINDS.get(kind)
    if spec is None:
        kinds = ", ".join(KINDS)
        raise NotFound(
            f"there is no channel {kind!r}; the channels are {kinds}",
            details=[{"field": "path: kind", "message": f"use one of {kinds}"}],
        )
    return spec


def _prefix(kind: str) -> str:
    return f"channel.{kind}."


def _out(
    kind: str, row: ChannelSetting | None, secrets: set[str], states: ChannelStates, user: User
) -> ChannelOut:
    config = dict(row.config) if row is not None else {}
    missing = KINDS[kind].missing(config, secrets)
    enabled = row.enabled if row is not None else False
    now = states.connection(user.id, kind, enabled=enabled)
    return ChannelOut(
        channel=kind,
        enabled=enabled,
        configured=row is not None and not missing,
        missing=missing,
        config=config,
        secrets_set=sorted(secrets),
        connection=now.state,
        connection_detail=now.detail,
        updated_at=row.updated_at if row is not None else None,
    )


async def _rows(session: AsyncSession, user: User) -> dict[str, ChannelSetting]:
    rows = await session.scalars(select(ChannelSetting).where(ChannelSetting.user_id == user.id))
    return {row.channel.value: row for row in rows}


async def _secret_names(session: AsyncSession, user: User) -> dict[str, set[str]]:
    names = await session.scalars(
        select(Credential.name).where(
            Credential.user_id == user.id,
            Credential.name.startswith("channel.", autoescape=True),
        )
    )
    found: dict[str, set[str]] = {kind: set() for kind in KINDS}
    for name in names:
        _, kind, field = name.split(".", 2)
        if kind in found:
            found[kind].add(field)
    return found


def _validated(model: type[ChannelSettings], raw: Mapping[str, Any], where: str) -> ChannelSettings:
    try:
        return model.model_validate(raw)
    except ValidationError as err:
        details = [
            {
                "field": f"body: {where}." + ".".join(str(p) for p in e["loc"]),
                "message": e["msg"],
            }
            for e in err.errors()
        ]
        first = details[0]
        raise Invalid(f"{first['field']}: {first['message']}", details=details) from err


async def _one(session: AsyncSession, user: User, kind: str, states: ChannelStates) -> ChannelOut:
    row = (await _rows(session, user)).get(kind)
    return _out(kind, row, (await _secret_names(session, user))[kind], states, user)


@router.get("", operation_id="list_channels")
async def list_channels(
    user: CurrentUser, session: SessionDep, services: ServicesDep
) -> Page[ChannelOut]:
    """Every channel Angie can talk to you through, with your settings for it and whether it is
    connected now."""
    rows = await _rows(session, user)
    secrets = await _secret_names(session, user)
    items = [_out(kind, rows.get(kind), secrets[kind], services.channels, user) for kind in KINDS]
    return Page(items=items, total=len(items), limit=len(items), offset=0)


@router.get("/{kind}", operation_id="get_channel")
async def get_channel(
    kind: Kind, user: CurrentUser, session: SessionDep, services: ServicesDep
) -> ChannelOut:
    """Your settings for one channel (secrets only by name) and whether it is connected now."""
    _spec(kind)
    return await _one(session, user, kind, services.channels)


@router.put("/{kind}", operation_id="set_channel")
async def set_channel(
    kind: Kind,
    body: ChannelIn,
    user: CurrentUser,
    session: SessionDep,
    settings: SettingsDep,
    services: ServicesDep,
) -> ChannelOut:
    """Set up a channel: switch it on or off, replace its settings, set or remove secrets."""
    spec = _spec(kind)
    # A null config or secrets is the same as leaving them out.
    reject_nulls(body.model_dump(exclude_unset=True), nullable=("config", "secrets"))
    config = _validated(spec.settings, body.config, "config") if body.config is not None else None
    secrets = (
        _validated(spec.secrets, body.secrets, "secrets") if body.secrets is not None else None
    )
    row = (await _rows(session, user)).get(kind)
    if row is None:
        row = ChannelSetting(user_id=user.id, channel=ChannelKind(kind), config={})
        session.add(row)
    if body.enabled is not None:
        row.enabled = body.enabled
    if config is not None:
        row.config = config.model_dump(mode="json", exclude_none=True)
    if secrets is not None:
        store = CredentialStore(session, credential_box(settings.secret))
        for field in sorted(secrets.model_fields_set):
            value = getattr(secrets, field)
            name = _prefix(kind) + field
            if value is None:
                await store.delete(name, user_id=user.id)
            else:
                await store.set(name, value, user_id=user.id)
    await session.flush()
    return await _one(session, user, kind, services.channels)


@router.delete("/{kind}", operation_id="delete_channel", status_code=status.HTTP_204_NO_CONTENT)
async def delete_channel(kind: Kind, user: CurrentUser, session: SessionDep) -> None:
    """Forget a channel: its settings and its secrets."""
    _spec(kind)
    row = (await _rows(session, user)).get(kind)
    removed = await session.execute(
        delete(Credential).where(
            Credential.user_id == user.id,
            Credential.name.startswith(_prefix(kind), autoescape=True),
        )
    )
    if row is None and not getattr(removed, "rowcount", 0):
        raise NotFound(f"you have not set up {kind}")
    if row is not None:
        await session.delete(row)
