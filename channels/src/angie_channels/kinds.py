"""Every kind of channel Angie talks through, by name, in the order people see them."""

from __future__ import annotations

from collections.abc import Mapping

from angie_channels.discord.settings import DISCORD
from angie_channels.email.settings import EMAIL
from angie_channels.imessage.settings import IMESSAGE
from angie_channels.settings import ChannelSpec
from angie_channels.slack.settings import SLACK

__all__ = ("KINDS", "ChannelSpec")

KINDS: Mapping[str, ChannelSpec] = {spec.name: spec for spec in (SLACK, DISCORD, EMAIL, IMESSAGE)}
