"""Outlook mail through Microsoft Graph with O365: search, read, folders, drafts and sending.

Methods block; the kit's :class:`~angie_mcp_core.mail.BlockingMailBackend` runs them off the event
loop. Messages are read as their MIME source (``/$value``) and parsed by the kit's
:func:`read_rfc822`, so every server shows mail the same way; attachments are Graph's own (ids from
read_message, bytes from ``/attachments/{id}``). "Delete" is a move to Deleted Items: nothing is
erased.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, Final
from urllib.parse import quote

from O365.connection import MSGraphProtocol
from O365.mailbox import MailBox
from O365.message import Message as O365Message

from angie_mcp_core.errors import (
    InvalidArgumentError,
    NotConfiguredError,
    NotFoundError,
    UpstreamError,
)
from angie_mcp_core.mail import (
    AttachmentInfo,
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
    read_rfc822,
    save_download,
)
from angie_mcp_core.vendor import VendorClient
from angie_mcp_outlook.account import GRAPH_URL, Account, GraphConnection, token_file
from angie_mcp_outlook.errors import SERVICE, WriteAccessError, translated
from angie_mcp_outlook.query import SELECT, WELL_KNOWN, folder_kind, graph_query
from angie_mcp_outlook.scopes import can_write, short
from angie_mcp_outlook.settings import OutlookSettings

__all__ = ("GRAPH_URL", "SERVICE", "OutlookClient", "graph_protocol")

_CLOUD: Final = "__cloud_data__"
#: Well-known folders whose ids Graph does not list by role in v1.0: looked up by name once.
_ROLES: Final = ("inbox", "sentitems", "drafts", "deleteditems", "junkemail", "archive")
_NO_MOVE_INTO: Final = frozenset({"sentitems", "drafts"})


def graph_protocol(graph_url: str) -> MSGraphProtocol:
    """O365's Graph protocol at ``graph_url`` (Microsoft's, or a local fake), times in UTC."""
    protocol = MSGraphProtocol(timezone="UTC")
    root = graph_url.rstrip("/") + "/"
    protocol.protocol_url = root
    protocol.service_url = f"{root}{protocol.api_version}/"
    return protocol


def _segment(value: str) -> str:
    """An id as one URL path segment: Graph ids may hold ``/`` or ``+``, and an id the model
    made up must not reach another endpoint (``../sendMail``)."""
    return quote(value, safe="")


def _address(recipient: Any) -> MailAddress | None:
    if recipient is None or not recipient.address:
        return None
    return MailAddress(email=recipient.address, name=recipient.name or None)


class OutlookClient(VendorClient):
    """One Microsoft account's mailbox. Methods block; call them with ``call_blocking``."""

    def __init__(self, settings: OutlookSettings, *, graph_url: str = GRAPH_URL) -> None:
        self._settings = settings
        self._account = Account(settings, token_file(settings))
        self._graph_url = graph_url.rstrip("/") + "/"
        self._protocol = graph_protocol(graph_url)
        self._mailbox: MailBox | None = None
        self._roles: dict[str, str] | None = None
        self._me: str | None = None

    def close(self) -> None:
        self._account.close()

    def _box(self) -> MailBox:
        if self._mailbox is None:
            connection = GraphConnection(self._settings, self._account)
            self._mailbox = MailBox(con=connection, protocol=self._protocol, main_resource="me")
        return self._mailbox

    def _call[T](self, fn: Callable[[MailBox], T], *, write: bool = False) -> T:
        missing = self._settings.missing()
        if missing:
            raise NotConfiguredError(
                SERVICE, missing, "Register an app in Microsoft Entra (see the server's README)."
            )
        with self._account.lock, translated():
            if write and not can_write(list(self._account.stored().get("scopes", []))):
                raise WriteAccessError()
            return fn(self._box())

    def _get(self, endpoint: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        """GET a Graph path under /me (or a full URL Graph gave), as JSON."""
        url = endpoint if endpoint.startswith("http") else None

        def get(box: MailBox) -> dict[str, Any]:
            response = box.con.get(url or box.build_url(endpoint), params=params)
            found: dict[str, Any] = response.json()
            return found

        return self._call(get)

    def _message(self, box: MailBox, item: dict[str, Any]) -> O365Message:
        return O365Message(parent=box, **{_CLOUD: {"isDraft": False, **item}})

    def _existing(self, box: MailBox, message_id: str) -> O365Message:
        return self._message(box, {"id": _segment(message_id)})

    # -- status --------------------------------------------------------------------------------

    def probe(self) -> str:
        """Who is signed in and with which permissions."""
        address = self.me()
        stored = self._account.stored()
        scopes = ", ".join(sorted(short(s) for s in stored.get("scopes", [])))
        return f"{SERVICE} account {address}; permissions: {scopes or 'none'}"

    def me(self) -> str:
        if self._me is None:
            profile = self._call(lambda box: box.con.get(f"{self._protocol.service_url}me").json())
            self._me = str(profile.get("mail") or profile["userPrincipalName"])
        return self._me

    # -- folders -------------------------------------------------------------------------------

    def _role_ids(self) -> dict[str, str]:
        """Each well-known folder's id, to its role (``inbox``, ``deleteditems``, …)."""
        if self._roles is None:
            roles: dict[str, str] = {}
            for role in _ROLES:
                try:
                    found = self._get(f"/mailFolders/{role}", {"$select": "id"})
                except UpstreamError as err:  # a mailbox without an archive, say
                    if err.status != 404:
                        raise
                    continue
                roles[str(found["id"])] = role
            self._roles = roles
        return self._roles

    def _all_folders(self) -> list[dict[str, Any]]:
        page = self._get("/mailFolders", {"$top": 100, "includeHiddenFolders": "false"})
        folders: list[dict[str, Any]] = list(page.get("value", []))
        while next_link := page.get("@odata.nextLink"):
            page = self._get(self._checked_link(str(next_link)))
            folders += page.get("value", [])
        return folders

    def folders(self) -> list[Folder]:
        roles = self._role_ids()
        return [
            Folder(
                id=str(item["id"]),
                name=str(item.get("displayName", "")),
                kind=folder_kind(roles.get(str(item["id"]))),
                unread=item.get("unreadItemCount"),
                total=item.get("totalItemCount"),
            )
            for item in self._all_folders()
        ]

    def _folder_id(self, name: str) -> str:
        """The Graph id (or well-known name) of a folder: a role, an id, or a display name."""
        if name.lower() in WELL_KNOWN:
            return WELL_KNOWN[name.lower()]
        folders = self._all_folders()
        for item in folders:
            if name in {item["id"], item.get("displayName")}:
                return str(item["id"])
        for item in folders:
            if name.lower() == str(item.get("displayName", "")).lower():
                return str(item["id"])
        raise NotFoundError("folder", name, [str(f.get("displayName", "")) for f in folders])

    def _folder_names(self, folder_id: str | None) -> list[str]:
        if not folder_id:
            return []
        return [self._role_ids().get(folder_id, folder_id)]

    # -- reading -------------------------------------------------------------------------------

    def _checked_link(self, link: str) -> str:
        """A next page's URL, only when it points at Graph: the bearer token goes with it."""
        if not link.startswith(self._protocol.service_url):
            raise InvalidArgumentError(
                "page is not a next_page this server gave: pass next_page as it came."
            )
        return link

    def search(
        self, query: MailQuery, folder: str | None, limit: int, page: str | None
    ) -> SearchResult:
        graph = graph_query(query)
        if page:
            listed = self._get(self._checked_link(page))
        else:
            where = self._folder_id(folder or "inbox")
            params: dict[str, Any] = {"$top": limit, "$select": SELECT, **graph.params}
            listed = self._get(f"/mailFolders/{_segment(where)}/messages", params)
        summaries = [self._summary(item) for item in listed.get("value", []) if graph.keep(item)]
        return SearchResult(
            messages=summaries, next_page=listed.get("@odata.nextLink"), provider_query=graph.shown
        )

    def _summary(self, item: dict[str, Any]) -> MessageSummary:
        message = self._message(self._box(), item)
        sender = _address(message.sender)
        return MessageSummary(
            id=str(item["id"]),
            thread_id=message.conversation_id,
            folders=self._folder_names(message.folder_id),
            sender=sender,
            to=[a for r in message.to if (a := _address(r)) is not None],
            subject=message.subject or "",
            date=message.received,
            snippet=" ".join(str(message.body_preview or "").split())[:160],
            unread=not message.is_read,
            flagged=message.flag.is_flagged,
            has_attachments=bool(item.get("hasAttachments")),
        )

    def read(self, message_id: str) -> Message:
        item = self._get(
            f"/messages/{_segment(message_id)}",
            {"$select": "id,conversationId,parentFolderId,isRead,flag,categories,hasAttachments"},
        )
        mime = self._call(lambda box: self._existing(box, message_id).get_mime_content())
        if not mime:
            raise UpstreamError(SERVICE, f"message {message_id} has no content to read")
        message = read_rfc822(
            mime,
            id=message_id,
            thread_id=item.get("conversationId"),
            folders=self._folder_names(item.get("parentFolderId"))
            + list(item.get("categories", [])),
            unread=not item.get("isRead", False),
            flagged=str((item.get("flag") or {}).get("flagStatus", "")).lower() == "flagged",
        )
        if item.get("hasAttachments") or message.attachments:
            attachments = self._attachments(message_id)
            message.attachments = attachments
            message.has_attachments = bool(attachments)
        return message

    def _attachments(self, message_id: str) -> list[AttachmentInfo]:
        listed = self._get(
            f"/messages/{_segment(message_id)}/attachments", {"$select": "id,name,contentType,size"}
        )
        return [
            AttachmentInfo(
                id=str(a["id"]),
                filename=str(a.get("name") or "attachment"),
                content_type=str(a.get("contentType") or "application/octet-stream"),
                size=int(a.get("size") or 0),
            )
            for a in listed.get("value", [])
        ]

    def thread(self, thread_id: str) -> Thread:
        if "'" in thread_id:
            raise InvalidArgumentError(f"{thread_id!r} is not a thread id from search_messages.")
        listed = self._get(
            "/messages",
            {"$filter": f"conversationId eq '{thread_id}'", "$select": "id", "$top": 100},
        )
        ids = [str(m["id"]) for m in listed.get("value", [])]
        if not ids:
            raise NotFoundError("thread", thread_id)
        messages = [self.read(message_id) for message_id in ids]
        messages.sort(key=lambda m: m.date or datetime.min.replace(tzinfo=UTC))
        return Thread(id=thread_id, subject=messages[0].subject, messages=messages)

    def save_attachment(self, message_id: str, attachment_id: str) -> SavedAttachment:
        """Save one attachment (its id from read_message) into the download folder."""
        found = self._get(f"/messages/{_segment(message_id)}/attachments/{_segment(attachment_id)}")
        if "contentBytes" not in found:
            raise InvalidArgumentError(
                f"Attachment {attachment_id} is an attached item or link, not a file to save."
            )
        try:
            data = base64.b64decode(str(found["contentBytes"]), validate=True)
        except (binascii.Error, ValueError) as err:
            raise UpstreamError(SERVICE, "the attachment's content is not valid base64") from err
        content_type = str(found.get("contentType") or "application/octet-stream")
        path = save_download(
            self._settings.downloads(),
            str(found.get("name") or "attachment"),
            data,
            max_bytes=self._settings.max_download_bytes,
        )
        return SavedAttachment(
            path=str(path), filename=path.name, content_type=content_type, size=len(data)
        )

    # -- writing -------------------------------------------------------------------------------

    def _original(self, box: MailBox, internet_id: str) -> O365Message:
        """The message a reply answers, found by its Message-ID header."""
        clean = internet_id.replace("'", "''")
        found = box.con.get(
            box.build_url("/messages"),
            params={"$filter": f"internetMessageId eq '{clean}'", "$select": "id", "$top": 1},
        ).json()
        items = found.get("value", [])
        if not items:
            raise NotFoundError("message with Message-ID", internet_id)
        return self._existing(box, str(items[0]["id"]))

    def _compose(self, box: MailBox, mail: OutgoingMail) -> O365Message:
        """A draft of ``mail``: a reply made by Graph (createReply) or a new message."""
        if mail.in_reply_to:
            draft = self._original(box, mail.in_reply_to).reply(to_all=False)
            if draft is None:
                raise UpstreamError(SERVICE, "Graph did not create the reply")
            draft.to.clear()
            draft.body = mail.body
        else:
            draft = box.new_message()
            draft.body = mail.body
            draft.body_type = "text"
        draft.to.add(list(mail.to))
        if mail.cc:
            draft.cc.clear()
            draft.cc.add(list(mail.cc))
        draft.subject = mail.subject
        return draft

    def create_draft(self, mail: OutgoingMail) -> Draft:
        def create(box: MailBox) -> O365Message:
            draft = self._compose(box, mail)
            draft.save_draft()
            return draft

        draft = self._call(create, write=True)
        return Draft(
            id=str(draft.object_id),
            message_id=str(draft.object_id),
            thread_id=draft.conversation_id or mail.thread_id,
            to=[MailAddress(email=a) for a in mail.to],
            subject=mail.subject,
        )

    def send_draft(self, draft_id: str) -> Sent:
        item = self._get(
            f"/messages/{_segment(draft_id)}",
            {"$select": "id,isDraft,subject,toRecipients,conversationId"},
        )
        if not item.get("isDraft"):
            raise InvalidArgumentError(f"Message {draft_id} is not a draft: it was sent already.")
        item = {**item, "id": _segment(str(item["id"]))}
        draft = self._call(lambda box: O365Message(parent=box, **{_CLOUD: item}), write=True)
        self._call(lambda _box: draft.send(), write=True)
        return Sent(
            id=None,
            thread_id=draft.conversation_id,
            to=[a for r in draft.to if (a := _address(r)) is not None],
            subject=draft.subject or "",
        )

    def send(self, mail: OutgoingMail) -> Sent:
        def send(box: MailBox) -> O365Message:
            draft = self._compose(box, mail)
            draft.send()
            return draft

        draft = self._call(send, write=True)
        return Sent(
            id=None,
            thread_id=draft.conversation_id or mail.thread_id,
            to=[MailAddress(email=a) for a in mail.to],
            subject=mail.subject,
        )

    def _move(self, ids: list[str], destination: str, action: str) -> Changed:
        new_ids: dict[str, str] = {}
        for message_id in ids:

            def move(box: MailBox, message_id: str = message_id) -> str:
                message = self._existing(box, message_id)
                message.move(destination)
                return str(message.object_id)

            moved = self._call(move, write=True)
            if moved != message_id:
                new_ids[message_id] = moved
        return Changed(action=action, ids=ids, new_ids=new_ids)

    def trash(self, ids: list[str]) -> Changed:
        """Into Deleted Items (Outlook empties it on its own schedule); never erased here."""
        return self._move(ids, "deleteditems", "moved to Deleted Items")

    def archive(self, ids: list[str]) -> Changed:
        return self._move(ids, "archive", "archived (moved to Archive)")

    def move(self, ids: list[str], folder: str) -> Changed:
        target = self._folder_id(folder)
        if target in _NO_MOVE_INTO or self._role_ids().get(target) in _NO_MOVE_INTO:
            raise InvalidArgumentError(f"Outlook cannot move received mail into {folder}.")
        if target == "deleteditems":
            return self.trash(ids)
        return self._move(ids, target, f"moved to {folder}")

    def _update(
        self, ids: list[str], change: Callable[[O365Message], None], action: str
    ) -> Changed:
        for message_id in ids:

            def update(box: MailBox, message_id: str = message_id) -> None:
                message = self._existing(box, message_id)
                change(message)
                message.save_message()

            self._call(update, write=True)
        return Changed(action=action, ids=ids)

    def label(self, ids: list[str], add: list[str], remove: list[str]) -> Changed:
        """Outlook's categories stand for labels."""
        if not add and not remove:
            raise InvalidArgumentError("Give labels to add or to remove.")
        gone = {name.lower() for name in remove}
        for message_id in ids:
            current = self._get(f"/messages/{_segment(message_id)}", {"$select": "id,categories"})
            kept = [c for c in current.get("categories", []) if c.lower() not in gone]
            wanted = kept + [c for c in add if c.lower() not in {k.lower() for k in kept}]

            def categorise(message: O365Message, wanted: list[str] = wanted) -> None:
                message.categories = wanted

            self._update([message_id], categorise, "labelled")
        return Changed(action="labelled (Outlook categories)", ids=ids)

    def flag(self, ids: list[str], flagged: bool) -> Changed:
        def change(message: O365Message) -> None:
            if flagged:
                message.flag.set_flagged()
            else:
                message.flag.delete_flag()

        return self._update(ids, change, "flagged" if flagged else "unflagged")

    def mark_read(self, ids: list[str], read: bool) -> Changed:
        def change(message: O365Message) -> None:
            message.is_read = read

        return self._update(ids, change, "marked read" if read else "marked unread")
