"""Each person's own accounts on personal MCP servers, and whom each is shared with.

Revision ID: 0017
Revises: 0013
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import angie.db.base

revision: str = "0017"
down_revision: str | Sequence[str] | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "mcp_accounts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("server", sa.String(length=64), nullable=False),
        sa.Column("label", sa.String(length=120), nullable=False),
        sa.Column("state_dir", sa.String(length=1024), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "connected",
                "disconnected",
                name="mcp_account_status",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("created_at", angie.db.base.UTCDateTime(), nullable=False),
        sa.Column("updated_at", angie.db.base.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_mcp_accounts_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint(
            "user_id", "server", "label", name=op.f("uq_mcp_accounts_user_id_server_label")
        ),
    )
    with op.batch_alter_table("mcp_accounts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_mcp_accounts_user_id"), ["user_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_mcp_accounts_server"), ["server"], unique=False)
    op.create_table(
        "mcp_account_shares",
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["mcp_accounts.id"],
            name=op.f("fk_mcp_account_shares_account_id_mcp_accounts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_mcp_account_shares_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("account_id", "user_id"),
    )
    with op.batch_alter_table("mcp_account_shares", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_mcp_account_shares_user_id"), ["user_id"], unique=False
        )


def downgrade() -> None:
    # Dropping a table drops its indexes; MySQL refuses to drop one a foreign key still needs.
    op.drop_table("mcp_account_shares")
    op.drop_table("mcp_accounts")
