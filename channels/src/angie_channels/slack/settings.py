"""What a Slack channel takes: the channel to post in, and the app's tokens."""

from __future__ import annotations

from typing import Annotated

from angie_channels.settings import Asked, ChannelSettings, ChannelSpec, matching

__all__ = ("SLACK", "SlackSecrets", "SlackSettings")

BotToken = Annotated[str, matching(r"xoxb-[A-Za-z0-9-]{8,250}", "must be a bot token (xoxb-…)")]
AppToken = Annotated[str, matching(r"xapp-[A-Za-z0-9-]{8,250}", "must be an app token (xapp-…)")]
SigningSecret = Annotated[str, matching(r"[A-Za-z0-9]{16,128}", "must be the app's signing secret")]
SlackChannel = Annotated[
    str, matching(r"[#@]?[A-Za-z0-9._-]{1,80}", "must be a channel such as #home")
]


class SlackSettings(ChannelSettings):
    default_channel: Annotated[
        SlackChannel | None,
        Asked(
            "Channel to post in when none is given (e.g. #angie)",
            hint="should be a channel such as #angie",
        ),
    ] = None


class SlackSecrets(ChannelSettings):
    bot_token: Annotated[
        BotToken | None, Asked("Bot token (xoxb-…)", hint="should start with xoxb-")
    ] = None
    app_token: Annotated[
        AppToken | None,
        Asked("App-level token for Socket Mode (xapp-…)", hint="should start with xapp-"),
    ] = None
    signing_secret: Annotated[
        SigningSecret | None,
        Asked(
            "Signing secret (for events over HTTP instead)",
            hint="should be 16 to 128 letters and digits",
        ),
    ] = None


SLACK = ChannelSpec(
    name="slack",
    title="Slack",
    settings=SlackSettings,
    secrets=SlackSecrets,
    required_settings=(),
    required_secrets=(("bot_token",), ("app_token", "signing_secret")),
    asked_in_order=("bot_token", "app_token", "signing_secret", "default_channel"),
)
