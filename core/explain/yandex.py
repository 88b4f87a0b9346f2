"""Explanations from YandexGPT's native completion API (Yandex Cloud Foundation Models).

POST {base_url}/foundationModels/v1/completion with `Authorization: Api-Key <key>` and the
folder in `x-folder-id`; the model is addressed by a URI, gpt://<folder>/<model>/<version>;
messages carry `text` (not `content`); maxTokens is a string (an int64 in the API's JSON
mapping); the answer is result.alternatives[0].message.text. YandexGPT also speaks the
OpenAI-compatible protocol (use OpenAICompatExplainer for that); this adapter exists for
folders and keys set up for the native API.
"""

from __future__ import annotations

from typing import Any

import httpx

from core.explain._http import BadResponse, ClientHolder, json_body, text_or_raise
from core.explain.prompt import build_messages
from core.explain.types import Explanation, ExplanationRequest

YANDEX_BASE_URL = "https://llm.api.cloud.yandex.net"
COMPLETION_PATH = "/foundationModels/v1/completion"
DEFAULT_MODEL = "yandexgpt-lite"


def model_uri(folder_id: str, model: str | None = None) -> str:
    """gpt://<folder>/<model>/latest; a model given with a version ("yandexgpt/rc") keeps it,
    and a full "gpt://..." URI is used as is."""
    name = model or DEFAULT_MODEL
    if name.startswith("gpt://"):
        return name
    if "/" not in name:
        name = f"{name}/latest"
    return f"gpt://{folder_id}/{name}"


class YandexExplainer:
    """Async explainer over the native YandexGPT completion API.

    base_url is overridable (a proxy, a test server); it excludes the /foundationModels path.
    """

    source = "yandex"

    def __init__(
        self,
        api_key: str,
        folder_id: str,
        model: str | None = None,
        *,
        base_url: str = YANDEX_BASE_URL,
        max_tokens: int = 300,
        temperature: float = 0.3,
        timeout_s: float = 10.0,
        client: httpx.AsyncClient | None = None,
    ) -> None:
        self.url = base_url.rstrip("/") + COMPLETION_PATH
        self.folder_id = folder_id
        self.model_uri = model_uri(folder_id, model)
        self._api_key = api_key
        self.max_tokens = max_tokens
        self.temperature = temperature
        self._client = ClientHolder(timeout_s, client)

    def __repr__(self) -> str:  # never show the key
        return f"YandexExplainer(url={self.url!r}, model_uri={self.model_uri!r})"

    def request_body(self, req: ExplanationRequest) -> dict[str, Any]:
        return {
            "modelUri": self.model_uri,
            "completionOptions": {
                "stream": False,
                "temperature": self.temperature,
                "maxTokens": str(self.max_tokens),
            },
            "messages": [{"role": m["role"], "text": m["content"]} for m in build_messages(req)],
        }

    async def explain(self, req: ExplanationRequest) -> Explanation:
        headers = {"Authorization": f"Api-Key {self._api_key}", "x-folder-id": self.folder_id}
        resp = await self._client.get().post(self.url, json=self.request_body(req), headers=headers)
        data = json_body(resp)
        try:
            alternative = data["result"]["alternatives"][0]
            text = alternative["message"]["text"]
        except (KeyError, IndexError, TypeError) as exc:
            raise BadResponse("no result.alternatives[0].message.text in the response") from exc
        status = alternative.get("status", "") if isinstance(alternative, dict) else ""
        if isinstance(status, str) and status.endswith("CONTENT_FILTER"):
            raise BadResponse("the answer was blocked by the provider's content filter")
        return Explanation(text=text_or_raise(text), source="yandex", fallback_reason=None)

    async def aclose(self) -> None:
        """Close the HTTP client this explainer opened (an injected one is left open)."""
        await self._client.aclose()
