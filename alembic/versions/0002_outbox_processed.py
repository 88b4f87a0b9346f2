"""outbox.processed_at: the relay re-publishes events published but never processed

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("outbox", sa.Column("processed_at", sa.DateTime(timezone=True), nullable=True))
    op.create_index(
        "ix_outbox_unprocessed", "outbox", ["id"], unique=False,
        postgresql_where=sa.text("processed_at IS NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_outbox_unprocessed", table_name="outbox")
    op.drop_column("outbox", "processed_at")
