"""``/api/webhooks``: each person's webhooks (an address, a signing secret shown once, a target).

Deliveries to a hook's address are handled in :mod:`angie.api.routes.hooks`.
"""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Annotated, Any, Self

from fastapi import APIRouter, Path, status
from pydantic import Field, model_validator
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from angie.api.deps import AngieDep, CurrentUser, SessionDep
from angie.api.errors import ApiError, Conflict, NotFound
from angie.api.schemas import Body, ListParams, Out, Page, order_by, paginate
from angie.daemon import Angie
from angie.db.crypto import credential_box
from angie.db.models import Agent, Team, User, Webhook, Workflow

__all__ = ("TARGETS", "NewWebhookOut", "WebhookOut", "hook_url", "router")

router = APIRouter(prefix="/webhooks", tags=["webhooks"])
Id = Annotated[int, Path(ge=1, le=2**31 - 1)]
TargetId = Annotated[int | None, Field(default=None, ge=1, le=2**31 - 1)]
#: The fields that name who handles a delivery; at most one is set (none: Angie herself).
TARGETS = ("agent_id", "team_id", "workflow_id")


def hook_url(hook_id: str) -> str:
    return f"/api/hooks/{hook_id}"


def _one_target(values: dict[str, Any]) -> None:
    named = [key for key in TARGETS if values.get(key) is not None]
    if len(named) > 1:
        raise ValueError(f"name at most one of agent_id, team_id, workflow_id (got {named})")


class WebhookIn(Body):
    name: str = Field(min_length=1, max_length=120)
    agent_id: TargetId = None
    team_id: TargetId = None
    workflow_id: TargetId = None
    instruction: str = Field(
        default="",
        max_length=10_000,
        description="What to do with each delivery; its body is passed along as untrusted data.",
    )
    enabled: bool = True

    @model_validator(mode="after")
    def _at_most_one_target(self) -> Self:
        _one_target(self.model_dump())
        return self


class WebhookPatch(Body):
    """Fields left out are kept. Naming any target replaces the target: the others are cleared."""

    name: str | None = Field(default=None, min_length=1, max_length=120)
    agent_id: TargetId = None
    team_id: TargetId = None
    workflow_id: TargetId = None
    instruction: str | None = Field(default=None, max_length=10_000)
    enabled: bool | None = None

    @model_validator(mode="after")
    def _at_most_one_target(self) -> Self:
        _one_target(self.model_dump())
        return self


class WebhookOut(Out):
    id: int
    hook_id: str
    url: str = Field(description="Where to POST deliveries (a path on this Angie).")
    name: str
    agent_id: int | None
    team_id: int | None
    workflow_id: int | None
    instruction: str
    enabled: bool
    created_at: datetime
    updated_at: datetime
    last_delivery_at: datetime | None

    @classmethod
    def of(cls, row: Webhook) -> WebhookOut:
        return cls.model_validate({**_columns(row), "url": hook_url(row.hook_id)})


class NewWebhookOut(WebhookOut):
    secret: str = Field(description="Shown once: the key that signs deliveries. Keep it now.")


def _columns(row: Webhook) -> dict[str, Any]:
    names = WebhookOut.model_fields.keys() - {"url"}
    return {name: getattr(row, name) for name in names}


def _with_secret(row: Webhook, secret: str) -> NewWebhookOut:
    return NewWebhookOut.model_validate({**WebhookOut.of(row).model_dump(), "secret": secret})


def _new_secret(angie: Angie) -> tuple[str, bytes]:
    secret = secrets.token_urlsafe(32)
    return secret, credential_box(angie.settings.secret).encrypt(secret)


async def _check_target(session: AsyncSession, user: User, values: dict[str, Any]) -> None:
    """A hook may run the household's agents, teams and workflows, or the user's own."""
    agent_id, team_id, workflow_id = (values.get(key) for key in TARGETS)
    if agent_id is not None:
        agent = await session.get(Agent, agent_id)
        if agent is None or not (agent.builtin or agent.created_by_id in (None, user.id)):
            raise _bad_target("agent_id", f"there is no agent {agent_id} you can use")
    if team_id is not None:
        team = await session.get(Team, team_id)
        if team is None or team.created_by_id not in (None, user.id):
            raise _bad_target("team_id", f"there is no team {team_id} you can use")
    if workflow_id is not None:
        workflow = await session.get(Workflow, workflow_id)
        if workflow is None or workflow.user_id not in (None, user.id):
            raise _bad_target("workflow_id", f"there is no workflow {workflow_id} you can use")


def _bad_target(field: str, message: str) -> ApiError:
    return ApiError(message, status=422, details=[{"field": f"body: {field}", "message": message}])


async def _owned(session: AsyncSession, user: User, webhook_id: int) -> Webhook:
    row = await session.get(Webhook, webhook_id)
    if row is None or row.user_id != user.id:
        raise NotFound(f"there is no webhook {webhook_id}")
    return row


async def _name_taken(session: AsyncSession, user: User, name: str, but: int | None) -> bool:
    stmt = select(Webhook.id).where(Webhook.user_id == user.id, Webhook.name == name)
    if but is not None:
        stmt = stmt.where(Webhook.id != but)
    return (await session.scalar(stmt.limit(1))) is not None


async def _flush_unique(session: AsyncSession, name: str) -> None:
    # The pre-check covers the usual case; this covers two requests racing for one name.
    try:
        async with session.begin_nested():
            await session.flush()
    except IntegrityError as err:
        raise Conflict(f"you already have a webhook named {name!r}") from err


@router.get("", operation_id="list_webhooks")
async def list_webhooks(
    user: CurrentUser, session: SessionDep, params: ListParams
) -> Page[WebhookOut]:
    """Your webhooks (never their secrets)."""
    stmt = order_by(
        select(Webhook).where(Webhook.user_id == user.id),
        params.sort,
        {
            "created_at": Webhook.created_at,
            "name": Webhook.name,
            "last_delivery_at": Webhook.last_delivery_at,
        },
        "created_at",
        Webhook.id,
    )
    rows, total = await paginate(session, stmt, params)
    return Page(
        items=[WebhookOut.of(r) for r in rows],
        total=total,
        limit=params.limit,
        offset=params.offset,
    )


@router.post(
    "",
    operation_id="create_webhook",
    status_code=status.HTTP_201_CREATED,
    responses={409: {"description": "You already have a webhook of that name"}},
)
async def create_webhook(
    body: WebhookIn, user: CurrentUser, session: SessionDep, angie: AngieDep
) -> NewWebhookOut:
    """Make a webhook; its signing secret is shown only now."""
    values = body.model_dump()
    await _check_target(session, user, values)
    if await _name_taken(session, user, body.name, None):
        raise Conflict(f"you already have a webhook named {body.name!r}")
    secret, ciphertext = _new_secret(angie)
    row = Webhook(
        hook_id=secrets.token_urlsafe(24),
        user_id=user.id,
        secret_ciphertext=ciphertext,
        **values,
    )
    session.add(row)
    await _flush_unique(session, body.name)
    await session.refresh(row)
    return _with_secret(row, secret)


@router.get("/{webhook_id}", operation_id="get_webhook")
async def get_webhook(webhook_id: Id, user: CurrentUser, session: SessionDep) -> WebhookOut:
    """One of your webhooks (never its secret)."""
    return WebhookOut.of(await _owned(session, user, webhook_id))


@router.patch(
    "/{webhook_id}",
    operation_id="update_webhook",
    responses={409: {"description": "You already have a webhook of that name"}},
)
async def update_webhook(
    webhook_id: Id, body: WebhookPatch, user: CurrentUser, session: SessionDep
) -> WebhookOut:
    """Rename a webhook, change what it runs or its instruction, enable or disable it."""
    row = await _owned(session, user, webhook_id)
    changes = body.model_dump(exclude_unset=True)
    for key in ("name", "instruction", "enabled"):
        if key in changes and changes[key] is None:
            raise ApiError(f"{key} cannot be null", status=422)
    if any(key in changes for key in TARGETS):
        target = {key: changes.get(key) for key in TARGETS}
        await _check_target(session, user, target)
        changes.update(target)
    if "name" in changes and await _name_taken(session, user, changes["name"], row.id):
        raise Conflict(f"you already have a webhook named {changes['name']!r}")
    for key, value in changes.items():
        setattr(row, key, value)
    await _flush_unique(session, row.name)
    await session.refresh(row)
    return WebhookOut.of(row)


@router.delete("/{webhook_id}", operation_id="delete_webhook", status_code=204)
async def delete_webhook(webhook_id: Id, user: CurrentUser, session: SessionDep) -> None:
    """Delete a webhook; deliveries to its address are refused from now on."""
    await session.delete(await _owned(session, user, webhook_id))


@router.post("/{webhook_id}/rotate", operation_id="rotate_webhook_secret")
async def rotate_webhook_secret(
    webhook_id: Id, user: CurrentUser, session: SessionDep, angie: AngieDep
) -> NewWebhookOut:
    """Give a webhook a new signing secret, shown only now; the old one stops working at once."""
    row = await _owned(session, user, webhook_id)
    secret, row.secret_ciphertext = _new_secret(angie)
    await session.flush()
    await session.refresh(row)
    return _with_secret(row, secret)
