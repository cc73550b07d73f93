"""Settings of the Yahoo Mail MCP server, read from ``ANGIE_YAHOO_*`` environment variables."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar, Literal

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from angie_mcp_core.settings import ServerSettings
from angie_mcp_core.tokens import default_state_dir

__all__ = ("YahooSettings",)


def _default_downloads() -> Path:
    return default_state_dir("yahoo") / "downloads"


class YahooSettings(ServerSettings):
    """One mailbox: its address and an app password; Yahoo's servers unless told otherwise."""

    model_config = SettingsConfigDict(env_prefix="ANGIE_YAHOO_")
    required: ClassVar[tuple[str, ...]] = ("address", "app_password")
    # `angie-mcp-yahoo auth` (and `angie mcp connect yahoo`) stores them in the token file.
    typed_credentials: ClassVar[tuple[str, ...]] = ("address", "app_password")

    address: str | None = Field(default=None, description="The mailbox, e.g. sam@yahoo.com.")
    # Yahoo refuses the account password over IMAP: it wants an app password (Account
    # security → Generate app password).
    app_password: SecretStr | None = Field(default=None, description="A Yahoo app password.")
    writes: bool = Field(
        default=False,
        description="Offer the tools that draft, send, move, flag and trash mail.",
    )
    imap_host: str = "imap.mail.yahoo.com"
    imap_port: int = Field(default=993, ge=1, le=65535)
    smtp_host: str = "smtp.mail.yahoo.com"
    smtp_port: int = Field(default=465, ge=1, le=65535)
    # 465 speaks TLS from the start; 587 (and others) upgrade with STARTTLS. Plain text is
    # never used: the password would cross the network in the clear.
    smtp_tls: Literal["implicit", "starttls"] | None = Field(
        default=None, description="implicit or starttls; by the port when unset (465: implicit)."
    )
    ca_file: Path | None = Field(
        default=None, description="A CA bundle to trust besides the system's (a private server)."
    )
    token_file: Path = Field(
        default_factory=lambda: default_state_dir("yahoo") / "tokens.enc",
        description="Where `angie-mcp-yahoo auth` stores the address and app password, "
        "encrypted; they win over ANGIE_YAHOO_ADDRESS and ANGIE_YAHOO_APP_PASSWORD.",
    )
    # Without it the key is generated once into `<token_file>.key` (mode 0600) beside the file.
    token_key: SecretStr | None = Field(
        default=None, description="The secret the token file is encrypted with."
    )
    download_dir: Path = Field(
        default_factory=_default_downloads, description="Where save_attachment puts files."
    )
    max_download_bytes: int = Field(default=25 * 1024 * 1024, ge=1024)
