"""Pure conversions from API answers (dicts) to what the pages show (small dataclasses, rows
for charts). No Reflex and no I/O here, so every rule is unit-testable; the states in
web/state call them from their rx.var properties.

formatting  names, percentages, money, dates; parsing of form input
bank        the bank pages' rows: clients to log in as, holdings, notifications, operations
offers      offer cards, what changed between two recommendations, answered offers kept
panel       the analyst panel: metrics, Qini, policies, product profiles, probabilities
"""
