"""Onboarding: Angie's questions, checked answers and the USER_PROMPTS documents they become
(no terminal here: `angie setup` asks them in one, and any other front end can ask the same).

Each document keeps its answers at its end in a template comment, ``{# angie-setup {...} #}``:
the model never sees it (comments vanish when a prompt is rendered), the document stays one
self-contained text that export and import carry along, and ``angie setup`` reads it back to
offer the earlier answers as defaults.
"""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from angie import timezones

__all__ = (
    "ACCOUNT_KEYS",
    "CHANNELS",
    "TOPICS",
    "AnswerError",
    "Answers",
    "Question",
    "Topic",
    "check_timezone",
    "defaults",
    "document",
    "earlier",
    "from_file",
    "mapping_from_file",
    "merge",
    "parse",
    "stored",
)

Value = str | list[str]
Answers = dict[str, dict[str, Value]]
Kind = Literal["text", "list", "timezone"]

#: Where Angie can reach someone, for the contact topic.
CHANNELS = ("web", "slack", "discord", "email", "imessage")
#: The keys of the ``account`` section of an answers file.
ACCOUNT_KEYS = ("email", "password", "display_name", "invite_code", "setup_code")
_REQUIRED_ACCOUNT = ("email", "password")
_MAX_TEXT = 2000
_BLOCK = re.compile(r"\{#\s*angie-setup\s+(\{.*?\})\s*#\}", re.S)
# A brace that would open a template tag, variable or comment in the document.
_OPENER = re.compile(r"\{(?=[{%#])")


class AnswerError(ValueError):
    """An answer that cannot be used; the message names the question."""


def check_timezone(value: str) -> str:
    """An IANA timezone name, checked as Angie checks every timezone."""
    try:
        return timezones.check_timezone(value)
    except timezones.UnknownTimezone as err:
        raise AnswerError(err.message) from None


@dataclass(frozen=True, slots=True)
class Question:
    key: str
    ask: str
    default: Value = ""
    kind: Kind = "text"
    # Optional answers may be left empty, and out of an answers file.
    optional: bool = False
    # For lists: the only items allowed (empty: anything).
    choices: tuple[str, ...] = ()
    limit: int = _MAX_TEXT

    def parse(self, raw: Any, where: str) -> Value:
        """A checked answer from what was typed or written in an answers file."""
        if self.kind == "list":
            return self._list(raw, where)
        if isinstance(raw, bool) or not isinstance(raw, str | int | float):
            raise AnswerError(f"{where} should be text")
        text = " ".join(str(raw).split()) if self.kind == "timezone" else str(raw).strip()
        if text == "-":
            text = ""
        if not text and not self.optional:
            raise AnswerError(f"{where} needs an answer")
        if len(text) > self.limit:
            raise AnswerError(f"{where} is longer than {self.limit} characters")
        if self.kind == "timezone":
            try:
                return check_timezone(text)
            except AnswerError as err:
                raise AnswerError(f"{where}: {err}") from None
        return text

    def _list(self, raw: Any, where: str) -> list[str]:
        if isinstance(raw, str):
            parts = [] if raw.strip() == "-" else raw.split(";")
        elif isinstance(raw, list) and all(
            isinstance(p, str | int | float) and not isinstance(p, bool) for p in raw
        ):
            parts = [str(p) for p in raw]
        else:
            raise AnswerError(f"{where} should be a list of text (or one text, split by ;)")
        found = [" ".join(p.split()) for p in parts if p.strip()]
        if not found and not self.optional:
            raise AnswerError(f"{where} needs at least one answer")
        for item in found:
            if len(item) > self.limit:
                raise AnswerError(f"{where} has an item longer than {self.limit} characters")
            if self.choices and item.lower() not in self.choices:
                raise AnswerError(f"{where}: {item!r} is not one of {', '.join(self.choices)}")
        return [item.lower() for item in found] if self.choices else found

    def shown(self, value: Value) -> str:
        """A value as the interview shows it for a default."""
        return "; ".join(value) if isinstance(value, list) else value


@dataclass(frozen=True, slots=True)
class Topic:
    name: str
    title: str
    questions: tuple[Question, ...]
    write: Callable[[Mapping[str, Value]], str]

    def question(self, key: str) -> Question | None:
        return next((q for q in self.questions if q.key == key), None)


# -- the documents -----------------------------------------------------------------------------


def _literal(text: str) -> str:
    """Text that reads back as itself when the document is rendered as a template."""
    return _OPENER.sub("{{ '{' }}", text)


def _text(answers: Mapping[str, Value], key: str) -> str:
    value = answers.get(key, "")
    return _literal(value if isinstance(value, str) else "; ".join(value))


def _bullets(answers: Mapping[str, Value], key: str, empty: str) -> str:
    value = answers.get(key) or []
    items = value if isinstance(value, list) else [value]
    if not items:
        return empty
    return "\n".join(f"- {_literal(item)}" for item in items)


def _profile(a: Mapping[str, Value]) -> str:
    about = _text(a, "about")
    return "\n\n".join(
        [
            "# Profile",
            "Name: {{ user.name }}. Address them as {{ user.address_as }}.",
            f"About them: {about}" if about else "Nothing else about them yet.",
        ]
    )


def _style(a: Mapping[str, Value]) -> str:
    return "\n\n".join(
        ["# Style", f"Tone: {_text(a, 'tone')}.", f"Language: {_text(a, 'language')}."]
    )


def _schedule(a: Mapping[str, Value]) -> str:
    quiet = _text(a, "quiet_hours")
    return "\n\n".join(
        [
            "# Schedule",
            "Timezone: {{ user.timezone }}.",
            f"Working hours: {_text(a, 'working_hours')}.",
            f"Quiet hours (no messages unless it is urgent): {quiet}."
            if quiet
            else "No quiet hours.",
        ]
    )


def _priorities(a: Mapping[str, Value]) -> str:
    items = _bullets(a, "items", "Nothing in particular yet.")
    return f"# Priorities\n\nWhat matters most to them right now:\n\n{items}"


def _people(a: Mapping[str, Value]) -> str:
    people = _bullets(a, "people", "None named yet.")
    places = _bullets(a, "places", "None named yet.")
    return (
        "# People and places\n\n"
        f"The people who matter to them:\n\n{people}\n\n"
        f"The places that matter to them:\n\n{places}"
    )


def _autonomy(a: Mapping[str, Value]) -> str:
    free = _bullets(a, "without_asking", "Nothing: ask first.")
    ask = _bullets(a, "always_ask", "Nothing in particular.")
    return (
        "# Autonomy\n\n"
        f"What Angie may do without asking:\n\n{free}\n\n"
        f"What Angie always asks about first:\n\n{ask}\n\n"
        "For anything else that changes the world, ask first."
    )


def _contact(a: Mapping[str, Value]) -> str:
    channels = a.get("channels") or ["web"]
    order = ", then ".join(channels) if isinstance(channels, list) else str(channels)
    details = _text(a, "details")
    lines = ["# Contact", f"Reach them on: {_literal(order)}."]
    if details:
        lines.append(f"Details: {details}")
    lines.append(f"When it is urgent: {_text(a, 'urgent')}.")
    return "\n\n".join(lines)


_SEP = " (separate several with ;, - for none)"

TOPICS: tuple[Topic, ...] = (
    Topic(
        "profile",
        "About you",
        (
            Question("name", "What's your name?", limit=120),
            Question("address_as", "What should I call you?", limit=120),
            Question(
                "about", "Anything else I should know about you? (- for nothing)", "", optional=True
            ),
        ),
        _profile,
    ),
    Topic(
        "style",
        "How I talk to you",
        (
            Question("tone", "How should I talk to you?", "warm and brief"),
            Question(
                "language", "Which language should I answer in?", "the language of each message"
            ),
        ),
        _style,
    ),
    Topic(
        "schedule",
        "Your time",
        (
            Question(
                "timezone", "Which timezone are you in? (e.g. Europe/Paris)", "UTC", kind="timezone"
            ),
            Question(
                "working_hours", "When do you usually work?", "Monday to Friday, 9:00 to 17:00"
            ),
            Question(
                "quiet_hours",
                "When should I stay quiet unless it is urgent? (- for never)",
                "22:00 to 07:00",
                optional=True,
            ),
        ),
        _schedule,
    ),
    Topic(
        "priorities",
        "What matters",
        (
            Question(
                "items", "What matters most to you right now?" + _SEP, [], "list", optional=True
            ),
        ),
        _priorities,
    ),
    Topic(
        "people",
        "People and places",
        (
            Question(
                "people",
                "Who are the people who matter to you, e.g. Alex (my partner)?" + _SEP,
                [],
                "list",
                optional=True,
            ),
            Question(
                "places",
                "And the places, e.g. home in Lyon?" + _SEP,
                [],
                "list",
                optional=True,
            ),
        ),
        _people,
    ),
    Topic(
        "autonomy",
        "What I may do on my own",
        (
            Question(
                "without_asking",
                "What may I do without asking you first?" + _SEP,
                ["answer questions", "look things up"],
                "list",
                optional=True,
            ),
            Question(
                "always_ask",
                "What must I always ask you about first?" + _SEP,
                ["spending money", "sending messages for you", "deleting anything"],
                "list",
                optional=True,
            ),
        ),
        _autonomy,
    ),
    Topic(
        "contact",
        "Reaching you",
        (
            Question(
                "channels",
                f"Where should I reach you, in order? ({', '.join(CHANNELS)})",
                ["web"],
                "list",
                choices=CHANNELS,
            ),
            Question(
                "details",
                "Any details, such as a Slack channel or an email address? (- for none)",
                "",
                optional=True,
            ),
            Question("urgent", "And when it is urgent?", "the same way"),
        ),
        _contact,
    ),
)


def document(topic: Topic, answers: Mapping[str, Value]) -> str:
    """The markdown document for a topic, with its answers kept at the end."""
    # `#` only appears inside JSON strings, so escaping it keeps `#}` out of the comment.
    kept = json.dumps(dict(answers), ensure_ascii=False, sort_keys=True).replace("#", "\\u0023")
    return f"{topic.write(answers)}\n\n{{# angie-setup {kept} #}}\n"


def stored(body: str) -> dict[str, Any]:
    """The answers a document keeps (empty when it has none or they are unreadable)."""
    found = _BLOCK.search(body)
    if found is None:
        return {}
    try:
        value = json.loads(found.group(1))
    except json.JSONDecodeError:
        return {}
    return value if isinstance(value, dict) else {}


def earlier(bodies: Mapping[str, str], me: Mapping[str, Any]) -> Answers:
    """The person's earlier answers, topic by topic, and only those: what their documents keep,
    with the account's name, preferred name and timezone (the truth for these: they may have
    changed since, on the web)."""
    found: Answers = {}
    for topic in TOPICS:
        kept = stored(bodies.get(topic.name, ""))
        values: dict[str, Value] = {}
        for question in topic.questions:
            if question.key in kept:
                # A hand-edited block's bad answer: as if it were not there.
                with contextlib.suppress(AnswerError):
                    values[question.key] = question.parse(kept[question.key], question.key)
        found[topic.name] = values
    account = {
        ("profile", "name"): me.get("display_name"),
        ("profile", "address_as"): me.get("preferred_name"),
    }
    timezone = str(me.get("timezone") or "")
    # UTC is also every account's default: an answer only once the schedule was answered.
    if timezone and (timezone != "UTC" or "timezone" in found["schedule"]):
        account["schedule", "timezone"] = timezone
    for (topic_name, key), value in account.items():
        asked = next(t for t in TOPICS if t.name == topic_name).question(key)
        if asked is None or not str(value or "").strip():
            continue
        with contextlib.suppress(AnswerError):
            found[topic_name][key] = asked.parse(str(value), key)
    return found


def defaults(bodies: Mapping[str, str], me: Mapping[str, Any], zone: str | None) -> Answers:
    """Each question's default: the earlier answer (see :func:`earlier`), else the built-in one.
    ``zone`` is this machine's timezone, a better guess than UTC."""
    known = earlier(bodies, me)
    found: Answers = {
        topic.name: {q.key: known[topic.name].get(q.key, q.default) for q in topic.questions}
        for topic in TOPICS
    }
    profile = found["profile"]
    if not profile["address_as"] and isinstance(profile["name"], str) and profile["name"]:
        profile["address_as"] = profile["name"].split()[0]
    if "timezone" not in known["schedule"] and zone:
        found["schedule"]["timezone"] = zone
    return found


def parse(data: Any, where: str) -> tuple[Answers, dict[str, str] | None]:
    """The answers an answers file gives (only those: see :func:`merge`) and its ``account``
    section. Every key given is checked; an :class:`AnswerError` names the first bad one."""
    if not isinstance(data, dict):
        raise AnswerError(f"{where}: should hold a mapping of topics to answers")
    known = {"account", *(t.name for t in TOPICS)}
    for key in data:
        if key not in known:
            raise AnswerError(f"{where}: unknown key {key!r} (known: {', '.join(sorted(known))})")
    account = _account(data.get("account"), where) if "account" in data else None
    answers: Answers = {}
    for topic in TOPICS:
        section = data.get(topic.name, {})
        if not isinstance(section, dict):
            raise AnswerError(f"{where}: {topic.name} should be a mapping of answers")
        for key in section:
            if topic.question(key) is None:
                names = ", ".join(q.key for q in topic.questions)
                raise AnswerError(f"{where}: unknown key {topic.name}.{key} (known: {names})")
        answers[topic.name] = {
            q.key: q.parse(section[q.key], f"{where}: {topic.name}.{q.key}")
            for q in topic.questions
            if q.key in section
        }
    return answers, account


def merge(given: Answers, before: Answers, where: str) -> Answers:
    """Every answer: the one given, else the earlier one (see :func:`earlier`), else, for an
    optional question, the built-in default. A required answer found in neither is an
    :class:`AnswerError` naming it."""
    answers: Answers = {}
    for topic in TOPICS:
        values: dict[str, Value] = {}
        for question in topic.questions:
            for source in (given, before):
                if question.key in source.get(topic.name, {}):
                    values[question.key] = source[topic.name][question.key]
                    break
            else:
                if not question.optional:
                    raise AnswerError(f"{where}: {topic.name}.{question.key} is missing")
                values[question.key] = question.default
        answers[topic.name] = values
    return answers


def _account(section: Any, where: str) -> dict[str, str]:
    if not isinstance(section, dict):
        raise AnswerError(f"{where}: account should be a mapping (email, password, …)")
    for key in section:
        if key not in ACCOUNT_KEYS:
            raise AnswerError(
                f"{where}: unknown key account.{key} (known: {', '.join(ACCOUNT_KEYS)})"
            )
    account: dict[str, str] = {}
    for key in ACCOUNT_KEYS:
        value = section.get(key)
        if value is None:
            if key in _REQUIRED_ACCOUNT:
                raise AnswerError(f"{where}: account.{key} is missing")
            continue
        if not isinstance(value, str | int) or isinstance(value, bool):
            raise AnswerError(f"{where}: account.{key} should be text")
        account[key] = str(value) if key == "password" else str(value).strip()
    return account


def from_file(text: str, where: str) -> Any:
    """The data of an answers file, YAML or JSON (JSON is YAML, nearly: read it as JSON first)."""
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        pass
    import yaml

    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        line = f" (line {mark.line + 1})" if mark is not None else ""
        raise AnswerError(f"{where} is neither JSON nor YAML{line}") from None


def mapping_from_file(path: Path, what: str) -> dict[str, Any]:
    """The mapping (of ``what``) in a YAML or JSON file; anything else is an ``AnswerError``."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise AnswerError(f"cannot read {path}: {err}") from None
    data = from_file(text, path.name)
    if not isinstance(data, dict):
        raise AnswerError(f"{path.name}: should hold a mapping of {what}")
    return data
