"""The one shape every channel adapter has, and what Angie hands each adapter.

An adapter translates one platform and nothing else: it turns the platform's messages into
:class:`Inbound` (and button presses or ``yes 4821`` replies into :class:`Decision`), hands them
to Angie's :class:`Hub`, and sends what Angie writes (:class:`Outbound`, :class:`ApprovalAsk`)
back to the same thread. Who a sender is, pairing, the delivery ledger, retries and approvals
are Angie's (the hub), never the adapter's.

Thread ids are the adapter's own opaque strings (Slack: ``"C123:1712.0001"``); Angie keeps them
and gives them back unchanged. Sender ids are scoped by the adapter so they are unique on the
platform (Slack: ``"T123:U456"``; email: the lower-cased address).
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

__all__ = (
    "ApprovalAsk",
    "Channel",
    "ChannelError",
    "Decision",
    "Hub",
    "Inbound",
    "Link",
    "Outbound",
    "Sender",
    "Sent",
    "State",
    "WebhookReply",
    "WebhookRequest",
)


class State(enum.StrEnum):
    """What an adapter reports of its connection (Angie shows it in ``angie channels status``)."""

    CONNECTING = "connecting"
    CONNECTED = "connected"
    FAILED = "failed"


class ChannelError(Exception):
    """The platform refused or could not be reached; the message says what is wrong in words a
    person can act on ("the bot token was revoked", "Slack is rate limiting: retry in 30 s").

    ``permanent``: trying again will not help (bad credentials, a channel the bot is not in);
    ``retry_after``: the platform said when to try again (seconds)."""

    def __init__(
        self, message: str, *, permanent: bool = False, retry_after: float | None = None
    ) -> None:
        super().__init__(message)
        self.permanent = permanent
        self.retry_after = retry_after


@dataclass(frozen=True, slots=True)
class Sender:
    """Who wrote, as the platform names them: ``id`` is unique on the platform."""

    id: str
    name: str | None = None


@dataclass(frozen=True, slots=True)
class Inbound:
    """One message from the platform to Angie."""

    message_id: str  # the platform's id, unique per channel kind: a redelivery is dropped
    sender: Sender
    thread: str  # where the answer goes
    text: str  # with Angie's own @-mention taken out
    direct: bool = True  # a direct message (False: a mention in a shared channel)
    # Content from outside the household (an email): fenced, read-only unless approved.
    untrusted: bool = False


@dataclass(frozen=True, slots=True)
class Decision:
    """An answer to an approval request: a button (``ref``) or a reply with its code."""

    sender: Sender
    thread: str
    approve: bool
    ref: str | None = None  # the ``ref`` of the :class:`ApprovalAsk` the button carried
    code: str | None = None  # the one-time code the person typed (``yes 4821``)
    message_id: str | None = None  # the platform's id of the decision itself, for dedupe


@dataclass(frozen=True, slots=True)
class Outbound:
    """A message from Angie: ``mention`` is the platform id of whom to @-mention, if anyone."""

    thread: str
    text: str
    mention: str | None = None


@dataclass(frozen=True, slots=True)
class ApprovalAsk:
    """Angie asks before a side effect. Buttons carry ``ref``; channels without buttons ask for
    a reply ``yes <code>`` / ``no <code>``. Neither is the approval's id."""

    thread: str
    text: str
    ref: str
    code: str
    mention: str | None = None


@dataclass(frozen=True, slots=True)
class Sent:
    """What the platform answered a send with: its id for the message (to update it later)."""

    message_id: str
    thread: str | None = None  # the thread the message started, where the platform made one


@dataclass(frozen=True, slots=True)
class Link:
    """A sender Angie does not know yet: the pairing code they got."""

    code: str


@dataclass(frozen=True, slots=True)
class WebhookRequest:
    """An HTTP request a platform sent to Angie for this adapter (Slack's Events API,
    BlueBubbles' webhook), as the API received it."""

    method: str
    path: str
    headers: Mapping[str, str]
    query: Mapping[str, str]
    body: bytes


@dataclass(frozen=True, slots=True)
class WebhookReply:
    status: int = 200
    body: bytes = b""
    headers: Mapping[str, str] = field(default_factory=dict)


class Hub(Protocol):
    """What Angie gives an adapter: where messages and decisions go, and where it reports its
    connection. The hub answers an unknown sender itself (with a pairing code)."""

    async def received(self, message: Inbound) -> None: ...

    async def decided(self, decision: Decision) -> str | None:
        """Apply the decision; returns what the approval message should now say (``None``: the
        decision was refused, e.g. not the owner's, and nothing changes)."""
        ...

    def report(self, state: State, detail: str | None = None) -> None: ...


@runtime_checkable
class Channel(Protocol):
    """One platform, for one person's settings: Slack, Discord, iMessage, email."""

    kind: str

    async def check(self) -> str:
        """Check the credentials live (Slack ``auth.test``, Discord ``/users/@me``, IMAP login
        and SMTP EHLO, BlueBubbles ping); returns who Angie is there ("@angie in Home"), or
        raises :class:`ChannelError` saying exactly what is wrong."""
        ...

    async def start(self, hub: Hub) -> None:
        """Connect and start handing messages to ``hub``; returns once connecting has begun
        (the adapter reports ``connected`` or ``failed`` through the hub)."""
        ...

    async def stop(self) -> None: ...

    async def send(self, message: Outbound) -> Sent: ...

    async def ask_approval(self, ask: ApprovalAsk) -> Sent: ...

    async def show_decision(self, thread: str, message_id: str, text: str) -> None:
        """Update an approval request already sent (buttons gone, the decision shown); a
        channel that cannot edit messages replies in the thread instead."""
        ...

    def mention(self, sender_id: str) -> str:
        """How to @-mention someone in text (``<@U456>``)."""
        ...

    async def webhook(self, request: WebhookRequest) -> WebhookReply:
        """A platform's HTTP call to Angie for this adapter (404 for adapters without one);
        the adapter verifies it (signature, secret) before anything is read."""
        ...
