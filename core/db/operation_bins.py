"""The SQL that bins operations into `operation_month` (client, UTC month, category).

Migration 0004 keeps the bins at write time with statement-level triggers (its own frozen
copy of this SQL). Bulk loads into an empty `operation` table use this module instead: they
switch the insert trigger off, COPY, and bin the whole table once at the end. Why: the
trigger's upsert (ON CONFLICT into a primary key, over the statement's transition table) cost
about as much as the COPY itself - on the 5,000-client demo 1.96M operations took 52-58 s to
insert with it and 23-26 s without, and one GROUP BY of the table afterwards about 13 s.
tests/test_migrations checks that both ways give the bins of grouping the raw operations.
"""

from __future__ import annotations

ADD_TRIGGER = "operation_month_add"
COLUMNS = "(client_id, month, category, n, neg, pos, last_us)"
# The latest time as µs since the epoch (whole seconds and microseconds apart, so exact).
_US = (
    "date_part('epoch', date_trunc('second', max(occurred_at)))::int8 * 1000000 "
    "+ date_part('microseconds', max(occurred_at))::int8 % 1000000"
)
BINS_OF_ALL_OPERATIONS = (
    f"INSERT INTO operation_month {COLUMNS} "
    "SELECT client_id, date_trunc('month', occurred_at AT TIME ZONE 'UTC')::date, category, count(*), "
    "coalesce(sum(amount) FILTER (WHERE amount < 0), 0), "
    f"coalesce(sum(amount) FILTER (WHERE amount > 0), 0), {_US} "
    "FROM operation GROUP BY 1, 2, 3"
)


async def defer_binning(conn) -> None:  # type: ignore[no-untyped-def]
    """Stop binning per statement (in the caller's transaction; `bin_all` undoes it)."""
    await conn.execute(f"ALTER TABLE operation DISABLE TRIGGER {ADD_TRIGGER}")


async def bin_all(conn) -> None:  # type: ignore[no-untyped-def]
    """Bin every operation into the (empty) bins table and turn per-statement binning back
    on, ALWAYS as the migration set it (bulk loads run as replicas)."""
    await conn.execute(BINS_OF_ALL_OPERATIONS)
    await conn.execute(f"ALTER TABLE operation ENABLE ALWAYS TRIGGER {ADD_TRIGGER}")
