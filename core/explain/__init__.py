"""Plain-language explanations of bank offers (RU/EN), from a template or an LLM.

Typical use:

    h = history_facts(X, products)[i]     # core.explain.facts: the scored feature row i
    facts = client_facts(age, income, categories, segment, life_events,   # exact data dropped
                         held=held_now, held_before=h.held_before,
                         frequent_categories=h.frequent_categories, flags=h.flags)
    req = ExplanationRequest(code, name, kind, "ru", offer.reason_codes,
                             reason_texts(offer.reason_codes, "ru"), offer.reasons, facts)
    explanation = await make_explainer().explain(req)

The request holds no client id, name, exact amount or date, so none can reach a provider.
Every reason a text gives about the client is a claim (core.explain.claims) said only when
true for the facts; the guardrail reads the claims back from an LLM's text
(core.explain.claim_check) and rejects the text when one is false.
make_explainer() follows settings.llm_provider: "template" (default, no network), "openai"
(any OpenAI-compatible server) or "yandex" (native YandexGPT API); LLMs are wrapped in
GuardedExplainer (deadline, guardrails, circuit breaker, cache, template fallback).
"""

from core.explain._http import BadResponse
from core.explain.guardrails import check
from core.explain.openai_compat import OpenAICompatExplainer
from core.explain.prompt import ChatMessage, build_messages
from core.explain.service import (
    CircuitBreaker,
    Explainer,
    GuardedExplainer,
    LRUCache,
    cache_key,
    make_explainer,
)
from core.explain.template import TemplateExplainer, feature_phrase, render
from core.explain.types import (
    ClientFacts,
    Explanation,
    ExplanationRequest,
    age_band,
    client_facts,
    income_band,
    reason_texts,
)
from core.explain.yandex import YandexExplainer, model_uri

__all__ = [
    "BadResponse",
    "ChatMessage",
    "CircuitBreaker",
    "ClientFacts",
    "Explainer",
    "Explanation",
    "ExplanationRequest",
    "GuardedExplainer",
    "LRUCache",
    "OpenAICompatExplainer",
    "TemplateExplainer",
    "YandexExplainer",
    "age_band",
    "build_messages",
    "cache_key",
    "check",
    "client_facts",
    "feature_phrase",
    "income_band",
    "make_explainer",
    "model_uri",
    "reason_texts",
    "render",
]
