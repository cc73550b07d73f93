"""An agent may set its own per-run limits (model requests, tool calls, tokens).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision: str = "0009"
down_revision: str | Sequence[str] | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "agents",
        sa.Column("limits", sa.JSON().with_variant(mysql.JSON(), "mysql"), nullable=True),
    )


def downgrade() -> None:
    op.drop_column("agents", "limits")
