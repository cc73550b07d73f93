"""``/api/channels``: each person's chat channels (Slack, Discord, email, iMessage): settings in
``channel_settings``, secrets encrypted in ``credentials`` and never sent back."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request, Response, status
from pydantic import BaseModel, Field, ValidationError
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from angie.api.deps import CurrentUser, ServicesDep, SessionDep, SettingsDep
from angie.api.schemas import Body, Page
from angie.api.validation import PathId, reject_nulls
from angie.channel_states import ChannelStates, Connection
from angie.channels.hub import receives_by_webhook, saved_channel
from angie.db.credentials import CredentialStore
from angie.db.crypto import credential_box
from angie.db.models import ChannelIdentity, ChannelKind, ChannelSetting, Credential, User
from angie.errors import Invalid, NotFound
from angie_channels.base import ChannelError, WebhookRequest
from angie_channels.kinds import KINDS, ChannelSpec
from angie_channels.settings import ChannelSettings

__all__ = ("ChannelIn", "ChannelOut", "FieldOut", "router")

router = APIRouter(prefix="/channels", tags=["channels"])

_CHECK_SECONDS = 20.0
_MAX_HOOK_BYTES = 1_048_576

Kind = Annotated[str, Path(max_length=32, description="slack, discord, email or imessage")]


class ChannelIn(Body):
    enabled: bool | None = None
    config: dict[str, Any] | None = Field(
        default=None, description="The channel's settings; replaces them when given."
    )
    secrets: dict[str, str | None] | None = Field(
        default=None, description="Secrets to set (null removes one); others are kept."
    )


class FieldOut(BaseModel):
    """One setting of a channel as a form asks for it."""

    name: str
    label: str
    secret: bool = Field(description="Write-only: stored encrypted and never sent back.")
    required: bool
    hint: str | None = Field(description="What a value that does not fit should look like.")
    suggested: str | None = Field(description="A value to offer when nothing is set yet.")


class ChannelOut(BaseModel):
    channel: str
    title: str
    fields: list[FieldOut] = Field(description="Its settings and secrets, in the order to ask.")
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
    webhook_path: str | None = Field(
        description="Where the platform calls Angie, for channels that receive by webhook "
        "(BlueBubbles; Slack over HTTP): append it to Angie's public address."
    )
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
        title=KINDS[kind].title,
        fields=[
            FieldOut(
                name=q.name,
                label=q.label,
                secret=q.secret,
                required=q.required,
                hint=q.hint,
                suggested=q.suggested,
            )
            for q in KINDS[kind].questions()
        ],
        enabled=enabled,
        configured=row is not None and not missing,
        missing=missing,
        config=config,
        secrets_set=sorted(secrets),
        connection=now.state,
        connection_detail=now.detail,
        webhook_path=_webhook_path(kind, row, secrets),
        updated_at=row.updated_at if row is not None else None,
    )


def _webhook_path(kind: str, row: ChannelSetting | None, secrets: set[str]) -> str | None:
    if row is None or not receives_by_webhook(kind, secrets):
        return None
    return f"/api/channels/{kind}/hooks/{row.id}"


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


class IdentityOut(BaseModel):
    id: int
    channel: str
    external_id: str = Field(description="Who you are on the platform (a member id, an address).")
    display: str | None
    preferred: bool = Field(description="Crons and webhooks reach you here.")
    created_at: datetime
    last_seen_at: datetime | None

    @classmethod
    def of(cls, row: ChannelIdentity) -> IdentityOut:
        return cls(
            id=row.id,
            channel=row.channel.value,
            external_id=row.external_id,
            display=row.display,
            preferred=row.preferred,
            created_at=row.created_at,
            last_seen_at=row.last_seen_at,
        )


class LinkIn(Body):
    code: str = Field(
        min_length=1, max_length=32, description="The six-digit code Angie sent in the channel."
    )


class CheckOut(BaseModel):
    ok: bool
    detail: str = Field(description="Who Angie is there, or exactly what is wrong.")


@router.get("/identities", operation_id="list_identities")
async def list_identities(user: CurrentUser, services: ServicesDep) -> Page[IdentityOut]:
    """The platform identities linked to you: Angie answers them as you."""
    items = [IdentityOut.of(r) for r in await services.hub.identities.of_user(user.id)]
    return Page(items=items, total=len(items), limit=max(1, len(items)), offset=0)


@router.post(
    "/link",
    operation_id="link_identity",
    status_code=status.HTTP_201_CREATED,
    responses={404: {}, 409: {}, 422: {}},
)
async def link_identity(body: LinkIn, user: CurrentUser, services: ServicesDep) -> IdentityOut:
    """Link the sender who got this pairing code (in Slack, Discord, iMessage or email) to you."""
    return IdentityOut.of(await services.hub.identities.link(user.id, body.code))


@router.delete(
    "/identities/{identity_id}",
    operation_id="unlink_identity",
    status_code=status.HTTP_204_NO_CONTENT,
    responses={404: {}},
)
async def unlink_identity(identity_id: PathId, user: CurrentUser, services: ServicesDep) -> None:
    """Unlink an identity: Angie no longer answers it as you."""
    await services.hub.identities.unlink(user.id, identity_id)


@router.post("/identities/{identity_id}/prefer", operation_id="prefer_identity")
async def prefer_identity(
    identity_id: PathId, user: CurrentUser, services: ServicesDep
) -> IdentityOut:
    """Make this the channel where cron and webhook results reach you."""
    await services.hub.identities.prefer(user.id, identity_id)
    found = [i for i in await services.hub.identities.of_user(user.id) if i.id == identity_id]
    return IdentityOut.of(found[0])


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
    services.hub.changed()
    return await _one(session, user, kind, services.channels)


@router.delete("/{kind}", operation_id="delete_channel", status_code=status.HTTP_204_NO_CONTENT)
async def delete_channel(
    kind: Kind, user: CurrentUser, session: SessionDep, services: ServicesDep
) -> None:
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
    services.hub.changed()


@router.post("/{kind}/check", operation_id="check_channel", responses={404: {}})
async def check_channel(
    kind: Kind, user: CurrentUser, session: SessionDep, services: ServicesDep
) -> CheckOut:
    """Try your saved credentials against the platform now (Slack ``auth.test``, Discord
    ``/users/@me``, IMAP and SMTP login, BlueBubbles ping) and say what is wrong, if anything."""
    spec = _spec(kind)
    row = (await _rows(session, user)).get(kind)
    names = (await _secret_names(session, user))[kind]
    missing = spec.missing(row.config if row is not None else {}, names)
    if row is None or missing:
        return CheckOut(
            ok=False, detail=f"{spec.title} is not set up: {', '.join(missing)} missing"
        )
    try:
        adapter = await saved_channel(
            services.database, services.settings.secret, row, services.hub.factory
        )
    except Exception as err:  # an adapter that cannot even be built says why
        return CheckOut(ok=False, detail=f"{spec.title} cannot be checked: {err}")
    try:
        detail = await asyncio.wait_for(adapter.check(), _CHECK_SECONDS)
    except ChannelError as err:
        return CheckOut(ok=False, detail=str(err))
    except TimeoutError:
        return CheckOut(ok=False, detail=f"{spec.title} did not answer in {_CHECK_SECONDS:.0f} s")
    except Exception as err:
        return CheckOut(ok=False, detail=f"{spec.title} cannot be checked: {err}")
    finally:
        # The adapter was built for this check alone: its clients close with it.
        await adapter.stop()
    return CheckOut(ok=True, detail=detail)


@router.post(
    "/{kind}/hooks/{setting_id}",
    operation_id="channel_webhook",
    responses={401: {}, 404: {}, 413: {}},
)
async def channel_webhook(
    kind: Kind, setting_id: PathId, request: Request, services: ServicesDep
) -> Response:
    """A platform's call to Angie for a channel (Slack's Events API, BlueBubbles' webhook). No
    bearer token: the channel's adapter checks the platform's signature or secret first."""
    body = await request.body()
    if len(body) > _MAX_HOOK_BYTES:
        return Response("the body is too large", status_code=413)
    reply = await services.hub.webhook(
        setting_id,
        kind,
        WebhookRequest(
            method=request.method,
            path=request.url.path,
            headers={k.lower(): v for k, v in request.headers.items()},
            query=dict(request.query_params),
            body=body,
        ),
    )
    return Response(reply.body, status_code=reply.status, headers=dict(reply.headers))
