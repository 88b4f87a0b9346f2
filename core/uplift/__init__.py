"""Uplift modelling: which offer changes a client's behaviour, and by how much.

Domain-independent and DB-free: `UpliftModel` takes any tabular X, an arm name per row (one
arm per offer against a control name), a 0/1 outcome and optionally the logged propensity;
`core.uplift.metrics` scores rankings (Qini, AUUC, uplift@k, their AIPW versions) and policies.
"""

from core.uplift.model import UpliftModel

__all__ = ["UpliftModel"]
