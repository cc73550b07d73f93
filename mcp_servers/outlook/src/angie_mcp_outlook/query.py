"""The kit's parsed search (:class:`MailQuery`) and folder names in Microsoft Graph's terms.

Graph cannot combine ``$search`` with ``$filter`` or ``$orderby`` on messages, so a search
with words, senders, recipients or subjects goes to ``$search`` (KQL, which Graph answers
newest first); one with only flags and dates goes to ``$filter`` through O365's query builder.
Read state and flags have no KQL property: with ``$search`` they are checked on each result.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from typing import Any, Final

from O365.connection import MSGraphProtocol
from O365.utils.query import CompositeFilter, QueryBuilder

from angie_mcp_core.mail import FolderKind, MailQuery

__all__ = ("SELECT", "WELL_KNOWN", "GraphQuery", "folder_kind", "graph_query")

#: The names people use for Outlook's folders, to Graph's well-known folder names.
WELL_KNOWN: Final = {
    "inbox": "inbox",
    "sent": "sentitems",
    "sent items": "sentitems",
    "sentitems": "sentitems",
    "drafts": "drafts",
    "draft": "drafts",
    "trash": "deleteditems",
    "bin": "deleteditems",
    "deleted": "deleteditems",
    "deleted items": "deleteditems",
    "deleteditems": "deleteditems",
    "spam": "junkemail",
    "junk": "junkemail",
    "junk email": "junkemail",
    "junkemail": "junkemail",
    "archive": "archive",
}

_KINDS: Final[dict[str, FolderKind]] = {
    "inbox": "inbox",
    "sentitems": "sent",
    "drafts": "drafts",
    "deleteditems": "trash",
    "junkemail": "spam",
    "archive": "archive",
}

#: The message fields a search result needs; the body is read only by read_message.
SELECT: Final = (
    "id,conversationId,parentFolderId,subject,from,toRecipients,receivedDateTime,"
    "bodyPreview,isRead,flag,hasAttachments,internetMessageId"
)

# Not a FilterWord date: O365 would localise a naive datetime; Graph wants UTC.
_EPOCH: Final = datetime(1900, 1, 1, tzinfo=UTC)


def folder_kind(well_known: str | None) -> FolderKind:
    return _KINDS.get((well_known or "").lower(), "other")


@dataclass(slots=True)
class GraphQuery:
    """Graph's query parameters, the search as Graph was asked it, and what is checked here."""

    params: dict[str, str] = field(default_factory=dict)
    shown: str = ""
    keep: Callable[[dict[str, Any]], bool] = lambda _item: True


def _kql(value: str) -> str:
    """A value as one KQL term: quoted when it has spaces, its own quotes dropped."""
    clean = value.replace('"', " ").replace("\\", " ").strip()
    return f'\\"{clean}\\"' if any(c.isspace() for c in clean) or not clean else clean


def _start(day: date) -> datetime:
    return datetime.combine(day, time(), tzinfo=UTC)


def _flagged(item: dict[str, Any]) -> bool:
    return str((item.get("flag") or {}).get("flagStatus", "")).lower() == "flagged"


def _search(query: MailQuery) -> GraphQuery:
    terms = [f"from:{_kql(v)}" for v in query.sender]
    terms += [f"to:{_kql(v)}" for v in query.to]
    terms += [f"subject:{_kql(v)}" for v in query.subject]
    if query.has_attachment:
        terms.append("hasattachment:true")
    if query.after is not None:
        terms.append(f"received>={query.after.isoformat()}")
    if query.before is not None:
        terms.append(f"received<{query.before.isoformat()}")
    terms += [_kql(w) for w in query.words]
    text = " AND ".join(terms)
    unread, flagged = query.unread, query.flagged

    def keep(item: dict[str, Any]) -> bool:
        if unread is not None and bool(item.get("isRead")) == unread:
            return False
        return flagged is None or _flagged(item) == flagged

    shown = f'$search="{text}"'
    if unread is not None:
        shown += f" (then {'unread' if unread else 'read'} only)"
    if flagged is not None:
        shown += f" (then {'flagged' if flagged else 'unflagged'} only)"
    return GraphQuery({"$search": f'"{text}"'}, shown, keep)


def _filter(query: MailQuery) -> GraphQuery:
    builder = QueryBuilder(MSGraphProtocol)
    # Graph refuses an $orderby whose property is not the $filter's first ("InefficientFilter").
    start = _start(query.after) if query.after is not None else _EPOCH
    clauses: list[CompositeFilter] = [builder.greater_equal("receivedDateTime", start)]
    if query.before is not None:
        clauses.append(builder.less("receivedDateTime", _start(query.before)))
    if query.unread is not None:
        clauses.append(builder.equals("isRead", not query.unread))
    if query.flagged is not None:
        flag = builder.equals if query.flagged else builder.unequal
        clauses.append(flag("flag", "flagged"))
    if query.has_attachment:
        clauses.append(builder.equals("hasAttachments", True))
    composed = builder.chain_and(*clauses) & builder.orderby(("receivedDateTime", False))
    params = {str(k): str(v) for k, v in composed.as_params().items()}
    return GraphQuery(params, f"$filter={params['$filter']}")


def graph_query(query: MailQuery) -> GraphQuery:
    """The Graph query for ``query``; an empty one lists the folder newest first."""
    if query.empty:
        return GraphQuery({"$orderby": "receivedDateTime desc"}, "")
    if query.sender or query.to or query.subject or query.words:
        return _search(query)
    return _filter(query)
