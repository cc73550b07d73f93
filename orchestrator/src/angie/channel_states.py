"""Whether each person's chat channels are connected: what the running channel adapters report,
so the API and the CLI say what is true ("saved, not connected") rather than what was saved.

An adapter reports ``connecting`` as it starts, ``connected`` once the platform accepted it and
``failed`` with the platform's reason; a channel nobody reports on is not running in this Angie.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

__all__ = ("ChannelStates", "Connection", "ConnectionReport")


class Connection(enum.StrEnum):
    OFF = "off"  # switched off by the person
    NOT_RUNNING = "not_running"  # saved and on, but no adapter in this Angie runs it
    CONNECTING = "connecting"
    CONNECTED = "connected"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class ConnectionReport:
    state: Connection
    detail: str | None = None


class ChannelStates:
    """The latest report per (person, channel kind), kept in the process that runs the
    adapters and serves the API."""

    def __init__(self) -> None:
        self._reports: dict[tuple[int, str], ConnectionReport] = {}
        # Kinds an adapter runs for in this process; a saved channel of any other kind is
        # "not running" whatever its settings say.
        self._running: set[str] = set()

    def running(self, kind: str, *, on: bool = True) -> None:
        """Say that this Angie runs (or stopped running) the adapter for ``kind``."""
        if on:
            self._running.add(kind)
        else:
            self._running.discard(kind)
            for key in [k for k in self._reports if k[1] == kind]:
                del self._reports[key]

    def report(self, user_id: int, kind: str, state: Connection, detail: str | None = None) -> None:
        self._reports[(user_id, kind)] = ConnectionReport(state, detail)

    def connection(self, user_id: int, kind: str, *, enabled: bool) -> ConnectionReport:
        """The person's channel as it is now (``enabled``: their saved on/off)."""
        if not enabled:
            return ConnectionReport(Connection.OFF)
        if kind not in self._running:
            why = f"Angie does not run the {kind} channel"
            return ConnectionReport(Connection.NOT_RUNNING, why)
        found = self._reports.get((user_id, kind))
        return found or ConnectionReport(Connection.CONNECTING)
