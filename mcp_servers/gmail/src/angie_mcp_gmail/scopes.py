"""The OAuth scopes Angie asks Google for: read-only first, modify and compose only for writes;
and what tells Gmail from the other Google servers."""

from __future__ import annotations

from typing import Final

from angie_mcp_core.google.service import GoogleService

__all__ = ("COMPOSE", "GMAIL", "MODIFY", "READONLY")

READONLY: Final = "https://www.googleapis.com/auth/gmail.readonly"
# Labels, archive, trash (never permanent deletion) and marking read or starred.
MODIFY: Final = "https://www.googleapis.com/auth/gmail.modify"
# Drafts and sending.
COMPOSE: Final = "https://www.googleapis.com/auth/gmail.compose"
# The full scope also allows everything the others do.
_FULL: Final = "https://mail.google.com/"

GMAIL: Final = GoogleService(
    name="Gmail",
    server="gmail",
    api="gmail",
    version="v1",
    api_url="https://gmail.googleapis.com/",
    read=(READONLY,),
    write=(MODIFY, COMPOSE),
    write_grants=frozenset({MODIFY, _FULL}),
    changes="mail",
    not_found="no such message, thread, draft or attachment (check the id with search_messages)",
)
