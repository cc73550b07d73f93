"""A message as the scorer sees it, parsed from raw RFC 5322 text or from header fields.

Everything here is untrusted text from whoever sent the mail: it is read, never acted upon.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from email import message_from_string, policy
from email.message import EmailMessage
from email.utils import getaddresses, parseaddr
from html.parser import HTMLParser

__all__ = ("Link", "NotAMailError", "ParsedMessage", "parse_fields", "parse_raw")

# The header fields any real message has; raw text with none of them is not a mail.
_MAIL_FIELDS = ("from", "to", "subject", "date", "message-id", "received", "return-path")


class NotAMailError(ValueError):
    """The text is not an RFC 5322 message."""


@dataclass(frozen=True, slots=True)
class Link:
    href: str
    #: The text a reader sees for the link (empty for plain-text URLs).
    text: str = ""


@dataclass(slots=True)
class ParsedMessage:
    headers: dict[str, list[str]] = field(default_factory=dict)
    sender: str | None = None
    display_name: str | None = None
    reply_to: str | None = None
    return_path: str | None = None
    subject: str = ""
    message_id: str | None = None
    text: str = ""
    html: str = ""
    links: list[Link] = field(default_factory=list)
    attachments: list[str] = field(default_factory=list)

    def header(self, name: str) -> str | None:
        values = self.headers.get(name.lower())
        return values[0] if values else None

    def all(self, name: str) -> list[str]:
        return self.headers.get(name.lower(), [])

    @property
    def sender_domain(self) -> str | None:
        return domain_of(self.sender)


def domain_of(address: str | None) -> str | None:
    if not address or "@" not in address:
        return None
    return address.rsplit("@", 1)[1].strip().strip(".").lower() or None


def _address(value: str | None) -> tuple[str | None, str | None]:
    """(display name, lower-case address) of a header value such as ``"Bob" <bob@x.org>``."""
    if not value:
        return None, None
    pairs = getaddresses([value])
    name, addr = pairs[0] if pairs else parseaddr(value)
    address = addr.strip().strip("<>").lower()
    return (name.strip() or None), (address or None)


class _LinkParser(HTMLParser):
    """The <a href> links of an HTML body with their visible text, and the text itself."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.links: list[Link] = []
        self.text: list[str] = []
        self._href: str | None = None
        self._anchor: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style"):
            self._skip += 1
        elif tag == "a":
            self._href = next((v for k, v in attrs if k == "href" and v), None)
            self._anchor = []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style") and self._skip:
            self._skip -= 1
        elif tag == "a" and self._href is not None:
            self.links.append(Link(self._href.strip(), " ".join("".join(self._anchor).split())))
            self._href = None

    def handle_data(self, data: str) -> None:
        if self._skip:
            return
        self.text.append(data)
        if self._href is not None:
            self._anchor.append(data)


_URL = re.compile(r"\bhttps?://[^\s<>\"')\]]+", re.IGNORECASE)


def _links(text: str, html: str) -> tuple[list[Link], str]:
    links: list[Link] = []
    html_text = ""
    if html:
        parser = _LinkParser()
        parser.feed(html)
        parser.close()
        links.extend(parser.links)
        html_text = " ".join("".join(parser.text).split())
    seen = {link.href for link in links}
    for match in _URL.finditer(text):
        url = match.group(0).rstrip(".,;:!?")
        if url not in seen:
            seen.add(url)
            links.append(Link(url))
    return links, html_text


def _finish(parsed: ParsedMessage) -> ParsedMessage:
    parsed.display_name, parsed.sender = _address(parsed.header("from"))
    parsed.reply_to = _address(parsed.header("reply-to"))[1]
    parsed.return_path = _address(parsed.header("return-path"))[1]
    parsed.subject = " ".join((parsed.header("subject") or "").split())
    message_id = parsed.header("message-id")
    parsed.message_id = message_id.strip() if message_id else None
    parsed.links, html_text = _links(parsed.text, parsed.html)
    if not parsed.text and html_text:
        parsed.text = html_text
    return parsed


def parse_raw(raw: str) -> ParsedMessage:
    """Parse the raw text of a message; raises :class:`NotAMailError` when it has no header."""
    message = message_from_string(raw, policy=policy.default)
    assert isinstance(message, EmailMessage)  # policy.default always builds EmailMessage
    names = {k.lower() for k in message}
    if not names & set(_MAIL_FIELDS):
        raise NotAMailError(
            "it has no mail header fields (From:, Subject:, Date: …) before its first blank line"
        )
    parsed = ParsedMessage()
    for name, value in message.items():
        parsed.headers.setdefault(name.lower(), []).append(str(value))
    texts: list[str] = []
    htmls: list[str] = []
    for part in message.walk():
        if part.is_multipart():
            continue
        filename = part.get_filename()
        if filename or part.get_content_disposition() == "attachment":
            parsed.attachments.append(filename or "(unnamed)")
            continue
        kind = part.get_content_type()
        if kind not in ("text/plain", "text/html"):
            continue
        try:
            content = part.get_content()
        except (LookupError, ValueError):  # an unknown charset or a broken encoding
            payload = part.get_payload(decode=True)
            content = payload.decode("utf-8", "replace") if isinstance(payload, bytes) else ""
        (htmls if kind == "text/html" else texts).append(str(content))
    parsed.text = "\n".join(texts)
    parsed.html = "\n".join(htmls)
    return _finish(parsed)


def parse_fields(
    headers: dict[str, str], text: str | None, html: str | None, attachments: list[str] | None
) -> ParsedMessage:
    """A message given as header fields and body parts (how the mail servers list mail)."""
    parsed = ParsedMessage(text=text or "", html=html or "", attachments=list(attachments or []))
    for name, value in headers.items():
        # A folded header arrives with its line breaks; one line is what a reader sees.
        parsed.headers.setdefault(name.strip().lower(), []).append(" ".join(value.split()))
    if not parsed.header("from"):
        raise NotAMailError("its headers have no From field")
    return _finish(parsed)
