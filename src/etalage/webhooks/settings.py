"""Webhook delivery settings (``ETALAGE_WEBHOOKS_*``)."""

from __future__ import annotations

from functools import lru_cache

from pydantic_settings import BaseSettings, SettingsConfigDict


class WebhookSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ETALAGE_WEBHOOKS_", env_file=".env", extra="ignore")

    # Loopback, private, link-local and other non-public targets are refused (SSRF) unless this is on
    # (tests and a single-host development set-up need it).
    allow_private_targets: bool = False
    timeout_seconds: float = 10.0
    # first retry after this, doubling per attempt up to the cap; given up only after the horizon
    first_retry_seconds: float = 10.0
    max_backoff_seconds: float = 3600.0
    retry_horizon_hours: float = 72.0
    sweep_seconds: int = 15  # how often due retries are looked for
    max_endpoints_per_merchant: int = 20
    # events (and their attempts) are kept this long once settled: payloads hold tracking numbers, and a
    # merchant replays recent history, not last year's
    retention_days: int = 30


@lru_cache
def webhook_settings() -> WebhookSettings:
    return WebhookSettings()
