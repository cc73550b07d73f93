"""Tasks keep what their runs used of the language model: input and output tokens, and the
cost where the model's price is known.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("tasks", sa.Column("input_tokens", sa.Integer(), nullable=True))
    op.add_column("tasks", sa.Column("output_tokens", sa.Integer(), nullable=True))
    op.add_column("tasks", sa.Column("cost_usd", sa.Numeric(12, 6), nullable=True))


def downgrade() -> None:
    for column in ("cost_usd", "output_tokens", "input_tokens"):
        op.drop_column("tasks", column)
