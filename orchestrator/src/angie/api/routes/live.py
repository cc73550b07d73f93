"""``GET /api/live``: what changes in the person's own work, as server-sent events, so the web UI
refreshes what it shows when something happens instead of polling.

Each event says which task changed and how (it started, called a tool, asked for an approval,
replied, ended) with ids and a status only: what a page needs to know what to fetch again, never
the words or arguments themselves (those are read from the API, which checks who asks).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter
from fastapi.responses import StreamingResponse
from starlette.background import BackgroundTask

from angie.api.deps import CurrentUser, ServicesDep, SessionDep
from angie.live import LiveEvent, LiveType, Subscription

__all__ = ("event_stream", "router")

router = APIRouter(tags=["tasks"])

KEEPALIVE_SECONDS = 15.0
# What a page refetches by: the text as it is written is the chat's own stream, not this one.
_SHOWN = frozenset(LiveType) - {LiveType.TEXT}
_KEPT = ("task_id", "subtask_id", "status", "approval_id", "kind")


def _frame(event: LiveEvent) -> str:
    payload: dict[str, Any] = {k: v for k, v in event.payload.items() if k in _KEPT}
    return f"event: {event.type.value}\ndata: {json.dumps(payload, default=str)}\n\n"


@router.get(
    "/live",
    operation_id="live_updates",
    response_class=StreamingResponse,
    responses={
        200: {
            "content": {"text/event-stream": {}},
            "description": "Events `task` (status), `tool_call`, `tool_result`, `approval` "
            "(asked), `decision` (answered), `reply`, `done` and `error` of the person's own "
            "tasks, each "
            "`event: <type>` with a JSON `data:` line holding `task_id` (the top-level task), "
            "`subtask_id`, `status`, `approval_id` and `kind` where they apply; a comment "
            "line every 15 s keeps the connection open.",
        }
    },
)
async def live_updates(
    user: CurrentUser, session: SessionDep, services: ServicesDep
) -> StreamingResponse:
    """Follow changes to your tasks and approvals as they happen, until you disconnect."""
    user_id = user.id
    await session.commit()  # nothing more to read: the stream holds no transaction open
    subscription = await services.live.subscribe(user_id)

    async def frames() -> AsyncIterator[str]:
        try:
            yield ": connected\n\n"
            while True:
                event = await subscription.next(KEEPALIVE_SECONDS)
                if event is None:
                    yield ": keepalive\n\n"
                elif event.type in _SHOWN and event.user_id == user_id:
                    yield _frame(event)
        finally:
            subscription.close()

    return event_stream(frames(), subscription)


def event_stream(frames: AsyncIterator[str], subscription: Subscription) -> StreamingResponse:
    """Server-sent ``frames`` read from ``subscription``, unbuffered by proxies."""
    return StreamingResponse(
        frames,
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
        # Closes the subscription even when the client leaves before the stream starts.
        background=BackgroundTask(subscription.close),
    )
