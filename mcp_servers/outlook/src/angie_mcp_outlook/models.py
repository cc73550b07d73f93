"""What the Outlook tools return: the kit's shared mail results, so every mail server answers
alike (re-exported here, where each server keeps its result models)."""

from __future__ import annotations

from angie_mcp_core.mail import (
    AttachmentInfo,
    Changed,
    Draft,
    Folder,
    MailAddress,
    Message,
    MessageSummary,
    SavedAttachment,
    SearchResult,
    Sent,
    Thread,
)

__all__ = (
    "AttachmentInfo",
    "Changed",
    "Draft",
    "Folder",
    "MailAddress",
    "Message",
    "MessageSummary",
    "SavedAttachment",
    "SearchResult",
    "Sent",
    "Thread",
)
