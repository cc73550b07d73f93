"""What the channel adapters' tests share: a hub that records what an adapter hands Angie."""

from __future__ import annotations

import asyncio
import contextlib
import os
import ssl
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from angie_mcp_hue.testing import FakeHueBridge
from fakes.brain import Brain

from angie.channels.hub import ChannelFactory, create_channel
from angie.daemon import Angie
from angie.mcp.registry import builtin_specs
from angie.settings import AngieSettings
from angie_channels.base import Channel, Decision, Inbound, State
from angie_channels.discord.adapter import create as discord_channel
from angie_channels.discord.settings import DiscordSecrets, DiscordSettings
from angie_channels.email.adapter import create as email_channel
from angie_channels.email.settings import EmailSecrets, EmailSettings
from angie_channels.slack.adapter import create as slack_channel
from angie_channels.slack.settings import SlackSecrets, SlackSettings

__all__ = ("SECRET", "Endpoints", "RecordingHub", "hue_home_angie")


@dataclass
class RecordingHub:
    """Angie's side of an adapter, for the adapter's own tests: it keeps what arrives and
    answers decisions with ``decide`` (the text the approval message should then show)."""

    decide: Callable[[Decision], str | None] = lambda d: "Approved" if d.approve else "Denied"
    messages: list[Inbound] = field(default_factory=list)
    decisions: list[Decision] = field(default_factory=list)
    reports: list[tuple[State, str | None]] = field(default_factory=list)
    _changed: asyncio.Condition = field(default_factory=asyncio.Condition)

    async def received(self, message: Inbound) -> None:
        async with self._changed:
            self.messages.append(message)
            self._changed.notify_all()

    async def decided(self, decision: Decision) -> str | None:
        async with self._changed:
            self.decisions.append(decision)
            self._changed.notify_all()
        return self.decide(decision)

    def report(self, state: State, detail: str | None = None) -> None:
        self.reports.append((state, detail))

    @property
    def state(self) -> State | None:
        return self.reports[-1][0] if self.reports else None

    async def wait(self, predicate: Callable[[RecordingHub], bool], within: float = 10.0) -> None:
        """Until ``predicate(self)`` holds (a message, a decision or a report arrived)."""
        async with asyncio.timeout(within):
            while not predicate(self):
                async with self._changed:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._changed.wait(), 0.05)


@dataclass
class Endpoints:
    """Where each kind's SDK finds its platform (a fake), set by each test."""

    slack_api: str | None = None
    discord_api: str | None = None
    email_ssl: ssl.SSLContext | None = None
    built: list[Channel] = field(default_factory=list)

    def factory(self) -> ChannelFactory:
        def create(kind: str, config: Mapping[str, Any], secrets: Mapping[str, str]) -> Channel:
            if kind == "slack":
                channel: Channel = slack_channel(
                    SlackSettings.model_validate(dict(config)),
                    SlackSecrets.model_validate(dict(secrets)),
                    api_url=self.slack_api,
                )
            elif kind == "discord":
                channel = discord_channel(
                    DiscordSettings.model_validate(dict(config)),
                    DiscordSecrets.model_validate(dict(secrets)),
                    api_url=self.discord_api,
                )
            elif kind == "email":
                channel = email_channel(
                    EmailSettings.model_validate(dict(config)),
                    EmailSecrets.model_validate(dict(secrets)),
                    ssl_context=self.email_ssl,
                )
            else:
                channel = create_channel(kind, config, secrets)
            self.built.append(channel)
            return channel

        return create


# The secret key of the Angies below: their channels' secrets are encrypted with it.
SECRET = "c" * 48


def hue_home_angie(
    database_url: str,
    data_dir: Path,
    bridge: FakeHueBridge,
    brain: Brain,
    channel_factory: ChannelFactory,
    *,
    port: int | None = None,
    **more: Any,
) -> Angie:
    """An Angie running the real Hue server against the fake bridge and the given channels;
    with ``port`` she serves her API there too (for the platforms' webhooks)."""
    settings = AngieSettings(
        _env_file=None,
        database_url=database_url,
        data_dir=data_dir,
        mcp_timeout=20,
        secret_key=SECRET,
        **more,
    )
    return Angie(
        settings,
        api=port is not None,
        host="127.0.0.1",
        port=port,
        specs=builtin_specs(["hue"]),
        environ={
            "PATH": os.environ["PATH"],
            "HOME": str(data_dir),
            "ANGIE_HUE_BRIDGE_HOST": bridge.host,
            "ANGIE_HUE_USERNAME": bridge.username,
        },
        model_for=brain.model,
        worker_threads=2,
        channel_factory=channel_factory,
    )
