"""When a sign-in on an MCP server expires, and which expiry the person was warned about.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-05
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import angie.db.base

revision: str = "0018"
down_revision: str | Sequence[str] | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TABLES = ("mcp_accounts", "mcp_servers")


def upgrade() -> None:
    for table in _TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(
                sa.Column("sign_in_expires_at", angie.db.base.UTCDateTime(), nullable=True)
            )
            batch_op.add_column(
                sa.Column("expiry_warned_for", angie.db.base.UTCDateTime(), nullable=True)
            )


def downgrade() -> None:
    for table in _TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column("expiry_warned_for")
            batch_op.drop_column("sign_in_expires_at")
