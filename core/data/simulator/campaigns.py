"""Past campaigns: non-random targeting with a random 50/50 slice, logged like a real bank.

Why: uplift and off-policy evaluation need exactly this shape of history: most offers went
where a business rule thought they would work (confounded: richer clients got investment
offers), and a small random slice (about 10% of considered clients, 50/50 arms, propensity
0.5) gives an unbiased experiment. The policy's propensity is logged for reweighting.

Each month three campaigns run (a calendar fixed by the seed alone, so every chunk of
clients sees the same calendar). A campaign considers a random 25% of the eligible
non-holders who consent to marketing; one offer_log row per considered (client, product).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

CAMPAIGNS_PER_MONTH = 3
CONSIDER_SHARE = 0.25
RANDOM_SLICE = 0.10
PROPENSITY_CLIP = (0.02, 0.98)


@dataclass(frozen=True)
class Campaign:
    name: str
    product: str
    channel: str
    # logit = intercept + w_income*log(income/median) + w_top/w_student + w_active + w_age*(age-40)/10
    intercept: float
    w_income: float = 0.0
    w_top: float = 0.0
    w_student: float = 0.0
    w_active: float = 0.0
    w_age: float = 0.0


CAMPAIGNS: tuple[Campaign, ...] = (
    Campaign(
        "invest_securities", "valo_fin", "call", -1.5, w_income=1.2, w_top=1.5, w_student=-1.5, w_age=0.3
    ),
    Campaign("invest_funds", "fond_fin", "email", -1.2, w_income=1.0, w_top=1.2, w_student=-1.0, w_age=0.2),
    Campaign("deposit_long", "dela_fin", "email", -0.8, w_income=0.8, w_top=0.8, w_student=-1.0, w_age=0.3),
    Campaign("pension_plan", "plan_fin", "call", -1.0, w_income=0.6, w_top=0.5, w_student=-1.5, w_age=0.6),
    Campaign("credit_card", "tjcr_fin", "app", -0.3, w_income=0.5, w_active=0.8, w_student=-0.5),
    Campaign("payroll_switch", "nomina", "app", -0.5, w_active=1.0, w_student=-1.2, w_age=-0.1),
    Campaign("payroll_account", "cno_fin", "sms", -0.6, w_active=0.8, w_student=-0.8),
    Campaign("mortgage", "hip_fin", "call", -1.5, w_income=1.0, w_age=-0.4, w_student=-1.0),
    Campaign("personal_loan", "pres_fin", "sms", -0.8, w_income=0.3, w_active=0.5),
    Campaign("e_account", "ecue_fin", "app", -0.2, w_student=1.0, w_age=-0.5),
    Campaign("direct_debit", "recibo", "app", -0.4, w_active=0.7),
    Campaign("tax_service", "reca_fin", "email", -0.8, w_income=0.5, w_age=0.2),
)


def calendar(seed: int, n_months: int) -> list[list[int]]:
    """Campaign indices per month (month 0 has none: offers precede a take-up month)."""
    rng = np.random.default_rng([seed, 7_777])
    out: list[list[int]] = [[]]
    for _ in range(1, n_months):
        out.append(sorted(rng.choice(len(CAMPAIGNS), CAMPAIGNS_PER_MONTH, replace=False).tolist()))
    return out


def rule_probability(
    c: Campaign, rel_income: np.ndarray, segment: np.ndarray, active: np.ndarray, age: np.ndarray
) -> np.ndarray:
    """The business rule's probability of showing the offer, clipped into (0, 1]."""
    logit = (
        c.intercept
        + c.w_income * np.clip(rel_income, -2, 3)
        + c.w_top * (segment == 0)
        + c.w_student * (segment == 2)
        + c.w_active * active
        + c.w_age * (age - 40) / 10
    )
    return np.clip(1 / (1 + np.exp(-logit)), *PROPENSITY_CLIP)


def assign(rng: np.random.Generator, candidates: np.ndarray, q: np.ndarray) -> tuple[np.ndarray, ...]:
    """For candidate clients: (considered idx, is_random, treated, propensity)."""
    considered = candidates & (rng.random(len(candidates)) < CONSIDER_SHARE)
    idx = np.flatnonzero(considered)
    is_random = rng.random(len(idx)) < RANDOM_SLICE
    prop = np.where(is_random, 0.5, q[idx])
    treated = rng.random(len(idx)) < prop
    return idx, is_random, treated, prop
