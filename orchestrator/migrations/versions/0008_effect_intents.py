"""The effects journal records a call's intent before it goes out: each effect has a state
(pending while the call is out, done once its result is journaled) and when it started.
Effects journaled before this were journaled after their call, so they are done.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import angie.db.base

revision: str = "0008"
down_revision: str | Sequence[str] | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "task_effects",
        sa.Column("state", sa.String(length=16), server_default="done", nullable=False),
    )
    op.add_column(
        "task_effects", sa.Column("started_at", angie.db.base.UTCDateTime(), nullable=True)
    )


def downgrade() -> None:
    with op.batch_alter_table("task_effects", schema=None) as batch_op:
        batch_op.drop_column("started_at")
        batch_op.drop_column("state")
