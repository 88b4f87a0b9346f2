"""A small OpenAI-compatible chat client over httpx.

Covers YandexGPT's compatible API, Qwen (DashScope compatible mode), vLLM, Ollama and
llama.cpp's server: POST {LLM_BASE_URL}/chat/completions with a bearer key. The key comes
from the environment (settings), never from code.
"""

from __future__ import annotations

from dataclasses import dataclass

import httpx

from core.settings import Settings


class LLMUnavailable(RuntimeError):
    """No LLM is configured (or it cannot be reached): callers fall back or report it."""


@dataclass
class ChatClient:
    base_url: str
    model: str
    api_key: str | None = None
    timeout: float = 10.0

    @classmethod
    def from_settings(cls, settings: Settings) -> ChatClient:
        if not settings.llm_base_url or not settings.llm_model:
            raise LLMUnavailable("no LLM configured (LLM_BASE_URL and LLM_MODEL are not set)")
        key = settings.llm_api_key.get_secret_value() if settings.llm_api_key else None
        return cls(settings.llm_base_url.rstrip("/"), settings.llm_model, key)

    def complete(
        self, messages: list[dict[str, str]], max_tokens: int = 300, temperature: float = 0.2
    ) -> str:
        headers = {"Authorization": f"Bearer {self.api_key}"} if self.api_key else {}
        body = {
            "model": self.model,
            "messages": messages,
            "max_tokens": max_tokens,
            "temperature": temperature,
        }
        try:
            resp = httpx.post(
                f"{self.base_url}/chat/completions", json=body, headers=headers, timeout=self.timeout
            )
            resp.raise_for_status()
            return str(resp.json()["choices"][0]["message"]["content"])
        except (httpx.HTTPError, KeyError, IndexError, ValueError) as exc:
            raise LLMUnavailable(f"LLM request failed: {exc}") from exc
