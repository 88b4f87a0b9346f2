"""SQL for a client's holdings now: the holdings of its latest snapshot.

Why one definition: "the latest month with holding rows" is wrong for a client who dropped
every product since (no rows in the latest snapshot), so its old products read as held;
the decision layer then refused offers of products the client no longer had and the API
listed them. The client row keeps the month of its latest snapshot (`snapshot_month`), so
a holdings month older than that means the client holds nothing now.
"""

from __future__ import annotations

# One row per client of $1 (bigint[]) that holds something now: its holdings month.
LATEST_HOLDINGS_MONTH = """
SELECT h.client_id, max(h.month) AS month
FROM holding h JOIN client c ON c.id = h.client_id
WHERE h.client_id = ANY($1::bigint[])
GROUP BY h.client_id, c.snapshot_month
HAVING c.snapshot_month IS NULL
    OR date_trunc('month', max(h.month)) >= date_trunc('month', c.snapshot_month)
"""

# Holdings now of the clients in $1: (client_id, product_code) rows.
HOLDINGS_NOW = f"""
SELECT h.client_id, h.product_code
FROM holding h JOIN ({LATEST_HOLDINGS_MONTH}) latest
    ON latest.client_id = h.client_id AND latest.month = h.month
"""
