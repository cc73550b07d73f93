"""Agents and teams name their owner in ``user_id``, like every other row a person owns.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TABLES = ("agents", "teams")


def _rename(table: str, old: str, new: str) -> None:
    # A plain rename (SQLite's RENAME COLUMN, MySQL's CHANGE): the foreign key follows the
    # column on both, and keeps its name.
    op.alter_column(table, old, new_column_name=new, existing_type=sa.Integer(), existing_nullable=True)


def upgrade() -> None:
    for table in _TABLES:
        _rename(table, "created_by_id", "user_id")


def downgrade() -> None:
    for table in _TABLES:
        _rename(table, "user_id", "created_by_id")
