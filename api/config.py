"""API limits and demo options (environment `RECSYS_API_*`), next to core.settings.Settings.

The JWT secret, token lifetime, demo login, partner keys, host, port and CORS origins are in
core.settings (JWT_SECRET, JWT_TTL_MINUTES, DEMO_LOGIN, PARTNER_API_KEYS, API_HOST, API_PORT,
CORS_ORIGINS); the knobs below only concern this process.
"""

from __future__ import annotations

import logging
import secrets

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from core.settings import Settings

log = logging.getLogger("api")

DEFAULT_ANALYST_PASSWORD = "analyst"  # demo only: analystLogin exists only with DEMO_LOGIN=true


class ApiConfig(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="RECSYS_API_", env_file=".env", extra="ignore")

    max_body_bytes: int = Field(default=64 * 1024, description="Larger request bodies get HTTP 413.")
    max_depth: int = Field(default=8, description="Deepest selection nesting of a document.")
    max_tokens: int = Field(default=2000, description="Most lexical tokens in a document.")
    max_aliases: int = Field(default=15, description="Most aliases in a document.")
    max_page: int = Field(default=100, description="Largest `first` of any list or connection.")
    rate_per_s: float = Field(default=20.0, description="Token bucket refill per caller, per s; 0 = off.")
    rate_burst: int = Field(default=60, description="Token bucket size per caller.")
    analyst_password: SecretStr | None = Field(
        default=None, description="analystLogin password (demo only); unset = 'analyst'."
    )
    model_refresh_s: float = Field(default=30.0, description="How often a newer model set is looked for.")
    profiles_ttl_s: float = Field(default=600.0, description="How long median profiles are cached.")
    partner_min_group: int = Field(default=10, description="Partners see no profile of fewer clients.")
    kafka: bool = Field(default=True, description="Consume notifications for subscriptions.")
    pool_max: int = Field(default=20, description="asyncpg pool size.")
    response_cache: int = Field(
        default=10_000, ge=0, description="Stored `recommendations` answers kept per process (LRU); 0 = off."
    )
    validated_miss: bool = Field(
        default=True,
        description="A response-cache miss of an already validated document runs graphql-core directly.",
    )

    def analyst_secret(self) -> str:
        return self.analyst_password.get_secret_value() if self.analyst_password else DEFAULT_ANALYST_PASSWORD


class ConfigError(RuntimeError):
    """The API cannot start with these settings (the message says what to set)."""


def jwt_secret(settings: Settings) -> str:
    """JWT_SECRET; with demo login and no secret a random per-process one (tokens then die with
    the process); without demo login a missing secret is an error."""
    if settings.jwt_secret is not None and settings.jwt_secret.get_secret_value():
        secret = settings.jwt_secret.get_secret_value()
        if len(secret) < 32:
            log.warning("JWT_SECRET is shorter than 32 characters: use a longer random secret")
        return secret
    if settings.demo_login:
        log.warning(
            "JWT_SECRET is not set: using a random per-process secret (demo login is on); "
            "tokens stop working when this process exits and are not shared between API processes"
        )
        return secrets.token_urlsafe(48)
    raise ConfigError(
        "JWT_SECRET is not set. Set JWT_SECRET to a long random string "
        "(e.g. `python -c 'import secrets; print(secrets.token_urlsafe(48))'`), "
        "or set DEMO_LOGIN=true for a demo with a random per-process secret."
    )


def cors_origins(settings: Settings) -> list[str]:
    return [o.strip().rstrip("/") for o in settings.cors_origins.split(",") if o.strip()]


def partner_keys(settings: Settings) -> list[str]:
    if settings.partner_api_keys is None:
        return []
    return [k.strip() for k in settings.partner_api_keys.get_secret_value().split(",") if k.strip()]
