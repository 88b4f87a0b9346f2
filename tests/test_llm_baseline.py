"""The LLM-only baseline against a real local HTTP server speaking the chat-completions API."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import numpy as np
import pandas as pd
import pytest

from core.catalog import load_catalog
from core.llm.client import ChatClient, LLMUnavailable
from core.models.llm_only import LLMRecommender
from core.settings import Settings

REQUESTS: list[dict] = []  # type: ignore[type-arg]


class _Handler(BaseHTTPRequestHandler):
    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        REQUESTS.append({"path": self.path, "auth": self.headers.get("Authorization"), "body": body})
        answer = 'Sure: ["nomina", "tjcr_fin", "cco_fin", "not_a_product"]'
        payload = json.dumps({"choices": [{"message": {"role": "assistant", "content": answer}}]}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def server() -> str:
    httpd = HTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_port}/v1"
    httpd.shutdown()


def test_llm_ranks_parsed_and_held_products_masked(server: str) -> None:
    products = load_catalog().bank_codes
    client = ChatClient(server, "test-model", api_key="k-123")
    X = pd.DataFrame({f"hold_{p}_l0": [1.0 if p == "cco_fin" else 0.0] for p in products})
    X["age"], X["log_income"], X["segment"] = [30.0], [np.log1p(50_000.0)], ["individual"]
    scores = LLMRecommender(products, load_catalog(), client).predict_proba(X)[0]
    j = {p: i for i, p in enumerate(products)}
    assert scores[j["nomina"]] > scores[j["tjcr_fin"]] > 0
    assert scores[j["cco_fin"]] == 0.0  # held: never recommended even if the LLM says so
    req = REQUESTS[-1]
    assert req["path"] == "/v1/chat/completions" and req["auth"] == "Bearer k-123"
    assert req["body"]["model"] == "test-model"
    prompt = req["body"]["messages"][0]["content"]
    assert "25-34" in prompt and "50000" not in prompt  # bucketed, no exact income


def test_not_configured_says_why() -> None:
    with pytest.raises(LLMUnavailable, match="LLM_BASE_URL"):
        ChatClient.from_settings(Settings(llm_base_url=None, llm_model=None))
