"""What the spam tools take and return: messages in, scores with their reasons out, the lists."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, Field

__all__ = (
    "ConfirmedVerdict",
    "ListEntry",
    "Lists",
    "ListsChange",
    "MessageInput",
    "Reason",
    "Score",
    "ScoreExplanation",
    "SenderHistory",
    "Verdict",
    "VerdictRecorded",
)

Verdict = Literal["spam", "suspicious", "ham"]


class MessageInput(BaseModel):
    """One message to score: the raw RFC 5322 text, or its header fields and body parts."""

    id: Annotated[
        str | None,
        Field(
            max_length=500,
            description="Your id of the message (e.g. the mail server's id), echoed back as is.",
        ),
    ] = None
    raw: Annotated[
        str | None,
        Field(description="The whole message as RFC 5322 text: header lines, a blank line, body."),
    ] = None
    headers: Annotated[
        dict[str, str] | None,
        Field(
            description="Header fields by name (From, Subject, Authentication-Results, …) when "
            "there is no raw text."
        ),
    ] = None
    text: Annotated[str | None, Field(description="The plain-text body, with headers.")] = None
    html: Annotated[str | None, Field(description="The HTML body, with headers.")] = None
    attachments: Annotated[
        list[str] | None, Field(description="File names of the attachments, with headers.")
    ] = None


class Reason(BaseModel):
    """One signal that moved the score: positive weights point to spam, negative to ham."""

    code: str = Field(description="A stable name of the signal, e.g. 'dmarc_fail'.")
    weight: int = Field(description="Points added to (or, negative, taken from) the score.")
    detail: str = Field(description="What was found, in one sentence.")


class Score(BaseModel):
    """The score of one message."""

    id: str | None = Field(description="The id given with the message, if any.")
    message_id: str | None = Field(description="The Message-ID header, if any.")
    sender: str | None = Field(description="The From address, lower case.")
    subject: str | None
    score: int = Field(ge=0, le=100, description="0 surely wanted mail, 100 surely spam.")
    verdict: Verdict
    bulk: bool = Field(
        description="A newsletter or other bulk mailing (List-Unsubscribe, List-Id, Precedence)."
    )
    reasons: list[Reason] = Field(description="Every signal found, strongest first.")


class ScoreExplanation(Score):
    """A score with what it was computed from, to show the person."""

    base: int = Field(description="Where every message starts before its reasons.")
    spam_threshold: int
    suspicious_threshold: int
    reply_to: str | None
    return_path: str | None
    display_name: str | None
    authentication: dict[str, str] = Field(
        description="SPF, DKIM and DMARC results as the receiving server recorded them."
    )
    links: list[str] = Field(description="Link targets found in the body (at most 50).")
    attachments: list[str]
    summary: str = Field(description="The verdict and its main reasons in one or two sentences.")


class ListEntry(BaseModel):
    entry: str = Field(description="An address (bob@example.com) or a domain (@example.com).")
    added_at: datetime
    note: str | None = None


class Lists(BaseModel):
    allow: list[ListEntry] = Field(description="Senders whose mail is never spam.")
    block: list[ListEntry] = Field(description="Senders whose mail is always spam.")


class ListsChange(BaseModel):
    changed: list[str] = Field(description="Entries added, moved or removed by this call.")
    unchanged: list[str] = Field(description="Entries that were already so (or not listed).")
    lists: Lists


class SenderHistory(BaseModel):
    sender: str
    display_name: str | None = None
    spam: int = Field(description="Messages from it the person confirmed as spam.")
    ham: int = Field(description="Messages from it the person confirmed as wanted.")
    first_seen: datetime
    last_seen: datetime


class ConfirmedVerdict(BaseModel):
    """The person's own verdict on one message."""

    message_id: Annotated[
        str,
        Field(
            min_length=1,
            max_length=500,
            description="The message's Message-ID header, or the mail server's stable id of it.",
        ),
    ]
    sender: Annotated[
        str,
        Field(
            min_length=3,
            max_length=500,
            description="The From field ('Bob <bob@example.com>') or address.",
        ),
    ]
    verdict: Annotated[
        Literal["spam", "ham"],
        Field(description="spam: the person confirmed it is junk; ham: it is wanted."),
    ]


class VerdictRecorded(BaseModel):
    message_id: str
    sender: str
    verdict: Literal["spam", "ham"]
    previous: Literal["spam", "ham"] | None = Field(
        description="The verdict this replaced for the same message, if any."
    )
    history: SenderHistory
