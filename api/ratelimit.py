"""Per-caller token buckets, in process (each API process limits on its own)."""

from __future__ import annotations

import time
from collections import OrderedDict


class TokenBuckets:
    """`allow(key)` takes one token from the key's bucket (size `burst`, refilled at `rate`/s).

    At most `max_keys` buckets are kept; the least recently used is forgotten first (it would
    have refilled anyway by the time it is needed again in normal traffic).
    """

    def __init__(self, rate: float, burst: int, max_keys: int = 100_000) -> None:
        self.rate = float(rate)
        self.burst = float(burst)
        self.max_keys = max_keys
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()

    def allow(self, key: str, now: float | None = None) -> tuple[bool, float]:
        """(allowed, seconds until a token is available)."""
        if self.rate <= 0:
            return True, 0.0
        now = time.monotonic() if now is None else now
        tokens, last = self._buckets.pop(key, (self.burst, now))
        tokens = min(self.burst, tokens + (now - last) * self.rate)
        allowed = tokens >= 1.0
        if allowed:
            tokens -= 1.0
        self._buckets[key] = (tokens, now)
        if len(self._buckets) > self.max_keys:
            self._buckets.popitem(last=False)
        return allowed, 0.0 if allowed else (1.0 - tokens) / self.rate
