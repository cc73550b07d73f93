"""Chat channels: pairing codes, the delivery ledger, and where each linked identity is reached.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

import angie.db.base

revision: str = "0012"
down_revision: str | Sequence[str] | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "channel_pairings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column(
            "channel",
            sa.Enum(
                "web",
                "cli",
                "api",
                "slack",
                "discord",
                "imessage",
                "email",
                name="pairing_channel",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("external_id", sa.String(length=320), nullable=False),
        sa.Column("display", sa.String(length=255), nullable=True),
        sa.Column("setting_id", sa.Integer(), nullable=True),
        sa.Column("home_thread", sa.String(length=255), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("expires_at", angie.db.base.UTCDateTime(), nullable=False),
        sa.Column("created_at", angie.db.base.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["setting_id"],
            ["channel_settings.id"],
            name=op.f("fk_channel_pairings_setting_id_channel_settings"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint(
            "channel", "external_id", name=op.f("uq_channel_pairings_channel_external_id")
        ),
        sa.UniqueConstraint("code_hash", name=op.f("uq_channel_pairings_code_hash")),
    )
    op.create_table(
        "channel_deliveries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column(
            "channel",
            sa.Enum(
                "web",
                "cli",
                "api",
                "slack",
                "discord",
                "imessage",
                "email",
                name="delivery_channel",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("setting_id", sa.Integer(), nullable=False),
        sa.Column("thread", sa.String(length=255), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "message",
                "approval",
                "decision",
                name="outbound_kind",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("text", sa.Text().with_variant(mysql.MEDIUMTEXT(), "mysql"), nullable=False),
        sa.Column("mention", sa.String(length=320), nullable=True),
        sa.Column("task_id", sa.Integer(), nullable=True),
        sa.Column("approval_id", sa.Integer(), nullable=True),
        sa.Column("reply_code", sa.String(length=8), nullable=True),
        sa.Column("updates_id", sa.Integer(), nullable=True),
        sa.Column(
            "state",
            sa.Enum(
                "pending",
                "sending",
                "sent",
                "failed",
                name="delivery_state",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", angie.db.base.UTCDateTime(), nullable=False),
        sa.Column("platform_id", sa.String(length=255), nullable=True),
        sa.Column("error", sa.String(length=1000), nullable=True),
        sa.Column("created_at", angie.db.base.UTCDateTime(), nullable=False),
        sa.Column("sent_at", angie.db.base.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["approval_id"],
            ["approvals.id"],
            name=op.f("fk_channel_deliveries_approval_id_approvals"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["setting_id"],
            ["channel_settings.id"],
            name=op.f("fk_channel_deliveries_setting_id_channel_settings"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["task_id"],
            ["tasks.id"],
            name=op.f("fk_channel_deliveries_task_id_tasks"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["updates_id"],
            ["channel_deliveries.id"],
            name=op.f("fk_channel_deliveries_updates_id_channel_deliveries"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_channel_deliveries_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("channel_deliveries", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_channel_deliveries_channel_reply_code"),
            ["channel", "reply_code"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_channel_deliveries_setting_id_state"),
            ["setting_id", "state"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_channel_deliveries_state_next_attempt_at"),
            ["state", "next_attempt_at"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_channel_deliveries_user_id"), ["user_id"], unique=False
        )

    with op.batch_alter_table("channel_identities", schema=None) as batch_op:
        batch_op.add_column(sa.Column("setting_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("home_thread", sa.String(length=255), nullable=True))
        batch_op.add_column(
            sa.Column("preferred", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.add_column(sa.Column("last_seen_at", angie.db.base.UTCDateTime(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_channel_identities_setting_id_channel_settings"),
            "channel_settings",
            ["setting_id"],
            ["id"],
            ondelete="SET NULL",
        )


def downgrade() -> None:
    with op.batch_alter_table("channel_identities", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_channel_identities_setting_id_channel_settings"), type_="foreignkey"
        )
        batch_op.drop_column("last_seen_at")
        batch_op.drop_column("preferred")
        batch_op.drop_column("home_thread")
        batch_op.drop_column("setting_id")

    # Dropping the table drops its indexes (MySQL refuses to drop one a foreign key needs).
    op.drop_table("channel_deliveries")
    op.drop_table("channel_pairings")
