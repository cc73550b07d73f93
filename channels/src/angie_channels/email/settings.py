"""What an email channel takes: the address, its IMAP and SMTP servers, and the password."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from angie_channels.settings import (
    Address,
    Asked,
    ChannelSettings,
    ChannelSpec,
    Host,
    Password,
    Port,
)

__all__ = ("EMAIL", "EmailSecrets", "EmailSettings")

_HOST_HINT = "should be a host name, e.g. imap.example.com"
_PORT_HINT = "should be a port, 1 to 65535"


class EmailSettings(ChannelSettings):
    imap_host: Annotated[Host | None, Asked("IMAP server", hint=_HOST_HINT)] = None
    imap_port: Annotated[Port | None, Asked("IMAP port", hint=_PORT_HINT, suggested="993")] = None
    smtp_host: Annotated[Host | None, Asked("SMTP server", hint=_HOST_HINT)] = None
    smtp_port: Annotated[Port | None, Asked("SMTP port", hint=_PORT_HINT, suggested="587")] = None
    address: Annotated[
        Address | None, Asked("Email address", hint="should be an email address")
    ] = None
    username: Annotated[str | None, Asked("User name (empty: the address)")] = Field(
        default=None, min_length=1, max_length=320
    )


class EmailSecrets(ChannelSettings):
    password: Annotated[Password | None, Asked("Password")] = None


EMAIL = ChannelSpec(
    name="email",
    title="email",
    settings=EmailSettings,
    secrets=EmailSecrets,
    required_settings=("imap_host", "smtp_host", "address"),
    required_secrets=(("password",),),
    asked_in_order=(
        "address",
        "imap_host",
        "imap_port",
        "smtp_host",
        "smtp_port",
        "username",
        "password",
    ),
)
