"""Domain vocabulary shared by every layer (pure constants, no I/O)."""

from __future__ import annotations

# Operation categories: the time series the behavioural features and life events use.
OPERATION_CATEGORIES: tuple[str, ...] = (
    "salary",
    "pension",
    "transfer",
    "cash",
    "groceries",
    "restaurants",
    "utilities",
    "telecom",
    "travel",
    "auto",
    "kids",
    "health",
    "home",
    "education",
    "entertainment",
    "shopping",
    "taxes",
    "insurance",
    "investments",
    "loan_payment",
)

# Life events the simulator plants and the decision layer reacts to (partner offers).
LIFE_EVENTS: tuple[str, ...] = ("car_purchase", "child", "relocation", "salary_rise", "travel")

SEGMENTS: tuple[str, ...] = ("top", "individual", "student")
