"""What a Discord channel takes: the server (guild) and the bot's token."""

from __future__ import annotations

from typing import Annotated

from angie_channels.settings import Asked, ChannelSettings, ChannelSpec, matching

__all__ = ("DISCORD", "DiscordSecrets", "DiscordSettings")

GuildId = Annotated[str, matching(r"[0-9]{1,25}", "must be the server's id (digits)")]
BotToken = Annotated[str, matching(r"[A-Za-z0-9_.-]{20,200}", "must be a Discord bot token")]


class DiscordSettings(ChannelSettings):
    guild_id: Annotated[
        GuildId | None,
        Asked("Server (guild) id", hint="should be the server's numeric id"),
    ] = None


class DiscordSecrets(ChannelSettings):
    bot_token: Annotated[
        BotToken | None, Asked("Bot token", hint="does not look like a Discord bot token")
    ] = None


DISCORD = ChannelSpec(
    name="discord",
    title="Discord",
    settings=DiscordSettings,
    secrets=DiscordSecrets,
    required_settings=(),
    required_secrets=(("bot_token",),),
    asked_in_order=("bot_token", "guild_id"),
)
