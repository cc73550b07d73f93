"""Angie's Approve / Deny buttons on Discord, which keep working after Angie restarts.

Each button's ``custom_id`` carries the approval's ``ref`` (``angie:approve:<ref>``), so no
state is needed to know what a click means. discord.py's ``Client.add_view`` only matches
custom_ids it was given word for word; a :class:`discord.ui.DynamicItem` matches a pattern, so
registering :class:`ApprovalButton` once at start (``Client.add_dynamic_items``) routes a click
on any approval ever sent, by this adapter or one before a restart. A click becomes the client
event ``angie_approval`` (``on_angie_approval(interaction, approve, ref)``).
"""

from __future__ import annotations

import re

import discord

__all__ = ("APPROVAL_EVENT", "ApprovalButton", "approval_view", "custom_id")

APPROVAL_EVENT = "angie_approval"
_MAX_CUSTOM_ID = 100  # Discord's limit on a component's custom_id
_TEMPLATE = re.compile(r"angie:(?P<verb>approve|deny):(?P<ref>.+)")


def custom_id(approve: bool, ref: str) -> str:
    """The button's custom_id for ``ref``; ValueError when Discord would refuse it."""
    value = f"angie:{'approve' if approve else 'deny'}:{ref}"
    if not ref or len(value) > _MAX_CUSTOM_ID:
        raise ValueError(f"an approval reference must be 1 to {_MAX_CUSTOM_ID - 14} characters")
    return value


class ApprovalButton(
    discord.ui.DynamicItem[discord.ui.Button[discord.ui.View]], template=_TEMPLATE
):
    """Approve or Deny for one approval; a press is dispatched as ``angie_approval``."""

    def __init__(self, *, approve: bool, ref: str) -> None:
        super().__init__(
            discord.ui.Button(
                label="Approve" if approve else "Deny",
                style=discord.ButtonStyle.success if approve else discord.ButtonStyle.danger,
                custom_id=custom_id(approve, ref),
            )
        )
        self.approve = approve
        self.ref = ref

    @classmethod
    async def from_custom_id(
        cls,
        interaction: discord.Interaction[discord.Client],
        item: discord.ui.Item[discord.ui.View],
        match: re.Match[str],
        /,
    ) -> ApprovalButton:
        return cls(approve=match["verb"] == "approve", ref=match["ref"])

    async def callback(self, interaction: discord.Interaction[discord.Client]) -> None:
        # The adapter's client answers the event; the button knows nothing of Angie.
        interaction.client.dispatch(APPROVAL_EVENT, interaction, self.approve, self.ref)


def approval_view(ref: str) -> discord.ui.View:
    """The two buttons for ``ref``: a view with no timeout, so discord.py never disables it."""
    view = discord.ui.View(timeout=None)
    view.add_item(ApprovalButton(approve=True, ref=ref))
    view.add_item(ApprovalButton(approve=False, ref=ref))
    return view
