"""The one error of Angie's prompts: a prompt that cannot be loaded, checked or rendered."""

from __future__ import annotations

from angie.errors import Invalid

__all__ = ("PromptError",)


class PromptError(Invalid):
    """A prompt is missing, malformed or uses an undefined variable; the message names it."""
