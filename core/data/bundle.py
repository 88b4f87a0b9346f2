"""The in-memory shape every data source produces before it reaches the database.

Both the Santander loader and the simulator emit `Bundle`s (one per chunk of clients), and
`core.data.store.write_bundle` COPYs them. Keeping one contract means the loaders never
touch SQL and the writer never knows where data came from.

Frames and their columns (dtypes are what the writer expects):
- clients: the `client` table's columns (see CLIENT_COLUMNS); `income` in EUR (float,
  rounded to cents), dates as datetime64/date, `imputed_fields` a list of str per row.
- holdings: client_id, month (datetime64[D]), product_code.
- product_events: client_id, month, product_code, kind ('add' | 'drop').
- operations: client_id, occurred_at (datetime64 UTC), amount_cents (int64, signed:
  inflows positive), category (one of core.domain.OPERATION_CATEGORIES).
- offers: client_id, product_code, shown_at, channel, strategy, assignment, arm,
  propensity, window_days, converted, outcome_at (NaT when no conversion).
- truth (simulator only, not stored in PostgreSQL): client_id, month, product_code,
  p_organic, p_offer (float32): the true take-up probability in that month without and with
  an offer; p_ceiling_organic, p_ceiling_offer (float32): their expectation given what the
  bank can observe (the Bayes ceiling from observables, simulator/response.py). Written to
  Parquet beside the database (Dataset.truth_path).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

CLIENT_COLUMNS: tuple[str, ...] = (
    "id",
    "snapshot_month",
    "employee_status",
    "country",
    "sex",
    "age",
    "first_contract_date",
    "is_new",
    "seniority_months",
    "primary_status",
    "last_primary_date",
    "customer_type",
    "relation_type",
    "is_resident",
    "is_foreigner",
    "spouse_of_employee",
    "join_channel",
    "is_deceased",
    "address_type",
    "province_code",
    "province_name",
    "is_active",
    "income",
    "segment",
    "language",
    "marketing_consent",
    "contact_opt_out",
    "imputed_fields",
)

HOLDING_COLUMNS = ("client_id", "month", "product_code")
EVENT_COLUMNS = ("client_id", "month", "product_code", "kind")
OPERATION_COLUMNS = ("client_id", "occurred_at", "amount_cents", "category")
OFFER_COLUMNS = (
    "client_id",
    "product_code",
    "shown_at",
    "channel",
    "strategy",
    "assignment",
    "arm",
    "propensity",
    "window_days",
    "converted",
    "outcome_at",
)
TRUTH_COLUMNS = (
    "client_id",
    "month",
    "product_code",
    "p_organic",
    "p_offer",
    "p_ceiling_organic",
    "p_ceiling_offer",
)


def empty_frame(columns: tuple[str, ...]) -> pd.DataFrame:
    """A frame with these columns and no rows (the default of every contract frame)."""
    return pd.DataFrame({c: [] for c in columns})


@dataclass
class Bundle:
    clients: pd.DataFrame = field(default_factory=lambda: empty_frame(CLIENT_COLUMNS))
    holdings: pd.DataFrame = field(default_factory=lambda: empty_frame(HOLDING_COLUMNS))
    product_events: pd.DataFrame = field(default_factory=lambda: empty_frame(EVENT_COLUMNS))
    operations: pd.DataFrame = field(default_factory=lambda: empty_frame(OPERATION_COLUMNS))
    offers: pd.DataFrame = field(default_factory=lambda: empty_frame(OFFER_COLUMNS))
    truth: pd.DataFrame | None = None

    def check(self) -> None:
        """Fail early (before any SQL) when a producer broke the contract."""
        for name, cols in (
            ("clients", CLIENT_COLUMNS),
            ("holdings", HOLDING_COLUMNS),
            ("product_events", EVENT_COLUMNS),
            ("operations", OPERATION_COLUMNS),
            ("offers", OFFER_COLUMNS),
        ):
            frame = getattr(self, name)
            missing = set(cols) - set(frame.columns)
            if missing:
                raise ValueError(f"bundle.{name} lacks columns {sorted(missing)}")
        if self.truth is not None:
            missing = set(TRUTH_COLUMNS) - set(self.truth.columns)
            if missing:
                raise ValueError(f"bundle.truth lacks columns {sorted(missing)}")
