"""A fake Gmail v1 and OAuth token endpoint on 127.0.0.1, for tests and benchmarks.

It enforces what Google does where a wrong client would notice: bearer tokens it issued (401
otherwise), each method's scopes (403 ``insufficientPermissions``: reading with
``gmail.readonly``, labels and trash with ``gmail.modify``, drafts and sending with
``gmail.compose`` or ``gmail.modify``), refresh grants (``invalid_grant`` once revoked),
``pageToken`` paging capped by ``maxResults``, Gmail's ``q`` operators, and 404 for unknown ids.
Messages are stored raw and served as ``format=raw`` (base64url) like Gmail does. There is no
permanent deletion: ``messages.delete`` answers 403 unless the full ``mail.google.com`` scope.
"""

from __future__ import annotations

import base64
import secrets
import shlex
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any, Final

from angie_mcp_core.fakes import Reply, Request
from angie_mcp_core.google.testing import (
    CLIENT_ID,
    CLIENT_SECRET,
    FakeGoogle,
    insufficient_scopes,
)
from angie_mcp_core.google.testing import google_error as _error
from angie_mcp_core.tokens import TokenFile

__all__ = ("CLIENT_ID", "CLIENT_SECRET", "COMPOSE", "MODIFY", "READONLY", "FakeGmail", "demo")

READONLY: Final = "https://www.googleapis.com/auth/gmail.readonly"
MODIFY: Final = "https://www.googleapis.com/auth/gmail.modify"
COMPOSE: Final = "https://www.googleapis.com/auth/gmail.compose"
FULL: Final = "https://mail.google.com/"
_READ: Final = {READONLY, MODIFY, FULL}
_CHANGE: Final = {MODIFY, FULL}
_WRITE_MAIL: Final = {COMPOSE, MODIFY, FULL}
_API: Final = "/gmail/v1/users/me"
_SYSTEM: Final = ("INBOX", "SENT", "DRAFT", "TRASH", "SPAM", "STARRED", "UNREAD", "IMPORTANT")


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(data: str) -> bytes:
    return base64.urlsafe_b64decode(data + "=" * (-len(data) % 4))


class FakeGmail(FakeGoogle):
    """Gmail for one account (``me@example.com``).

    ``add_message(raw, labels)`` seeds it; ``add_label(name)`` a user label; ``sign_in(scopes)``
    issues tokens and returns what ``angie-mcp-gmail auth`` would store; ``revoke`` makes the
    refresh fail with ``invalid_grant``; ``expire_access_tokens`` makes every access token a
    401. ``page_cap`` caps ``maxResults`` (Gmail's 500). ``messages``/``drafts``/``sent`` hold
    the state.
    """

    default_scopes = (READONLY,)

    def __init__(self) -> None:
        super().__init__()
        self.messages: dict[str, dict[str, Any]] = {}
        self.drafts: dict[str, str] = {}
        self.labels: dict[str, dict[str, Any]] = {
            name: {"id": name, "name": name, "type": "system"} for name in _SYSTEM
        }
        self.page_cap = 500

    # -- seeding and control -----------------------------------------------------------------

    @property
    def api_url(self) -> str:
        return f"{self.url}/"

    def add_label(self, name: str) -> str:
        with self.lock:
            label_id = f"Label_{len(self.labels)}"
            self.labels[label_id] = {"id": label_id, "name": name, "type": "user"}
            return label_id

    def add_message(
        self, raw: bytes, labels: list[str] | None = None, *, thread_id: str | None = None
    ) -> str:
        """Store a raw RFC 5322 message; its id (and its thread's, a new one unless given)."""
        with self.lock:
            return self._store(
                raw, labels if labels is not None else ["INBOX", "UNREAD"], thread_id
            )

    def _store(self, raw: bytes, labels: list[str], thread_id: str | None) -> str:
        message_id = f"{len(self.messages) + 1:016x}"
        parsed = BytesParser(policy=policy.default).parsebytes(raw)
        try:
            when = parsedate_to_datetime(str(parsed["date"]))
        except (TypeError, ValueError):
            when = datetime.now(UTC)
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        self.messages[message_id] = {
            "id": message_id,
            "threadId": thread_id or message_id,
            "labelIds": list(labels),
            "raw": raw,
            "internalDate": when,
        }
        return message_id

    # -- HTTP --------------------------------------------------------------------------------

    def api(self, request: Request, scopes: set[str] | None) -> Reply:
        path = request.path.removeprefix("/upload")
        if not path.startswith(_API):
            return _error(404, "notFound", "Not Found")
        if scopes is None:
            return self.unauthorised()
        parts = [p for p in path.removeprefix(_API).split("/") if p]
        needed = self._needed(request.method, parts)
        if not scopes & needed:
            return insufficient_scopes()
        return self._route(request, parts)

    @staticmethod
    def _needed(method: str, parts: list[str]) -> set[str]:
        if method == "DELETE" and parts[:1] == ["messages"]:
            return {FULL}
        if parts[:1] == ["drafts"] or parts[-1:] == ["send"]:
            return _READ | _WRITE_MAIL if method == "GET" else _WRITE_MAIL
        return _READ if method == "GET" else _CHANGE

    def _route(self, request: Request, parts: list[str]) -> Reply:
        q = {k: v[-1] for k, v in request.query.items()}
        method = request.method
        if parts == ["profile"]:
            return Reply.json(200, {"emailAddress": self.me, "messagesTotal": len(self.messages)})
        if parts == ["labels"] and method == "GET":
            return Reply.json(200, {"labels": list(self.labels.values())})
        if parts == ["messages"] and method == "GET":
            return self._list(request.query, q)
        if parts == ["messages", "send"] and method == "POST":
            return self._send(request.json() or {})
        if parts[:1] == ["messages"] and len(parts) >= 2:
            found = self.messages.get(parts[1])
            if found is None:
                return _error(404, "notFound", "Requested entity was not found.")
            if len(parts) == 2 and method == "GET":
                return Reply.json(200, self._view(found, q.get("format", "full")))
            if parts[2:] == ["trash"] and method == "POST":
                found["labelIds"] = [
                    label for label in found["labelIds"] if label not in {"INBOX", "SPAM"}
                ]
                found["labelIds"].append("TRASH")
                return Reply.json(200, self._view(found, "minimal"))
            if parts[2:] == ["modify"] and method == "POST":
                return self._modify(found, request.json() or {})
            if len(parts) == 2 and method == "DELETE":
                del self.messages[parts[1]]
                return Reply(204)
        if parts[:1] == ["threads"] and len(parts) == 2 and method == "GET":
            members = [m for m in self.messages.values() if m["threadId"] == parts[1]]
            if not members:
                return _error(404, "notFound", "Requested entity was not found.")
            views = [self._view(m, q.get("format", "full")) for m in members]
            return Reply.json(200, {"id": parts[1], "messages": views})
        if parts == ["drafts"] and method == "POST":
            return self._create_draft(request)
        if parts == ["drafts", "send"] and method == "POST":
            draft_id = str((request.json() or {}).get("id", ""))
            message_id = self.drafts.pop(draft_id, None)
            if message_id is None:
                return _error(404, "notFound", "Requested entity was not found.")
            message = self.messages[message_id]
            message["labelIds"] = ["SENT"]
            return Reply.json(200, self._view(message, "minimal"))
        if parts[:1] == ["drafts"] and len(parts) == 2 and method == "GET":
            message_id = self.drafts.get(parts[1])
            if message_id is None:
                return _error(404, "notFound", "Requested entity was not found.")
            view = self._view(self.messages[message_id], q.get("format", "full"))
            return Reply.json(200, {"id": parts[1], "message": view})
        return _error(404, "notFound", "Not Found")

    def _view(self, message: dict[str, Any], form: str) -> dict[str, Any]:
        view: dict[str, Any] = {
            "id": message["id"],
            "threadId": message["threadId"],
            "labelIds": list(message["labelIds"]),
        }
        if form == "raw":
            view["raw"] = _b64(message["raw"])
            view["internalDate"] = str(int(message["internalDate"].timestamp() * 1000))
        elif form != "minimal":
            view["snippet"] = ""
        return view

    def _list(self, multi: dict[str, list[str]], q: dict[str, str]) -> Reply:
        try:
            size = int(q.get("maxResults", "100"))
            offset = int(q.get("pageToken", "0") or 0)
        except ValueError:
            return _error(400, "invalidArgument", "Invalid pageToken or maxResults")
        size = max(1, min(size, self.page_cap))
        labels = multi.get("labelIds", [])
        for label in labels:
            if label not in self.labels:
                return _error(400, "invalidArgument", f"Invalid label: {label}")
        found = [
            m
            for m in self.messages.values()
            if all(label in m["labelIds"] for label in labels)
            and ("TRASH" in labels or "TRASH" not in m["labelIds"])
            and ("SPAM" in labels or "SPAM" not in m["labelIds"])
            and self._matches(m, q.get("q", ""))
        ]
        found.sort(key=lambda m: m["internalDate"], reverse=True)
        page = found[offset : offset + size]
        body: dict[str, Any] = {
            "messages": [{"id": m["id"], "threadId": m["threadId"]} for m in page],
            "resultSizeEstimate": len(found),
        }
        if offset + size < len(found):
            body["nextPageToken"] = str(offset + size)
        return Reply.json(200, body)

    def _matches(self, message: dict[str, Any], query: str) -> bool:
        """Whether a message matches every term of Gmail's ``q`` (the operators Angie uses)."""
        parsed = BytesParser(policy=policy.default).parsebytes(message["raw"])
        return all(self._term(message, parsed, token) for token in shlex.split(query))

    @staticmethod
    def _term(message: dict[str, Any], parsed: EmailMessage, token: str) -> bool:
        labels = message["labelIds"]

        def text(name: str) -> str:
            return str(parsed[name] or "").lower()

        key, sep, value = token.partition(":")
        value = value.lower()
        if not sep:
            body = parsed.get_body(("plain", "html"))
            content = body.get_content() if body is not None else ""
            return token.lower() in f"{text('subject')} {content}".lower()
        if key in {"after", "before"}:
            day = datetime.strptime(value, "%Y/%m/%d").replace(tzinfo=UTC)
            return bool(
                message["internalDate"] >= day if key == "after" else message["internalDate"] < day
            )
        checks = {
            "from": lambda: value in text("from"),
            "to": lambda: value in f"{text('to')} {text('cc')}",
            "subject": lambda: value in text("subject"),
            "has": lambda: any(True for _ in parsed.iter_attachments()),
            "is": lambda: {
                "unread": "UNREAD" in labels,
                "read": "UNREAD" not in labels,
                "starred": "STARRED" in labels,
            }.get(value, False),
            "-is": lambda: value == "starred" and "STARRED" not in labels,
        }
        check = checks.get(key)
        return check() if check is not None else False

    def _modify(self, message: dict[str, Any], body: dict[str, Any]) -> Reply:
        add, remove = body.get("addLabelIds", []), body.get("removeLabelIds", [])
        for label in [*add, *remove]:
            if label not in self.labels:
                return _error(400, "invalidArgument", f"Invalid label: {label}")
        message["labelIds"] = [label for label in message["labelIds"] if label not in remove] + [
            label for label in add if label not in message["labelIds"]
        ]
        return Reply.json(200, self._view(message, "minimal"))

    def _send(self, body: dict[str, Any]) -> Reply:
        if not body.get("raw"):
            return _error(400, "invalidArgument", "'raw' RFC822 payload message string required")
        thread = body.get("threadId")
        if thread is not None and not any(m["threadId"] == thread for m in self.messages.values()):
            return _error(404, "notFound", "Requested entity was not found.")
        message_id = self._store(_unb64(body["raw"]), ["SENT"], thread)
        return Reply.json(200, self._view(self.messages[message_id], "minimal"))

    def _create_draft(self, request: Request) -> Reply:
        body = request.json() or {}
        message = body.get("message") or {}
        if not message.get("raw"):
            return _error(400, "invalidArgument", "Missing draft message")
        message_id = self._store(_unb64(message["raw"]), ["DRAFT"], message.get("threadId"))
        draft_id = f"r{secrets.token_hex(6)}"
        self.drafts[draft_id] = message_id
        view = self._view(self.messages[message_id], "minimal")
        return Reply.json(200, {"id": draft_id, "message": view})

    # -- OAuth -------------------------------------------------------------------------------


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
    """A demo inbox (a friend's dinner invitation, a receipt, a newsletter) on 127.0.0.1 while
    the block runs, connected read-only; yields the server's settings."""
    with FakeGmail() as fake:
        receipts = fake.add_label("Receipts")
        fake.add_message(
            _demo_mail("Sam <sam@example.com>", "Dinner on Friday?", "Are you free at 8?", 0)
        )
        fake.add_message(
            _demo_mail("Shop <billing@shop.example>", "Your receipt", "Total: 42.00 EUR", 1),
            ["INBOX", receipts],
        )
        fake.add_message(
            _demo_mail("News <news@example.org>", "This week", "Five things to read.", 3),
            ["INBOX"],
        )
        token_file = state_dir / "tokens.enc"
        TokenFile(token_file).save(fake.sign_in())
        yield {
            "ANGIE_GMAIL_CLIENT_ID": CLIENT_ID,
            "ANGIE_GMAIL_CLIENT_SECRET": CLIENT_SECRET,
            "ANGIE_GMAIL_API_URL": fake.api_url,
            "ANGIE_GMAIL_TOKEN_URI": fake.token_uri,
            "ANGIE_GMAIL_AUTH_URI": fake.auth_uri,
            "ANGIE_GMAIL_TOKEN_FILE": str(token_file),
            "ANGIE_GMAIL_DOWNLOAD_DIR": str(state_dir / "downloads"),
        }
