"""The readable text of HTML mail, with the standard library's HTML parser: tags dropped, blocks
on lines of their own, entities decoded, scripts and styles gone. One reader for every part of
Angie that reads mail (the mail servers' tools and the email channel), so a mail reads the same
wherever it arrives."""

from __future__ import annotations

import re
from html.parser import HTMLParser

__all__ = ("html_to_text",)

_BLOCKS = {"br", "p", "div", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "table", "hr"}
_HIDDEN = {"script", "style", "head", "title"}


class _Text(HTMLParser):
    def __init__(self, *, quoted: bool) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._keep_quoted = quoted
        self._hidden = 0
        self._quoted = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _HIDDEN:
            self._hidden += 1
        # A quoted earlier mail (Gmail, Apple Mail, Outlook all use blockquote) is history.
        elif tag == "blockquote" and not self._keep_quoted:
            self._quoted += 1
        elif tag in _BLOCKS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in _HIDDEN:
            self._hidden = max(0, self._hidden - 1)
        elif tag == "blockquote" and not self._keep_quoted:
            self._quoted = max(0, self._quoted - 1)
        elif tag in _BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._hidden and not self._quoted:
            self.parts.append(data)


def html_to_text(html: str, *, quoted: bool = True) -> str:
    """Plain text of an HTML body, for the model (never rendered); ``quoted=False`` leaves out
    blockquoted history (an earlier mail the sender's program quoted)."""
    parser = _Text(quoted=quoted)
    parser.feed(html)
    parser.close()
    lines = (" ".join(line.split()) for line in "".join(parser.parts).splitlines())
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
