"""Which conversations Angie's mailbox is in: per thread, whom to answer, its subject and the
Message-IDs a reply must reference so mail programs keep it in the same conversation.

Kept in memory; after a restart the adapter recalls a thread from the mail in the inbox."""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field

from angie_channels.email.messages import Mail

__all__ = ("Conversation", "Threads")

# Enough for a household's conversations; the oldest are forgotten first.
_MAX_THREADS = 2000
_MAX_REFERENCES = 50


@dataclass(slots=True)
class Conversation:
    person: str  # the address of whoever wrote last
    subject: str
    references: list[str] = field(default_factory=list)  # root first, latest last


class Threads:
    def __init__(self) -> None:
        self._threads: OrderedDict[str, Conversation] = OrderedDict()
        self._root_of: OrderedDict[str, str] = OrderedDict()  # any Message-ID → its thread

    def root(self, mail: Mail) -> str:
        """The thread a mail belongs to: a known conversation any of its references is in
        (some mail programs keep only In-Reply-To), else the root its headers name."""
        for reference in reversed(mail.references[:-1]):
            if reference in self._root_of:
                return self._root_of[reference]
        return mail.thread

    def heard(self, thread: str, mail: Mail) -> None:
        conversation = self._threads.get(thread)
        if conversation is None:
            conversation = Conversation(person=mail.address, subject=mail.subject)
            self._threads[thread] = conversation
        conversation.person = mail.address
        if mail.subject:
            conversation.subject = mail.subject
        self._add(thread, conversation, [*mail.references])

    def started(self, message_id: str, person: str, subject: str) -> None:
        """Angie wrote first: the conversation's root is her own mail."""
        conversation = Conversation(person=person, subject=subject)
        self._threads[message_id] = conversation
        self._add(message_id, conversation, [message_id])

    def said(self, thread: str, message_id: str) -> None:
        conversation = self._threads.get(thread)
        if conversation is not None:
            self._add(thread, conversation, [message_id])

    def get(self, thread: str) -> Conversation | None:
        return self._threads.get(thread)

    def _add(self, thread: str, conversation: Conversation, message_ids: list[str]) -> None:
        if thread not in conversation.references:
            conversation.references.insert(0, thread)
        for message_id in message_ids:
            if message_id not in conversation.references:
                conversation.references.append(message_id)
            self._root_of[message_id] = thread
            self._root_of.move_to_end(message_id)
        if len(conversation.references) > _MAX_REFERENCES:
            del conversation.references[1 : len(conversation.references) - _MAX_REFERENCES + 1]
        self._threads.move_to_end(thread)
        while len(self._threads) > _MAX_THREADS:
            self._threads.popitem(last=False)
        while len(self._root_of) > _MAX_THREADS * 10:
            self._root_of.popitem(last=False)
