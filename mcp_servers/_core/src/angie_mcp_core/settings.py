"""The settings every Angie MCP server shares; each server subclasses with its own env prefix."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ("ServerSettings",)


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

    transport: Literal["stdio", "http"] = "stdio"
    host: str = Field(default="127.0.0.1", description="HTTP bind address; loopback by default.")
    port: int = Field(default=8765, ge=1, le=65535)
    path: str = Field(default="/mcp", pattern=r"^/[\w/-]*$")
    # Required for HTTP: clients send it as `Authorization: Bearer <token>`.
    token: SecretStr | None = None
    log_level: str = "INFO"
    # Seconds before a vendor call is abandoned with UpstreamTimeoutError.
    timeout: float = Field(default=10.0, gt=0, le=300)

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
