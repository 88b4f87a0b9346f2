"""Decision layer: business rules, regulator constraints, uplift-based choice of offers.

Pure code: the only I/O is reading core/decision/rules.toml. Typical use::

    rules = load_rules()
    decision = decide(ctx, candidates, load_catalog(), rules, random.Random(seed))
"""

from core.decision.config import RULE_IDS, DecisionRules, RuleSpec, load_rules, parse_rules
from core.decision.engine import decide
from core.decision.reasons import REASON_TEXTS, explain_reason, life_event_code
from core.decision.types import Candidate, ClientContext, Contact, Decision, Offer

__all__ = [
    "RULE_IDS",
    "REASON_TEXTS",
    "Candidate",
    "ClientContext",
    "Contact",
    "Decision",
    "DecisionRules",
    "Offer",
    "RuleSpec",
    "decide",
    "explain_reason",
    "life_event_code",
    "load_rules",
    "parse_rules",
]
