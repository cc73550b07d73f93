"""What the tools hand back beyond the API's own JSON: a made cron with its preview."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

__all__ = ("MadeCron",)


class MadeCron(BaseModel):
    preview: str = Field(description="The cron in words: what runs, when, and its next run.")
    schedule: dict[str, Any] = Field(description="The schedule as Angie stored it.")
