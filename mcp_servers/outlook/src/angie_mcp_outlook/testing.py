"""A fake Microsoft Graph mailbox and identity platform on 127.0.0.1, for tests and benchmarks.

It enforces what Microsoft does where a wrong client would notice: bearer tokens it issued
(401 ``InvalidAuthenticationToken`` otherwise), delegated permissions (403 ``ErrorAccessDenied``:
reading with ``Mail.Read``, changing with ``Mail.ReadWrite``, sending with ``Mail.Send``),
refresh grants (``invalid_grant`` once revoked), the device-code grant, ``$top`` with
``@odata.nextLink`` paging, ``$search`` refused beside ``$filter`` or ``$orderby``, an
``$orderby`` property first in ``$filter``, 404 ``ErrorItemNotFound`` for unknown ids, and a new
id for a moved message. Messages are stored as MIME and served as Graph JSON or ``/$value``.
"""

from __future__ import annotations

import base64
import re
import secrets
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import format_datetime, getaddresses, make_msgid, parsedate_to_datetime
from pathlib import Path
from typing import Any, Final
from urllib.parse import parse_qs, unquote, urlencode

from angie_mcp_core.fakes import FakeService, Reply, Request
from angie_mcp_core.tokens import TokenFile

__all__ = ("CLIENT_ID", "READ", "READ_WRITE", "SEND", "TENANT", "FakeOutlook", "demo")

CLIENT_ID: Final = "00000000-0000-4000-8000-00000000a9e1"
TENANT: Final = "common"
READ: Final = "Mail.Read"
READ_WRITE: Final = "Mail.ReadWrite"
SEND: Final = "Mail.Send"
_BASE: Final = ("offline_access", "User.Read", "openid", "profile")
_API: Final = "/v1.0/me"
_ROLES: Final = {
    "inbox": "Inbox",
    "sentitems": "Sent Items",
    "drafts": "Drafts",
    "deleteditems": "Deleted Items",
    "junkemail": "Junk Email",
    "archive": "Archive",
}
_MAX_TOP: Final = 1000


def _error(status: int, code: str, message: str) -> Reply:
    return Reply.json(status, {"error": {"code": code, "message": message}})


def _not_found() -> Reply:
    return _error(404, "ErrorItemNotFound", "The specified object was not found in the store.")


def _iso(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _address(name: str, email: str) -> dict[str, Any]:
    return {"emailAddress": {"name": name or email, "address": email}}


def _text(parsed: EmailMessage) -> str:
    """The body's text as Exchange would index it (an unknown charset read as UTF-8)."""
    body = parsed.get_body(("plain", "html"))
    if body is None:
        return ""
    try:
        return str(body.get_content())
    except LookupError:
        data = body.get_payload(decode=True)
        return data.decode("utf-8", "replace") if isinstance(data, bytes) else ""


def _emails(recipients: list[dict[str, Any]]) -> list[str]:
    return [str(r.get("emailAddress", {}).get("address", "")) for r in recipients]


class FakeOutlook(FakeService):
    """Outlook for one account (``me@example.com``).

    ``add_message(raw, folder)`` seeds it (folder a well-known name or an id);
    ``add_folder(name)`` a user folder; ``sign_in(scopes)`` issues tokens and returns what
    ``angie-mcp-outlook auth`` would store; ``revoke`` makes refreshing fail with
    ``invalid_grant``; ``expire_access_tokens`` makes every access token a 401. ``page_cap``
    caps ``$top``. ``messages``/``folders``/``sent`` hold the state; ``decline_devices`` makes
    the device-code sign-in declined.
    """

    def __init__(self) -> None:
        super().__init__()
        self.me = "me@example.com"
        self.folders: dict[str, dict[str, Any]] = {}
        for role, name in _ROLES.items():
            self.folders[f"AQMk-{role}"] = {"id": f"AQMk-{role}", "displayName": name, "role": role}
        self.messages: dict[str, dict[str, Any]] = {}
        self.page_cap = _MAX_TOP
        self.decline_devices = False
        self._counter = 0
        self._access: dict[str, set[str]] = {}
        self._refresh: dict[str, set[str]] = {}
        self._devices: dict[str, dict[str, Any]] = {}

    # -- seeding and control -----------------------------------------------------------------

    @property
    def graph_url(self) -> str:
        return f"{self.url}/"

    @property
    def login_url(self) -> str:
        return f"{self.url}/"

    def _next_id(self, prefix: str) -> str:
        self._counter += 1
        return f"{prefix}{self._counter:08d}-{secrets.token_hex(4)}"

    def folder_id(self, name: str) -> str | None:
        """A folder's id from a well-known name or an id."""
        if name.lower() in _ROLES:
            return f"AQMk-{name.lower()}"
        return name if name in self.folders else None

    def add_folder(self, name: str) -> str:
        with self.lock:
            folder_id = self._next_id("AQMk-f")
            self.folders[folder_id] = {"id": folder_id, "displayName": name, "role": None}
            return folder_id

    def add_message(
        self,
        raw: bytes,
        folder: str = "inbox",
        *,
        read: bool = False,
        flagged: bool = False,
        conversation: str | None = None,
    ) -> str:
        """Store a raw RFC 5322 message; its id."""
        with self.lock:
            folder_id = self.folder_id(folder)
            assert folder_id is not None, f"no folder {folder}"
            return self._store(
                raw, folder_id, read=read, flagged=flagged, conversation=conversation
            )

    def _store(
        self,
        raw: bytes,
        folder_id: str,
        *,
        read: bool = False,
        flagged: bool = False,
        conversation: str | None = None,
        draft: bool = False,
    ) -> str:
        parsed = BytesParser(policy=policy.default).parsebytes(raw)
        try:
            when = parsedate_to_datetime(str(parsed["date"]))
        except (TypeError, ValueError):
            when = datetime.now(UTC)
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        attachments: list[dict[str, Any]] = []
        for part in parsed.iter_attachments():
            data = part.get_payload(decode=True) or b""
            assert isinstance(data, bytes)
            attachments.append(
                {
                    "id": f"AAMkATT{len(attachments)}{secrets.token_hex(3)}",
                    "name": part.get_filename() or "attachment",
                    "contentType": part.get_content_type(),
                    "size": len(data),
                    "data": data,
                }
            )
        internet_id = str(parsed["message-id"] or make_msgid(domain="example.com"))
        if conversation is None:
            replied = str(parsed["in-reply-to"] or "").strip()
            known = [m for m in self.messages.values() if m["internetMessageId"] == replied]
            conversation = known[0]["conversationId"] if known else self._next_id("AAQk-c")
        message_id = self._next_id("AAMk-")
        self.messages[message_id] = {
            "id": message_id,
            "folder": folder_id,
            "raw": raw,
            "parsed": parsed,
            "received": when,
            "isRead": read,
            "flag": "flagged" if flagged else "notFlagged",
            "categories": [],
            "conversationId": conversation,
            "internetMessageId": internet_id,
            "isDraft": draft,
            "attachments": attachments,
        }
        return message_id

    def add_item_attachment(self, message_id: str, name: str) -> str:
        """Attach an Outlook item (a forwarded message, an event): no file bytes to download."""
        with self.lock:
            attachment_id = f"AAMkITEM{secrets.token_hex(3)}"
            self.messages[message_id]["attachments"].append(
                {
                    "id": attachment_id,
                    "name": name,
                    "contentType": "message/rfc822",
                    "size": 1024,
                    "data": None,
                }
            )
            return attachment_id

    def sign_in(self, scopes: list[str] | None = None, *, lifetime: int = 3600) -> dict[str, Any]:
        """Tokens as `angie-mcp-outlook auth` stores them; Mail.Read unless scopes say more."""
        granted = {*_BASE, *(scopes or [READ])}
        with self.lock:
            refresh = f"M.R3_fake-{secrets.token_hex(12)}"
            self._refresh[refresh] = granted
            token = self._issue(granted)
        return {
            "access_token": token,
            "refresh_token": refresh,
            "expires_at": (datetime.now(UTC) + timedelta(seconds=lifetime)).isoformat(),
            "scopes": sorted(granted),
            "granted_at": datetime.now(UTC).isoformat(),
        }

    def revoke(self) -> None:
        with self.lock:
            self._refresh.clear()
            self._access.clear()

    def expire_access_tokens(self) -> None:
        with self.lock:
            self._access.clear()

    def _issue(self, scopes: set[str]) -> str:
        token = f"eyJ0eXAi.fake-{secrets.token_hex(12)}"
        self._access[token] = scopes
        return token

    # -- HTTP --------------------------------------------------------------------------------

    def answer(self, request: Request) -> Reply:
        if request.path.startswith(f"/{TENANT}/oauth2/v2.0/") and request.method == "POST":
            return self._identity(request)
        if not request.path.startswith(_API):
            return _error(404, "UnknownError", "Resource not found")
        auth = request.headers.get("authorization", "")
        scopes = (
            self._access.get(auth.removeprefix("Bearer ")) if auth.startswith("Bearer ") else None
        )
        if scopes is None:
            return _error(
                401, "InvalidAuthenticationToken", "Access token has expired or is not yet valid."
            )
        if "/../" in f"{request.path}/" or "/./" in f"{request.path}/":
            return _error(400, "BadRequest", "Invalid path")
        parts = [unquote(p) for p in request.path.removeprefix(_API).split("/") if p]
        if not scopes & self._needed(request.method, parts):
            return _error(
                403, "ErrorAccessDenied", "Access is denied. Check credentials and try again."
            )
        try:
            return self._route(request, parts)
        except ValueError as err:
            return _error(400, "BadRequest", str(err))

    @staticmethod
    def _needed(method: str, parts: list[str]) -> set[str]:
        if not parts:
            return {"User.Read"}
        if parts[-1] in {"sendMail", "send", "reply", "replyAll"}:
            return {SEND}
        if method == "GET":
            return {READ, READ_WRITE}
        return {READ_WRITE}

    def _route(self, request: Request, parts: list[str]) -> Reply:
        method = request.method
        if not parts:
            return Reply.json(200, {"mail": self.me, "userPrincipalName": self.me})
        if parts == ["sendMail"] and method == "POST":
            return self._send_mail(request.json() or {})
        if parts[0] == "mailFolders":
            return self._folders(request, parts[1:])
        if parts[0] != "messages":
            return _error(400, "BadRequest", f"Unsupported segment {parts[0]}")
        if len(parts) == 1:
            if method == "GET":
                return self._list(request, None)
            if method == "POST":
                return self._create_draft(request.json() or {}, "AQMk-drafts")
        found = self.messages.get(parts[1]) if len(parts) > 1 else None
        if found is None:
            return _not_found()
        return self._message(request, found, parts[2:])

    def _folders(self, request: Request, rest: list[str]) -> Reply:
        if not rest:
            return self._page(request, list(self.folders.values()), self._folder_view)
        folder_id = self.folder_id(rest[0])
        if folder_id is None:
            return _not_found()
        if len(rest) == 1 and request.method == "GET":
            return Reply.json(200, self._folder_view(self.folders[folder_id]))
        if rest[1:] == ["messages"]:
            if request.method == "POST":
                return self._create_draft(request.json() or {}, folder_id)
            return self._list(request, folder_id)
        return _error(400, "BadRequest", "Unsupported folder request")

    def _folder_view(self, folder: dict[str, Any]) -> dict[str, Any]:
        inside = [m for m in self.messages.values() if m["folder"] == folder["id"]]
        return {
            "id": folder["id"],
            "displayName": folder["displayName"],
            "parentFolderId": "AQMk-root",
            "childFolderCount": 0,
            "unreadItemCount": sum(1 for m in inside if not m["isRead"]),
            "totalItemCount": len(inside),
        }

    def _message(self, request: Request, message: dict[str, Any], rest: list[str]) -> Reply:
        method = request.method
        if not rest and method == "GET":
            return Reply.json(200, self._view(message, request))
        if rest == ["$value"] and method == "GET":
            return Reply(200, message["raw"], {"Content-Type": "text/plain"})
        if not rest and method == "PATCH":
            return self._patch(message, request.json() or {})
        if rest == ["move"] and method == "POST":
            target = self.folder_id(str((request.json() or {}).get("destinationId", "")))
            if target is None:
                return _error(400, "ErrorInvalidIdMalformed", "Id is malformed.")
            del self.messages[message["id"]]
            message["id"] = self._next_id("AAMk-")
            message["folder"] = target
            self.messages[message["id"]] = message
            return Reply.json(201, self._view(message))
        if rest == ["send"] and method == "POST":
            if not message["isDraft"]:
                return _error(400, "ErrorInvalidOperation", "Only drafts can be sent.")
            if not message["parsed"]["to"]:
                return _error(400, "ErrorInvalidRecipients", "At least one recipient is not valid.")
            message["isDraft"] = False
            message["folder"] = "AQMk-sentitems"
            return Reply(202)
        if rest in (["createReply"], ["createReplyAll"]) and method == "POST":
            return self._create_reply(message)
        if rest == ["reply"] and method == "POST":
            body = request.json() or {}
            draft = self._reply_draft(message, str(body.get("comment", "")))
            draft["isDraft"] = False
            draft["folder"] = "AQMk-sentitems"
            return Reply(202)
        if rest == ["attachments"] and method == "GET":
            views = [self._attachment(a, content=False) for a in message["attachments"]]
            return Reply.json(200, {"value": views})
        if len(rest) == 2 and rest[0] == "attachments" and method == "GET":
            for attachment in message["attachments"]:
                if attachment["id"] == rest[1]:
                    return Reply.json(200, self._attachment(attachment, content=True))
            return _not_found()
        return _error(400, "BadRequest", "Unsupported message request")

    @staticmethod
    def _attachment(attachment: dict[str, Any], *, content: bool) -> dict[str, Any]:
        item = attachment["data"] is None
        view = {
            "@odata.type": f"#microsoft.graph.{'itemAttachment' if item else 'fileAttachment'}",
            "id": attachment["id"],
            "name": attachment["name"],
            "contentType": attachment["contentType"],
            "size": attachment["size"],
        }
        if content and not item:
            view["contentBytes"] = base64.b64encode(attachment["data"]).decode()
        return view

    def _view(self, message: dict[str, Any], request: Request | None = None) -> dict[str, Any]:
        parsed: EmailMessage = message["parsed"]
        senders = getaddresses([str(parsed["from"] or "")])
        text = _text(parsed)
        view: dict[str, Any] = {
            "id": message["id"],
            "conversationId": message["conversationId"],
            "parentFolderId": message["folder"],
            "subject": str(parsed["subject"] or ""),
            "from": _address(*senders[0]) if senders and senders[0][1] else None,
            "toRecipients": [
                _address(n, e) for n, e in getaddresses([str(parsed["to"] or "")]) if e
            ],
            "ccRecipients": [
                _address(n, e) for n, e in getaddresses([str(parsed["cc"] or "")]) if e
            ],
            "receivedDateTime": _iso(message["received"]),
            "bodyPreview": " ".join(text.split())[:255],
            "body": {"contentType": "text", "content": text},
            "isRead": message["isRead"],
            "isDraft": message["isDraft"],
            "flag": {"flagStatus": message["flag"]},
            "hasAttachments": bool(message["attachments"]),
            "internetMessageId": message["internetMessageId"],
            "categories": list(message["categories"]),
        }
        select = (request.query.get("$select", [""])[-1] if request else "").split(",")
        if select != [""]:
            view = {k: v for k, v in view.items() if k in select or k == "id"}
        return view

    # -- listing -----------------------------------------------------------------------------

    def _page[T](
        self, request: Request, items: list[T], view: Callable[[T], dict[str, Any]]
    ) -> Reply:
        """One page of ``items`` by ``$top`` and ``$skip``, with ``@odata.nextLink`` when more."""
        q = {k: v[-1] for k, v in request.query.items()}
        try:
            top = int(q.get("$top", "10"))
            skip = int(q.get("$skip", "0"))
        except ValueError:
            return _error(400, "BadRequest", "Invalid $top or $skip")
        if top < 1:
            return _error(400, "BadRequest", "$top must be positive")
        top = min(top, self.page_cap)
        body: dict[str, Any] = {"value": [view(item) for item in items[skip : skip + top]]}
        if skip + top < len(items):
            query = {**q, "$skip": str(skip + top)}
            body["@odata.nextLink"] = f"{self.url}{request.path}?{urlencode(query)}"
        return Reply.json(200, body)

    def _list(self, request: Request, folder_id: str | None) -> Reply:
        q = {k: v[-1] for k, v in request.query.items()}
        search, where, order = q.get("$search"), q.get("$filter"), q.get("$orderby")
        if search is not None and (where is not None or order is not None):
            return _error(
                400, "ErrorInvalidUrlQuery", "The query parameter '$search' cannot be combined."
            )
        if where and order and not where.startswith(order.split()[0]):
            return _error(400, "InefficientFilter", "The restriction or sort order is too complex.")
        found = [
            m
            for m in self.messages.values()
            if (folder_id is None or m["folder"] == folder_id)
            and (not where or self._filter(m, where))
            and (search is None or self._search(m, search))
        ]
        found.sort(key=lambda m: m["received"], reverse=True)
        return self._page(request, found, lambda m: self._view(m, request))

    def _filter(self, message: dict[str, Any], where: str) -> bool:
        """Graph's ``$filter``, the clauses Angie sends, joined by ``and``."""
        for clause in where.split(" and "):
            field, op, value = clause.strip().split(" ", 2)
            value = value.strip("'")
            if field == "receivedDateTime":
                when = datetime.fromisoformat(value.replace("Z", "+00:00"))
                checks = {
                    "ge": message["received"] >= when,
                    "gt": message["received"] > when,
                    "lt": message["received"] < when,
                    "le": message["received"] <= when,
                }
                ok = checks[op]
            elif field in {"isRead", "hasAttachments"}:
                actual = message["isRead"] if field == "isRead" else bool(message["attachments"])
                ok = actual == (value == "true")
            elif field == "flag/flagStatus":
                ok = (message["flag"] == value) == (op == "eq")
            elif field in {"conversationId", "internetMessageId"}:
                ok = message[field] == value.replace("''", "'")
            else:
                raise ValueError(f"Could not find a property named '{field}'.")
            if not ok:
                return False
        return True

    def _search(self, message: dict[str, Any], search: str) -> bool:
        """Graph's ``$search`` (KQL): the property terms Angie sends, joined by ``AND``."""
        text = search.strip()
        if not (text.startswith('"') and text.endswith('"')):
            raise ValueError("Syntax error: $search must be in double quotes.")
        parsed: EmailMessage = message["parsed"]
        content = _text(parsed)

        def field(name: str) -> str:
            return str(parsed[name] or "").lower()

        for term in re.split(r" AND ", text[1:-1]):
            term = term.replace('\\"', "").strip()
            if term.startswith("received>="):
                ok = message["received"] >= datetime.fromisoformat(term[10:]).replace(tzinfo=UTC)
            elif term.startswith("received<"):
                ok = message["received"] < datetime.fromisoformat(term[9:]).replace(tzinfo=UTC)
            else:
                key, sep, value = term.partition(":")
                value = value.lower()
                if not sep:
                    value = key.lower()
                    ok = value in f"{field('subject')} {field('from')} {content}".lower()
                elif key == "from":
                    ok = value in field("from")
                elif key == "to":
                    ok = value in f"{field('to')} {field('cc')}"
                elif key == "subject":
                    ok = value in field("subject")
                elif key == "hasattachment":
                    ok = bool(message["attachments"]) == (value == "true")
                else:
                    raise ValueError(f"Unsupported search property {key}.")
            if not ok:
                return False
        return True

    # -- writing -----------------------------------------------------------------------------

    def _mime(self, data: dict[str, Any], *, headers: dict[str, str] | None = None) -> bytes:
        message = EmailMessage()
        message["From"] = self.me
        to = _emails(data.get("toRecipients", []))
        if to:
            message["To"] = ", ".join(to)
        cc = _emails(data.get("ccRecipients", []))
        if cc:
            message["Cc"] = ", ".join(cc)
        message["Subject"] = str(data.get("subject", ""))
        message["Date"] = format_datetime(datetime.now(UTC))
        message["Message-ID"] = make_msgid(domain="example.com")
        for name, value in (headers or {}).items():
            message[name] = value
        message.set_content(str((data.get("body") or {}).get("content", "")))
        return message.as_bytes()

    def _send_mail(self, body: dict[str, Any]) -> Reply:
        message = body.get("message")
        if not isinstance(message, dict):
            return _error(400, "ErrorInvalidRequest", "The message is missing.")
        if not _emails(message.get("toRecipients", [])):
            return _error(400, "ErrorInvalidRecipients", "At least one recipient is not valid.")
        self._store(self._mime(message), "AQMk-sentitems", read=True)
        return Reply(202)

    def _create_draft(self, data: dict[str, Any], folder_id: str) -> Reply:
        message_id = self._store(self._mime(data), folder_id, read=True, draft=True)
        return Reply.json(201, self._view(self.messages[message_id]))

    def _reply_draft(self, original: dict[str, Any], comment: str) -> dict[str, Any]:
        parsed: EmailMessage = original["parsed"]
        senders = getaddresses([str(parsed["reply-to"] or parsed["from"] or "")])
        data = {
            "subject": f"RE: {parsed['subject'] or ''}",
            "toRecipients": [_address(n, e) for n, e in senders if e],
            "body": {"contentType": "text", "content": comment},
        }
        headers = {"In-Reply-To": original["internetMessageId"]}
        raw = self._mime(data, headers=headers)
        message_id = self._store(
            raw, "AQMk-drafts", read=True, conversation=original["conversationId"], draft=True
        )
        return self.messages[message_id]

    def _create_reply(self, original: dict[str, Any]) -> Reply:
        quoted = "\n".join(
            f"> {line}" for line in self._view(original)["body"]["content"].splitlines()
        )
        draft = self._reply_draft(original, quoted)
        return Reply.json(201, self._view(draft))

    def _patch(self, message: dict[str, Any], data: dict[str, Any]) -> Reply:
        if "isRead" in data:
            message["isRead"] = bool(data["isRead"])
        if "flag" in data:
            message["flag"] = str((data["flag"] or {}).get("flagStatus", "notFlagged"))
        if "categories" in data:
            message["categories"] = [str(c) for c in data["categories"]]
        content = {"subject", "body", "toRecipients", "ccRecipients"} & set(data)
        if content:
            if not message["isDraft"]:
                return _error(400, "ErrorInvalidPropertyUpdateSentMessage", "Sent mail is final.")
            current = self._view(message)
            merged = {
                k: data.get(k, current[k])
                for k in ("subject", "body", "toRecipients", "ccRecipients")
            }
            parsed: EmailMessage = message["parsed"]
            headers = {"In-Reply-To": str(parsed["in-reply-to"])} if parsed["in-reply-to"] else None
            raw = self._mime(merged, headers=headers)
            message["raw"] = raw
            message["parsed"] = BytesParser(policy=policy.default).parsebytes(raw)
        return Reply.json(200, self._view(message))

    # -- identity platform -------------------------------------------------------------------

    def _identity(self, request: Request) -> Reply:
        form = {k: v[-1] for k, v in parse_qs(request.body.decode()).items()}
        if form.get("client_id") != CLIENT_ID:
            return Reply.json(
                400,
                {
                    "error": "unauthorized_client",
                    "error_description": "AADSTS700016: Application not found in the directory.",
                },
            )
        if request.path.endswith("/devicecode"):
            return self._device_code(form)
        grant = form.get("grant_type")
        if grant == "refresh_token":
            scopes = self._refresh.get(form.get("refresh_token", ""))
            if scopes is None:
                return Reply.json(
                    400,
                    {
                        "error": "invalid_grant",
                        "error_description": "AADSTS70008: The refresh token has expired or "
                        "is invalid due to sign-in frequency checks by conditional access.",
                    },
                )
            return self._tokens(scopes)
        if grant == "urn:ietf:params:oauth:grant-type:device_code":
            device = self._devices.get(form.get("device_code", ""))
            if device is None:
                return Reply.json(400, {"error": "expired_token"})
            if self.decline_devices:
                return Reply.json(400, {"error": "access_denied"})
            device["polls"] += 1
            if device["polls"] < 2:
                return Reply.json(400, {"error": "authorization_pending"})
            del self._devices[form["device_code"]]
            return self._tokens(device["scopes"])
        return Reply.json(400, {"error": "unsupported_grant_type"})

    def _device_code(self, form: dict[str, str]) -> Reply:
        code = secrets.token_urlsafe(24)
        scopes = set(form.get("scope", "").split())
        if "offline_access" not in scopes:
            scopes.discard("offline_access")
        self._devices[code] = {"scopes": scopes | {"openid", "profile"}, "polls": 0}
        return Reply.json(
            200,
            {
                "device_code": code,
                "user_code": "ANGIE" + secrets.token_hex(2).upper(),
                "verification_uri": "https://microsoft.com/devicelogin",
                "expires_in": 900,
                "interval": 1,
                "message": "To sign in, use a web browser to open the page.",
            },
        )

    def _tokens(self, scopes: set[str]) -> Reply:
        answer: dict[str, Any] = {
            "token_type": "Bearer",
            "scope": " ".join(sorted(scopes - {"offline_access"})),
            "expires_in": 3599,
            "access_token": self._issue(scopes),
        }
        if "offline_access" in scopes:
            refresh = f"M.R3_fake-{secrets.token_hex(12)}"
            self._refresh[refresh] = scopes
            answer["refresh_token"] = refresh
        return Reply.json(200, answer)


def _demo_mail(sender: str, subject: str, body: str, days_ago: int) -> bytes:
    when = datetime.now(UTC) - timedelta(days=days_ago)
    return (
        f"From: {sender}\r\nTo: me@example.com\r\nSubject: {subject}\r\n"
        f"Date: {when:%a, %d %b %Y %H:%M:%S +0000}\r\n"
        f"Message-ID: <demo-{days_ago}-{abs(hash(subject))}@example.com>\r\n"
        f"Content-Type: text/plain; charset=utf-8\r\n\r\n{body}\r\n"
    ).encode()


@contextmanager
def demo(state_dir: Path) -> Iterator[dict[str, str]]:
    """A demo Outlook inbox (a colleague's meeting request, an invoice, a newsletter) on
    127.0.0.1 while the block runs, connected read-only; yields the server's settings."""
    with FakeOutlook() as fake:
        fake.add_message(
            _demo_mail(
                "Priya <priya@contoso.example>",
                "Project sync on Monday?",
                "Does 10:00 suit you?",
                0,
            )
        )
        fake.add_message(
            _demo_mail(
                "Billing <billing@fabrikam.example>",
                "Invoice 2026-118",
                "Amount due: 120.00 EUR",
                1,
            ),
            read=True,
        )
        fake.add_message(
            _demo_mail(
                "Digest <news@example.org>", "Your weekly digest", "Five things to read.", 3
            ),
            read=True,
        )
        token_file = state_dir / "tokens.enc"
        TokenFile(token_file).save(fake.sign_in())
        yield {
            "ANGIE_OUTLOOK_CLIENT_ID": CLIENT_ID,
            "ANGIE_OUTLOOK_GRAPH_URL": fake.graph_url,
            "ANGIE_OUTLOOK_LOGIN_URL": fake.login_url,
            "ANGIE_OUTLOOK_TOKEN_FILE": str(token_file),
            "ANGIE_OUTLOOK_DOWNLOAD_DIR": str(state_dir / "downloads"),
        }
