"""What every channel's settings share: strict models, format checks whose errors say what is
expected in words, and how each setting is asked for (label, terminal hint, suggested value).

A channel kind has two models: its settings (kept as they are) and its secrets (stored
encrypted, never shown again). The API validates request bodies with them and the CLI checks
each value with them before it sends anything, so a format is written once, here.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import urlsplit

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
)

__all__ = (
    "Address",
    "Asked",
    "ChannelSettings",
    "ChannelSpec",
    "Host",
    "Password",
    "Port",
    "Question",
    "SettingError",
    "http_url",
    "matching",
)


class ChannelSettings(BaseModel):
    """A channel's settings or secrets: unknown fields are an error, not silently dropped."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


def matching(pattern: str, message: str) -> AfterValidator:
    """A check against ``pattern`` whose error says what is expected in words."""
    compiled = re.compile(pattern)

    def check(value: str) -> str:
        if not compiled.fullmatch(value):
            raise ValueError(message)
        return value

    return AfterValidator(check)


def http_url(value: str, what: str) -> str:
    """``value`` if it is an http(s) address with a host (without a trailing /)."""
    parts = urlsplit(value)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise ValueError(f"must be an http:// or https:// URL of {what}")
    return value.rstrip("/")


Host = Annotated[
    str, matching(r"[A-Za-z0-9][A-Za-z0-9.-]{0,252}", "must be a host name or address")
]
Port = Annotated[int, Field(ge=1, le=65535)]
Password = Annotated[str, Field(min_length=1, max_length=1024)]
# Deliberately lenient, like Angie's account addresses: sam@home.lan and lee@localhost work.
Address = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, to_lower=True, max_length=320, pattern=r"^[^@\s]+@[^@\s]+$"
    ),
]


@dataclass(frozen=True, slots=True)
class Asked:
    """How a setting is asked for on a terminal; put in the field's ``Annotated`` metadata.

    ``hint`` is what the terminal says of a value that does not fit (the API answers with the
    model's own message); ``suggested`` is offered when nothing is set yet.
    """

    label: str
    hint: str | None = None
    suggested: str | None = None


@dataclass(frozen=True, slots=True)
class Question:
    """One setting of a channel as a person is asked for it."""

    name: str
    label: str
    secret: bool
    required: bool
    hint: str | None
    suggested: str | None


class SettingError(ValueError):
    """A value that does not fit its setting; the message says what is expected."""


@dataclass(frozen=True, slots=True)
class ChannelSpec:
    """One kind of channel: its models, what it needs before it can work, and the order in
    which a person is asked for its settings."""

    name: str
    title: str
    settings: type[ChannelSettings]
    secrets: type[ChannelSettings]
    required_settings: tuple[str, ...]
    # Each entry is satisfied by any one of its secrets (Slack: Socket Mode or signed events).
    required_secrets: tuple[tuple[str, ...], ...]
    asked_in_order: tuple[str, ...]

    def missing(self, settings: Mapping[str, Any], secrets: set[str]) -> list[str]:
        """What is still needed, given the settings and the names of the secrets set."""
        missing = [key for key in self.required_settings if settings.get(key) in (None, "")]
        missing += [
            " or ".join(options)
            for options in self.required_secrets
            if not any(option in secrets for option in options)
        ]
        return missing

    def questions(self) -> tuple[Question, ...]:
        return tuple(self._question(name) for name in self.asked_in_order)

    def _question(self, name: str) -> Question:
        secret = name in self.secrets.model_fields
        field = (self.secrets if secret else self.settings).model_fields[name]
        asked = next((m for m in field.metadata if isinstance(m, Asked)), Asked(name))
        required = name in self.required_settings or (name,) in self.required_secrets
        return Question(name, asked.label, secret, required, asked.hint, asked.suggested)

    def parse(self, name: str, value: str) -> Any:
        """One setting's value as its model reads it (a port becomes a number); a value that
        does not fit is a :class:`SettingError` with the setting's hint."""
        model = self.secrets if name in self.secrets.model_fields else self.settings
        try:
            checked = model.model_validate({name: value})
        except ValidationError as err:
            hint = self._question(name).hint
            raise SettingError(hint or err.errors()[0]["msg"]) from None
        return checked.model_dump(mode="json")[name]
