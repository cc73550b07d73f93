"""Content trust: an admin's choice of whether a server's tool outputs can be trusted, the
source that tainted a task (a run that read content from outside the household), the same
mark on the conversation messages such a run wrote, and why an approval was asked.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | Sequence[str] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("mcp_servers", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "content_trust",
                sa.Enum(
                    "trusted",
                    "untrusted",
                    name="content_trust",
                    native_enum=False,
                    create_constraint=True,
                ),
                nullable=True,
            )
        )
    op.add_column("tasks", sa.Column("tainted_by", sa.String(length=255), nullable=True))
    op.add_column("messages", sa.Column("tainted_by", sa.String(length=255), nullable=True))
    op.add_column("approvals", sa.Column("asked_because", sa.String(length=1000), nullable=True))


def downgrade() -> None:
    op.drop_column("approvals", "asked_because")
    op.drop_column("messages", "tainted_by")
    op.drop_column("tasks", "tainted_by")
    with op.batch_alter_table("mcp_servers", schema=None) as batch_op:
        batch_op.drop_constraint("content_trust", type_="check")
        batch_op.drop_column("content_trust")
