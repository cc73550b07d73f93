"""A chat channel in memory: what Angie's channel hub sees of a platform, for the hub's own
tests (the platform adapters are tested against their platforms' fakes)."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from angie_channels.base import (
    ApprovalAsk,
    ChannelError,
    Decision,
    Hub,
    Inbound,
    Outbound,
    Sender,
    Sent,
    State,
    WebhookReply,
    WebhookRequest,
)

__all__ = ("MemoryChannel", "factory")

_ids = itertools.count(1)


@dataclass
class MemoryChannel:
    kind: str = "slack"
    hub: Hub | None = None
    sent: list[Outbound] = field(default_factory=list)
    asks: list[ApprovalAsk] = field(default_factory=list)
    shown: list[tuple[str, str, str]] = field(default_factory=list)
    # Sends fail while down (the platform is away) or refused (it will never take them).
    down: bool = False
    refused: bool = False
    attempts: int = 0
    started: int = 0
    stopped: int = 0

    async def check(self) -> str:
        return "Angie in memory"

    async def start(self, hub: Hub) -> None:
        self.hub = hub
        self.started += 1
        hub.report(State.CONNECTED)

    async def stop(self) -> None:
        self.stopped += 1

    def _attempt(self) -> None:
        self.attempts += 1
        if self.refused:
            raise ChannelError("the platform refused the message", permanent=True)
        if self.down:
            raise ChannelError("the platform is down", retry_after=0.05)

    async def send(self, message: Outbound) -> Sent:
        self._attempt()
        self.sent.append(message)
        return Sent(f"m{next(_ids)}")

    async def ask_approval(self, ask: ApprovalAsk) -> Sent:
        self._attempt()
        self.asks.append(ask)
        return Sent(f"m{next(_ids)}")

    async def show_decision(self, thread: str, message_id: str, text: str) -> None:
        self._attempt()
        self.shown.append((thread, message_id, text))

    def mention(self, sender_id: str) -> str:
        return f"<@{sender_id}>"

    async def webhook(self, request: WebhookRequest) -> WebhookReply:
        return WebhookReply(404)

    # -- the platform's side -----------------------------------------------------------------

    async def write(
        self,
        sender: str,
        text: str,
        *,
        thread: str = "dm-1",
        message_id: str | None = None,
        direct: bool = True,
        untrusted: bool = False,
        name: str | None = None,
    ) -> str:
        """Someone writes to Angie; returns the message's id."""
        assert self.hub is not None, "the channel has not been started"
        message_id = message_id or f"in-{next(_ids)}"
        await self.hub.received(
            Inbound(message_id, Sender(sender, name), thread, text, direct, untrusted)
        )
        return message_id

    async def press(
        self, sender: str, *, approve: bool, ref: str | None = None, code: str | None = None
    ) -> str | None:
        """Someone presses Approve/Deny (``ref``) or replies with a code."""
        assert self.hub is not None, "the channel has not been started"
        thread = self.asks[-1].thread if self.asks else "dm-1"
        return await self.hub.decided(Decision(Sender(sender), thread, approve, ref, code))

    async def wait_for(self, what: str, count: int = 1, within: float = 30.0) -> None:
        """Until ``count`` items are in ``sent``, ``asks`` or ``shown``."""
        async with asyncio.timeout(within):
            while len(getattr(self, what)) < count:  # noqa: ASYNC110 - the hub appends, no event
                await asyncio.sleep(0.02)


def factory(channels: Mapping[str, MemoryChannel]) -> Any:
    """A channel factory for Angie handing out these channels by kind."""

    def create(kind: str, config: Mapping[str, Any], secrets: Mapping[str, str]) -> MemoryChannel:
        return channels[kind]

    return create
