"""Settings of the UniFi MCP server: where the Network controller is, and Angie's account on it."""

from __future__ import annotations

import re
from pathlib import Path
from typing import ClassVar

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import SettingsConfigDict

from angie_mcp_core.settings import ServerSettings

__all__ = ("UnifiSettings",)

_HOST = re.compile(r"^[A-Za-z0-9.\-:\[\]]+$")


class UnifiSettings(ServerSettings):
    """``ANGIE_UNIFI_*``: the controller's host and port, a local account, the site, TLS trust.

    The account is best a local, limited admin made for Angie on the console; single sign-on
    accounts with two-factor authentication cannot log in here.
    """

    model_config = SettingsConfigDict(env_prefix="ANGIE_UNIFI_")
    required: ClassVar[tuple[str, ...]] = ("controller_host", "username", "password")

    # The inherited `host` and `port` (ANGIE_UNIFI_HOST/PORT) are where this MCP server listens
    # over HTTP, as for every server of the kit; the controller's address has its own names.
    controller_host: str | None = Field(
        default=None,
        description="The UniFi console or Network controller: its IP address or host name, "
        "e.g. 192.168.1.1 or unifi.lan (no scheme, no port).",
    )
    controller_port: int = Field(default=443, ge=1, le=65535)
    username: str | None = Field(default=None, description="A local account on the console.")
    password: SecretStr | None = Field(default=None, description="That account's password.")
    site: str = Field(
        default="default",
        pattern=r"^[A-Za-z0-9_-]{1,64}$",
        description="The site's short name as in the controller's URLs ('default' for the first).",
    )
    verify_ssl: bool = Field(
        default=True,
        description="Check the controller's TLS certificate; consoles ship a self-signed one, so "
        "either give ca_file or set this to false on a trusted home network.",
    )
    ca_file: Path | None = Field(
        default=None, description="A PEM file of the certificate (or its CA) the controller uses."
    )

    @field_validator("controller_host", mode="after")
    @classmethod
    def _bare_host(cls, value: str | None) -> str | None:
        if value is None:
            return None
        host = value.strip().removeprefix("https://").removeprefix("http://").split("/", 1)[0]
        if not host or not _HOST.match(host):
            raise ValueError("must be an IP address or host name such as 192.168.1.1")
        return host
