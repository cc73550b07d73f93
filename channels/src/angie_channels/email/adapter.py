"""Email as a chat channel: people write to Angie's own mailbox and she answers in the thread.

Every inbound mail is outside content (``untrusted``); auto-replies, bounces and Angie's own
mail are ignored so two robots never answer each other.
"""

from __future__ import annotations

import logging
import ssl

from angie_channels.base import (
    ApprovalAsk,
    ChannelError,
    Decision,
    Hub,
    Inbound,
    Outbound,
    Sender,
    Sent,
    WebhookReply,
    WebhookRequest,
)
from angie_channels.email.imap import ImapSession
from angie_channels.email.messages import (
    approval_reply,
    compose,
    read_mail,
    reply_subject,
)
from angie_channels.email.security import IMAP_TLS_PORT, SMTP_TLS_PORT, Endpoint
from angie_channels.email.settings import EmailSecrets, EmailSettings
from angie_channels.email.smtp import check_smtp, send_mail
from angie_channels.email.threads import Conversation, Threads
from angie_channels.email.watcher import InboxWatcher

__all__ = ("NEW_THREAD_PREFIX", "NEW_THREAD_SUBJECT", "EmailChannel", "create")

log = logging.getLogger(__name__)

# Angie starts a conversation with someone: Outbound(thread="to:sam@example.com", ...).
NEW_THREAD_PREFIX = "to:"
NEW_THREAD_SUBJECT = "A message from Angie"


def create(
    settings: EmailSettings,
    secrets: EmailSecrets,
    *,
    ssl_context: ssl.SSLContext | None = None,
    poll_seconds: float = 30,
) -> EmailChannel:
    """The email channel for these settings; ``ssl_context`` replaces the system's trusted
    certificates (tests trust a throwaway CA with it)."""
    address, password = settings.address, secrets.password
    imap_host, smtp_host = settings.imap_host, settings.smtp_host
    if address is None or imap_host is None or smtp_host is None or password is None:
        named = {"address": address, "imap_host": imap_host, "smtp_host": smtp_host}
        missing = [name for name, value in {**named, "password": password}.items() if not value]
        raise ChannelError(f"the email channel needs {', '.join(missing)}", permanent=True)
    context = ssl_context or ssl.create_default_context()
    username = settings.username or address
    imap_port, smtp_port = settings.imap_port or IMAP_TLS_PORT, settings.smtp_port or 587
    imap = Endpoint("IMAP", imap_host, imap_port, username, password, context, IMAP_TLS_PORT)
    smtp = Endpoint("SMTP", smtp_host, smtp_port, username, password, context, SMTP_TLS_PORT)
    return EmailChannel(address, imap, smtp, poll_seconds=poll_seconds)


class EmailChannel:
    """Angie's mailbox: IMAP in (IDLE, or polling every ``poll_seconds``), SMTP out."""

    kind = "email"

    def __init__(
        self, address: str, imap: Endpoint, smtp: Endpoint, *, poll_seconds: float
    ) -> None:
        self.address = address.lower()
        self._imap = imap
        self._smtp = smtp
        self._poll_seconds = poll_seconds
        self._threads = Threads()
        self._hub: Hub | None = None
        self._watcher: InboxWatcher | None = None

    async def check(self) -> str:
        session = await ImapSession.open(self._imap)
        await session.close()
        await check_smtp(self._smtp)
        return f"{self.address} (IMAP {self._imap.host}, SMTP {self._smtp.host})"

    async def start(self, hub: Hub) -> None:
        await self.stop()
        self._hub = hub
        self._watcher = InboxWatcher(
            self._imap, hub, self._arrived, poll_seconds=self._poll_seconds
        )
        self._watcher.start()

    async def stop(self) -> None:
        watcher, self._watcher = self._watcher, None
        if watcher is not None:
            await watcher.stop()

    async def send(self, message: Outbound) -> Sent:
        return await self._write(message.thread, message.text)

    async def ask_approval(self, ask: ApprovalAsk) -> Sent:
        text = f'{ask.text}\n\nReply "yes {ask.code}" to approve or "no {ask.code}" to deny.'
        return await self._write(ask.thread, text)

    async def show_decision(self, thread: str, message_id: str, text: str) -> None:
        # A sent mail cannot be edited: the decision is a reply in the same thread.
        await self._write(thread, text)

    def mention(self, sender_id: str) -> str:
        return ""  # a mail reaches the person by being sent to them

    async def webhook(self, request: WebhookRequest) -> WebhookReply:
        return WebhookReply(status=404, body=b"email has no webhook")

    async def _write(self, thread: str, text: str) -> Sent:
        if thread.startswith(NEW_THREAD_PREFIX):
            person = thread.removeprefix(NEW_THREAD_PREFIX).strip().lower()
            if "@" not in person:
                raise ChannelError(f"{person!r} is not an email address", permanent=True)
            message = compose(
                sender=self.address, to=person, subject=NEW_THREAD_SUBJECT, references=(), text=text
            )
            await send_mail(self._smtp, message)
            message_id = str(message["Message-ID"])
            self._threads.started(message_id, person, NEW_THREAD_SUBJECT)
            return Sent(message_id=message_id, thread=message_id)
        conversation = self._threads.get(thread) or await self._recall(thread)
        if conversation is None:
            raise ChannelError(
                "Angie cannot tell whom to answer in this email thread: no mail of it is "
                "in her inbox",
                permanent=True,
            )
        message = compose(
            sender=self.address,
            to=conversation.person,
            subject=reply_subject(conversation.subject),
            references=conversation.references,
            text=text,
        )
        await send_mail(self._smtp, message)
        message_id = str(message["Message-ID"])
        self._threads.said(thread, message_id)
        return Sent(message_id=message_id)

    async def _recall(self, thread: str) -> Conversation | None:
        """After a restart: whom to answer in ``thread``, from the newest mail of it that a
        person sent to Angie's inbox."""
        session = await ImapSession.open(self._imap)
        try:
            found = await session.headers_in_thread(thread)
        finally:
            await session.close()
        for headers in found:
            mail = read_mail(headers)
            if mail.address and mail.address != self.address and not mail.automatic:
                self._threads.heard(thread, mail)
                return self._threads.get(thread)
        return None

    async def _arrived(self, raw: bytes) -> None:
        hub = self._hub
        if hub is None:
            return
        try:
            mail = read_mail(raw)
        except (ValueError, LookupError, TypeError) as err:
            log.warning("email: skipped a mail Angie cannot read: %s", err)
            return
        if not mail.address or mail.address == self.address:
            return
        if mail.automatic:
            log.info("email: ignored an automatic mail (auto-reply, list or bounce)")
            return
        thread = self._threads.root(mail)
        self._threads.heard(thread, mail)
        sender = Sender(id=mail.address, name=mail.name)
        answer = approval_reply(mail.body)
        if answer is None:
            await hub.received(
                Inbound(
                    message_id=mail.message_id,
                    sender=sender,
                    thread=thread,
                    text=mail.text,
                    direct=True,
                    untrusted=True,
                )
            )
            return
        approve, code = answer
        decision = Decision(
            sender=sender, thread=thread, approve=approve, code=code, message_id=mail.message_id
        )
        shown = await hub.decided(decision)
        if shown is not None:
            try:
                await self._write(thread, shown)
            except ChannelError as err:
                log.warning("email: could not confirm the decision by mail: %s", err)
