"""The single declaration of every feature: names, windows, lags and the data horizon.

Why one module: the batch builder (training, many clients, several cutoffs), the online
scorer (one client) and the data adapters (which rows to load from PostgreSQL or Parquet)
all read these constants. A window or a lag is changed here once, and the loaders fetch
exactly the history the feature code uses, so training and scoring cannot drift apart.

Time convention: a *cutoff* is a month; the features describe the client at the end of that
month. Months are handled as an integer index ``year * 12 + month - 1`` so that Santander's
28th-of-month snapshots and first-of-month synthetic snapshots mean the same thing.
Everything at or after the first instant of the next month is the future and never read.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

import pandas as pd

from core.domain import OPERATION_CATEGORIES

# --- holdings -----------------------------------------------------------------------------
HOLDING_LAGS: tuple[int, ...] = (0, 1, 2, 3, 6, 12)  # months back from the cutoff; 0 = now
RECENT_EVENT_MONTHS = 3  # window for the total add/drop counts (per-product counts: all time)
NEVER_MONTHS = 99.0  # "months since last change" when the product never changed (no NaN)
DROP_WINDOWS: tuple[int, ...] = (1, 3, 6)  # "dropped within the last k months" flags
FLIP_MONTHS = 12  # window of the per-product add+drop ("flip") counts
RELATED_RECENT_MONTHS = 3  # window of "a related product was added recently"

# --- offer history (offer_log) --------------------------------------------------------------
# Only offers *shown* (treatment arm) in months before the cutoff month count: an offer shown
# in the cutoff month may be the very offer a training row describes (offers follow the
# cutoff's snapshot by a few days), so counting it would leak the arm into the features.
# An answer counts when its outcome is known by the cutoff's end (converted before it; a
# decline once the response window closed before it).
OFFER_WINDOWS: tuple[int, ...] = (3, 6)  # contacts in the last k months before the cutoff month
NO_RATE = -1.0  # answer rate when no offer has a known outcome yet

# --- operations ---------------------------------------------------------------------------
OP_WINDOWS: tuple[int, ...] = (1, 3, 6)  # months ending at the cutoff (1 = the cutoff month)
OP_BINS = max(OP_WINDOWS)  # per-month bins needed by windows, trend and salary features
TREND_BASE_MONTHS = 3  # trend: cutoff month vs the average of the 3 months before it
RECENCY_LOOKBACK_MONTHS = 12  # recency is capped at this lookback (days of the lookback)
SALARY_MONTHS = 6
CATEGORIES: tuple[str, ...] = OPERATION_CATEGORIES

# --- questionnaire --------------------------------------------------------------------------
# Kept as strings (missing -> "missing") so CatBoost treats them as categorical.
CATEGORICAL_FIELDS: tuple[str, ...] = (
    "sex",
    "segment",
    "join_channel",
    "province_code",
    "employee_status",
    "country",
    "relation_type",
    "customer_type",
)
FLAG_FIELDS: tuple[str, ...] = ("is_active", "is_foreigner", "is_resident", "is_deceased")
NEW_CLIENT_MONTHS = 6  # Santander's ind_nuevo: registered within the last 6 months
CLIENT_FIELDS: tuple[str, ...] = (
    "id",
    "snapshot_month",
    "first_contract_date",
    "age",
    "income",
    "seniority_months",
    "is_new",
    "primary_status",
    *CATEGORICAL_FIELDS,
    *FLAG_FIELDS,
)
MISSING = "missing"

# --- clusters -------------------------------------------------------------------------------
CLUSTER_COLUMN = "cluster"


def month_index(value: date | datetime | str | pd.Timestamp) -> int:
    """`year*12 + month-1` of a month given as a date, a timestamp or 'YYYY-MM[-DD]'."""
    ts = pd.Timestamp(value)
    return int(ts.year) * 12 + int(ts.month) - 1


def month_start(index: int) -> pd.Timestamp:
    """First instant (naive date) of the month with this index."""
    return pd.Timestamp(year=index // 12, month=index % 12 + 1, day=1)


def month_start_utc(index: int) -> pd.Timestamp:
    return month_start(index).tz_localize("UTC")


def horizon(cutoff: date | datetime | str | pd.Timestamp) -> dict[str, pd.Timestamp]:
    """The rows a cutoff needs, as half-open bounds; the adapters load exactly these.

    holdings: months in [holdings_from, end); events: months < end (all history, for the
    per-product counts); operations: occurred_at in [operations_from, end) in UTC; offers:
    shown_at < offers_before (UTC; their outcomes are read as known at `end`).
    """
    m = month_index(cutoff)
    return {
        "end": month_start(m + 1),
        "offers_before": month_start(m),
        "holdings_from": month_start(m - max(HOLDING_LAGS)),
        "operations_from": month_start(m + 1 - RECENCY_LOOKBACK_MONTHS),
    }


def holding_columns(products: Sequence[str]) -> list[str]:
    cols = [f"hold_{p}_l{k}" for p in products for k in HOLDING_LAGS]
    cols += [f"n_held_l{k}" for k in HOLDING_LAGS]
    cols += [f"n_add_{p}" for p in products] + [f"n_drop_{p}" for p in products]
    cols += [f"months_since_change_{p}" for p in products]
    cols += [f"n_add_{RECENT_EVENT_MONTHS}m", f"n_drop_{RECENT_EVENT_MONTHS}m", "history_months"]
    return cols


def history_columns(products: Sequence[str]) -> list[str]:
    """Drops, flips and catalog relations (requires / complements) per product."""
    cols = [f"months_since_drop_{p}" for p in products]
    cols += [f"dropped_{k}m_{p}" for p in products for k in DROP_WINDOWS]
    cols += [f"flips_{FLIP_MONTHS}m_{p}" for p in products]
    cols += [f"req_met_{p}" for p in products]
    cols += [f"n_related_held_{p}" for p in products]
    cols += [f"related_added_{RELATED_RECENT_MONTHS}m_{p}" for p in products]
    return cols


OFFER_STATS: tuple[str, ...] = (
    "seen",
    "answered",
    "declined",
    "months_since",
    *(f"{k}m" for k in OFFER_WINDOWS),
)


def offer_columns(products: Sequence[str]) -> list[str]:
    """The client's own offer history: per product and over every offer (partners too)."""
    cols = [f"offer_{s}_{p}" for p in products for s in OFFER_STATS]
    return [*cols, *(f"offers_{s}" for s in OFFER_STATS), "offers_answer_rate"]


def operation_columns() -> list[str]:
    cols: list[str] = []
    for c in CATEGORIES:
        for w in OP_WINDOWS:
            cols += [f"op_{c}_cnt_{w}m", f"op_{c}_abs_{w}m", f"op_{c}_share_{w}m"]
        cols += [f"op_{c}_trend", f"op_{c}_recency_days"]
    for w in OP_WINDOWS:
        cols += [f"ops_cnt_{w}m", f"ops_spend_{w}m", f"ops_inflow_{w}m"]
    cols += ["salary_months_6m", "salary_cv_6m", "salary_change"]
    return cols


def questionnaire_columns() -> list[str]:
    return [
        "age",
        "log_income",
        "income_missing",
        "seniority_months",
        "is_new",
        "is_primary",
        *CATEGORICAL_FIELDS,
        *FLAG_FIELDS,
    ]


SEASON_COLUMNS: tuple[str, ...] = ("target_month", "is_june")


def feature_columns(products: Sequence[str], with_cluster: bool = False) -> list[str]:
    """Every feature column, in output order (the id/cutoff key columns excluded)."""
    cols = [
        *questionnaire_columns(),
        *holding_columns(products),
        *history_columns(products),
        *offer_columns(products),
        *operation_columns(),
        *SEASON_COLUMNS,
    ]
    return [*cols, CLUSTER_COLUMN] if with_cluster else cols


def categorical_columns(with_cluster: bool = False) -> list[str]:
    """Columns CatBoost should treat as categorical (strings)."""
    cols = list(CATEGORICAL_FIELDS)
    return [*cols, CLUSTER_COLUMN] if with_cluster else cols
