"""What the Yahoo Mail tools return: the kit's shared mail models, the same for every mail
server Angie has (Gmail, Outlook, Yahoo), so agents read one shape whatever the provider."""

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
