"""The channel hub: runs an adapter for each person's configured chat channel, turns what the
adapters receive into events (known senders) or pairing codes (unknown ones), applies approval
decisions made in a channel, and sends the delivery ledger's rows through the adapters.

Exactly one process runs it: ``angie serve`` or ``angie daemon``. Other processes only write
ledger rows; the hub notices them within a second (at once when it runs in the same process).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import importlib
import logging
import re
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import exists, select
from sqlalchemy.orm import aliased

from angie.agents.approvals import ApprovalError
from angie.channel_states import ChannelStates, Connection
from angie.channels.identities import Identities
from angie.channels.ledger import CHAT_KINDS, Due, Ledger, angie_thread, backoff
from angie.db.credentials import CredentialStore
from angie.db.crypto import credential_box
from angie.db.engine import Database
from angie.db.models import (
    Approval,
    ApprovalStatus,
    ChannelDelivery,
    ChannelKind,
    ChannelSetting,
    Conversation,
    DeliveryState,
    EventType,
    Message,
    MessageRole,
    OutboundKind,
    User,
)
from angie.errors import NotFound
from angie.events.router import NewEvent
from angie.feedback import conversation_for
from angie_channels.base import (
    ApprovalAsk,
    Channel,
    ChannelError,
    Decision,
    Inbound,
    Outbound,
    Sent,
    State,
    WebhookReply,
    WebhookRequest,
)
from angie_channels.kinds import KINDS

__all__ = (
    "CHAT_KINDS",
    "ChannelFactory",
    "ChannelHub",
    "Runs",
    "create_channel",
    "receives_by_webhook",
)

log = logging.getLogger(__name__)

ChannelFactory = Callable[[str, Mapping[str, Any], Mapping[str, str]], Channel]
Submit = Callable[[NewEvent], Awaitable[object]]
Decide = Callable[[int, bool, int], Awaitable[None]]
Runs = Literal["all", "webhooks", "connections"]

_RELOAD_SECONDS = 10.0
_MAX_TEXT = 20_000
_SEEN = 2_000  # inbound message ids remembered (a redelivery from an unknown sender)
# "continue here" (or /continue): this thread takes up the person's latest conversation.
_CONTINUE = re.compile(r"/?continue( (here|from (the )?\w+))?[.!]?", re.IGNORECASE)
_CONTINUED_MESSAGES = 20


def receives_by_webhook(kind: str, secrets: set[str]) -> bool:
    """Whether a saved channel hears from its platform by HTTP calls to Angie (BlueBubbles,
    Slack's Events API) rather than over a connection she keeps open."""
    return kind == "imessage" or (
        kind == "slack" and "signing_secret" in secrets and "app_token" not in secrets
    )


def create_channel(kind: str, config: Mapping[str, Any], secrets: Mapping[str, str]) -> Channel:
    """The adapter for ``kind`` from a person's saved settings and secrets."""
    spec = KINDS[kind]
    module = importlib.import_module(f"angie_channels.{kind}.adapter")
    channel: Channel = module.create(
        spec.settings.model_validate(dict(config)), spec.secrets.model_validate(dict(secrets))
    )
    return channel


async def saved_channel(
    database: Database, secret_key: str, setting: ChannelSetting, factory: ChannelFactory
) -> Channel:
    """The adapter for one saved channel (its secrets decrypted here, never logged)."""
    return factory(
        setting.channel.value, setting.config, await _secrets(database, secret_key, setting)
    )


async def _secrets(database: Database, secret_key: str, setting: ChannelSetting) -> dict[str, str]:
    spec = KINDS[setting.channel.value]
    found: dict[str, str] = {}
    async with database.session() as session:
        store = CredentialStore(session, credential_box(secret_key))
        for field in spec.secrets.model_fields:
            value = await store.get(
                f"channel.{setting.channel.value}.{field}", user_id=setting.user_id
            )
            if value is not None:
                found[field] = value
    return found


@dataclass(slots=True)
class _Running:
    setting_id: int
    user_id: int
    kind: ChannelKind
    fingerprint: str
    adapter: Channel
    link: _Link


class _Link:
    """What one adapter sees of Angie (the ``Hub`` protocol of ``angie_channels.base``)."""

    def __init__(self, hub: ChannelHub, setting_id: int, user_id: int, kind: ChannelKind) -> None:
        self.hub = hub
        self.setting_id = setting_id
        self.user_id = user_id
        self.kind = kind

    async def received(self, message: Inbound) -> None:
        await self.hub.received(self, message)

    async def decided(self, decision: Decision) -> str | None:
        return await self.hub.decided(self, decision)

    def report(self, state: State, detail: str | None = None) -> None:
        self.hub.states.report(self.user_id, self.kind.value, Connection(state.value), detail)


class ChannelHub:
    def __init__(
        self,
        database: Database,
        *,
        secret_key: Callable[[], str],
        states: ChannelStates,
        submit: Submit,
        decide: Decide,
        factory: ChannelFactory | None = None,
        poll: float = 1.0,
    ) -> None:
        self.db = database
        self.states = states
        self.identities = Identities(database)
        self.ledger = Ledger(database)
        self._secret_key = secret_key
        self._submit = submit
        self._decide = decide
        self._factory = factory or create_channel
        # Seconds between looks at the ledger when nothing woke the hub.
        self.poll = poll
        self._running: dict[int, _Running] = {}
        self._wake = asyncio.Event()
        self._reload = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._seen: OrderedDict[str, None] = OrderedDict()
        self._runs: Runs = "all"

    # -- lifecycle ---------------------------------------------------------------------------

    @property
    def started(self) -> bool:
        return bool(self._tasks)

    async def start(self, runs: Runs = "all") -> None:
        """Run the channels: ``all`` (``angie serve``), or split between the process that
        receives HTTP (``webhooks``: BlueBubbles, Slack over HTTP; ``angie api``) and the one
        that keeps connections open (``connections``: Slack's Socket Mode, Discord's gateway,
        IMAP; ``angie daemon``). Each saved channel runs in exactly one of them."""
        self._runs = runs
        if runs == "all":
            for kind in KINDS:
                self.states.running(kind)
        await self.reload()
        abandoned = await self.ledger.abandon_sending(set(self._running))
        if abandoned:
            log.warning("%d channel message(s) were being sent when Angie stopped", abandoned)
        self._tasks = [
            asyncio.create_task(self._send_loop(), name="angie-channels-send"),
            asyncio.create_task(self._reload_loop(), name="angie-channels-reload"),
        ]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._tasks.clear()
        for running in list(self._running.values()):
            await self._stop_one(running)
        for kind in KINDS:
            self.states.running(kind, on=False)

    def wake(self) -> None:
        """A ledger row was written in this process: send now rather than at the next poll."""
        self._wake.set()

    def changed(self) -> None:
        """A person's channel settings changed: start, restart or stop their adapter soon."""
        self._reload.set()

    @property
    def factory(self) -> ChannelFactory:
        return self._factory

    def adapter(self, setting_id: int) -> Channel | None:
        running = self._running.get(setting_id)
        return running.adapter if running is not None else None

    async def reload(self) -> None:
        """Run exactly the adapters of the enabled, complete channel settings."""
        async with self.db.session() as session:
            rows = list(await session.scalars(select(ChannelSetting)))
        wanted: dict[int, tuple[ChannelSetting, dict[str, str], str]] = {}
        for row in rows:
            if not row.enabled or row.channel.value not in KINDS:
                continue
            secrets = await _secrets(self.db, self._secret_key(), row)
            if KINDS[row.channel.value].missing(row.config, set(secrets)):
                continue
            if self._runs != "all" and (self._runs == "webhooks") != receives_by_webhook(
                row.channel.value, set(secrets)
            ):
                continue
            fingerprint = hashlib.sha256(
                repr((sorted(row.config.items()), sorted(secrets.items()))).encode()
            ).hexdigest()
            wanted[row.id] = (row, secrets, fingerprint)
        for setting_id, running in list(self._running.items()):
            if setting_id not in wanted or wanted[setting_id][2] != running.fingerprint:
                await self._stop_one(running)
        for setting_id, (row, secrets, fingerprint) in wanted.items():
            if setting_id not in self._running:
                await self._start_one(row, secrets, fingerprint)

    async def _start_one(
        self, row: ChannelSetting, secrets: dict[str, str], fingerprint: str
    ) -> None:
        kind = row.channel
        link = _Link(self, row.id, row.user_id, kind)
        try:
            adapter = self._factory(kind.value, row.config, secrets)
        except Exception as err:
            log.warning("the %s channel of user %s cannot start: %s", kind.value, row.user_id, err)
            self.states.report(row.user_id, kind.value, Connection.FAILED, str(err))
            return
        self._running[row.id] = _Running(row.id, row.user_id, kind, fingerprint, adapter, link)
        self.states.running(kind.value)
        self.states.report(row.user_id, kind.value, Connection.CONNECTING)
        try:
            await adapter.start(link)
        except Exception as err:
            log.warning(
                "the %s channel of user %s failed to start: %s", kind.value, row.user_id, err
            )
            self.states.report(row.user_id, kind.value, Connection.FAILED, str(err))
        log.info("the %s channel of user %s runs", kind.value, row.user_id)

    async def _stop_one(self, running: _Running) -> None:
        self._running.pop(running.setting_id, None)
        try:
            await running.adapter.stop()
        except Exception:
            log.exception("the %s channel did not stop cleanly", running.kind.value)
        self.states.report(running.user_id, running.kind.value, Connection.CONNECTING)

    # -- inbound -------------------------------------------------------------------------------

    def _first_time(self, kind: ChannelKind, message_id: str) -> bool:
        key = f"{kind.value}:{message_id}"
        if key in self._seen:
            return False
        self._seen[key] = None
        while len(self._seen) > _SEEN:
            self._seen.popitem(last=False)
        return True

    async def received(self, link: _Link, message: Inbound) -> None:
        if not self._first_time(link.kind, message.message_id):
            return
        identity = await self.identities.find(link.kind, message.sender.id)
        if identity is None:
            await self._pair(link, message)
            return
        async with self.db.session() as session:
            user = await session.get(User, identity.user_id)
            active = user is not None and user.is_active
        if not active:
            log.info("a %s message from a deactivated account was dropped", link.kind.value)
            return
        await self.identities.seen(
            identity.id, home_thread=message.thread if message.direct else None
        )
        if _CONTINUE.fullmatch(message.text.strip()):
            await self._continue(link, identity.user_id, message.thread)
            return
        payload: dict[str, Any] = {"text": message.text[:_MAX_TEXT], "sender": message.sender.id}
        if message.untrusted:
            payload["untrusted"] = True
        await self._submit(
            NewEvent(
                EventType.MESSAGE,
                source=link.kind.value,
                user_id=identity.user_id,
                channel=link.kind,
                thread=angie_thread(link.setting_id, message.thread)[:255],
                payload=payload,
                dedupe_key=_dedupe_key(link.kind, message.message_id),
            )
        )

    async def _continue(self, link: _Link, user_id: int, thread: str) -> None:
        """ "continue here": this thread picks up the person's latest conversation elsewhere
        (its summary and recent messages, outside content still marked as such)."""
        here = angie_thread(link.setting_id, thread)[:255]
        async with self.db.session() as session:
            target = await conversation_for(session, user_id, link.kind, here)
            source = await session.scalar(
                select(Conversation)
                .where(Conversation.user_id == user_id, Conversation.id != target.id)
                .order_by(Conversation.updated_at.desc(), Conversation.id.desc())
                .limit(1)
            )
            if source is None:
                text = "There is no earlier conversation to continue; let's start here."
            else:
                recent = list(
                    await session.scalars(
                        select(Message)
                        .where(
                            Message.conversation_id == source.id,
                            Message.role.in_((MessageRole.USER, MessageRole.ASSISTANT)),
                        )
                        .order_by(Message.id.desc())
                        .limit(_CONTINUED_MESSAGES)
                    )
                )
                target.summary = source.summary
                for old in reversed(recent):
                    session.add(
                        Message(
                            conversation_id=target.id,
                            role=old.role,
                            content=old.content,
                            tainted_by=old.tainted_by,
                        )
                    )
                where = (
                    "the web"
                    if source.channel.value in ("web", "api", "cli")
                    else (source.channel.value)
                )
                text = f"Picking up our conversation from {where} here."
            Ledger.add(
                session,
                user_id=user_id,
                channel=link.kind,
                setting_id=link.setting_id,
                thread=thread,
                kind=OutboundKind.MESSAGE,
                text=text,
            )
        self.wake()

    async def _pair(self, link: _Link, message: Inbound) -> None:
        pairing = await self.identities.pairing(
            link.kind,
            message.sender.id,
            display=message.sender.name,
            setting_id=link.setting_id,
            home_thread=message.thread,
        )
        if pairing is None:
            return
        hello = f"Hi {message.sender.name}" if message.sender.name else "Hi"
        text = (
            f"{hello}, I'm Angie. I don't know you yet, so I can't do anything for you here. "
            f"If you live here, sign in to Angie and run `angie channels link {pairing.code}` "
            "within the hour; then write to me again."
        )
        async with self.db.session() as session:
            Ledger.add(
                session,
                user_id=link.user_id,
                channel=link.kind,
                setting_id=link.setting_id,
                thread=message.thread,
                kind=OutboundKind.MESSAGE,
                text=text,
            )
        self.wake()

    async def decided(self, link: _Link, decision: Decision) -> str | None:
        """Apply an approval decision made in the channel, if it is the asker's own."""
        identity = await self.identities.find(link.kind, decision.sender.id)
        if identity is None:
            return None
        async with self.db.session() as session:
            query = select(ChannelDelivery).where(
                ChannelDelivery.kind == OutboundKind.APPROVAL,
                ChannelDelivery.channel == link.kind,
                ChannelDelivery.user_id == identity.user_id,
            )
            if decision.ref is not None and decision.ref.isdigit():
                query = query.where(ChannelDelivery.id == int(decision.ref))
            elif decision.code is not None:
                query = query.where(ChannelDelivery.reply_code == decision.code)
            else:
                return None
            asked = await session.scalar(query.order_by(ChannelDelivery.id.desc()).limit(1))
            if asked is None or asked.approval_id is None:
                return None
            approval_id, asked_id, thread = asked.approval_id, asked.id, asked.thread
            name = (
                await session.scalar(select(User.preferred_name).where(User.id == identity.user_id))
                or identity.display
            )
        try:
            await self._decide(approval_id, decision.approve, identity.user_id)
        except ApprovalError as err:
            text = f"Nothing changed: {err}."
        else:
            who = f" by {name}" if name else ""
            text = f"✅ Approved{who}." if decision.approve else f"❌ Denied{who}."
        async with self.db.session() as session:
            # Shown by the adapter now; the row keeps it from being shown again.
            row = Ledger.add(
                session,
                user_id=identity.user_id,
                channel=link.kind,
                setting_id=link.setting_id,
                thread=thread,
                kind=OutboundKind.DECISION,
                text=text,
                approval_id=approval_id,
                updates_id=asked_id,
            )
            row.state = DeliveryState.SENT
        return text

    async def webhook(self, setting_id: int, kind: str, request: WebhookRequest) -> WebhookReply:
        running = self._running.get(setting_id)
        if running is None or running.kind.value != kind:
            raise NotFound(f"no {kind} channel runs at this address")
        return await running.adapter.webhook(request)

    # -- outbound ------------------------------------------------------------------------------

    async def _reload_loop(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._reload.wait(), _RELOAD_SECONDS)
                # Told by a request: let it commit first.
                await asyncio.sleep(0.2)
            self._reload.clear()
            try:
                await self.reload()
            except Exception:
                log.exception("reading the channel settings failed; trying again later")

    async def _send_loop(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.poll)
            self._wake.clear()
            try:
                await self._decisions_made_elsewhere()
                await self.send_due()
            except Exception:
                log.exception("sending channel messages failed; trying again shortly")

    async def send_due_once(self) -> None:
        """Send what is due now, if the hub runs (a last chance before it stops)."""
        if not self.started:
            return
        try:
            await asyncio.wait_for(self.send_due(), 5.0)
        except Exception:
            log.warning("the last channel messages wait for the next start", exc_info=True)

    async def send_due(self) -> int:
        """Send what is due, in order within each thread; returns how many went."""
        sent = 0
        blocked: set[tuple[int, str]] = set()
        for due in await self.ledger.pending(set(self._running)):
            key = (due.setting_id, due.thread)
            if key in blocked:
                continue
            running = self._running.get(due.setting_id)
            if running is None or not due.ready:
                blocked.add(key)
                continue
            if not await self.ledger.claim(due.id):
                continue
            try:
                result = await self._send(running.adapter, due)
            except ChannelError as err:
                blocked.add(key)
                if err.permanent:
                    await self.ledger.failed(due.id, str(err))
                    log.warning("a %s message was refused: %s", running.kind.value, err)
                else:
                    delay = err.retry_after or backoff(due.attempts + 1)
                    await self.ledger.again(due.id, str(err), delay)
                continue
            except Exception as err:
                blocked.add(key)
                log.warning("a %s message failed: %r", running.kind.value, err)
                await self.ledger.again(
                    due.id, f"{type(err).__name__}: {err}", backoff(due.attempts + 1)
                )
                continue
            await self.ledger.sent(due.id, result.message_id)
            sent += 1
        return sent

    @staticmethod
    async def _send(adapter: Channel, due: Due) -> Sent:
        if due.kind is OutboundKind.APPROVAL:
            return await adapter.ask_approval(
                ApprovalAsk(
                    thread=due.thread,
                    text=due.text,
                    ref=str(due.id),
                    code=due.reply_code or "",
                    mention=due.mention,
                )
            )
        if due.kind is OutboundKind.DECISION:
            if due.updates_platform_id is None:
                return await adapter.send(Outbound(due.thread, due.text))
            await adapter.show_decision(due.thread, due.updates_platform_id, due.text)
            return Sent(due.updates_platform_id)
        return await adapter.send(Outbound(due.thread, due.text, due.mention))

    async def _decisions_made_elsewhere(self) -> None:
        """Approvals asked in a channel but decided in the web UI, the CLI or by expiry: the
        channel's message is updated too (its buttons would otherwise stay)."""
        if not self._running:
            return
        shown = aliased(ChannelDelivery)
        async with self.db.session() as session:
            found = await session.execute(
                select(ChannelDelivery, Approval.status)
                .join(Approval, Approval.id == ChannelDelivery.approval_id)
                .where(
                    ChannelDelivery.kind == OutboundKind.APPROVAL,
                    ChannelDelivery.state == DeliveryState.SENT,
                    ChannelDelivery.setting_id.in_(set(self._running)),
                    Approval.status != ApprovalStatus.PENDING,
                    ~exists().where(shown.updates_id == ChannelDelivery.id),
                )
                .limit(50)
            )
            rows = [(row[0], row[1]) for row in found]
            for asked, status in rows:
                Ledger.add(
                    session,
                    user_id=asked.user_id,
                    channel=asked.channel,
                    setting_id=asked.setting_id,
                    thread=asked.thread,
                    kind=OutboundKind.DECISION,
                    text=_elsewhere(status),
                    approval_id=asked.approval_id,
                    updates_id=asked.id,
                )


def _elsewhere(status: ApprovalStatus) -> str:
    return {
        ApprovalStatus.APPROVED: "✅ Approved elsewhere.",
        ApprovalStatus.DENIED: "❌ Denied elsewhere.",
        ApprovalStatus.EXPIRED: "⌛ Nobody answered in time, so I did not do it.",
    }.get(status, "Decided.")


def _dedupe_key(kind: ChannelKind, message_id: str) -> str:
    key = f"{kind.value}:{message_id}"
    if len(key) <= 255:
        return key
    return f"{kind.value}:sha256:{hashlib.sha256(message_id.encode()).hexdigest()}"
