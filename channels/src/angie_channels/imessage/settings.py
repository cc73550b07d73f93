"""What an iMessage channel takes: the BlueBubbles server's address and password, and the
secret BlueBubbles puts in each webhook's address so Angie knows the call is genuine."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, field_validator

from angie_channels.settings import Asked, ChannelSettings, ChannelSpec, Password, http_url

__all__ = ("IMESSAGE", "IMessageSecrets", "IMessageSettings")


class IMessageSettings(ChannelSettings):
    server_url: Annotated[
        str | None,
        Asked(
            "BlueBubbles server address (http(s)://…)",
            hint="should be an http:// or https:// address",
        ),
    ] = Field(default=None, max_length=2048, description="Where the BlueBubbles server answers.")

    @field_validator("server_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        return None if value is None else http_url(value, "the BlueBubbles server")


# BlueBubbles cannot sign its webhooks; a long secret in the webhook URL is all that tells a
# genuine call from a forged one, so a short one is refused.
WebhookSecret = Annotated[str, Field(min_length=16, max_length=1024)]


class IMessageSecrets(ChannelSettings):
    password: Annotated[Password | None, Asked("BlueBubbles server password")] = None
    webhook_secret: Annotated[
        WebhookSecret | None,
        Asked(
            "Webhook secret (Angie checks it on each BlueBubbles webhook; make a long random one)",
            hint="should be at least 16 characters",
        ),
    ] = None


IMESSAGE = ChannelSpec(
    name="imessage",
    title="iMessage (BlueBubbles)",
    settings=IMessageSettings,
    secrets=IMessageSecrets,
    required_settings=("server_url",),
    required_secrets=(("password",), ("webhook_secret",)),
    asked_in_order=("server_url", "password", "webhook_secret"),
)
