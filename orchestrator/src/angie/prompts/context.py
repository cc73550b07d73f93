"""What a prompt may refer to: the user, the time, the channel and the agent, as variables."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, NamedTuple
from zoneinfo import ZoneInfo

from angie import timezones

if TYPE_CHECKING:
    from angie.db.models import User

__all__ = (
    "VARIABLES",
    "Capabilities",
    "Namespace",
    "PromptAgent",
    "PromptContext",
    "PromptUser",
    "Tool",
    "path_of",
)

#: The top-level names every template may use.
VARIABLES = frozenset({"user", "now", "timezone", "channel", "agent"})


@dataclass(frozen=True, slots=True)
class PromptUser:
    name: str
    address_as: str
    timezone: str = "UTC"


class Tool(NamedTuple):
    """One tool an agent can call: its name and what it does (only the first line is shown)."""

    name: str
    description: str = ""


@dataclass(frozen=True, slots=True)
class PromptAgent:
    name: str
    description: str = ""
    # Tools or plain (name, description) pairs, e.g. from the agent's toolsets.
    capabilities: Sequence[tuple[str, str]] = ()


@dataclass(frozen=True, slots=True)
class PromptContext:
    """Everything a prompt is rendered with; ``agent`` is None in a conversation with Angie herself.

    ``timezone`` is the zone in effect for this exchange (usually ``user.timezone``); ``now`` is
    shown in it.
    """

    user: PromptUser
    now: datetime
    timezone: str
    channel: str
    agent: PromptAgent | None = None

    def __post_init__(self) -> None:
        if self.now.tzinfo is None:
            raise ValueError("PromptContext.now must be timezone-aware")
        self.zone()  # refuse an unknown timezone now, not at the first render

    def zone(self) -> ZoneInfo:
        return timezones.zone(self.timezone)

    @classmethod
    def for_user(
        cls, user: User, *, now: datetime, channel: str, agent: PromptAgent | None = None
    ) -> PromptContext:
        """The context for a user row: addressed by their preferred name, in their timezone."""
        person = PromptUser(
            name=user.display_name,
            address_as=user.preferred_name or user.display_name,
            timezone=user.timezone,
        )
        return cls(user=person, now=now, timezone=user.timezone, channel=channel, agent=agent)

    def variables(self) -> Mapping[str, object]:
        """The template variables; nested values know their dotted path for error messages."""
        user = Namespace(
            "user",
            {
                "name": self.user.name,
                "address_as": self.user.address_as,
                "timezone": self.user.timezone,
            },
        )
        agent = Namespace("agent", {})
        if self.agent is not None:
            tools = Capabilities(
                Namespace(
                    f"agent.capabilities[{i}]",
                    {"name": name, "description": _first_line(description)},
                )
                for i, (name, description) in enumerate(self.agent.capabilities)
            )
            agent = Namespace(
                "agent",
                {
                    "name": self.agent.name,
                    "description": self.agent.description,
                    "capabilities": tools,
                },
            )
        return {
            "user": user,
            "now": self.now.astimezone(self.zone()),
            "timezone": self.timezone,
            "channel": self.channel,
            # An empty namespace rather than None: `{% if agent %}` is false, and `agent.name`
            # in a conversation prompt fails naming `agent.name` instead of a NoneType.
            "agent": agent,
        }


class Namespace(Mapping[str, object]):
    """A read-only mapping that knows where it sits among the variables (``user``, ``agent``)."""

    __slots__ = ("_path", "_values")

    def __init__(self, path: str, values: Mapping[str, object]) -> None:
        self._path = path
        self._values = dict(values)

    def __getitem__(self, key: str) -> object:
        return self._values[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def __repr__(self) -> str:
        return f"Namespace({self._path!r}, {self._values!r})"


class Capabilities(tuple[Namespace, ...]):
    """An agent's tools: iterable in a template, and a bullet list when printed whole."""

    __slots__ = ()

    def __str__(self) -> str:
        if not self:
            return "No tools available right now."
        lines = []
        for tool in self:
            description = tool["description"]
            lines.append(f"- {tool['name']}: {description}" if description else f"- {tool['name']}")
        return "\n".join(lines)


def path_of(namespace: Namespace) -> str:
    """Where a namespace sits (``user``, ``agent.capabilities[0]``).

    A function, not an attribute, so no template can read it as a variable.
    """
    return namespace._path


def _first_line(text: str) -> str:
    # MCP tool descriptions run to paragraphs; the list only needs what each tool is for.
    return next((line.strip() for line in text.splitlines() if line.strip()), "")
