"""Explanations from any OpenAI-compatible chat-completions server.

One protocol covers YandexGPT's compatible API, Qwen (DashScope compatible mode), vLLM,
Ollama and llama.cpp's server: POST {base_url}/chat/completions with a bearer key, the
answer in choices[0].message.content. The key comes from settings (the environment), never
from code, and is sent only in the Authorization header.

This class reports failures by raising (httpx errors, BadResponse); GuardedExplainer turns
them into the template text, so callers normally use it through `make_explainer`.
"""

from __future__ import annotations

from typing import Any

import httpx

from core.explain._http import BadResponse, ClientHolder, json_body, text_or_raise
from core.explain.prompt import build_messages
from core.explain.types import Explanation, ExplanationRequest


class OpenAICompatExplainer:
    """Async explainer over an OpenAI-compatible /chat/completions endpoint.

    base_url includes the API prefix (e.g. "http://127.0.0.1:8080/v1"). timeout_s is the
    HTTP timeout; GuardedExplainer applies its own overall deadline on top.
    """

    source = "openai"

    def __init__(
        self,
        base_url: str,
        model: str,
        api_key: str | None = None,
        *,
        max_tokens: int = 300,
        temperature: float = 0.3,
        timeout_s: float = 10.0,
        client: httpx.AsyncClient | None = None,
    ) -> None:
        self.url = base_url.rstrip("/") + "/chat/completions"
        self.model = model
        self._api_key = api_key
        self.max_tokens = max_tokens
        self.temperature = temperature
        self._client = ClientHolder(timeout_s, client)

    def __repr__(self) -> str:  # never show the key
        return f"OpenAICompatExplainer(url={self.url!r}, model={self.model!r})"

    def request_body(self, req: ExplanationRequest) -> dict[str, Any]:
        return {
            "model": self.model,
            "messages": build_messages(req),
            "max_tokens": self.max_tokens,
            "temperature": self.temperature,
        }

    async def explain(self, req: ExplanationRequest) -> Explanation:
        headers = {"Authorization": f"Bearer {self._api_key}"} if self._api_key else {}
        resp = await self._client.get().post(self.url, json=self.request_body(req), headers=headers)
        data = json_body(resp)
        try:
            content = data["choices"][0]["message"]["content"]
        except (KeyError, IndexError, TypeError) as exc:
            raise BadResponse("no choices[0].message.content in the response") from exc
        return Explanation(text=text_or_raise(content), source="openai", fallback_reason=None)

    async def aclose(self) -> None:
        """Close the HTTP client this explainer opened (an injected one is left open)."""
        await self._client.aclose()
