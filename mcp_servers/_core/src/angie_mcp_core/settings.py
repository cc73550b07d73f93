"""The settings every Angie MCP server shares; each server subclasses with its own env prefix."""

from __future__ import annotations

from typing import Annotated, Any, ClassVar, Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from angie_mcp_core.edge import canonical_origin

__all__ = ("MIN_TOKEN_LENGTH", "ServerSettings")

MIN_TOKEN_LENGTH = 16


def _split(value: Any) -> Any:
    """A comma-separated environment value as a list of trimmed, non-empty, lower-case items."""
    if isinstance(value, str):
        value = value.split(",")
    if isinstance(value, list | tuple):
        return [item for item in (str(v).strip().lower() for v in value) if item]
    return value


class ServerSettings(BaseSettings):
    """Transport and common settings; a subclass adds its vendor's and sets ``env_prefix``.

    Example::

        class HueSettings(ServerSettings):
            model_config = SettingsConfigDict(env_prefix="ANGIE_HUE_")
            required: ClassVar = ("bridge_host", "username")
            bridge_host: str | None = None
            username: SecretStr | None = None
    """

    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", env_ignore_empty=True
    )
    # Names of fields the vendor needs; empty ones make the server "not configured".
    required: ClassVar[tuple[str, ...]] = ()
    # Fields a person may give by signing in (``auth``) instead of in the environment: kept
    # encrypted in the token file, they win over the environment (see credentials.py).
    typed_credentials: ClassVar[tuple[str, ...]] = ()

    transport: Literal["stdio", "http"] = "stdio"
    host: str = Field(default="127.0.0.1", description="HTTP bind address; loopback by default.")
    port: int = Field(default=8765, ge=1, le=65535)
    path: str = Field(default="/mcp", pattern=r"^/[\w/-]*$")
    # Required for HTTP: clients send it as `Authorization: Bearer <token>`.
    token: SecretStr | None = None
    allowed_hosts: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Host names clients reach the server by over HTTP besides loopback and the "
        "bind host, comma separated (hue.lan,192.168.1.20); any other Host is refused.",
    )
    allowed_origins: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Web origins (https://app.example) that may call the server besides those "
        "of its allowed hosts, comma separated; a request from any other Origin is refused.",
    )
    log_level: str = "INFO"
    # Seconds before a vendor call is abandoned with UpstreamTimeoutError.
    timeout: float = Field(default=10.0, gt=0, le=300)

    @field_validator("token", mode="after")
    @classmethod
    def _long_enough(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value()) < MIN_TOKEN_LENGTH:
            raise ValueError(
                f"a bearer token needs at least {MIN_TOKEN_LENGTH} characters (generate one with "
                'python -c "import secrets; print(secrets.token_urlsafe(32))")'
            )
        return value

    @field_validator("allowed_hosts", mode="before")
    @classmethod
    def _split_hosts(cls, value: Any) -> Any:
        hosts = _split(value)
        if not isinstance(hosts, list):
            return value
        for host in hosts:
            if "/" in host or " " in host or host.count(":") == 1:
                raise ValueError(f"{host!r} is not a host name (no scheme, port, path or spaces)")
        return hosts

    @field_validator("allowed_origins", mode="before")
    @classmethod
    def _split_origins(cls, value: Any) -> Any:
        origins = _split(value)
        if not isinstance(origins, list):
            return value
        for origin in origins:
            if canonical_origin(origin) is None:
                raise ValueError(
                    f"{origin!r} is not an origin: give scheme://host[:port], e.g. "
                    "https://app.example (no path)"
                )
        return origins

    @field_validator("log_level", mode="after")
    @classmethod
    def _upper(cls, value: str) -> str:
        return value.upper()

    def env_name(self, field: str) -> str:
        prefix = str(self.model_config.get("env_prefix", ""))
        return f"{prefix}{field.upper()}"

    def missing(self) -> list[str]:
        """Environment variables the vendor needs that are not set."""
        return [self.env_name(f) for f in self.required if not getattr(self, f, None)]
