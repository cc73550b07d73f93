"""Outlook as the kit's :class:`~angie_mcp_core.mail.MailBackend`: the blocking client's calls,
each run off the event loop with the server's timeout."""

from __future__ import annotations

from angie_mcp_core.calls import call_blocking
from angie_mcp_core.mail import (
    Changed,
    Draft,
    Folder,
    MailQuery,
    Message,
    OutgoingMail,
    SavedAttachment,
    SearchResult,
    Sent,
    Thread,
)
from angie_mcp_outlook.client import SERVICE, OutlookClient

__all__ = ("OutlookBackend",)


class OutlookBackend:
    """The shared mail tools' backend for one Outlook account."""

    def __init__(self, client: OutlookClient, timeout: float) -> None:
        self._client = client
        self._timeout = timeout

    async def search(
        self, query: MailQuery, folder: str | None, limit: int, page: str | None
    ) -> SearchResult:
        return await call_blocking(
            SERVICE, self._timeout, self._client.search, query, folder, limit, page
        )

    async def read(self, message_id: str) -> Message:
        return await call_blocking(SERVICE, self._timeout, self._client.read, message_id)

    async def thread(self, thread_id: str) -> Thread:
        return await call_blocking(SERVICE, self._timeout, self._client.thread, thread_id)

    async def folders(self) -> list[Folder]:
        return await call_blocking(SERVICE, self._timeout, self._client.folders)

    async def create_draft(self, mail: OutgoingMail) -> Draft:
        return await call_blocking(SERVICE, self._timeout, self._client.create_draft, mail)

    async def send_draft(self, draft_id: str) -> Sent:
        return await call_blocking(SERVICE, self._timeout, self._client.send_draft, draft_id)

    async def send(self, mail: OutgoingMail) -> Sent:
        return await call_blocking(SERVICE, self._timeout, self._client.send, mail)

    async def me(self) -> str:
        return await call_blocking(SERVICE, self._timeout, self._client.me)

    async def move(self, ids: list[str], folder: str) -> Changed:
        return await call_blocking(SERVICE, self._timeout, self._client.move, ids, folder)

    async def archive(self, ids: list[str]) -> Changed:
        return await call_blocking(SERVICE, self._timeout, self._client.archive, ids)

    async def trash(self, ids: list[str]) -> Changed:
        return await call_blocking(SERVICE, self._timeout, self._client.trash, ids)

    async def label(self, ids: list[str], add: list[str], remove: list[str]) -> Changed:
        return await call_blocking(SERVICE, self._timeout, self._client.label, ids, add, remove)

    async def flag(self, ids: list[str], flagged: bool) -> Changed:
        return await call_blocking(SERVICE, self._timeout, self._client.flag, ids, flagged)

    async def mark_read(self, ids: list[str], read: bool) -> Changed:
        return await call_blocking(SERVICE, self._timeout, self._client.mark_read, ids, read)

    async def save_attachment(self, message_id: str, attachment_id: str) -> SavedAttachment:
        return await call_blocking(
            SERVICE, self._timeout, self._client.save_attachment, message_id, attachment_id
        )
