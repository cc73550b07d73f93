"""``/api/chat``: talk with Angie and watch her work: wait for her reply, follow it as
server-sent events, or keep a WebSocket open for every chat of yours."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncGenerator, AsyncIterator
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Response, WebSocket, status
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field, ValidationError
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from angie.accounts.auth import AuthService, SignIn
from angie.api.deps import CurrentUser, ServicesDep, SessionDep
from angie.api.page_context import PageContext, Subject, describe
from angie.api.routes.live import KEEPALIVE_SECONDS, event_stream
from angie.api.schemas import Body
from angie.db.models import ChannelKind, EventType, Message, MessageRole, TaskStatus, User
from angie.errors import AngieError, Unavailable
from angie.events.router import NewEvent
from angie.feedback import conversation_for
from angie.live import LiveEvent, LiveType, Subscription
from angie.services import Services
from angie.tasks.service import TERMINAL

__all__ = ("ChatIn", "ChatOut", "router")

log = logging.getLogger(__name__)

router = APIRouter(prefix="/chat", tags=["chat"])


def _for_chat(event: LiveEvent) -> bool:
    """A task's status changes and answered approvals are for pages that show tasks (GET
    /api/live): a chat has its own frames for them (its ``task`` frame, with the conversation;
    ``done``)."""
    if event.type is LiveType.DECISION:
        return False
    return not (event.type is LiveType.TASK and "status" in event.data)


AUTH_SECONDS = 10.0
# How often a follower also asks the database: a cancelled task sends no reply, and a listener
# too slow for its queue may miss one; the database still knows how the task ended.
CHECK_SECONDS = 1.0
AUTH_FAILED = 4401
# How often an idle socket asks whether its sign-in still holds (each message asks too).
SIGN_IN_CHECK_SECONDS = 30.0
_AUTH_FRAME = '{"type": "auth", "token": "..."}'

Text = Annotated[str, Field(min_length=1, max_length=20_000, description="What you say to Angie.")]
Thread = Annotated[
    str,
    Field(min_length=1, max_length=255, description="The conversation thread it belongs to."),
]


PageContextField = Annotated[
    PageContext | None,
    Field(
        description="What you are looking at (a task, workflow, agent, team or event of yours): "
        "Angie is told about it with the message."
    ),
]


class ChatIn(Body):
    text: Text
    thread: Thread = "api"
    context: PageContextField = None


class ChatOut(BaseModel):
    task_id: int
    status: TaskStatus = Field(description="The task's status when the reply came (or not).")
    reply: str | None = Field(description="Angie's reply; null when she is still working.")
    conversation_id: int


class _MessageFrame(Body):
    type: Literal["message"]
    text: Text
    thread: Thread = "web"
    context: PageContextField = None


# -- following a task ------------------------------------------------------------------------


async def _subject(services: Services, user: User, context: PageContext | None) -> Subject | None:
    """What the person is looking at, read for them alone (a 422 when it is not theirs)."""
    if context is None:
        return None
    async with services.database.session() as session:
        return await describe(session, user, context)


async def _start(
    services: Services,
    user_id: int,
    channel: ChannelKind,
    thread: str,
    text: str,
    subject: Subject | None = None,
) -> tuple[int, int]:
    """Submit the message as an event; returns (task id, conversation id)."""
    async with services.database.session() as session:
        conversation_id = (await conversation_for(session, user_id, channel, thread)).id
    payload: dict[str, Any] = {"text": text}
    if subject is not None:
        payload["context"] = subject.payload()
    route = await services.submit(
        NewEvent(
            EventType.MESSAGE,
            source="api",
            user_id=user_id,
            channel=channel,
            thread=thread,
            payload=payload,
        )
    )
    if route.task is None:
        raise Unavailable("Angie's event rules ignore chat messages, so nobody will answer")
    return route.task.id, conversation_id


def _event(type: LiveType, task_id: int | None, user_id: int, **data: Any) -> LiveEvent:
    return LiveEvent(type, task_id, user_id, data, root_id=task_id, chat=True)


async def _last_reply(services: Services, task_id: int) -> str | None:
    async with services.database.session() as session:
        return await session.scalar(
            select(Message.content)
            .where(Message.task_id == task_id, Message.role == MessageRole.ASSISTANT)
            .order_by(Message.id.desc())
            .limit(1)
        )


async def _follow(
    services: Services, subscription: Subscription, task_id: int, user_id: int, beat: float | None
) -> AsyncGenerator[LiveEvent | None]:
    """The task's live events until it is done, and None every ``beat`` idle seconds.

    A task seen ended in the database on two checks in a row without its ``done`` (cancelled,
    or the events were lost) ends the stream with what the database says.
    """
    loop = asyncio.get_running_loop()
    last_beat = last_check = loop.time()
    ended = replied = False
    while True:
        due = last_check + CHECK_SECONDS
        if beat is not None:
            due = min(due, last_beat + beat)
        event = await subscription.next(max(0.0, due - loop.time()))
        if event is not None and not _for_chat(event):
            event = None
        if event is not None:
            final = event.type is LiveType.REPLY and event.data.get("kind") != "approval_request"
            replied = replied or final
            last_beat = loop.time()
            yield event
            if event.type is LiveType.DONE:
                return
        now = loop.time()
        if beat is not None and now - last_beat >= beat:
            last_beat = now
            yield None
        if now - last_check < CHECK_SECONDS:
            continue
        last_check = now
        task = await services.tasks.get(task_id)
        if task is not None and task.status not in TERMINAL:
            ended = False
            continue
        if not ended:
            ended = True
            continue
        if task is None:
            yield _event(LiveType.ERROR, task_id, user_id, message=f"task {task_id} is gone")
            return
        text = None if replied else await _last_reply(services, task_id)
        if text is not None:
            kind = "result" if task.status is TaskStatus.SUCCEEDED else "failure"
            yield _event(LiveType.REPLY, task_id, user_id, text=text, kind=kind)
        yield _event(LiveType.DONE, task_id, user_id, status=task.status.value)
        return


# -- HTTP ------------------------------------------------------------------------------------


@router.post(
    "",
    operation_id="chat",
    responses={
        202: {"model": ChatOut, "description": "No reply within `wait` seconds: still working."}
    },
)
async def chat(
    body: ChatIn,
    user: CurrentUser,
    session: SessionDep,
    services: ServicesDep,
    response: Response,
    wait: Annotated[
        float, Query(ge=1, le=300, description="Seconds to wait for Angie's reply.")
    ] = 60,
) -> ChatOut:
    """Say something to Angie and wait (up to `wait` seconds) for her reply."""
    user_id = user.id
    subject = await _subject(services, user, body.context)
    await session.commit()  # nothing of this request's session stays open while she works
    reply: LiveEvent | None = None
    with await services.live.subscribe(user_id) as subscription:
        task_id, conversation_id = await _start(
            services, user_id, ChannelKind.API, body.thread, body.text, subject
        )
        subscription.follow(task_id)
        with contextlib.suppress(TimeoutError):
            async with (
                asyncio.timeout(wait),
                contextlib.aclosing(
                    _follow(services, subscription, task_id, user_id, None)
                ) as events,
            ):
                async for event in events:
                    if event is not None and event.type in (LiveType.REPLY, LiveType.DONE):
                        reply = event
                        break
    task = await services.tasks.require(task_id)
    state = task.status
    if reply is None:
        response.status_code = status.HTTP_202_ACCEPTED
    elif reply.data.get("kind") == "approval_request" and state not in TERMINAL:
        state = TaskStatus.AWAITING_APPROVAL  # her run is stopping to wait for your answer
    text = reply.data.get("text") if reply is not None else None
    return ChatOut(
        task_id=task_id,
        status=state,
        reply=text if isinstance(text, str) else None,
        conversation_id=conversation_id,
    )


def _sse(event: LiveEvent) -> str:
    return f"event: {event.type.value}\ndata: {json.dumps(event.payload, default=str)}\n\n"


@router.post(
    "/stream",
    operation_id="chat_stream",
    response_class=StreamingResponse,
    responses={
        200: {
            "content": {"text/event-stream": {}},
            "description": "Events `task`, `text`, `tool_call`, `tool_result`, `approval`, "
            "`reply`, `done` and `error`, each `event: <type>` with a JSON `data:` line.",
        }
    },
)
async def chat_stream(
    body: ChatIn, user: CurrentUser, session: SessionDep, services: ServicesDep
) -> StreamingResponse:
    """Say something to Angie and follow her work as server-sent events until she is done."""
    user_id = user.id
    subject = await _subject(services, user, body.context)
    await session.commit()
    subscription = await services.live.subscribe(user_id)
    try:
        task_id, conversation_id = await _start(
            services, user_id, ChannelKind.API, body.thread, body.text, subject
        )
    except BaseException:
        subscription.close()
        raise
    subscription.follow(task_id)

    async def frames() -> AsyncIterator[str]:
        try:
            yield _sse(_event(LiveType.TASK, task_id, user_id, conversation_id=conversation_id))
            async for event in _follow(services, subscription, task_id, user_id, KEEPALIVE_SECONDS):
                yield ": keepalive\n\n" if event is None else _sse(event)
        finally:
            subscription.close()

    return event_stream(frames(), subscription)


# -- WebSocket -------------------------------------------------------------------------------


async def _receive(websocket: WebSocket) -> str | None:
    """The next frame's text; None once the client has gone."""
    message = await websocket.receive()
    if message["type"] == "websocket.disconnect":
        return None
    if message.get("text") is not None:
        return str(message["text"])
    try:
        return bytes(message.get("bytes") or b"").decode()
    except UnicodeDecodeError:
        return ""


def _parse(raw: str) -> dict[str, Any] | str:
    """The frame as an object, or why it is not one."""
    try:
        frame = json.loads(raw)
    except ValueError:
        return "the frame is not valid JSON"
    if not isinstance(frame, dict) or not isinstance(frame.get("type"), str):
        return 'a frame is a JSON object with a "type"'
    return frame


async def _close_unauthorized(websocket: WebSocket, err: AngieError) -> None:
    # A close reason holds at most 123 bytes.
    await websocket.close(AUTH_FAILED, err.message.encode()[:120].decode(errors="ignore"))


async def _sign_in(websocket: WebSocket, services: Services) -> SignIn | None:
    """How the first frame signs in, or None (the socket closed with 4401)."""
    try:
        async with asyncio.timeout(AUTH_SECONDS):
            raw = await _receive(websocket)
    except TimeoutError:
        await websocket.close(
            AUTH_FAILED, f"send {_AUTH_FRAME} first, within {AUTH_SECONDS:g} seconds"
        )
        return None
    if raw is None:
        return None
    frame = _parse(raw)
    token = frame.get("token") if isinstance(frame, dict) else None
    if not isinstance(frame, dict) or frame["type"] != "auth" or not isinstance(token, str):
        await websocket.close(AUTH_FAILED, f"the first frame must be {_AUTH_FRAME}")
        return None
    auth: AuthService = websocket.app.state.services.auth
    try:
        async with services.database.session() as session:
            return await auth.sign_in(session, token)
    except AngieError as err:
        await _close_unauthorized(websocket, err)
        return None


async def _still_signed_in(websocket: WebSocket, services: Services, signed_in: SignIn) -> bool:
    """Whether the socket's sign-in still holds; if not, the socket is closed with 4401
    (logged out, every login ended by a password change, token revoked, deactivated)."""
    try:
        async with services.database.session() as session:
            await services.auth.still_signed_in(session, signed_in)
    except AngieError as err:
        with contextlib.suppress(RuntimeError):  # the client closed it meanwhile
            await _close_unauthorized(websocket, err)
        return False
    return True


async def _watch(websocket: WebSocket, services: Services, signed_in: SignIn) -> None:
    """Close an idle socket once its sign-in ends, so it stops receiving events."""
    while True:
        await asyncio.sleep(SIGN_IN_CHECK_SECONDS)
        try:
            if not await _still_signed_in(websocket, services, signed_in):
                return
        except SQLAlchemyError:
            # The database is away for a moment: ask again next time; a message asks too.
            log.warning("could not check a chat socket's sign-in", exc_info=True)


async def _forward(websocket: WebSocket, subscription: Subscription) -> None:
    while True:
        event = await subscription.next()
        if event is not None and _for_chat(event):
            frame = {"type": event.type.value, **event.payload}
            await websocket.send_text(json.dumps(frame, default=str))


async def _take(
    services: Services, subscription: Subscription, user: User, frame: dict[str, Any]
) -> None:
    """One frame after signing in: a message starts a chat task; anything else is an error."""
    user_id = user.id
    if frame["type"] != "message":
        reason = (
            "you are signed in already"
            if frame["type"] == "auth"
            else f'unknown frame type {frame["type"]!r}; send {{"type": "message", "text": "..."}}'
        )
        subscription.offer(_event(LiveType.ERROR, None, user_id, message=reason))
        return
    try:
        message = _MessageFrame.model_validate(frame)
    except ValidationError as err:
        first = err.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        text = f"{where}: {first['msg']}" if where else str(first["msg"])
        subscription.offer(_event(LiveType.ERROR, None, user_id, message=text))
        return
    try:
        subject = await _subject(services, user, message.context)
    except AngieError as err:
        subscription.offer(_event(LiveType.ERROR, None, user_id, message=err.message))
        return
    task_id, conversation_id = await _start(
        services, user_id, ChannelKind.WEB, message.thread, message.text, subject
    )
    subscription.offer(
        _event(
            LiveType.TASK,
            task_id,
            user_id,
            conversation_id=conversation_id,
            thread=message.thread,
        )
    )


@router.websocket("/ws")
async def chat_socket(websocket: WebSocket) -> None:
    """Chat over a WebSocket: authenticate, send messages, receive every live event of your
    chats (the same events as the stream, each a JSON object with its "type")."""
    services: Services = websocket.app.state.services
    await websocket.accept()
    signed_in = await _sign_in(websocket, services)
    if signed_in is None:
        return
    user_id = signed_in.user.id
    with await services.live.subscribe(user_id, chats_only=True) as subscription:
        sender = asyncio.create_task(_forward(websocket, subscription), name="angie-chat-ws")
        watcher = asyncio.create_task(
            _watch(websocket, services, signed_in), name="angie-chat-ws-sign-in"
        )
        try:
            while not sender.done() and not watcher.done():
                raw = await _receive(websocket)
                if raw is None:
                    return
                if not await _still_signed_in(websocket, services, signed_in):
                    return
                frame = _parse(raw)
                if isinstance(frame, str):
                    subscription.offer(_event(LiveType.ERROR, None, user_id, message=frame))
                    continue
                try:
                    await _take(services, subscription, signed_in.user, frame)
                except Exception:
                    log.exception("could not take a chat message from user %s", user_id)
                    subscription.offer(
                        _event(
                            LiveType.ERROR,
                            None,
                            user_id,
                            message="Angie could not take that message; see her log",
                        )
                    )
        finally:
            for helper in (sender, watcher):
                helper.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await helper
