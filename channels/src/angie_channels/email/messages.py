"""Reading a person's mail into what Angie needs (who, which thread, the new text) and writing
her replies so mail programs thread them."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage, MIMEPart
from email.parser import BytesParser
from email.utils import formataddr, formatdate, make_msgid, parseaddr

from angie_mcp_core.html_text import html_to_text

__all__ = ("Mail", "approval_reply", "compose", "read_mail", "reply_subject")

_MESSAGE_ID = re.compile(r"<[^<>\s]+>")
_APPROVAL = re.compile(r"^(yes|y|approve|no|n|deny)\s+(\d{4,8})\b", re.IGNORECASE)
# "On Mon, 4 Dec 2026 at 10:00, Angie <angie@example.com> wrote:", possibly wrapped on 2 lines.
_ATTRIBUTION = re.compile(r"^On\s.+wrote:\s*$", re.IGNORECASE | re.DOTALL)
_OUTLOOK_QUOTE = re.compile(r"^-{2,}\s*Original Message\s*-{2,}$", re.IGNORECASE)
_BULK = {"bulk", "list", "junk"}
_BOUNCERS = {"mailer-daemon", "postmaster"}
# References grow with every reply; the root and the latest few are what threading needs.
_KEEP_REFERENCES = 10


@dataclass(frozen=True, slots=True)
class Mail:
    """One mail as Angie reads it."""

    message_id: str
    address: str  # the sender's address, lower-cased
    name: str | None
    subject: str
    thread: str  # the root Message-ID of the conversation
    references: tuple[str, ...]  # the chain up to and including this mail
    body: str  # the new text only: quoted history and signature cut
    automatic: bool  # an auto-reply, a list mail or a bounce: never answered

    @property
    def new_thread(self) -> bool:
        return self.thread == self.message_id

    @property
    def text(self) -> str:
        """What Angie reads: a new conversation starts with its subject."""
        if self.new_thread and self.subject:
            return f"{self.subject}\n\n{self.body}".strip()
        return self.body


def read_mail(raw: bytes) -> Mail:
    message = BytesParser(policy=policy.default).parsebytes(raw)
    name, address = parseaddr(str(message.get("From", "")))
    message_id = _ids(message.get("Message-ID")) or [_stand_in_id(raw)]
    references = _ids(message.get("References"))
    in_reply_to = _ids(message.get("In-Reply-To"))
    chain = references or in_reply_to
    return Mail(
        message_id=message_id[0],
        address=address.strip().lower(),
        name=name.strip() or None,
        subject=" ".join(str(message.get("Subject", "")).split()),
        thread=chain[0] if chain else message_id[0],
        references=(*chain, message_id[0]),
        body=cut_quoted(_body(message)),
        automatic=_automatic(message, address),
    )


def approval_reply(body: str) -> tuple[bool, str] | None:
    """``(approve, code)`` when the first line that says anything is ``yes 4821`` / ``no 4821``."""
    for line in body.splitlines():
        if line.strip():
            match = _APPROVAL.match(line.strip())
            if match is None:
                return None
            return match.group(1).lower() in {"yes", "y", "approve"}, match.group(2)
    return None


def cut_quoted(text: str) -> str:
    """The text a person wrote themselves: the history their mail program quoted is dropped."""
    lines = text.replace("\r\n", "\n").split("\n")
    kept: list[str] = []
    for index, line in enumerate(lines):
        stripped = line.strip()
        following = lines[index + 1].strip() if index + 1 < len(lines) else ""
        if (
            _ATTRIBUTION.match(stripped)
            or (stripped.startswith("On ") and _ATTRIBUTION.match(f"{stripped} {following}"))
            or _OUTLOOK_QUOTE.match(stripped)
            or line.rstrip() == "--"  # the signature delimiter "-- "
        ):
            break
        if stripped.startswith(">"):
            continue
        kept.append(line.rstrip())
    return "\n".join(kept).strip()


def reply_subject(subject: str) -> str:
    subject = subject.strip() or "A message from Angie"
    return subject if subject.lower().startswith("re:") else f"Re: {subject}"


def compose(
    *,
    sender: str,
    to: str,
    subject: str,
    references: Sequence[str],
    text: str,
) -> EmailMessage:
    """A mail from Angie; ``references`` is the chain it answers (empty: a new conversation)."""
    message = EmailMessage()
    message["From"] = formataddr(("Angie", sender))
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = formatdate(localtime=True)
    message["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2])
    if references:
        kept = [references[0], *references[1:][-(_KEEP_REFERENCES - 1) :]]
        message["In-Reply-To"] = references[-1]
        message["References"] = " ".join(kept)
    # Tells other robots (vacation responders, ticket systems) not to answer Angie: no loops.
    message["Auto-Submitted"] = "auto-replied"
    message.set_content(text)
    return message


def _ids(header: object) -> list[str]:
    return _MESSAGE_ID.findall(str(header)) if header is not None else []


def _stand_in_id(raw: bytes) -> str:
    """A mail without a Message-ID still needs a stable one, so a redelivery is recognised."""
    return f"<{hashlib.sha256(raw).hexdigest()[:32]}@angie.invalid>"


def _body(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    if part is not None:
        return _content(part)
    part = message.get_body(preferencelist=("html",))
    return html_to_text(_content(part), quoted=False) if part is not None else ""


def _content(part: MIMEPart) -> str:
    try:
        content = part.get_content()
    except (LookupError, UnicodeError):  # an unknown or lying charset
        payload = part.get_payload(decode=True)
        return payload.decode("utf-8", "replace") if isinstance(payload, bytes) else ""
    return content if isinstance(content, str) else ""


def _automatic(message: EmailMessage, address: str) -> bool:
    auto_submitted = str(message.get("Auto-Submitted", "no")).strip().lower()
    precedence = str(message.get("Precedence", "")).strip().lower()
    return_path = str(message.get("Return-Path", "")).strip()
    return (
        auto_submitted != "no"
        or precedence in _BULK
        or address.partition("@")[0].lower() in _BOUNCERS
        or return_path == "<>"
        or message.get_content_type() == "multipart/report"
        or "X-Autoreply" in message
        or "X-Autorespond" in message
    )
