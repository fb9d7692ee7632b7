"""Operational settings of the online feed (``ETALAGE_FEED_*``), kept apart from the ranking parameters.

The ranking parameters (``parameters.py``) are what a shopper or auditor reads; these say how the engine
runs (where snapshots live, how often it learns and refits). Own settings class, so the feed needs no
edit to the shared ``etalage.config``.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class FeedSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ETALAGE_FEED_", env_file=".env", extra="ignore")

    model_dir: Path | None = Field(None, description="Snapshots folder; default <data_dir>/models.")
    ranker: str = Field(
        "quality", description="Ranking preset: 'quality' (published default) or 'engagement'."
    )
    # Changes to the preset's published parameters, as JSON (e.g. {"quality_return_weight": 2}); checked
    # at start, shown on the transparency page, and part of the parameters' version
    ranking_overrides: dict[str, Any] = Field(default_factory=dict)
    default_region: str = "BE"
    page_size: int = 10
    max_page_size: int = 50
    max_pages: int = 500  # a chain of cursors ends here with a reason (no unbounded deep paging)
    learn_seconds: float = 5.0  # how often the online learner folds new events into the model
    refit_seconds: float = 3600.0  # periodic full refit in the worker
    refresh_seconds: float = 60.0  # periodic reload of catalogue facts (bus events cover the rest)
    train_days: float = 30.0  # events older than this are not used by a refit
    rank: int = 64  # low-rank size of the served model (latency grows with it)
    evaluate: bool = True  # refit also measures a time-split hold-out before fitting on everything
    keep_snapshots: int = 3
    served_retention_days: int = 90
    online: bool = True  # run the per-process learner (tests may turn it off and drive it by hand)
    startup_refit: bool = True  # enqueue a refit at start when no snapshot exists


@lru_cache
def get_feed_settings() -> FeedSettings:
    return FeedSettings()


def model_dir(data_dir: Path) -> Path:
    configured = get_feed_settings().model_dir
    return (configured or data_dir / "models").expanduser().resolve()
