"""``/api/webhooks``: each person's webhooks (an address, a signing secret shown once, a target).

Deliveries to a hook's address are handled in :mod:`angie.api.routes.webhook_deliveries`.
"""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Annotated, Any, Self

from fastapi import APIRouter, Query, status
from pydantic import BaseModel, Field, model_validator
from sqlalchemy import and_, select

from angie.api.deps import CurrentUser, ServicesDep, SessionDep
from angie.api.paging import query_page
from angie.api.schemas import Body, ListParams, Out, Page, order_by
from angie.api.validation import PathId, RowId, UniqueName, reject_nulls
from angie.api.visibility import TARGET_FIELDS, at_most_one_target, check_target, owned
from angie.db.crypto import credential_box
from angie.db.models import Event, EventStatus, EventType, Task, TaskStatus, Webhook
from angie.services import Services

__all__ = (
    "DeliveriesOut",
    "DeliveryRecordOut",
    "NewWebhookOut",
    "WebhookOut",
    "hook_url",
    "router",
)

router = APIRouter(prefix="/webhooks", tags=["webhooks"])
_NAMES = UniqueName(
    Webhook.id, Webhook.name, "you already have a webhook named {name!r}", Webhook.user_id
)


def hook_url(hook_id: str) -> str:
    return f"/api/hooks/{hook_id}"


class WebhookIn(Body):
    name: str = Field(min_length=1, max_length=120)
    agent_id: RowId | None = None
    team_id: RowId | None = None
    workflow_id: RowId | None = None
    instruction: str = Field(
        default="",
        max_length=10_000,
        description="What to do with each delivery; its body is passed along as untrusted data.",
    )
    enabled: bool = True

    @model_validator(mode="after")
    def _at_most_one_target(self) -> Self:
        at_most_one_target(self.model_dump())
        return self


class WebhookPatch(Body):
    """Fields left out are kept. Naming any target replaces the target: the others are cleared."""

    name: str | None = Field(default=None, min_length=1, max_length=120)
    agent_id: RowId | None = None
    team_id: RowId | None = None
    workflow_id: RowId | None = None
    instruction: str | None = Field(default=None, max_length=10_000)
    enabled: bool | None = None

    @model_validator(mode="after")
    def _at_most_one_target(self) -> Self:
        at_most_one_target(self.model_dump())
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


class DeliveryRecordOut(BaseModel):
    event_id: int = Field(description="The event the delivery became.")
    received_at: datetime
    delivery_id: str | None = Field(
        description="The sender's X-Angie-Delivery id; null when it sent none."
    )
    status: EventStatus = Field(description="What became of the event.")
    error: str | None = Field(description="Why the event could not be routed, if it could not.")
    task_id: int | None = Field(description="The task it started, if any.")
    task_status: TaskStatus | None = Field(description="That task's status now.")


class DeliveriesOut(BaseModel):
    items: list[DeliveryRecordOut]
    limit: int


def _columns(row: Webhook) -> dict[str, Any]:
    names = WebhookOut.model_fields.keys() - {"url"}
    return {name: getattr(row, name) for name in names}


def _with_secret(row: Webhook, secret: str) -> NewWebhookOut:
    return NewWebhookOut.model_validate({**WebhookOut.of(row).model_dump(), "secret": secret})


def _new_secret(services: Services) -> tuple[str, bytes]:
    secret = secrets.token_urlsafe(32)
    return secret, credential_box(services.settings.secret).encrypt(secret)


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
    return await query_page(session, stmt, params, WebhookOut.of)


@router.post(
    "",
    operation_id="create_webhook",
    status_code=status.HTTP_201_CREATED,
    responses={409: {"description": "You already have a webhook of that name"}},
)
async def create_webhook(
    body: WebhookIn, user: CurrentUser, session: SessionDep, services: ServicesDep
) -> NewWebhookOut:
    """Make a webhook; its signing secret is shown only now."""
    values = body.model_dump()
    await check_target(session, user, values)
    await _NAMES.check(session, body.name, owner=user.id)
    secret, ciphertext = _new_secret(services)
    row = Webhook(
        hook_id=secrets.token_urlsafe(24),
        user_id=user.id,
        secret_ciphertext=ciphertext,
        **values,
    )
    session.add(row)
    await _NAMES.flush(session, body.name)
    await session.refresh(row)
    return _with_secret(row, secret)


@router.get("/{webhook_id}", operation_id="get_webhook")
async def get_webhook(webhook_id: PathId, user: CurrentUser, session: SessionDep) -> WebhookOut:
    """One of your webhooks (never its secret)."""
    return WebhookOut.of(await owned(session, Webhook, webhook_id, user))


@router.patch(
    "/{webhook_id}",
    operation_id="update_webhook",
    responses={409: {"description": "You already have a webhook of that name"}},
)
async def update_webhook(
    webhook_id: PathId, body: WebhookPatch, user: CurrentUser, session: SessionDep
) -> WebhookOut:
    """Rename a webhook, change what it runs or its instruction, enable or disable it."""
    row = await owned(session, Webhook, webhook_id, user)
    changes = body.model_dump(exclude_unset=True)
    reject_nulls(changes, nullable=TARGET_FIELDS)
    if any(key in changes for key in TARGET_FIELDS):
        # Naming one target replaces the target: the others are cleared.
        target = {key: changes.get(key) for key in TARGET_FIELDS}
        await check_target(session, user, target)
        changes.update(target)
    if "name" in changes:
        await _NAMES.check(session, changes["name"], owner=user.id, keep=row.id)
    for key, value in changes.items():
        setattr(row, key, value)
    await _NAMES.flush(session, row.name)
    await session.refresh(row)
    return WebhookOut.of(row)


@router.delete("/{webhook_id}", operation_id="delete_webhook", status_code=204)
async def delete_webhook(webhook_id: PathId, user: CurrentUser, session: SessionDep) -> None:
    """Delete a webhook; deliveries to its address are refused from now on."""
    await session.delete(await owned(session, Webhook, webhook_id, user))


@router.post("/{webhook_id}/rotate", operation_id="rotate_webhook_secret")
async def rotate_webhook_secret(
    webhook_id: PathId, user: CurrentUser, session: SessionDep, services: ServicesDep
) -> NewWebhookOut:
    """Give a webhook a new signing secret, shown only now; the old one stops working at once."""
    row = await owned(session, Webhook, webhook_id, user)
    secret, row.secret_ciphertext = _new_secret(services)
    await session.flush()
    await session.refresh(row)
    return _with_secret(row, secret)


@router.get("/{webhook_id}/deliveries", operation_id="list_webhook_deliveries")
async def list_webhook_deliveries(
    webhook_id: PathId,
    user: CurrentUser,
    session: SessionDep,
    limit: Annotated[int, Query(ge=1, le=100, description="At most this many, newest first.")] = 20,
) -> DeliveriesOut:
    """One of your webhooks' recent deliveries, newest first: when each came, what became of
    its event and the task it started (never its body)."""
    row = await owned(session, Webhook, webhook_id, user)
    started = and_(Task.event_id == Event.id, Task.parent_id.is_(None))
    found = await session.execute(
        select(Event, Task.id, Task.status)
        .outerjoin(Task, started)
        .where(
            Event.user_id == user.id,
            Event.type == EventType.WEBHOOK,
            Event.source == f"hook:{row.hook_id}",
        )
        .order_by(Event.created_at.desc(), Event.id.desc())
        .limit(limit)
    )
    items = [
        DeliveryRecordOut(
            event_id=event.id,
            received_at=event.created_at,
            delivery_id=_delivery_id(event),
            status=event.status,
            error=event.error,
            task_id=task_id,
            task_status=task_status,
        )
        for event, task_id, task_status in found
    ]
    return DeliveriesOut(items=items, limit=limit)


def _delivery_id(event: Event) -> str | None:
    value = event.payload.get("delivery_id")
    return value if isinstance(value, str) else None
