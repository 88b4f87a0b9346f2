"""The client's own offer history (offer_log) at the cutoff: contacts, answers, declines.

Why: whom an offer moves shows in how the client answered earlier offers (a responsive
client answers again; one contacted often, or who just declined, may react badly), and the
bank logs every offer it showed. Only treatment-arm rows are contacts (a control row is an
offer the client never saw).

Point in time (definitions.horizon): only offers shown before the cutoff month count, so the
offer a training row of the uplift model describes (shown a few days after the cutoff's
snapshot) and its siblings of the same campaign round are never among its own features. An
offer counts as answered when it converted before the end of the cutoff month, as declined
once its response window closed before then without a conversion; in between it is only
"seen". Vectorised: one filter and a few np.bincount calls over the offer rows.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from core.features.definitions import NEVER_MONTHS, NO_RATE, OFFER_STATS, OFFER_WINDOWS, month_start_utc

US_PER_DAY = 86_400_000_000


def _us(values: pd.Series) -> np.ndarray:
    """µs since the epoch of a canonical datetime64[us, UTC] column (NaT -> int64 min)."""
    return np.asarray(values.array.asi8, dtype=np.int64)


def offer_features(
    offers: pd.DataFrame, ids: np.ndarray, m: int, products: Sequence[str]
) -> dict[str, np.ndarray]:
    """Offer-history features of the sorted client `ids` at cutoff month `m` (canonical offers)."""
    from core.features.holdings import _product_codes, positions

    n, n_p = len(ids), len(products)
    before = month_start_utc(m).value // 1000
    end = month_start_utc(m + 1).value // 1000
    stats = {s: np.zeros((n, n_p + 1)) for s in OFFER_STATS}  # last column: every offer
    last = np.full((n, n_p + 1), -1, dtype=np.int64)
    if len(offers) and n:
        shown = _us(offers["shown_at"])
        pos, found = positions(ids, offers["client_id"].to_numpy(dtype=np.int64))
        treated = _product_codes(offers["arm"], ("treatment",)) == 0
        ok = found & (shown < before) & treated
        shown, pos = shown[ok], pos[ok]
        prod = _product_codes(offers["product_code"], products)[ok]
        outcome = _us(offers["outcome_at"])[ok]
        answered = (
            offers["converted"].to_numpy(dtype=bool)[ok]
            & (outcome < end)
            & (outcome > np.iinfo(np.int64).min)
        )
        closed = shown + offers["window_days"].to_numpy(dtype=np.int64)[ok] * US_PER_DAY <= end
        declined = ~answered & closed
        month = shown.astype("datetime64[us]").astype("datetime64[M]").astype(np.int64) + 1970 * 12
        age = m - month  # >= 1
        counts = {
            "seen": np.ones(len(pos), dtype=bool),
            "answered": answered,
            "declined": declined,
            **{f"{k}m": age <= k for k in OFFER_WINDOWS},
        }
        known = prod >= 0
        per_product = pos[known] * n_p + prod[known]
        for name, mask in counts.items():
            stats[name][:, :n_p] = np.bincount(per_product[mask[known]], minlength=n * n_p).reshape(n, n_p)
            stats[name][:, n_p] = np.bincount(pos[mask], minlength=n)
        last_product = last[:, :n_p].copy().reshape(-1)
        np.maximum.at(last_product, per_product, month[known])
        last[:, :n_p] = last_product.reshape(n, n_p)
        np.maximum.at(last[:, n_p], pos, month)
    stats["months_since"] = np.where(last >= 0, (m - last).astype(float), NEVER_MONTHS)
    out: dict[str, np.ndarray] = {}
    for j, p in enumerate(products):
        for s in OFFER_STATS:
            out[f"offer_{s}_{p}"] = _typed(s, stats[s][:, j])
    for s in OFFER_STATS:
        out[f"offers_{s}"] = _typed(s, stats[s][:, n_p])
    resolved = stats["answered"][:, n_p] + stats["declined"][:, n_p]
    out["offers_answer_rate"] = np.where(
        resolved > 0, stats["answered"][:, n_p] / np.maximum(resolved, 1), NO_RATE
    )
    return out


def _typed(stat: str, values: np.ndarray) -> np.ndarray:
    return values if stat == "months_since" else values.astype(np.int16)
