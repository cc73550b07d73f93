"""The background watch on Angie's inbox: connect, hand every unseen mail on, IDLE (or poll),
and reconnect with exponential backoff when the connection drops."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

from angie_channels.base import ChannelError, Hub, State
from angie_channels.email.imap import ImapSession
from angie_channels.email.security import Endpoint

__all__ = ("InboxWatcher",)

log = logging.getLogger(__name__)

# Renewed well before servers (30 min) and home routers' NAT tables forget the connection.
IDLE_SECONDS = 240.0
FIRST_RETRY = 1.0
LAST_RETRY = 300.0
# A password can be refused once by a flaky provider; three times in a row means it is wrong.
REFUSALS_BEFORE_FAILING = 3


class InboxWatcher:
    def __init__(
        self,
        endpoint: Endpoint,
        hub: Hub,
        on_mail: Callable[[bytes], Awaitable[None]],
        *,
        poll_seconds: float,
    ) -> None:
        self._endpoint = endpoint
        self._hub = hub
        self._on_mail = on_mail
        self._poll_seconds = poll_seconds
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._hub.report(State.CONNECTING)
        self._task = asyncio.create_task(self._run(), name=f"email inbox {self._endpoint.where}")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _run(self) -> None:
        refusals = 0
        delay = FIRST_RETRY
        while True:
            try:
                session = await ImapSession.open(self._endpoint)
            except ChannelError as err:
                refusals = refusals + 1 if err.permanent else 0
                if refusals >= REFUSALS_BEFORE_FAILING:
                    self._hub.report(State.FAILED, str(err))
                    return
                self._hub.report(State.CONNECTING, str(err))
                log.warning("email: %s; trying again in %.0f s", err, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, LAST_RETRY)
                continue
            refusals, delay = 0, FIRST_RETRY
            self._hub.report(State.CONNECTED)
            try:
                await self._follow(session)
            except ChannelError as err:
                self._hub.report(State.CONNECTING, str(err))
                log.warning("email: %s; reconnecting", err)
            finally:
                await session.close()

    async def _follow(self, session: ImapSession) -> None:
        while True:
            for uid in await session.unseen():
                raw = await session.fetch(uid)
                if raw is not None:
                    try:
                        await self._on_mail(raw)
                    except Exception:
                        # Left unseen, so it is handed on again at the next look.
                        log.exception("email: Angie could not take in mail %s; kept unseen", uid)
                        continue
                # Seen only once handed on: a crash in between hands it on again, and the hub
                # drops the repeat by its Message-ID.
                await session.mark_seen(uid)
            if session.idle_supported:
                await session.wait_for_news(IDLE_SECONDS)
            else:
                await asyncio.sleep(self._poll_seconds)
                await session.noop()
