"""The explainer callers use: an LLM behind a deadline, guardrails, a breaker and a cache.

An explanation is a nicety next to an offer, never a reason to delay or drop it. So every
way an LLM can fail (slow, down, HTTP error, garbage JSON, an answer that breaks the
guardrails) ends in the deterministic template text, with the reason recorded in
`Explanation.fallback_reason` and logged as a warning (the reason only: prompts and answers
may describe a client and stay out of logs).

- Deadline: `asyncio.wait_for(primary.explain(req), timeout_s)` bounds the whole call, not
  just a socket read.
- Circuit breaker: after `failures` consecutive availability failures (timeout, transport,
  HTTP status, bad response) the LLM is not called for `reset_after_s`; then one trial call
  is let through (half-open): success closes the breaker, failure opens it again. This keeps
  a dead provider from adding `timeout_s` to every request. A guardrail rejection is not an
  availability failure (the provider answered) and does not count.
- Cache: accepted LLM answers, keyed by what the text depends on (product, reason codes,
  top feature names, language, bucketed facts), in a bounded LRU. Many clients share a key,
  so the cache saves most calls; a hit is returned with source "cache".

`make_explainer(settings)` picks the explainer from settings.llm_provider.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Literal, Protocol

import httpx

from core.explain._http import BadResponse
from core.explain.guardrails import check
from core.explain.openai_compat import OpenAICompatExplainer
from core.explain.template import TemplateExplainer
from core.explain.types import ClientFacts, Explanation, ExplanationRequest
from core.explain.yandex import YANDEX_BASE_URL, YandexExplainer
from core.settings import Settings, get_settings

log = logging.getLogger(__name__)

PROVIDERS: tuple[str, ...] = ("template", "openai", "yandex")


class Explainer(Protocol):
    """Anything that turns an ExplanationRequest into an Explanation."""

    async def explain(self, req: ExplanationRequest) -> Explanation: ...


BreakerState = Literal["closed", "open", "half_open"]


class CircuitBreaker:
    """Consecutive-failure circuit breaker with a half-open single trial.

    Not thread-safe; meant for one event loop (all calls of one GuardedExplainer). `clock`
    is injectable so tests need not sleep.
    """

    def __init__(
        self, failures: int = 5, reset_after_s: float = 30.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        if failures < 1:
            raise ValueError("CircuitBreaker.failures must be at least 1")
        self.failures = failures
        self.reset_after_s = reset_after_s
        self._clock = clock
        self._state: BreakerState = "closed"
        self._consecutive = 0
        self._opened_at = 0.0

    @property
    def state(self) -> BreakerState:
        return self._state

    def allow(self) -> bool:
        """Whether a call may go to the provider now. Once open for reset_after_s, the first
        caller gets True (the trial) and others False until the trial's outcome is recorded."""
        if self._state == "closed":
            return True
        if self._state == "open" and self._clock() - self._opened_at >= self.reset_after_s:
            self._state = "half_open"
            return True
        return False

    def record_success(self) -> None:
        self._state = "closed"
        self._consecutive = 0

    def record_failure(self) -> None:
        self._consecutive += 1
        if self._state == "half_open" or self._consecutive >= self.failures:
            self._state = "open"
            self._opened_at = self._clock()

    def abandon(self) -> None:
        """A trial call ended without an outcome (cancelled): let the next caller try."""
        if self._state == "half_open":
            self._state = "open"
            self._opened_at = self._clock() - self.reset_after_s


CacheKey = tuple[str, tuple[str, ...], tuple[str, ...], str, ClientFacts]


def cache_key(req: ExplanationRequest) -> CacheKey:
    """What an explanation's text depends on; contributions' values are deliberately left
    out (they vary per client while the words built from them do not)."""
    names = tuple(name for name, _ in req.top_features)
    return (req.product_code, req.reason_codes, names, req.language, req.facts)


class LRUCache:
    """A small bounded least-recently-used map (no TTL: answers do not go stale by time)."""

    def __init__(self, maxsize: int = 10_000) -> None:
        self.maxsize = maxsize
        self._data: OrderedDict[Hashable, str] = OrderedDict()

    def get(self, key: Hashable) -> str | None:
        value = self._data.get(key)
        if value is not None:
            self._data.move_to_end(key)
        return value

    def put(self, key: Hashable, value: str) -> None:
        if self.maxsize <= 0:
            return
        self._data[key] = value
        self._data.move_to_end(key)
        while len(self._data) > self.maxsize:
            self._data.popitem(last=False)

    def __len__(self) -> int:
        return len(self._data)


def _failure_reason(exc: BaseException, timeout_s: float) -> str:
    """A short, data-free description of why the provider call failed."""
    if isinstance(exc, TimeoutError | httpx.TimeoutException):
        return f"timeout after {timeout_s:g}s"
    if isinstance(exc, httpx.HTTPStatusError):
        return f"http status {exc.response.status_code}"
    if isinstance(exc, httpx.HTTPError):
        return f"http error ({type(exc).__name__})"
    if isinstance(exc, BadResponse):
        return f"bad response ({exc})"
    return f"error ({type(exc).__name__})"


class GuardedExplainer:
    """An LLM explainer that always answers: see the module docstring."""

    def __init__(
        self,
        primary: Explainer,
        fallback: TemplateExplainer | None = None,
        *,
        timeout_s: float = 3.0,
        breaker: CircuitBreaker | None = None,
        cache_size: int = 10_000,
    ) -> None:
        self.primary = primary
        self.fallback = fallback or TemplateExplainer()
        self.timeout_s = timeout_s
        self.breaker = breaker or CircuitBreaker()
        self.cache = LRUCache(cache_size)

    async def _fallback(self, req: ExplanationRequest, reason: str) -> Explanation:
        log.warning("explanation for %s: template used, %s", req.product_code, reason)
        result = await self.fallback.explain(req)
        return Explanation(text=result.text, source="template", fallback_reason=reason)

    async def explain(self, req: ExplanationRequest) -> Explanation:
        key = cache_key(req)
        cached = self.cache.get(key)
        if cached is not None:
            return Explanation(text=cached, source="cache", fallback_reason=None)
        if not self.breaker.allow():
            return await self._fallback(req, "circuit open")
        try:
            result = await asyncio.wait_for(self.primary.explain(req), self.timeout_s)
        except asyncio.CancelledError:
            self.breaker.abandon()
            raise
        except Exception as exc:  # any provider failure must end in the template text
            self.breaker.record_failure()
            return await self._fallback(req, _failure_reason(exc, self.timeout_s))
        self.breaker.record_success()
        problem = check(result.text, req)
        if problem is not None:
            return await self._fallback(req, f"guardrail: {problem}")
        text = result.text.strip()
        self.cache.put(key, text)
        return Explanation(text=text, source=result.source, fallback_reason=None)


def _missing(provider: str, names: list[str]) -> ValueError:
    return ValueError(f"llm_provider={provider!r} needs {' and '.join(names)} to be set")


def make_explainer(settings: Settings | None = None) -> Explainer:
    """The explainer the settings ask for.

    - "template" (default): TemplateExplainer, no network.
    - "openai": any OpenAI-compatible server; needs LLM_BASE_URL and LLM_MODEL (LLM_API_KEY
      optional: local servers often have none).
    - "yandex": the native YandexGPT API; needs LLM_API_KEY and YANDEX_FOLDER_ID; LLM_MODEL
      defaults to yandexgpt-lite, LLM_BASE_URL (when set) replaces the public endpoint's host.
    LLM providers come wrapped in GuardedExplainer with LLM_TIMEOUT_S as the deadline. A
    misconfiguration raises ValueError naming the missing setting, at start-up rather than
    as silent fallbacks later.
    """
    settings = settings or get_settings()
    provider = (settings.llm_provider or "template").strip().lower()
    key = settings.llm_api_key.get_secret_value() if settings.llm_api_key else None
    primary: Explainer
    if provider == "template":
        return TemplateExplainer()
    if provider == "openai":
        base_url, model = settings.llm_base_url, settings.llm_model
        if not base_url or not model:
            raise _missing(
                provider, [n for n, v in (("LLM_BASE_URL", base_url), ("LLM_MODEL", model)) if not v]
            )
        primary = OpenAICompatExplainer(base_url, model, key, timeout_s=settings.llm_timeout_s)
    elif provider == "yandex":
        folder = settings.yandex_folder_id
        if not key or not folder:
            raise _missing(
                provider, [n for n, v in (("LLM_API_KEY", key), ("YANDEX_FOLDER_ID", folder)) if not v]
            )
        primary = YandexExplainer(
            key,
            folder,
            settings.llm_model,
            base_url=settings.llm_base_url or YANDEX_BASE_URL,
            timeout_s=settings.llm_timeout_s,
        )
    else:
        raise ValueError(f"llm_provider must be one of {', '.join(PROVIDERS)}; got {settings.llm_provider!r}")
    return GuardedExplainer(primary, TemplateExplainer(), timeout_s=settings.llm_timeout_s)
