"""The spam scorer behind the tools: parse what it is given, score it against the person's
lists and history, and keep those. It has no vendor and opens no connection."""

from __future__ import annotations

from angie_mcp_core.errors import InvalidArgumentError
from angie_mcp_spam.domains import BRANDS
from angie_mcp_spam.message import NotAMailError, ParsedMessage, parse_fields, parse_raw
from angie_mcp_spam.models import (
    ConfirmedVerdict,
    Lists,
    ListsChange,
    MessageInput,
    Score,
    ScoreExplanation,
    SenderHistory,
    VerdictRecorded,
)
from angie_mcp_spam.scoring import BASE, score
from angie_mcp_spam.settings import SpamSettings
from angie_mcp_spam.signals import Context, authentication
from angie_mcp_spam.store import Confirmed, SpamStore

__all__ = ("SERVICE", "SpamClient")

SERVICE = "The spam scorer"


def _size(message: MessageInput) -> int:
    parts = [message.raw or "", message.text or "", message.html or ""]
    parts += [f"{k}: {v}" for k, v in (message.headers or {}).items()]
    parts += message.attachments or []
    return sum(len(p.encode("utf-8", "replace")) for p in parts)


class SpamClient:
    """Score messages and keep the lists under ``settings.data_path()``."""

    def __init__(self, settings: SpamSettings) -> None:
        self.settings = settings
        self.store = SpamStore(settings.data_path())

    def probe(self) -> str:
        return self.store.probe()

    # -- scoring --------------------------------------------------------------------------------

    def _parse(self, message: MessageInput, where: str) -> ParsedMessage:
        size = _size(message)
        limit = self.settings.max_message_bytes
        if size > limit:
            raise InvalidArgumentError(
                f"{where} is {size:,} bytes, over the limit of {limit:,} "
                f"({self.settings.env_name('max_message_bytes')}); send its headers and the "
                "first part of its text instead."
            )
        if (message.raw is None) == (message.headers is None):
            raise InvalidArgumentError(
                f"{where}: give either raw (the whole RFC 5322 text) or headers (with text, "
                "html and attachments), not both and not neither."
            )
        try:
            if message.raw is not None:
                return parse_raw(message.raw)
            assert message.headers is not None
            return parse_fields(message.headers, message.text, message.html, message.attachments)
        except NotAMailError as err:
            raise InvalidArgumentError(f"{where} is not a mail message: {err}.") from err

    def _context(self, message: ParsedMessage) -> Context:
        allowed, blocked = self.store.match(message.sender)
        history = self.store.history(message.sender) if message.sender else None
        names, domains = self.store.known()
        return Context(
            allowed=allowed,
            blocked=blocked,
            spam_marks=history.spam if history else 0,
            ham_marks=history.ham if history else 0,
            known_names=names,
            known_domains={**BRANDS, **domains},
        )

    def _score(self, message: MessageInput, where: str) -> tuple[Score, ParsedMessage]:
        parsed = self._parse(message, where)
        found = score(
            parsed,
            self._context(parsed),
            id=message.id,
            spam_threshold=self.settings.spam_threshold,
            suspicious_threshold=self.settings.suspicious_threshold,
        )
        return found, parsed

    def score_messages(self, messages: list[MessageInput]) -> list[Score]:
        limit = self.settings.max_batch
        if len(messages) > limit:
            raise InvalidArgumentError(
                f"{len(messages)} messages is over the limit of {limit} a call "
                f"({self.settings.env_name('max_batch')}); send them in smaller batches."
            )
        names = [
            f"message {i}" + (f" (id {m.id!r})" if m.id else "") for i, m in enumerate(messages)
        ]
        return [self._score(m, where)[0] for m, where in zip(messages, names, strict=True)]

    def explain(self, message: MessageInput) -> ScoreExplanation:
        found, parsed = self._score(message, "the message")
        strongest = [r.detail for r in found.reasons if r.weight > 0][:3]
        mildest = [r.detail for r in found.reasons if r.weight < 0][:2]
        why = " ".join(strongest or mildest) or "No signal either way."
        return ScoreExplanation(
            **found.model_dump(),
            base=BASE,
            spam_threshold=self.settings.spam_threshold,
            suspicious_threshold=self.settings.suspicious_threshold,
            reply_to=parsed.reply_to,
            return_path=parsed.return_path,
            display_name=parsed.display_name,
            authentication=authentication(parsed),
            links=[link.href for link in parsed.links[:50]],
            attachments=parsed.attachments,
            summary=f"{found.verdict.capitalize()} ({found.score}/100). {why}",
        )

    # -- lists and history ----------------------------------------------------------------------

    def lists(self) -> Lists:
        return self.store.lists()

    def allow(self, entries: list[str], note: str | None) -> ListsChange:
        return self.store.add("allow", entries, note)

    def block(self, entries: list[str], note: str | None) -> ListsChange:
        return self.store.add("block", entries, note)

    def remove(self, entries: list[str]) -> ListsChange:
        return self.store.remove(entries)

    def record_verdicts(self, verdicts: list[ConfirmedVerdict]) -> list[VerdictRecorded]:
        confirmed: list[Confirmed] = []
        for verdict in verdicts:
            parsed = parse_fields({"from": verdict.sender}, None, None, None)
            if not parsed.sender or "@" not in parsed.sender:
                raise InvalidArgumentError(
                    f"{verdict.sender!r} is not a sender address; give the From address, e.g. "
                    "bob@example.com or 'Bob <bob@example.com>'. No verdict was recorded."
                )
            confirmed.append(
                (verdict.message_id.strip(), parsed.sender, parsed.display_name, verdict.verdict)
            )
        return self.store.record(confirmed)

    def history(self, senders: list[str]) -> list[SenderHistory]:
        return [h for s in senders if (h := self.store.history(s.strip().lower()))]
