"""Gmail v1 through google-api-python-client: search, read, threads, labels, drafts, sending.

Methods block; the kit's :class:`~angie_mcp_core.mail.BlockingMailBackend` runs them off the event
loop. Messages are read as raw RFC 5322 (``format=raw``) and parsed by the kit's
:func:`read_rfc822`, so every server shows mail the same way.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from datetime import UTC, datetime
from email import policy
from email.parser import BytesParser
from functools import partial
from typing import Any, Final

from angie_mcp_core.errors import InvalidArgumentError, NotFoundError
from angie_mcp_core.google.account import GoogleAccount
from angie_mcp_core.mail import (
    Changed,
    Draft,
    Folder,
    MailAddress,
    MailQuery,
    Message,
    MessageSummary,
    OutgoingMail,
    SavedAttachment,
    SearchResult,
    Sent,
    Thread,
    compose,
    read_rfc822,
    save_download,
)
from angie_mcp_core.server import Probed
from angie_mcp_core.vendor import VendorClient
from angie_mcp_gmail.query import SYSTEM_FOLDERS, folder_kind, gmail_query
from angie_mcp_gmail.scopes import GMAIL
from angie_mcp_gmail.settings import GmailSettings

__all__ = ("SERVICE", "GmailClient")

SERVICE: Final = GMAIL.name

_ME: Final = "me"
_SUMMARY_FIELDS: Final = set(MessageSummary.model_fields)


def _b64decode(data: str) -> bytes:
    return base64.urlsafe_b64decode(data + "=" * (-len(data) % 4))


def _b64encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii")


def _modify_one(service: Any, *, message_id: str, body: dict[str, list[str]]) -> Any:
    return service.users().messages().modify(userId=_ME, id=message_id, body=body).execute()


def _trash_one(service: Any, *, message_id: str) -> Any:
    return service.users().messages().trash(userId=_ME, id=message_id).execute()


class GmailClient(VendorClient):
    """One Google account's mailbox. Methods block; call them with ``call_blocking``."""

    def __init__(
        self, settings: GmailSettings, *, api_url: str | None = None, token_uri: str | None = None
    ) -> None:
        self._settings = settings
        self._account = GoogleAccount(settings, GMAIL, api_url=api_url, token_uri=token_uri)
        self._me: str | None = None

    def close(self) -> None:
        self._account.close()

    def _call[T](self, fn: Callable[[Any], T], *, write: bool = False) -> T:
        return self._account.call(fn, write=write)

    def _require_write(self) -> None:
        """Refuse before anything is read when the sign-in only allows reading."""
        self._call(lambda _service: None, write=True)

    # -- status --------------------------------------------------------------------------------

    def probe(self) -> Probed:
        """Who is signed in, with which scopes, and until when the sign-in lasts."""
        return self._account.probed(self.me())

    def me(self) -> str:
        if self._me is None:
            profile = self._call(lambda s: s.users().getProfile(userId=_ME).execute())
            self._me = str(profile["emailAddress"])
        return self._me

    # -- labels --------------------------------------------------------------------------------

    def _labels(self) -> list[dict[str, Any]]:
        page = self._call(lambda s: s.users().labels().list(userId=_ME).execute())
        labels: list[dict[str, Any]] = page.get("labels", [])
        return labels

    def _label_ids(self, names: list[str], labels: list[dict[str, Any]] | None = None) -> list[str]:
        """Label ids for names (a system folder's name, a label's id or its name, any case)."""
        wanted = [n for n in names if n.lower() not in SYSTEM_FOLDERS]
        labels = labels if labels is not None or not wanted else self._labels()
        by_id = {str(label["id"]): str(label["id"]) for label in labels or []}
        by_name = {str(label["name"]).lower(): str(label["id"]) for label in labels or []}
        ids: list[str] = []
        for name in names:
            found = SYSTEM_FOLDERS.get(name.lower()) or by_id.get(name) or by_name.get(name.lower())
            if found is None:
                raise NotFoundError("label", name, [str(label["name"]) for label in labels or []])
            ids.append(found)
        return ids

    def folders(self) -> list[Folder]:
        return [
            Folder(
                id=str(label["id"]),
                name=str(label["name"]),
                kind=folder_kind(str(label["id"])),
                unread=label.get("messagesUnread"),
                total=label.get("messagesTotal"),
            )
            for label in self._labels()
        ]

    # -- reading -------------------------------------------------------------------------------

    def _raw(self, message_id: str) -> dict[str, Any]:
        found: dict[str, Any] = self._call(
            lambda s: s.users().messages().get(userId=_ME, id=message_id, format="raw").execute()
        )
        return found

    def _message(self, item: dict[str, Any]) -> Message:
        labels = list(item.get("labelIds", []))
        return read_rfc822(
            _b64decode(item.get("raw", "")),
            id=str(item["id"]),
            thread_id=item.get("threadId"),
            folders=labels,
            unread="UNREAD" in labels,
            flagged="STARRED" in labels,
        )

    def read(self, message_id: str) -> Message:
        return self._message(self._raw(message_id))

    def search(
        self, query: MailQuery, folder: str | None, limit: int, page: str | None
    ) -> SearchResult:
        q = gmail_query(query)
        params: dict[str, Any] = {"userId": _ME, "maxResults": limit}
        if q:
            params["q"] = q
        if folder:
            params["labelIds"] = self._label_ids([folder])
        if page:
            params["pageToken"] = page
        listed = self._call(lambda s: s.users().messages().list(**params).execute())
        summaries = []
        for ref in listed.get("messages", []):
            message = self.read(str(ref["id"]))
            summaries.append(
                MessageSummary.model_validate(message.model_dump(include=_SUMMARY_FIELDS))
            )
        return SearchResult(
            messages=summaries, next_page=listed.get("nextPageToken"), provider_query=q
        )

    def thread(self, thread_id: str) -> Thread:
        found = self._call(
            lambda s: s.users().threads().get(userId=_ME, id=thread_id, format="minimal").execute()
        )
        messages = [self.read(str(m["id"])) for m in found.get("messages", [])]
        messages.sort(key=lambda m: m.date or datetime.min.replace(tzinfo=UTC))
        return Thread(
            id=thread_id, subject=messages[0].subject if messages else "", messages=messages
        )

    def save_attachment(self, message_id: str, attachment_id: str) -> SavedAttachment:
        """Save one attachment (its id from read_message) into the download folder."""
        raw = _b64decode(self._raw(message_id).get("raw", ""))
        parts = list(BytesParser(policy=policy.default).parsebytes(raw).iter_attachments())
        if not attachment_id.isdigit() or int(attachment_id) >= len(parts):
            raise NotFoundError("attachment", attachment_id, [str(i) for i in range(len(parts))])
        index = int(attachment_id)
        part = parts[index]
        data = part.get_payload(decode=True) or b""
        assert isinstance(data, bytes)
        filename = part.get_filename() or f"attachment-{index}"
        path = save_download(
            self._settings.downloads(),
            filename,
            data,
            max_bytes=self._settings.max_download_bytes,
        )
        return SavedAttachment(
            path=str(path), filename=path.name, content_type=part.get_content_type(), size=len(data)
        )

    # -- writing -------------------------------------------------------------------------------

    def _outgoing(self, mail: OutgoingMail) -> dict[str, Any]:
        body: dict[str, Any] = {"raw": _b64encode(compose(mail, self.me()).as_bytes())}
        if mail.thread_id:
            body["threadId"] = mail.thread_id
        return body

    def create_draft(self, mail: OutgoingMail) -> Draft:
        message = self._outgoing(mail)
        draft = self._call(
            lambda s: s.users().drafts().create(userId=_ME, body={"message": message}).execute(),
            write=True,
        )
        sent = draft.get("message", {})
        return Draft(
            id=str(draft["id"]),
            message_id=sent.get("id"),
            thread_id=sent.get("threadId"),
            to=[MailAddress(email=a) for a in mail.to],
            subject=mail.subject,
        )

    def send_draft(self, draft_id: str) -> Sent:
        self._require_write()
        draft = self._call(
            lambda s: s.users().drafts().get(userId=_ME, id=draft_id, format="raw").execute()
        )
        original = self._message(draft.get("message", {}) | {"id": draft["message"]["id"]})
        sent = self._call(
            lambda s: s.users().drafts().send(userId=_ME, body={"id": draft_id}).execute(),
            write=True,
        )
        return Sent(
            id=sent.get("id"),
            thread_id=sent.get("threadId"),
            to=original.to,
            subject=original.subject,
        )

    def send(self, mail: OutgoingMail) -> Sent:
        body = self._outgoing(mail)
        sent = self._call(
            lambda s: s.users().messages().send(userId=_ME, body=body).execute(), write=True
        )
        return Sent(
            id=sent.get("id"),
            thread_id=sent.get("threadId"),
            to=[MailAddress(email=a) for a in mail.to],
            subject=mail.subject,
        )

    def _modify(self, ids: list[str], add: list[str], remove: list[str], action: str) -> Changed:
        body = {"addLabelIds": add, "removeLabelIds": remove}
        for message_id in ids:
            self._call(partial(_modify_one, message_id=message_id, body=body), write=True)
        return Changed(action=action, ids=ids)

    def trash(self, ids: list[str]) -> Changed:
        """Into Trash (Gmail empties it after 30 days); never deleted for good."""
        for message_id in ids:
            self._call(partial(_trash_one, message_id=message_id), write=True)
        return Changed(action="moved to trash", ids=ids)

    def archive(self, ids: list[str]) -> Changed:
        return self._modify(ids, [], ["INBOX"], "archived (removed from the inbox)")

    def move(self, ids: list[str], folder: str) -> Changed:
        (target,) = self._label_ids([folder])
        if target == "TRASH":
            return self.trash(ids)
        if target in {"DRAFT", "SENT", "UNREAD"}:
            raise InvalidArgumentError(f"Gmail cannot move mail into {folder}.")
        remove = [] if target == "INBOX" else ["INBOX"]
        return self._modify(ids, [target], remove, f"moved to {folder}")

    def label(self, ids: list[str], add: list[str], remove: list[str]) -> Changed:
        if not add and not remove:
            raise InvalidArgumentError("Give labels to add or to remove.")
        labels = self._labels()
        return self._modify(
            ids,
            self._label_ids(add, labels),
            self._label_ids(remove, labels),
            "labelled",
        )

    def flag(self, ids: list[str], flagged: bool) -> Changed:
        if flagged:
            return self._modify(ids, ["STARRED"], [], "starred")
        return self._modify(ids, [], ["STARRED"], "unstarred")

    def mark_read(self, ids: list[str], read: bool) -> Changed:
        if read:
            return self._modify(ids, [], ["UNREAD"], "marked read")
        return self._modify(ids, ["UNREAD"], [], "marked unread")
