"""Settings of the spam scorer: where it keeps its lists and how much mail it takes at once."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar, Self

from pydantic import Field, model_validator
from pydantic_settings import SettingsConfigDict

from angie_mcp_core.settings import ServerSettings
from angie_mcp_core.tokens import default_state_dir

__all__ = ("SpamSettings",)


class SpamSettings(ServerSettings):
    """``ANGIE_SPAM_*``. Nothing is required: the server holds no mail credentials at all."""

    model_config = SettingsConfigDict(env_prefix="ANGIE_SPAM_")
    required: ClassVar[tuple[str, ...]] = ()

    data_dir: Path | None = Field(
        default=None,
        description="Folder of the lists and sender history (spam.json); default "
        "<user data dir>/angie/mcp/spam.",
    )
    max_message_bytes: int = Field(
        default=1_000_000,
        ge=1_000,
        le=50_000_000,
        description="Largest message (headers and text together) a tool takes, in bytes.",
    )
    max_batch: int = Field(
        default=100, ge=1, le=1_000, description="Most messages score_messages takes in one call."
    )
    spam_threshold: int = Field(
        default=70, ge=1, le=100, description="A score at or above this is 'spam'."
    )
    suspicious_threshold: int = Field(
        default=40,
        ge=1,
        le=100,
        description="A score at or above this (below spam) is 'suspicious'.",
    )

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if self.suspicious_threshold >= self.spam_threshold:
            raise ValueError(
                "suspicious_threshold must be below spam_threshold "
                f"({self.suspicious_threshold} >= {self.spam_threshold})"
            )
        return self

    def data_path(self) -> Path:
        """The folder the server keeps its file in."""
        return self.data_dir if self.data_dir is not None else default_state_dir("spam")
