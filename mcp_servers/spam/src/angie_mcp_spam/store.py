"""The person's allow and block lists and sender history, in one JSON file written atomically.

A damaged file is reported and left alone, never overwritten: it holds what the person decided.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import threading
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from angie_mcp_core.errors import InvalidArgumentError, ServerToolError
from angie_mcp_spam.domains import registrable
from angie_mcp_spam.models import ListEntry, Lists, ListsChange, SenderHistory, VerdictRecorded

__all__ = ("FILE_NAME", "Confirmed", "SpamStore", "StoreError", "normalise_entry")

FILE_NAME = "spam.json"
_VERSION = 1
#: Verdicts kept per message (to replace one, not count it twice); counts outlive them.
MAX_VERDICTS = 5_000

ListName = Literal["allow", "block"]
Label = Literal["spam", "ham"]
#: One confirmed verdict: (message id, sender address, display name, verdict).
Confirmed = tuple[str, str, str | None, Label]
_DOMAIN = re.compile(r"^(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9-]{2,63}$")
_LOCAL = re.compile(r"^[a-z0-9!#$%&'*+/=?^_`{|}~.-]{1,64}$")


class StoreError(ServerToolError):
    """The lists file cannot be read or written."""


def normalise_entry(raw: str) -> str | None:
    """``bob@example.com`` or ``@example.com`` (a bare ``example.com`` is a domain), or None."""
    entry = raw.strip().lower().removeprefix("mailto:")
    if entry.startswith("@") or "@" not in entry:
        domain = entry.removeprefix("@").strip(".")
        return f"@{domain}" if _DOMAIN.match(domain) else None
    local, _, domain = entry.rpartition("@")
    return entry if _LOCAL.match(local) and _DOMAIN.match(domain) else None


def _now() -> str:
    return datetime.now(UTC).isoformat()


def _empty() -> dict[str, Any]:
    return {"version": _VERSION, "allow": {}, "block": {}, "senders": {}, "verdicts": {}}


class SpamStore:
    """Read and change ``<data_dir>/spam.json``; safe to share between a server's tools."""

    def __init__(self, data_dir: Path) -> None:
        self.path = data_dir / FILE_NAME
        self._lock = threading.Lock()
        self._data: dict[str, Any] | None = None
        self._stamp: int | None = None

    # -- file -----------------------------------------------------------------------------------

    def _load(self) -> dict[str, Any]:
        try:
            stamp = self.path.stat().st_mtime_ns
        except FileNotFoundError:
            self._data, self._stamp = _empty(), None
            return self._data
        except OSError as err:
            raise StoreError(f"The spam lists file {self.path} cannot be read: {err}.") from err
        if self._data is not None and stamp == self._stamp:
            return self._data
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
            raise StoreError(
                f"The spam lists file {self.path} is damaged ({err}); the server leaves it as "
                "it is: repair it or move it away to start empty lists."
            ) from err
        if not isinstance(data, dict) or data.get("version") != _VERSION:
            raise StoreError(
                f"The spam lists file {self.path} is not one this server wrote (no version "
                f"{_VERSION}); move it away to start empty lists."
            )
        for key, value in _empty().items():
            data.setdefault(key, value)
        self._data, self._stamp = data, stamp
        return data

    def _save(self, data: dict[str, Any]) -> None:
        """Write to a private temporary file, then rename: a crash never leaves half a file."""
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            tmp = self.path.with_name(f".{self.path.name}.{secrets.token_hex(4)}.tmp")
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            try:
                with os.fdopen(fd, "w", encoding="utf-8") as handle:
                    json.dump(data, handle, indent=1, sort_keys=True)
                    handle.flush()
                    os.fsync(handle.fileno())
                os.replace(tmp, self.path)
            finally:
                tmp.unlink(missing_ok=True)
            self._stamp = self.path.stat().st_mtime_ns
        except OSError as err:
            raise StoreError(f"The spam lists file {self.path} cannot be written: {err}.") from err
        self._data = data

    def probe(self) -> str:
        """What the store holds, after checking its file reads (or its folder can be made)."""
        with self._lock:
            data = self._load()
            if not self.path.exists():
                try:
                    self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
                except OSError as err:
                    raise StoreError(
                        f"The data folder {self.path.parent} cannot be made: {err}."
                    ) from err
            return (
                f"local lists at {self.path}: {len(data['allow'])} allowed, "
                f"{len(data['block'])} blocked, {len(data['senders'])} senders with history"
            )

    # -- lists ----------------------------------------------------------------------------------

    @staticmethod
    def _entries(raw: list[str]) -> list[str]:
        entries = [normalise_entry(r) for r in raw]
        bad = [r for r, e in zip(raw, entries, strict=True) if e is None]
        if bad:
            shown = ", ".join(repr(b) for b in bad[:5])
            raise InvalidArgumentError(
                f"Not an address or domain: {shown}. Give addresses (bob@example.com) or "
                "domains (@example.com)."
            )
        return list(dict.fromkeys(e for e in entries if e))

    @staticmethod
    def _lists(data: dict[str, Any]) -> Lists:
        def entries(name: str) -> list[ListEntry]:
            return [ListEntry(entry=k, **v) for k, v in sorted(data[name].items())]

        return Lists(allow=entries("allow"), block=entries("block"))

    def lists(self) -> Lists:
        with self._lock:
            return self._lists(self._load())

    def add(self, name: ListName, raw: list[str], note: str | None) -> ListsChange:
        """Put entries on one list, taking them off the other."""
        entries = self._entries(raw)
        other = "block" if name == "allow" else "allow"
        with self._lock:
            data = json.loads(json.dumps(self._load()))
            changed, unchanged = [], []
            for entry in entries:
                if entry in data[name] and entry not in data[other]:
                    unchanged.append(entry)
                    continue
                data[other].pop(entry, None)
                data[name][entry] = {"added_at": _now(), "note": note}
                changed.append(entry)
            if changed:
                self._save(data)
            return ListsChange(changed=changed, unchanged=unchanged, lists=self._lists(data))

    def remove(self, raw: list[str]) -> ListsChange:
        entries = self._entries(raw)
        with self._lock:
            data = json.loads(json.dumps(self._load()))
            changed = [
                e for e in entries if data["allow"].pop(e, None) or data["block"].pop(e, None)
            ]
            if changed:
                self._save(data)
            unchanged = [e for e in entries if e not in changed]
            return ListsChange(changed=changed, unchanged=unchanged, lists=self._lists(data))

    def match(self, sender: str | None) -> tuple[str | None, str | None]:
        """(allow entry, block entry) the sender matches; the most specific entry decides."""
        if not sender or "@" not in sender:
            return None, None
        with self._lock:
            data = self._load()
        domain = sender.rsplit("@", 1)[1]
        labels = domain.split(".")
        candidates = [sender] + [f"@{'.'.join(labels[i:])}" for i in range(len(labels) - 1)]
        for candidate in candidates:
            if candidate in data["allow"]:
                return candidate, None
            if candidate in data["block"]:
                return None, candidate
        return None, None

    # -- sender history -------------------------------------------------------------------------

    def history(self, sender: str) -> SenderHistory | None:
        with self._lock:
            found = self._load()["senders"].get(sender.lower())
        return SenderHistory(sender=sender.lower(), **found) if found else None

    def known(self) -> tuple[dict[str, str], dict[str, str]]:
        """Display names of wanted senders to their addresses, and the labels of allowed
        domains to those domains: what a borrowed name or a lookalike domain would imitate.

        Wanted senders' own domains are left out: their labels are often surnames
        (miller.net), which people's names and other family domains resemble innocently.
        """
        with self._lock:
            data = self._load()
        names: dict[str, str] = {}
        for sender, item in data["senders"].items():
            if item["ham"] > item["spam"] and item.get("display_name"):
                names[item["display_name"].lower()] = sender
        domains: dict[str, str] = {}
        for entry in data["allow"]:
            own = registrable(entry.rsplit("@", 1)[1])
            domains.setdefault(own.split(".")[0], own)
        return names, domains

    def record(self, verdicts: Sequence[Confirmed]) -> list[VerdictRecorded]:
        """The person's verdicts, written at once; a new verdict on a message replaces its old one.

        Each is (message id, sender address, display name, verdict).
        """
        with self._lock:
            data = json.loads(json.dumps(self._load()))
            now = _now()
            done = [self._record(data, now, *verdict) for verdict in verdicts]
            if len(data["verdicts"]) > MAX_VERDICTS:
                oldest = sorted(data["verdicts"], key=lambda k: data["verdicts"][k]["at"])
                for key in oldest[: len(data["verdicts"]) - MAX_VERDICTS]:
                    del data["verdicts"][key]
            self._save(data)
            return done

    @staticmethod
    def _record(
        data: dict[str, Any],
        now: str,
        message_id: str,
        sender: str,
        display_name: str | None,
        verdict: Label,
    ) -> VerdictRecorded:
        key = message_id
        previous = data["verdicts"].get(key)
        if previous and previous["sender"] != sender:
            # The same id from another sender is another message (ids are only unique per
            # mailbox): both are counted.
            key = f"{message_id}|{sender}"
            previous = data["verdicts"].get(key)
        item = data["senders"].setdefault(
            sender, {"display_name": None, "spam": 0, "ham": 0, "first_seen": now}
        )
        item["last_seen"] = now
        if display_name:
            item["display_name"] = display_name
        before = previous["verdict"] if previous else None
        if before != verdict:
            if before:
                item[before] = max(0, item[before] - 1)
            item[verdict] += 1
        data["verdicts"][key] = {"sender": sender, "verdict": verdict, "at": now}
        return VerdictRecorded(
            message_id=message_id,
            sender=sender,
            verdict=verdict,
            previous=before,
            history=SenderHistory(sender=sender, **item),
        )
