"""``POST /api/hooks/{hook_id}``: a signed delivery from outside becomes an untrusted event.

No bearer token: the HMAC signature is the authentication. The signed text is
``"<X-Angie-Timestamp>." + <raw body>``, signed with HMAC-SHA256 and the hook's secret and sent
as ``X-Angie-Signature: sha256=<hex>``; a timestamp more than five minutes away is refused.

The body: with a JSON content type (``application/json`` or ``*/*+json``) it must be valid JSON
and is passed on as parsed; any other content type must be UTF-8 text and is passed on as
``{"raw": <text>}``; an empty body is ``{}``.

A delivery is processed once: its ``X-Angie-Delivery`` id (or, without one, its signature) is
the event's dedupe key, so a sender's retry or a replay inside the window is one event and one
task. Because that header is not signed, a signature already accepted in the window is also
remembered (per process) so a captured delivery resent under a new delivery id is still a replay.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import time
from dataclasses import dataclass
from functools import lru_cache
from typing import Annotated, Any

from fastapi import APIRouter, Header, Request, Response, status
from sqlalchemy import select, update

from angie.api.deps import ServicesDep
from angie.api.errors import ApiError
from angie.api.schemas import Out
from angie.api.visibility import TARGET_FIELDS
from angie.db.base import utcnow
from angie.db.crypto import SecretBox, credential_box
from angie.db.engine import Database
from angie.db.models import EventType, User, Webhook
from angie.errors import Invalid, NotFound
from angie.events.router import NewEvent

__all__ = ("MAX_DELIVERY_BYTES", "REPLAY_WINDOW_SECONDS", "DeliveryOut", "router", "signature")

router = APIRouter(prefix="/hooks", tags=["hooks"])

MAX_DELIVERY_BYTES = 256 * 1024
REPLAY_WINDOW_SECONDS = 300
_SIGNATURE = re.compile(r"^sha256=([0-9a-f]{64})$")
_DELIVERY_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
_TIMESTAMP = re.compile(r"^[0-9]{1,12}$")
_SIGNATURE_AUTH = {"WWW-Authenticate": 'Signature realm="angie-hooks"'}


def signature(secret: str, timestamp: str, body: bytes) -> str:
    """The ``X-Angie-Signature`` value for a delivery: ``sha256=<hex>``."""
    mac = hmac.new(secret.encode("utf-8"), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"sha256={mac.hexdigest()}"


class DeliveryOut(Out):
    event_id: int
    task_id: int | None
    duplicate: bool


@dataclass(frozen=True, slots=True)
class _Hook:
    id: int
    user_id: int
    name: str
    secret_ciphertext: bytes
    enabled: bool
    instruction: str
    target: dict[str, int]


@lru_cache(maxsize=4)
def _keys(secret_key: str) -> tuple[SecretBox, bytes]:
    """The credentials box and a decoy ciphertext, decrypted for unknown hooks too."""
    box = credential_box(secret_key)
    return box, box.encrypt("decoy")


def _unauthorized(message: str) -> ApiError:
    return ApiError(message, status=401, headers=_SIGNATURE_AUTH)


async def _read_body(request: Request) -> bytes:
    declared = request.headers.get("content-length")
    too_large = ApiError(f"a delivery is limited to {MAX_DELIVERY_BYTES} bytes", status=413)
    if declared is not None and declared.isdigit() and int(declared) > MAX_DELIVERY_BYTES:
        raise too_large
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_DELIVERY_BYTES:
            raise too_large
    return bytes(body)


async def _find(database: Database, hook_id: str) -> _Hook | None:
    if len(hook_id) > 64:
        return None
    async with database.session() as session:
        found = (
            await session.execute(
                select(Webhook, User.is_active)
                .join(User, User.id == Webhook.user_id)
                .where(Webhook.hook_id == hook_id)
            )
        ).one_or_none()
        if found is None:
            return None
        row, owner_active = found
        target = {key: getattr(row, key) for key in TARGET_FIELDS}
        return _Hook(
            id=row.id,
            user_id=row.user_id,
            name=row.name,
            secret_ciphertext=row.secret_ciphertext,
            # A deactivated person's hooks act for nobody: they answer as unknown.
            enabled=row.enabled and owner_active,
            instruction=row.instruction,
            target={key: value for key, value in target.items() if value is not None},
        )


def _verify(
    hook: _Hook | None, box: SecretBox, decoy: bytes, *, ts: str, sig: str, body: bytes
) -> _Hook:
    """The hook, if the delivery is to an enabled hook, well signed and inside the window."""
    # An unknown hook and a disabled one cost the same decryption and HMAC, and answer alike.
    secret = box.decrypt(hook.secret_ciphertext if hook is not None else decoy)
    expected = signature(secret, ts, body)
    matches = hmac.compare_digest(expected.encode(), sig.encode())
    if hook is None or not hook.enabled:
        raise NotFound("there is no webhook at this address")
    if not ts:
        raise _unauthorized("the X-Angie-Timestamp header (unix seconds) is missing")
    if not sig:
        raise _unauthorized("the X-Angie-Signature header is missing")
    if not _TIMESTAMP.match(ts):
        raise _unauthorized("X-Angie-Timestamp must be a unix time in whole seconds")
    if not _SIGNATURE.match(sig):
        raise _unauthorized("X-Angie-Signature must be sha256=<64 hex digits>")
    if not matches:
        raise _unauthorized(
            'the signature does not match: sign "<timestamp>." + the raw body with '
            "HMAC-SHA256 and the webhook's current secret"
        )
    if abs(time.time() - int(ts)) > REPLAY_WINDOW_SECONDS:
        raise _unauthorized("the delivery is outside the 5-minute replay window")
    return hook


def _not_json(constant: str) -> Any:
    # Python reads NaN and Infinity, which JSON (and MySQL's JSON columns) do not allow.
    raise ValueError(f"{constant} is not JSON")


def _parse(body: bytes, content_type: str) -> Any:
    if not body.strip():
        return {}
    media = content_type.split(";", 1)[0].strip().lower()
    if media == "application/json" or media.endswith("+json"):
        try:
            return json.loads(body, parse_constant=_not_json)
        except (UnicodeDecodeError, ValueError) as err:
            raise Invalid("the body is not valid JSON") from err
        except RecursionError as err:
            raise Invalid("the body's JSON is nested too deeply") from err
    try:
        return {"raw": body.decode("utf-8")}
    except UnicodeDecodeError as err:
        raise Invalid("the body is not UTF-8 text (send JSON or text)") from err


@router.post(
    "/{hook_id}",
    operation_id="deliver_webhook",
    status_code=status.HTTP_202_ACCEPTED,
    responses={
        200: {"description": "Already delivered: the same event, not processed again"},
        401: {"description": "Missing or bad signature, or outside the replay window"},
        404: {"description": "No enabled webhook at this address"},
        413: {"description": "The body is over 256 KiB"},
    },
    openapi_extra={
        "requestBody": {
            "required": False,
            "content": {"application/json": {"schema": {}}, "text/plain": {"schema": {}}},
        }
    },
)
async def deliver_webhook(
    hook_id: str,
    request: Request,
    response: Response,
    services: ServicesDep,
    x_angie_timestamp: Annotated[
        str, Header(description="When the delivery was signed, in unix seconds.")
    ] = "",
    x_angie_signature: Annotated[
        str,
        Header(description='sha256=<hex HMAC-SHA256(secret, "<timestamp>." + raw body)>'),
    ] = "",
    x_angie_delivery: Annotated[
        str | None, Header(description="The sender's id of this delivery: a retry is one event.")
    ] = None,
) -> DeliveryOut:
    """Deliver a signed webhook: its body, fenced as untrusted data, goes to the hook's target."""
    body = await _read_body(request)
    hook = await _find(services.database, hook_id)
    box, decoy = _keys(services.settings.secret)
    ts, sig = x_angie_timestamp.strip(), x_angie_signature.strip().lower()
    hook = _verify(hook, box, decoy, ts=ts, sig=sig, body=body)
    if x_angie_delivery is not None and not _DELIVERY_ID.match(x_angie_delivery):
        raise Invalid(
            "X-Angie-Delivery must be 1 to 128 letters, digits, '.', '_', ':' or '-'",
        )
    parsed = _parse(body, request.headers.get("content-type", ""))
    # Signatures accepted within the window, shared by every API process when Redis is there:
    # a captured delivery sent again under a new delivery id is still the same event.
    seen_as = f"hook-replay:{hook.id}:{sig}"
    earlier = await services.cache.get(seen_as)
    if earlier is not None:
        response.status_code = status.HTTP_200_OK
        return DeliveryOut(event_id=earlier[0], task_id=earlier[1], duplicate=True)
    route = await services.submit(
        NewEvent(
            EventType.WEBHOOK,
            source=f"hook:{hook_id}",
            user_id=hook.user_id,
            payload={
                "body": parsed,
                "instruction": hook.instruction,
                **hook.target,
                "hook": hook.name,
                **({"delivery_id": x_angie_delivery} if x_angie_delivery is not None else {}),
            },
            dedupe_key=f"hook:{hook.id}:{x_angie_delivery or sig.removeprefix('sha256=')}",
        )
    )
    task_id = route.task.id if route.task is not None else None
    # Twice the window: a timestamp may be up to one window ahead of the clock.
    await services.cache.set(seen_as, [route.event.id, task_id], ttl=2 * REPLAY_WINDOW_SECONDS)
    if not route.created:
        response.status_code = status.HTTP_200_OK
        return DeliveryOut(event_id=route.event.id, task_id=task_id, duplicate=True)
    async with services.database.session() as session:
        await session.execute(
            update(Webhook)
            .where(Webhook.id == hook.id)
            # Keep updated_at: it says when the hook's settings last changed.
            .values(last_delivery_at=utcnow(), updated_at=Webhook.updated_at)
            .execution_options(synchronize_session=False)
        )
    return DeliveryOut(event_id=route.event.id, task_id=task_id, duplicate=False)
