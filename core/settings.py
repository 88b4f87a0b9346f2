"""Runtime settings, read once from the environment (and `.env`), never from code.

Every external dependency has an embedded default so that `make run` works on a bare
machine: when `DATABASE_URL` is unset an embedded PostgreSQL is started under
`RECSYS_HOME`; when `KAFKA_BOOTSTRAP_SERVERS` is unset an embedded Kafka-protocol broker is.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    recsys_home: Path = Field(
        default=Path(".recsys"),
        description="State folder: embedded database data, broker logs, models, truth files.",
    )
    database_url: str | None = Field(
        default=None,
        description="postgresql:// URL of an existing server; unset = embedded PostgreSQL.",
    )
    database_name: str = Field(default="recsys", description="Database used on the embedded server.")
    kafka_bootstrap_servers: str | None = Field(
        default=None, description="host:port list of a Kafka cluster; unset = embedded broker."
    )
    # Explanations. provider: "template" (built-in, default), "openai" (any OpenAI-compatible
    # server: YandexGPT compatible API, Qwen/DashScope, vLLM, Ollama) or "yandex" (native API).
    llm_provider: str = Field(default="template", description="template | openai | yandex")
    llm_base_url: str | None = None
    llm_api_key: SecretStr | None = None
    llm_model: str | None = None
    llm_timeout_s: float = Field(default=3.0, description="Per-request LLM timeout; then template text.")
    yandex_folder_id: str | None = None

    # API (GraphQL). The JWT secret must come from the environment outside the demo.
    jwt_secret: SecretStr | None = Field(default=None, description="HMAC secret for API tokens.")
    jwt_ttl_minutes: int = 60
    demo_login: bool = Field(default=False, description="Allow login as any client (demo only).")
    partner_api_keys: SecretStr | None = Field(default=None, description="Comma-separated partner keys.")
    api_host: str = "127.0.0.1"
    api_port: int = 8000
    cors_origins: str = Field(default="http://localhost:3000", description="Comma-separated origins.")
    api_url: str = Field(default="http://127.0.0.1:8000/graphql", description="Where the web app calls.")

    # Training at bank scale: fit on this many random clients at most (all their months);
    # unset/0 = every client. Evaluation and batch decisions still cover every client.
    train_max_clients: int | None = Field(
        default=200_000, description="Clients sampled for fitting when there are more (0 = all)."
    )

    # Uplift: each product's model learns from at most this many logged offers, a uniform
    # sample of its rows (arms and assignment keep their shares). A 20,000-client log holds
    # 8k-19k offers per product, so it changes nothing there; at 100k clients (36k-139k per
    # product) the uplift fits took 774 s and 10 GB. 0 = every row.
    uplift_max_rows: int = Field(
        default=40_000, ge=0, description="Offer-log rows per product an uplift model is fitted on (0 = all)."
    )

    # Worker
    worker_group: str = "recsys-worker"
    worker_max_records: int = Field(default=500, description="Events per worker batch (one transaction).")
    worker_lanes: int = Field(
        default=2,
        ge=1,
        le=6,
        description="Batches one worker process has in flight (each on its own partitions).",
    )
    outbox_republish_s: float = Field(
        default=30.0, description="Re-publish events published but not processed after this long."
    )

    # Prometheus /metrics of the pipeline's processes (0 = not served). `recsys up` gives
    # worker i (from 0) the port WORKER_METRICS_PORT + i.
    metrics_host: str = Field(default="127.0.0.1", description="Address the relay/worker metrics bind.")
    relay_metrics_port: int = Field(default=9101, ge=0, le=65535, description="Relay /metrics port.")
    worker_metrics_port: int = Field(default=9102, ge=0, le=65535, description="Worker /metrics port.")

    @property
    def home(self) -> Path:
        """Absolute state folder, created on first use."""
        path = self.recsys_home.expanduser().resolve()
        path.mkdir(parents=True, exist_ok=True)
        return path

    @property
    def models_dir(self) -> Path:
        path = self.home / "models"
        path.mkdir(parents=True, exist_ok=True)
        return path

    @property
    def truth_dir(self) -> Path:
        path = self.home / "truth"
        path.mkdir(parents=True, exist_ok=True)
        return path


@lru_cache
def get_settings() -> Settings:
    return Settings()
