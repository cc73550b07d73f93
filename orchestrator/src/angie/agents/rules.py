"""A person's own approval rules: what their setup answers ("lights", "spending money") mean in
tools, and how a rule meets a tool call.

A rule is a glob over prefixed tool names, as agents' tool filters are (``hue_set_light``,
``*_send_*``), or a kind: ``kind:destructive`` (the server marks the tool destructive) or
``kind:changes`` (anything not read-only). Where a person's rules disagree, ``ask`` wins.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from pydantic_ai.tools import ToolDefinition
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from angie.db.models import ApprovalRule, RuleDecision, RuleSource

__all__ = (
    "DESTRUCTIVE",
    "Derived",
    "PersonRules",
    "Rule",
    "check_pattern",
    "derive",
    "derive_from",
    "load_rules",
    "replace_setup_rules",
)

DESTRUCTIVE = "kind:destructive"
CHANGES = "kind:changes"
_KINDS = (DESTRUCTIVE, CHANGES)
_GLOB = re.compile(r"[A-Za-z0-9_*?\[\]]{1,120}")
_WORD = re.compile(r"[a-z]+")


def check_pattern(pattern: str) -> str:
    """The pattern, or ValueError saying what a pattern may be."""
    if pattern in _KINDS or _GLOB.fullmatch(pattern):
        return pattern
    raise ValueError(
        f"{pattern!r} is not a tool pattern: use letters, digits, _, *, ? and [] over prefixed "
        "tool names (hue_set_light, spotify_*), or kind:destructive or kind:changes"
    )


@dataclass(frozen=True, slots=True)
class Rule:
    pattern: str
    decision: RuleDecision
    phrase: str | None = None

    def matches(self, name: str, tool_def: ToolDefinition) -> bool:
        """Whether the rule covers the tool ``name`` (prefixed with its server)."""
        hints = (tool_def.metadata or {}).get("annotations") or {}
        if self.pattern == DESTRUCTIVE:
            return hints.get("destructiveHint") is True
        if self.pattern == CHANGES:
            return not (
                hints.get("readOnlyHint") is True and hints.get("destructiveHint") is not True
            )
        return fnmatch.fnmatchcase(name, self.pattern)

    @property
    def label(self) -> str:
        return self.phrase or self.pattern


@dataclass(frozen=True, slots=True)
class PersonRules:
    """One person's rules, as plain data, for one run."""

    rules: tuple[Rule, ...] = ()

    def match(self, name: str, tool_def: ToolDefinition) -> Rule | None:
        """The rule that speaks for ``name``: an ``ask`` rule before any ``allow``."""
        found = [rule for rule in self.rules if rule.matches(name, tool_def)]
        asks = [rule for rule in found if rule.decision is RuleDecision.ASK]
        return next(iter(asks or found), None)


# -- what the setup answers mean ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Meaning:
    words: frozenset[str]
    patterns: tuple[str, ...]
    # Spending, sending and deleting are only ever made stricter from an interview answer.
    ask_only: bool = False


_SPOTIFY_PLAYBACK = (
    "spotify_play",
    "spotify_pause",
    "spotify_next_track",
    "spotify_previous_track",
    "spotify_set_volume",
    "spotify_add_to_queue",
    "spotify_transfer_playback",
)
# Home Assistant's call_service also switches lights, but it can unlock doors too: no answer
# about lights lets the whole tool through.
_VOCABULARY = (
    _Meaning(
        frozenset({"light", "lights", "lamp", "lamps", "lighting", "scene", "scenes", "hue"}),
        ("hue_set_light", "hue_set_room", "hue_activate_scene"),
    ),
    _Meaning(
        frozenset({"music", "spotify", "song", "songs", "playback", "track", "tracks", "volume"}),
        _SPOTIFY_PLAYBACK,
    ),
    _Meaning(
        frozenset({"playlist", "playlists"}),
        ("spotify_create_playlist", "spotify_add_to_playlist"),
    ),
    _Meaning(
        frozenset({"delete", "deleting", "deletes", "remove", "removing", "erase", "erasing"}),
        (DESTRUCTIVE,),
        ask_only=True,
    ),
    _Meaning(
        frozenset(
            {"send", "sending", "message", "messages", "email", "emails", "emailing", "reply"}
            | {"replying", "replies", "post", "posting", "text", "texting", "texts"}
        ),
        ("*_send_*", "*_reply*", "*_post_*"),
        ask_only=True,
    ),
    _Meaning(
        frozenset(
            {"spend", "spending", "money", "buy", "buying", "pay", "paying", "payment"}
            | {"payments", "purchase", "purchases", "purchasing", "order", "orders", "ordering"}
        ),
        ("*_buy*", "*_purchase*", "*_pay*", "*_order*"),
        ask_only=True,
    ),
)
# Answers about reading: Angie reads without asking anyway, so they need no rule.
_READS = frozenset(
    {"answer", "answering", "questions", "look", "lookup", "search", "searching", "read"}
    | {"reading", "check", "checking", "find", "finding", "tell", "weather", "news"}
)
_NOTHING = frozenset({"nothing", "none", "no", "n/a", "-"})


@dataclass
class Derived:
    """What a set of autonomy answers became: rules, and the answers that made none (with why)."""

    rules: list[Rule] = field(default_factory=list)
    unused: dict[str, str] = field(default_factory=dict)


def derive(without_asking: Sequence[str], always_ask: Sequence[str]) -> Derived:
    """The rules meant by the answers to "what may I do without asking" and "what must I always
    ask about". A pattern named by both asks; an answer not understood makes no rule."""
    derived = Derived()
    decided: dict[str, Rule] = {}
    for answers, decision in (
        (always_ask, RuleDecision.ASK),
        (without_asking, RuleDecision.ALLOW),
    ):
        for answer in answers:
            phrase = " ".join(answer.split())
            if not phrase or phrase.lower() in _NOTHING:
                continue
            words = set(_WORD.findall(phrase.lower()))
            meanings = [m for m in _VOCABULARY if m.words & words]
            if not meanings:
                derived.unused[phrase] = (
                    "reading needs no approval"
                    if words & _READS
                    else "not understood: no rule made"
                )
                continue
            if decision is RuleDecision.ALLOW and any(m.ask_only for m in meanings):
                derived.unused[phrase] = "Angie keeps asking about this; not made a rule"
                continue
            for meaning in meanings:
                for pattern in meaning.patterns:
                    decided.setdefault(pattern, Rule(pattern, decision, phrase[:200]))
    derived.rules = list(decided.values())
    return derived


def _answers(answers: Mapping[str, object], key: str) -> list[str]:
    value = answers.get(key)
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [str(v) for v in value]
    return []


def derive_from(answers: Mapping[str, object]) -> Derived:
    """:func:`derive` over the autonomy topic's stored answers."""
    return derive(_answers(answers, "without_asking"), _answers(answers, "always_ask"))


# -- stored -----------------------------------------------------------------------------------


async def load_rules(session: AsyncSession, user_id: int) -> PersonRules:
    rows = await session.execute(
        select(ApprovalRule.pattern, ApprovalRule.decision, ApprovalRule.phrase)
        .where(ApprovalRule.user_id == user_id)
        .order_by(ApprovalRule.id)
    )
    return PersonRules(tuple(Rule(p, RuleDecision(d), phrase) for p, d, phrase in rows))


async def replace_setup_rules(session: AsyncSession, user_id: int, rules: Iterable[Rule]) -> None:
    """Put ``rules`` in place of the person's setup rules; a pattern they wrote a rule for
    themselves keeps theirs."""
    await session.execute(
        delete(ApprovalRule).where(
            ApprovalRule.user_id == user_id, ApprovalRule.source == RuleSource.SETUP
        )
    )
    own = set(
        await session.scalars(select(ApprovalRule.pattern).where(ApprovalRule.user_id == user_id))
    )
    session.add_all(
        ApprovalRule(
            user_id=user_id,
            pattern=rule.pattern,
            decision=rule.decision,
            source=RuleSource.SETUP,
            phrase=rule.phrase,
        )
        for rule in rules
        if rule.pattern not in own
    )
    await session.flush()
