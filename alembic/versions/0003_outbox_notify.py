"""outbox: NOTIFY outbox on insert, so the relay wakes at once instead of at its next poll

Revision ID: 0003
Revises: 0002

Why a trigger: every writer of the outbox (API mutations, the worker's notifications, scripts)
wakes the relay without knowing about it. Statement-level and payload-free, so a batch of
rows costs one notification, and PostgreSQL delivers it only when the transaction commits.
"""

from __future__ import annotations

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        "CREATE FUNCTION outbox_notify() RETURNS trigger LANGUAGE plpgsql AS "
        "$$ BEGIN PERFORM pg_notify('outbox', ''); RETURN NULL; END $$"
    )
    op.execute(
        "CREATE TRIGGER outbox_notify AFTER INSERT ON outbox "
        "FOR EACH STATEMENT EXECUTE FUNCTION outbox_notify()"
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER IF EXISTS outbox_notify ON outbox")
    op.execute("DROP FUNCTION IF EXISTS outbox_notify()")
