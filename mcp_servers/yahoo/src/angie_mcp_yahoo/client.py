"""One Yahoo mailbox over IMAP (imapclient) and SMTP (aiosmtplib), as the kit's mail surface.

A message's id is ``<folder>:<UIDVALIDITY>:<UID>``: a UID means something only in its folder and
only while the folder's UIDVALIDITY stays the same, so an id from before a rebuild is refused
rather than read as another message. A thread's id is the Message-ID that started it.

One IMAP connection is kept and used by one call at a time (imapclient is blocking: calls run
in a worker thread under a lock); a dropped connection is opened again once per call. Moves use
IMAP MOVE, so nothing is ever expunged: "trash" moves to the Trash folder.
"""

from __future__ import annotations

import contextlib
import re
import ssl
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email import policy
from email.parser import BytesParser
from typing import Any, Final

import aiosmtplib
from imapclient import IMAPClient  # type: ignore[import-untyped]
from imapclient.exceptions import (  # type: ignore[import-untyped]
    CapabilityError,
    IMAPClientAbortError,
    IMAPClientError,
    LoginError,
)

from angie_mcp_core.calls import call_blocking
from angie_mcp_core.errors import (
    InvalidArgumentError,
    NotConfiguredError,
    NotFoundError,
    ServerToolError,
    UnauthorizedError,
    UpstreamError,
)
from angie_mcp_core.mail import (
    Changed,
    Draft,
    Folder,
    FolderKind,
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
from angie_mcp_yahoo.settings import YahooSettings

__all__ = ("SERVICE", "YahooMailbox")

SERVICE: Final = "Yahoo Mail"
_LOGIN_HINT: Final = (
    "Check ANGIE_YAHOO_ADDRESS and ANGIE_YAHOO_APP_PASSWORD (Yahoo wants an app password: "
    "Account security → Generate app password)."
)
_SPECIAL: Final[dict[bytes, FolderKind]] = {
    b"\\trash": "trash",
    b"\\junk": "spam",
    b"\\sent": "sent",
    b"\\drafts": "drafts",
    b"\\archive": "archive",
    b"\\all": "archive",
}
# Yahoo's folder names, for servers that do not flag their special folders.
_BY_NAME: Final[dict[str, FolderKind]] = {
    "inbox": "inbox",
    "trash": "trash",
    "bulk mail": "spam",
    "bulk": "spam",
    "spam": "spam",
    "junk": "spam",
    "sent": "sent",
    "draft": "drafts",
    "drafts": "drafts",
    "archive": "archive",
}
_KEYWORD = re.compile(r"^[A-Za-z0-9_.$-]{1,100}$")
_APPENDUID = re.compile(rb"APPENDUID (\d+) (\d+)")
_COPYUID = re.compile(rb"COPYUID (\d+) ([\d:,]+) ([\d:,]+)")
_HEADERS: Final = b"BODY[HEADER]"
_PREVIEW: Final = b"BODY[TEXT]<0>"
_PREVIEW_BYTES: Final = 2048


@dataclass(frozen=True, slots=True)
class _Id:
    folder: str
    validity: int
    uid: int

    def __str__(self) -> str:
        return f"{self.folder}:{self.validity}:{self.uid}"

    @classmethod
    def parse(cls, value: str) -> _Id:
        folder, _, rest = value.rpartition(":")
        folder, _, validity = folder.rpartition(":")
        if not folder or not validity.isdigit() or not rest.isdigit():
            raise InvalidArgumentError(
                f"{value!r} is not a message id of this server: take one from search_messages."
            )
        return cls(folder, int(validity), int(rest))


def _uid_set(text: bytes) -> list[int]:
    found: list[int] = []
    for part in text.split(b","):
        low, _, high = part.partition(b":")
        found.extend(range(int(low), int(high or low) + 1))
    return found


def _has_attachment(structure: Any) -> bool:
    """Whether a BODYSTRUCTURE names an attachment disposition anywhere."""
    if isinstance(structure, tuple | list):
        if structure and isinstance(structure[0], bytes) and structure[0].lower() == b"attachment":
            return True
        return any(_has_attachment(part) for part in structure)
    return False


def _flags(raw: Iterable[Any]) -> set[bytes]:
    return {f.lower() if isinstance(f, bytes) else str(f).lower().encode() for f in raw}


class YahooMailbox:
    """The :class:`~angie_mcp_core.mail.MailBackend` of one mailbox."""

    def __init__(
        self, settings: YahooSettings, *, ssl_context: ssl.SSLContext | None = None
    ) -> None:
        self.settings = settings
        self._ssl = ssl_context
        self._client: IMAPClient | None = None
        # What this connection knows: the folder list, and the folder it has selected
        # (name, read-only, UIDVALIDITY), so reading message after message does not LIST and
        # SELECT each time. Both are forgotten with the connection.
        self._listed: list[tuple[str, FolderKind]] | None = None
        self._selected: tuple[str, bool, int] | None = None
        self._lock = threading.Lock()

    # -- the connection ---------------------------------------------------------------------

    def _context(self) -> ssl.SSLContext:
        if self._ssl is None:
            cafile = str(self.settings.ca_file) if self.settings.ca_file else None
            context = ssl.create_default_context()
            if cafile:
                context.load_verify_locations(cafile=cafile)
            self._ssl = context
        return self._ssl

    def _credentials(self) -> tuple[str, str]:
        missing = self.settings.missing()
        if missing or self.settings.address is None or self.settings.app_password is None:
            raise NotConfiguredError(SERVICE, missing)
        return self.settings.address, self.settings.app_password.get_secret_value()

    def _connect(self) -> IMAPClient:
        address, password = self._credentials()
        host, port = self.settings.imap_host, self.settings.imap_port
        try:
            client = IMAPClient(
                host,
                port=port,
                ssl=True,
                ssl_context=self._context(),
                timeout=self.settings.timeout,
            )
        except (OSError, IMAPClientError) as err:
            raise UpstreamError(SERVICE, f"could not reach {host}:{port} ({err})") from err
        try:
            client.login(address, password)
        except LoginError as err:
            self._drop(client)
            raise UnauthorizedError(SERVICE, _LOGIN_HINT) from err
        except (OSError, IMAPClientError) as err:
            self._drop(client)
            raise UpstreamError(SERVICE, f"the login did not complete ({err})") from err
        return client

    @staticmethod
    def _drop(client: IMAPClient) -> None:
        with contextlib.suppress(OSError, IMAPClientError):
            client.shutdown()

    def _run[R](self, work: Callable[[IMAPClient], R]) -> R:
        """``work`` on the open connection; a connection found dropped is opened once again."""
        with self._lock:
            for attempt in (1, 2):
                if self._client is None:
                    self._client = self._connect()
                try:
                    return work(self._client)
                except (IMAPClientAbortError, OSError, EOFError) as err:
                    self._drop(self._client)
                    self._client = None
                    self._listed = self._selected = None
                    if attempt == 2:
                        raise UpstreamError(SERVICE, f"the connection dropped ({err})") from err
                except IMAPClientError as err:
                    raise UpstreamError(SERVICE, str(err)) from err
            raise AssertionError("unreachable")

    async def _call[R](self, work: Callable[[IMAPClient], R]) -> R:
        return await call_blocking(SERVICE, self.settings.timeout, self._run, work)

    def close(self) -> None:
        with self._lock:
            if self._client is not None:
                try:
                    self._client.logout()
                except (OSError, IMAPClientError):
                    self._drop(self._client)
                self._client = None

    async def probe(self) -> str:
        def hello(client: IMAPClient) -> str:
            client.noop()
            return f"{self.settings.imap_host} (IMAP) for {self.settings.address}"

        return await self._call(hello)

    # -- folders ------------------------------------------------------------------------------

    def _folders(self, client: IMAPClient, *, fresh: bool = False) -> list[tuple[str, FolderKind]]:
        if self._listed is not None and not fresh:
            return self._listed
        found: list[tuple[str, FolderKind]] = []
        for flags, _delimiter, name in client.list_folders():
            if b"\\noselect" in _flags(flags):
                continue
            kind: FolderKind = "other"
            for flag in _flags(flags):
                kind = _SPECIAL.get(flag, kind)
            if kind == "other":
                kind = _BY_NAME.get(str(name).lower(), "other")
            found.append((str(name), kind))
        self._listed = found
        return found

    def _folder(self, client: IMAPClient, name: str) -> str:
        known: list[str] = []
        for fresh in (False, True):  # a folder made since the list was read: read it again
            known = [n for n, _ in self._folders(client, fresh=fresh)]
            if name in known:
                return name
            for candidate in known:
                if candidate.lower() == name.lower():
                    return candidate
        raise NotFoundError("folder", name, known)

    def _special(self, client: IMAPClient, kind: FolderKind) -> str:
        for name, found in self._folders(client):
            if found == kind:
                return name
        raise InvalidArgumentError(f"This mailbox has no {kind} folder.")

    async def folders(self) -> list[Folder]:
        def listed(client: IMAPClient) -> list[Folder]:
            result = []
            for name, kind in self._folders(client, fresh=True):
                status = client.folder_status(name, [b"MESSAGES", b"UNSEEN"])
                result.append(
                    Folder(
                        id=name,
                        name=name,
                        kind=kind,
                        unread=int(status.get(b"UNSEEN", 0)),
                        total=int(status.get(b"MESSAGES", 0)),
                    )
                )
            return result

        return await self._call(listed)

    def _select(
        self, client: IMAPClient, folder: str, *, readonly: bool = True, fresh: bool = True
    ) -> int:
        """Select ``folder``; without ``fresh``, one already selected (writable will do for
        reading) is kept. A search selects afresh, so it sees mail that came meanwhile."""
        current = self._selected
        reusable = current is not None and current[0] == folder and (readonly or not current[1])
        if not fresh and current is not None and reusable:
            return current[2]
        self._selected = None
        selected = client.select_folder(folder, readonly=readonly)
        validity = int(selected[b"UIDVALIDITY"])
        self._selected = (folder, readonly, validity)
        return validity

    def _open(self, client: IMAPClient, message: _Id, *, readonly: bool = True) -> None:
        folder = self._folder(client, message.folder)
        if self._select(client, folder, readonly=readonly, fresh=False) != message.validity:
            raise InvalidArgumentError(
                f"Message {message} is from before the folder {folder!r} was rebuilt: "
                "search again for its new id."
            )

    # -- reading ------------------------------------------------------------------------------

    @staticmethod
    def _criteria(query: MailQuery) -> list[Any]:
        criteria: list[Any] = []
        for value in query.sender:
            criteria += [b"FROM", value]
        for value in query.to:
            criteria += [b"TO", value]
        for value in query.subject:
            criteria += [b"SUBJECT", value]
        for value in query.words:
            criteria += [b"TEXT", value]
        if query.unread is not None:
            criteria.append(b"UNSEEN" if query.unread else b"SEEN")
        if query.flagged:
            criteria.append(b"FLAGGED")
        if query.after:
            criteria += [b"SINCE", query.after]
        if query.before:
            criteria += [b"BEFORE", query.before]
        return criteria or [b"ALL"]

    def _summaries(
        self, client: IMAPClient, folder: str, validity: int, uids: Sequence[int]
    ) -> dict[int, MessageSummary]:
        if not uids:
            return {}
        fetched = client.fetch(
            list(uids),
            [b"FLAGS", b"BODY.PEEK[HEADER]", b"BODY.PEEK[TEXT]<0.%d>" % _PREVIEW_BYTES,
             b"BODYSTRUCTURE"],
        )  # fmt: skip
        found: dict[int, MessageSummary] = {}
        for uid, data in fetched.items():
            flags = _flags(data.get(b"FLAGS", ()))
            raw = bytes(data.get(_HEADERS, b"")) + bytes(data.get(_PREVIEW, b""))
            message = read_rfc822(
                raw,
                id=str(_Id(folder, validity, uid)),
                thread_id=None,
                folders=[folder],
                unread=b"\\seen" not in flags,
                flagged=b"\\flagged" in flags,
            )
            summary = MessageSummary.model_validate(
                {
                    **message.model_dump(include=set(MessageSummary.model_fields)),
                    "thread_id": _thread_of(raw),
                    "has_attachments": _has_attachment(data.get(b"BODYSTRUCTURE")),
                }
            )
            found[uid] = summary
        return found

    async def search(
        self, query: MailQuery, folder: str | None, limit: int, page: str | None
    ) -> SearchResult:
        if page is not None and not page.isdigit():
            raise InvalidArgumentError(f"{page!r} is not a next_page of this server.")
        criteria = self._criteria(query)

        def searched(client: IMAPClient) -> SearchResult:
            name = self._folder(client, folder) if folder else "INBOX"
            validity = self._select(client, name)
            uids = sorted(client.search(criteria), reverse=True)
            if page is not None:
                uids = [u for u in uids if u < int(page)]
            picked: list[MessageSummary] = []
            position = 0
            # has:attachment is known only from each message's structure: fetch in batches.
            while len(picked) < limit and position < len(uids):
                batch = uids[position : position + max(limit, 25)]
                position += len(batch)
                summaries = self._summaries(client, name, validity, batch)
                for uid in batch:
                    summary = summaries.get(uid)
                    if summary is None or (query.has_attachment and not summary.has_attachments):
                        continue
                    picked.append(summary)
                    if len(picked) == limit:
                        position = uids.index(uid) + 1
                        break
            more = position < len(uids)
            last = _Id.parse(picked[-1].id).uid if picked else None
            return SearchResult(
                messages=picked,
                next_page=str(last) if more and last is not None else None,
                provider_query=f"{name}: UID SEARCH "
                + " ".join(c.decode() if isinstance(c, bytes) else str(c) for c in criteria),
            )

        return await self._call(searched)

    def _read(self, client: IMAPClient, message: _Id) -> Message:
        self._open(client, message)
        fetched = client.fetch([message.uid], [b"FLAGS", b"BODY.PEEK[]"])
        data = fetched.get(message.uid)
        if data is None:
            raise NotFoundError("message", str(message))
        flags = _flags(data.get(b"FLAGS", ()))
        raw = bytes(data[b"BODY[]"])
        return read_rfc822(
            raw,
            id=str(message),
            thread_id=_thread_of(raw),
            folders=[message.folder],
            unread=b"\\seen" not in flags,
            flagged=b"\\flagged" in flags,
        )

    async def read(self, message_id: str) -> Message:
        message = _Id.parse(message_id)
        return await self._call(lambda client: self._read(client, message))

    async def thread(self, thread_id: str) -> Thread:
        if not re.fullmatch(r"<[^<>\s\"\\]{1,900}>", thread_id):
            raise InvalidArgumentError(
                f"{thread_id!r} is not a thread id of this server: take thread_id from a message."
            )

        def threaded(client: IMAPClient) -> Thread:
            messages: list[Message] = []
            places = ["INBOX"]
            for kind in ("sent", "archive"):
                try:
                    places.append(self._special(client, kind))
                except InvalidArgumentError:
                    continue
            for folder in dict.fromkeys(places):
                validity = self._select(client, folder)
                uids = client.search(
                    [b"OR", b"HEADER", b"Message-ID", thread_id, b"HEADER", b"References",
                     thread_id]
                )  # fmt: skip
                for uid in uids:
                    messages.append(self._read(client, _Id(folder, validity, uid)))
            if not messages:
                raise NotFoundError("thread", thread_id)
            messages.sort(key=lambda m: m.date or datetime.min.replace(tzinfo=UTC))
            return Thread(id=thread_id, subject=messages[0].subject, messages=messages)

        return await self._call(threaded)

    # -- writing ------------------------------------------------------------------------------

    async def me(self) -> str:
        return self._credentials()[0]

    def _append(self, client: IMAPClient, kind: FolderKind, raw: bytes, flags: list[bytes]) -> _Id:
        folder = self._special(client, kind)
        answer = client.append(folder, raw, flags=flags)
        found = _APPENDUID.search(answer if isinstance(answer, bytes) else b"")
        validity = self._select(client, folder)
        if found:
            return _Id(folder, int(found[1]), int(found[2]))
        # Without UIDPLUS: the newest message of the folder is the one just added.
        return _Id(folder, validity, max(client.search([b"ALL"]) or [0]))

    async def create_draft(self, mail: OutgoingMail) -> Draft:
        address = await self.me()
        message = compose(mail, address)
        made = await self._call(
            lambda client: self._append(
                client, "drafts", message.as_bytes(), [b"\\Draft", b"\\Seen"]
            )
        )
        return Draft(
            id=str(made),
            message_id=str(made),
            thread_id=mail.thread_id,
            to=[MailAddress(email=a) for a in mail.to],
            subject=mail.subject,
        )

    async def _submit(self, raw: bytes, recipients: list[str]) -> None:
        address, password = self._credentials()
        mode = self.settings.smtp_tls or ("implicit" if self.settings.smtp_port == 465 else None)
        implicit = mode == "implicit"
        try:
            await aiosmtplib.send(
                raw,
                sender=address,
                recipients=recipients,
                hostname=self.settings.smtp_host,
                port=self.settings.smtp_port,
                username=address,
                password=password,
                use_tls=implicit,
                start_tls=not implicit,
                tls_context=self._context(),
                timeout=self.settings.timeout,
            )
        except aiosmtplib.SMTPAuthenticationError as err:
            raise UnauthorizedError(SERVICE, _LOGIN_HINT) from err
        except aiosmtplib.SMTPRecipientsRefused as err:
            refused = ", ".join(r.recipient for r in err.recipients)
            raise InvalidArgumentError(f"{SERVICE} refused the recipients: {refused}.") from err
        except aiosmtplib.SMTPResponseException as err:
            raise UpstreamError(SERVICE, f"sending failed: {err.message}", err.code) from err
        except (aiosmtplib.SMTPException, OSError) as err:
            raise UpstreamError(SERVICE, f"could not send ({err})") from err

    async def send(self, mail: OutgoingMail) -> Sent:
        address = await self.me()
        message = compose(mail, address)
        raw = message.as_bytes()
        await self._submit(raw, [*mail.to, *mail.cc])
        try:
            kept = await self._call(lambda client: self._append(client, "sent", raw, [b"\\Seen"]))
            kept_id: str | None = str(kept)
        except ServerToolError:
            kept_id = None  # sent all the same; only the copy in Sent is missing
        return Sent(
            id=kept_id,
            thread_id=mail.thread_id or str(message["Message-ID"]),
            to=[MailAddress(email=a) for a in mail.to],
            subject=mail.subject,
        )

    async def send_draft(self, draft_id: str) -> Sent:
        draft = _Id.parse(draft_id)

        def load(client: IMAPClient) -> tuple[bytes, bool]:
            self._open(client, draft)
            data = client.fetch([draft.uid], [b"FLAGS", b"BODY.PEEK[]"]).get(draft.uid)
            if data is None:
                raise NotFoundError("draft", draft_id)
            return bytes(data[b"BODY[]"]), b"\\draft" in _flags(data.get(b"FLAGS", ()))

        raw, is_draft = await self._call(load)
        if not is_draft:
            raise InvalidArgumentError(f"{draft_id} is not a draft.")
        parsed = BytesParser(policy=policy.default).parsebytes(raw)
        recipients = [
            address.addr_spec
            for field in ("to", "cc")
            for header in parsed.get_all(field) or []
            for address in header.addresses
        ]
        if not recipients:
            raise InvalidArgumentError(f"Draft {draft_id} has no recipients.")
        await self._submit(raw, recipients)

        def file(client: IMAPClient) -> str | None:
            kept = self._append(client, "sent", raw, [b"\\Seen"])
            with contextlib.suppress(ServerToolError):  # else the draft stays; it is sent
                self._move(client, [draft], self._special(client, "trash"))
            return str(kept)

        try:
            kept_id = await self._call(file)
        except ServerToolError:
            kept_id = None
        return Sent(
            id=kept_id,
            thread_id=_thread_of(raw),
            to=[MailAddress(email=a) for a in recipients],
            subject=str(parsed["subject"] or ""),
        )

    def _by_folder(self, ids: Sequence[str]) -> dict[tuple[str, int], list[_Id]]:
        grouped: dict[tuple[str, int], list[_Id]] = {}
        for value in ids:
            message = _Id.parse(value)
            grouped.setdefault((message.folder, message.validity), []).append(message)
        return grouped

    def _move(self, client: IMAPClient, messages: Sequence[_Id], target: str) -> dict[str, str]:
        if not client.has_capability("MOVE"):
            raise InvalidArgumentError(
                f"{self.settings.imap_host} cannot move messages (no IMAP MOVE); Angie never "
                "deletes to move, so nothing was changed."
            )
        self._open(client, messages[0], readonly=False)
        # The server says where the messages went in an untagged "OK [COPYUID …]" (UIDPLUS),
        # which imaplib keeps aside: read what this MOVE added there.
        untagged = client._imap.untagged_responses
        untagged.pop("OK", None)
        try:
            client.move([m.uid for m in messages], target)
        except CapabilityError as err:
            raise InvalidArgumentError(str(err)) from err
        said = b" ".join(r for r in untagged.pop("OK", []) if isinstance(r, bytes))
        renamed: dict[str, str] = {}
        found = _COPYUID.search(said)
        if found:
            validity = int(found[1])
            for old, new in zip(_uid_set(found[2]), _uid_set(found[3]), strict=False):
                source = next((m for m in messages if m.uid == old), None)
                if source is not None:
                    renamed[str(source)] = str(_Id(target, validity, new))
        return renamed

    async def _relocate(
        self, ids: list[str], target: Callable[[IMAPClient], str], action: str
    ) -> Changed:
        grouped = self._by_folder(ids)

        def moved(client: IMAPClient) -> Changed:
            folder = target(client)
            renamed: dict[str, str] = {}
            for messages in grouped.values():
                if messages[0].folder == folder:
                    continue
                renamed.update(self._move(client, messages, folder))
            return Changed(action=f"{action} {folder}".strip(), ids=ids, new_ids=renamed)

        return await self._call(moved)

    async def move(self, ids: list[str], folder: str) -> Changed:
        return await self._relocate(ids, lambda client: self._folder(client, folder), "moved to")

    async def archive(self, ids: list[str]) -> Changed:
        return await self._relocate(
            ids, lambda client: self._special(client, "archive"), "archived in"
        )

    async def trash(self, ids: list[str]) -> Changed:
        return await self._relocate(
            ids, lambda client: self._special(client, "trash"), "moved to the trash,"
        )

    async def _store(
        self, ids: list[str], add: list[bytes], remove: list[bytes], action: str
    ) -> Changed:
        grouped = self._by_folder(ids)

        def stored(client: IMAPClient) -> Changed:
            for messages in grouped.values():
                self._open(client, messages[0], readonly=False)
                uids = [m.uid for m in messages]
                if add:
                    client.add_flags(uids, add, silent=True)
                if remove:
                    client.remove_flags(uids, remove, silent=True)
            return Changed(action=action, ids=ids)

        return await self._call(stored)

    async def label(self, ids: list[str], add: list[str], remove: list[str]) -> Changed:
        for keyword in (*add, *remove):
            if not _KEYWORD.match(keyword) or keyword.startswith("\\"):
                raise InvalidArgumentError(
                    f"{keyword!r} cannot be a label here: use letters, digits, _ . - $."
                )
        return await self._store(
            ids, [k.encode() for k in add], [k.encode() for k in remove], "labels changed"
        )

    async def flag(self, ids: list[str], flagged: bool) -> Changed:
        change = [b"\\Flagged"]
        if flagged:
            return await self._store(ids, change, [], "flagged")
        return await self._store(ids, [], change, "unflagged")

    async def mark_read(self, ids: list[str], read: bool) -> Changed:
        change = [b"\\Seen"]
        if read:
            return await self._store(ids, change, [], "marked read")
        return await self._store(ids, [], change, "marked unread")

    async def save_attachment(self, message_id: str, attachment_id: str) -> SavedAttachment:
        message = _Id.parse(message_id)

        def fetched(client: IMAPClient) -> bytes:
            self._open(client, message)
            data = client.fetch([message.uid], [b"BODY.PEEK[]"]).get(message.uid)
            if data is None:
                raise NotFoundError("message", message_id)
            return bytes(data[b"BODY[]"])

        parsed = BytesParser(policy=policy.default).parsebytes(await self._call(fetched))
        parts = list(parsed.iter_attachments())
        if not attachment_id.isdigit() or int(attachment_id) >= len(parts):
            raise NotFoundError("attachment", attachment_id, [str(i) for i in range(len(parts))])
        part = parts[int(attachment_id)]
        data = part.get_payload(decode=True)
        content = data if isinstance(data, bytes) else b""
        filename = part.get_filename() or f"attachment-{attachment_id}"
        path = save_download(
            self.settings.download_dir,
            filename,
            content,
            max_bytes=self.settings.max_download_bytes,
        )
        return SavedAttachment(
            path=str(path),
            filename=filename,
            content_type=part.get_content_type(),
            size=len(content),
        )


def _thread_of(raw: bytes) -> str | None:
    """The Message-ID that started the conversation: the first of References, else
    In-Reply-To, else the message's own."""
    head = raw.split(b"\r\n\r\n", 1)[0].split(b"\n\n", 1)[0]
    parsed = BytesParser(policy=policy.compat32).parsebytes(head, headersonly=True)
    for name in ("references", "in-reply-to", "message-id"):
        value = parsed.get(name)
        if value:
            found = re.search(r"<[^<>\s]+>", str(value))
            if found:
                return found[0]
    return None
