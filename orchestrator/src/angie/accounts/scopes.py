"""What a personal API token may do: scopes such as ``tasks:read`` or ``crons:write``.

A scope is an area of the API and an access (``read`` for looking, ``write`` for changing);
``*`` grants everything and is what tokens made before scopes existed carry, so they keep
working. A login (browser or CLI session) is not scoped: the person is there.

Each route's area comes from its router's tag (:data:`AREA_OF_TAG`); reads are the safe
methods (``GET``/``HEAD``/``OPTIONS``), everything else writes. A route whose tag names no area
needs ``*``, so a new router is closed to scoped tokens until it is given an area.
"""

from __future__ import annotations

from collections.abc import Iterable

__all__ = (
    "ALL",
    "AREAS",
    "AREA_OF_TAG",
    "KNOWN_SCOPES",
    "allows",
    "join_scopes",
    "needed_scope",
    "parse_scopes",
    "split_scopes",
)

ALL = "*"

# The areas a token can be scoped to, as a person reads them.
AREAS: tuple[str, ...] = (
    "tasks",
    "crons",
    "workflows",
    "events",
    "webhooks",
    "agents",
    "teams",
    "approvals",
    "chat",
    "mcp",
    "channels",
    "prompts",
    "status",
    "account",
)

# A router's tag -> the area its routes belong to.
AREA_OF_TAG: dict[str, str] = {
    "tasks": "tasks",
    "schedules": "crons",
    "workflows": "workflows",
    "events": "events",
    "webhooks": "webhooks",
    "agents": "agents",
    "teams": "teams",
    "approvals": "approvals",
    "chat": "chat",
    "conversations": "chat",
    "mcp": "mcp",
    "channels": "channels",
    "prompts": "prompts",
    "system-prompts": "prompts",
    "status": "status",
    "me": "account",
}

KNOWN_SCOPES: frozenset[str] = frozenset(
    {ALL, *(f"{area}:{access}" for area in AREAS for access in ("read", "write"))}
)

_READS = frozenset({"GET", "HEAD", "OPTIONS"})


def parse_scopes(scopes: Iterable[str]) -> tuple[str, ...]:
    """The scopes, checked and deduplicated in a stable order; ``ValueError`` names bad ones."""
    wanted = [s.strip() for s in scopes if s.strip()]
    if not wanted:
        raise ValueError("give at least one scope (or * for everything)")
    bad = sorted({s for s in wanted if s not in KNOWN_SCOPES})
    if bad:
        raise ValueError(
            f"unknown scope {', '.join(bad)}; scopes are * or <area>:read|write "
            f"with area one of {', '.join(AREAS)}"
        )
    if ALL in wanted:
        return (ALL,)
    return tuple(sorted(set(wanted)))


def join_scopes(scopes: Iterable[str]) -> str:
    """The stored form: space separated."""
    return " ".join(scopes)


def split_scopes(stored: str) -> tuple[str, ...]:
    """The scopes of a stored, space-separated value."""
    return tuple(stored.split())


def needed_scope(tags: Iterable[str], method: str) -> str:
    """The scope a route needs: its area by tag, read for safe methods, else write."""
    for tag in tags:
        area = AREA_OF_TAG.get(tag)
        if area is not None:
            return f"{area}:{'read' if method.upper() in _READS else 'write'}"
    return ALL


def allows(granted: Iterable[str], needed: str) -> bool:
    """Whether ``granted`` covers ``needed``: ``*`` covers all, otherwise the very scope.

    ``write`` does not imply ``read``: a token that only adds crons cannot list them.
    """
    have = set(granted)
    return ALL in have or needed in have
