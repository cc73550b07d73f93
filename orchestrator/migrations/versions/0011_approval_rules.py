"""Approval rules: each person's own allow/ask rules over tools, on top of the household policy.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import angie.db.base

revision: str = "0011"
down_revision: str | Sequence[str] | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "approval_rules",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("pattern", sa.String(length=120), nullable=False),
        sa.Column(
            "decision",
            sa.Enum(
                "allow", "ask", name="rule_decision", native_enum=False, create_constraint=True
            ),
            nullable=False,
        ),
        sa.Column(
            "source",
            sa.Enum(
                "setup", "person", name="rule_source", native_enum=False, create_constraint=True
            ),
            nullable=False,
        ),
        sa.Column("phrase", sa.String(length=200), nullable=True),
        sa.Column("created_at", angie.db.base.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_approval_rules_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("user_id", "pattern", name=op.f("uq_approval_rules_user_id_pattern")),
    )
    with op.batch_alter_table("approval_rules", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_approval_rules_user_id"), ["user_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("approval_rules", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_approval_rules_user_id"))
    op.drop_table("approval_rules")
