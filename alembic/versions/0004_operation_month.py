"""operation_month: operations binned per client, UTC month and category, kept by triggers

Revision ID: 0004
Revises: 0003

Why: the features read operations only as monthly bins, and grouping every raw operation at
each training run cost minutes at 100k clients. The bins are kept at write time by
statement-level triggers with transition tables: one aggregated upsert per INSERT or COPY
statement (a bulk COPY of millions of rows costs one GROUP BY of its own rows), a rebuild of
the touched clients' bins on UPDATE or DELETE, and an empty table on TRUNCATE. The triggers
are ENABLE ALWAYS: bulk loads run with session_replication_role = replica, which would
otherwise skip them. Existing operations are binned once here.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

# The latest time is kept as µs since the epoch (whole seconds and microseconds apart, so
# exact), converted once per bin here rather than per bin at every read.
_US = "date_part('epoch', date_trunc('second', {t}))::int8 * 1000000 + date_part('microseconds', {t})::int8 % 1000000"
_BINS = (
    "SELECT client_id, date_trunc('month', occurred_at AT TIME ZONE 'UTC')::date, category, count(*), "
    "coalesce(sum(amount) FILTER (WHERE amount < 0), 0), "
    "coalesce(sum(amount) FILTER (WHERE amount > 0), 0), " + _US.format(t="max(occurred_at)") + " "
    "FROM {source} GROUP BY 1, 2, 3"
)
_COLUMNS = "(client_id, month, category, n, neg, pos, last_us)"


def upgrade() -> None:
    category = postgresql.ENUM(name="operation_category", create_type=False)
    op.create_table(
        "operation_month",
        sa.Column("client_id", sa.BigInteger(), nullable=False),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("category", category, nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.Column("neg", sa.Numeric(), nullable=False),
        sa.Column("pos", sa.Numeric(), nullable=False),
        sa.Column("last_us", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("client_id", "month", "category", name=op.f("pk_operation_month")),
    )
    op.execute(f"INSERT INTO operation_month {_COLUMNS} " + _BINS.format(source="operation"))
    op.execute(
        "CREATE FUNCTION operation_month_add() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        f"INSERT INTO operation_month AS b {_COLUMNS} " + _BINS.format(source="new_rows") + " "
        "ON CONFLICT (client_id, month, category) DO UPDATE SET n = b.n + excluded.n, "
        "neg = b.neg + excluded.neg, pos = b.pos + excluded.pos, last_us = greatest(b.last_us, excluded.last_us); "
        "RETURN NULL; END $$"
    )
    # UPDATE and DELETE (no code path does either today): rebuild the touched clients' bins.
    for name, tables, source in (
        (
            "operation_month_resync_update",
            "OLD TABLE AS old_rows NEW TABLE AS new_rows",
            "SELECT client_id FROM old_rows UNION SELECT client_id FROM new_rows",
        ),
        ("operation_month_resync_delete", "OLD TABLE AS old_rows", "SELECT client_id FROM old_rows"),
    ):
        op.execute(
            f"CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
            f"DELETE FROM operation_month WHERE client_id IN ({source}); "
            f"INSERT INTO operation_month {_COLUMNS} "
            + _BINS.format(source=f"operation WHERE client_id IN ({source})")
            + "; RETURN NULL; END $$"
        )
        event = "UPDATE" if name.endswith("update") else "DELETE"
        op.execute(
            f"CREATE TRIGGER {name} AFTER {event} ON operation REFERENCING {tables} "
            f"FOR EACH STATEMENT EXECUTE FUNCTION {name}()"
        )
    op.execute(
        "CREATE FUNCTION operation_month_truncate() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        "TRUNCATE operation_month; RETURN NULL; END $$"
    )
    op.execute(
        "CREATE TRIGGER operation_month_add AFTER INSERT ON operation REFERENCING NEW TABLE AS new_rows "
        "FOR EACH STATEMENT EXECUTE FUNCTION operation_month_add()"
    )
    op.execute(
        "CREATE TRIGGER operation_month_truncate AFTER TRUNCATE ON operation "
        "FOR EACH STATEMENT EXECUTE FUNCTION operation_month_truncate()"
    )
    for trigger in _TRIGGERS:
        op.execute(f"ALTER TABLE operation ENABLE ALWAYS TRIGGER {trigger}")


_TRIGGERS = (
    "operation_month_add",
    "operation_month_resync_update",
    "operation_month_resync_delete",
    "operation_month_truncate",
)


def downgrade() -> None:
    for trigger in _TRIGGERS:
        op.execute(f"DROP TRIGGER IF EXISTS {trigger} ON operation")
        op.execute(f"DROP FUNCTION IF EXISTS {trigger}()")
    op.drop_table("operation_month")
