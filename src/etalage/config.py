"""Settings from ``ETALAGE_*`` environment variables and an optional ``.env`` file.

The embedded default keeps all state under one data folder: ``etalage.db`` (SQLite, WAL) and ``media/``.
Setting ``ETALAGE_DATABASE_URL=postgresql+psycopg://...`` switches to PostgreSQL with no other change.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ETALAGE_", env_file=".env", extra="ignore")

    data_dir: Path = Field(default=Path("var"), description="Folder for the embedded database and media.")
    database_url: str | None = Field(
        default=None, description="SQLAlchemy URL; default is SQLite in data_dir."
    )
    base_url: str = "http://127.0.0.1:8000"
    secret_key: str = Field(default="dev-insecure-change-me", description="Signs cookies and CSRF tokens.")
    environment: str = "development"

    # HTTP
    max_body_bytes: int = 1_048_576
    max_upload_bytes: int = 2 * 1024**3
    # Content: one resumable-upload chunk, and the one-request multipart upload, each at most this
    upload_chunk_bytes: int = 64 * 1024**2
    video_min_seconds: float = 1.0
    video_max_seconds: float = 600.0
    # Prefix of media URLs: empty serves them from this origin; set it to a CDN in front of /media
    media_base_url: str = ""
    cookie_secure: bool | None = None  # None: secure when base_url is https
    cors_origins: list[str] = []

    # Accounts
    login_attempts_per_minute: int = 10
    token_default_days: int = 90
    session_days: int = 14
    # argon2id cost; OWASP minimum is m=19 MiB, t=2, p=1
    argon2_time_cost: int = 2
    argon2_memory_kib: int = 19_456
    # `etalage serve --workers N`: a worker that does not answer the supervisor's ping for this long is
    # taken for hung, killed and replaced (its share of new connections would wait for it otherwise)
    worker_timeout_seconds: float = 20.0

    # Scale-out backends (empty = embedded default)
    redis_url: str | None = None
    nats_url: str | None = None

    # Buying: the payment provider (the test PSP by default, `etalage payments psp`) and checkout timing
    psp_url: str = "http://127.0.0.1:8765"
    psp_api_key: str = "psp_test_key"
    psp_webhook_secret: str = "whsec_test_secret"
    psp_timeout_seconds: float = 5.0  # longer than this, the answer arrives by webhook or polling
    reservation_seconds: int = 900  # how long checkout holds stock while the payment completes
    payments_sweep_seconds: int = 30  # how often stuck payments are polled and expired stock released
    # After the sale: a return request the merchant has not answered in this many days is approved
    return_answer_days: int = 3

    # Interaction events (the log is NATS JetStream when nats_url is set, else data_dir/events/log.db)
    events_max_batch: int = 500
    events_max_age_seconds: int = 86_400  # older events are refused (after clock-skew correction)
    events_max_future_seconds: int = 300
    events_dedup_window_seconds: int = 90_000  # >= max age, so a retry can never slip past de-duplication
    events_per_minute: int = 6_000  # per user, and batches below, so one client's flood hurts no one else
    event_batches_per_minute: int = 300
    events_nats_stream: str = "ETALAGE_EVENTS"

    # Per server process: handlers that may run at once in worker threads, and database connections kept
    # open for them. Equal sizes mean no request waits for a connection and none is opened per request.
    server_threads: int = 24
    db_pool_size: int = 24
    # Checkouts running at once per server process (the others wait for a turn; see commerce.api)
    checkout_concurrency: int = 6
    # Requests per kept-alive connection before the server asks the client to reconnect (0: no limit)
    http_keepalive_requests: int = 100

    # Background work: in the embedded default the server runs the job worker in-process
    inprocess_worker: bool = True
    auto_migrate: bool | None = None  # None: on for SQLite, off for PostgreSQL

    log_level: str = "INFO"
    log_json: bool = False

    @field_validator("data_dir")
    @classmethod
    def _absolute(cls, value: Path) -> Path:
        return value.expanduser().resolve()

    @property
    def db_url(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir / 'etalage.db'}"

    @property
    def is_sqlite(self) -> bool:
        return self.db_url.startswith("sqlite")

    @property
    def media_dir(self) -> Path:
        return self.data_dir / "media"

    @property
    def secure_cookies(self) -> bool:
        if self.cookie_secure is not None:
            return self.cookie_secure
        return self.base_url.startswith("https://")

    @property
    def should_auto_migrate(self) -> bool:
        return self.is_sqlite if self.auto_migrate is None else self.auto_migrate

    def ensure_dirs(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.media_dir.mkdir(parents=True, exist_ok=True)


@lru_cache
def get_settings() -> Settings:
    return Settings()
