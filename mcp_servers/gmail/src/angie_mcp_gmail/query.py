"""The kit's parsed search (:class:`MailQuery`) and folder names in Gmail's own terms."""

from __future__ import annotations

from typing import Final

from angie_mcp_core.mail import FolderKind, MailQuery

__all__ = ("SYSTEM_FOLDERS", "folder_kind", "gmail_query")

#: The names people use for Gmail's system labels, to their label ids.
SYSTEM_FOLDERS: Final = {
    "inbox": "INBOX",
    "sent": "SENT",
    "drafts": "DRAFT",
    "draft": "DRAFT",
    "trash": "TRASH",
    "bin": "TRASH",
    "spam": "SPAM",
    "junk": "SPAM",
    "starred": "STARRED",
    "important": "IMPORTANT",
    "unread": "UNREAD",
}

_KINDS: Final[dict[str, FolderKind]] = {
    "INBOX": "inbox",
    "SENT": "sent",
    "DRAFT": "drafts",
    "TRASH": "trash",
    "SPAM": "spam",
}


def folder_kind(label_id: str) -> FolderKind:
    return _KINDS.get(label_id, "other")


def _term(value: str) -> str:
    """A value as one Gmail search term: quoted when it has spaces, quotes dropped inside."""
    clean = value.replace('"', " ").strip()
    return f'"{clean}"' if any(c.isspace() for c in clean) or not clean else clean


def gmail_query(query: MailQuery) -> str:
    """Gmail's ``q`` for ``query``: the same operators Gmail's search box understands."""
    parts = [f"from:{_term(v)}" for v in query.sender]
    parts += [f"to:{_term(v)}" for v in query.to]
    parts += [f"subject:{_term(v)}" for v in query.subject]
    if query.unread is not None:
        parts.append("is:unread" if query.unread else "is:read")
    if query.flagged is not None:
        parts.append("is:starred" if query.flagged else "-is:starred")
    if query.has_attachment:
        parts.append("has:attachment")
    if query.after is not None:
        parts.append(f"after:{query.after:%Y/%m/%d}")
    if query.before is not None:
        parts.append(f"before:{query.before:%Y/%m/%d}")
    parts += [_term(w) for w in query.words]
    return " ".join(parts)
