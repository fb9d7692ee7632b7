"""Background work of the feed: the periodic full refit and the served log's retention.

``feed.refit`` writes a new snapshot (``var/models/<version>/``) covering the event log up to the offset
it read, registers it, and announces it on the bus (``feed.model.published``); every server process then
loads it, replays the events after that offset and swaps it in. Each run schedules the next one
(``ETALAGE_FEED_REFIT_SECONDS``), de-duplicated by time slot so several workers never stack refits.
"""

from __future__ import annotations

import logging
import math
import time
from typing import Any

import numpy as np

from etalage.core import bus, jobs
from etalage.db import Database
from etalage.events import service as events_service
from etalage.feed import catalogue, learner, registry, training
from etalage.feed.counters import ItemStats
from etalage.feed.parameters import configured
from etalage.feed.pipeline.heads import Heads, global_rates
from etalage.feed.settings import get_feed_settings, model_dir

log = logging.getLogger("etalage.feed.jobs")
# Follows and "not interested" into the feed's tables: run wherever the durable consumers run.
events_service.register_consumer(learner.consumer)
REFIT, TRIM = "feed.refit", "feed.trim"


def refit(db: Database, data_dir: Any, event_log: Any, *, evaluate: bool | None = None,
          rank: int | None = None) -> dict[str, Any]:  # fmt: skip
    """Fit a new snapshot from the event log; returns its manifest (version, offset, evaluation)."""
    from etalage.feed.model import EtalageConfig, EtalageModel

    fs = get_feed_settings()
    params = configured()
    mdir = model_dir(data_dir)
    started = time.perf_counter()
    upto = event_log.last_offset()
    prev = registry.latest_good(db, mdir)
    with db.read() as s:
        video_ids = catalogue.published_videos(s)
    regions = catalogue.regions()
    stats = ItemStats(
        regions, len(video_ids) + 1024, params.rates_half_life_days, params.trending_half_life_hours
    )
    pos = {v: i for i, v in enumerate(video_ids)}
    count_from = 1
    if prev is not None:
        saved = prev.counters
        for vid in saved["ids"]:
            pos.setdefault(vid, len(pos))
        stats.grow(len(pos) + 1024)
        mapping_arr = np.array([pos[v] for v in saved["ids"]], np.int64)
        stats.rates.load(saved["rates"], saved["rates_t_ref"], mapping_arr)
        if list(saved["regions"]) == list(regions):
            stats.trend.load(saved["trend"], saved["trend_t_ref"], mapping_arr)
        count_from = prev.event_offset + 1
    since_ms = (time.time() - fs.train_days * 86400) * 1000
    users = training.label_users(db)
    seen = training.read_log(event_log, upto, since_ms, set(video_ids), stats, pos, count_from,
                             training.regions_by_user(db), users)  # fmt: skip
    timings: dict[str, float] = {}
    features, timings["features_s"] = training.timed(training.content_features, db, video_ids)
    model = None
    evaluation: dict[str, Any] = {"events_read_upto": upto, "interactions": len(seen.rows)}
    config = EtalageConfig(rank=rank or fs.rank)
    if seen.rows and video_ids:
        do_eval = fs.evaluate if evaluate is None else evaluate
        if do_eval:
            data, test = training.interactions(seen.rows, video_ids, holdout=0.1)
            evaluation["time_split"], timings["evaluate_s"] = training.timed(
                training.evaluate, EtalageModel, config, data, test, features
            )
        data, _ = training.interactions(seen.rows, video_ids)
        model, timings["fit_s"] = training.timed(EtalageModel(config).fit, data.train_view("train"), video_ids,
                                                 features)  # fmt: skip
    ids = list(pos)
    counts_all = stats.counts(np.arange(len(ids)), time.time() * 1000).sum(axis=1)
    base = prev.heads if prev is not None else Heads.defaults(params)
    base.global_rates = global_rates(counts_all)
    heads = training.fit_heads(db, seen.labels, base, params)
    evaluation.update(timings, heads=heads.source, total_s=round(time.perf_counter() - started, 2))
    counters = {"ids": ids, "rates": stats.rates.values[:, : len(ids)], "trend": stats.trend.values[:, : len(ids)],
                "regions": list(regions), "rates_t_ref": stats.rates.t_ref, "trend_t_ref": stats.trend.t_ref}  # fmt: skip
    path = registry.write_snapshot(mdir, model, heads, counters, upto, evaluation)
    manifest = registry.read_manifest(path)
    with db.session() as s:
        registry.register(s, path, manifest)
    registry.prune(mdir, fs.keep_snapshots, {path.name})
    bus.publish_now("feed.model.published", {"version": manifest["version"], "event_offset": upto})
    log.info("feed refit %s: %s interactions, offset %s, %.1f s", manifest["version"], len(seen.rows), upto,
             time.perf_counter() - started)  # fmt: skip
    return manifest


def _slot(seconds: float) -> int:
    return int(math.floor(time.time() / max(seconds, 1.0)))


def schedule(db: Database, *, first: bool = False) -> None:
    """Queue the next refit (and trim); ``first``: one right now, when no snapshot exists yet."""
    fs = get_feed_settings()
    with db.session() as s:
        if first:
            jobs.enqueue(s, REFIT, {}, dedupe_key=f"{REFIT}:first:{_slot(fs.refit_seconds)}")
        nxt = _slot(fs.refit_seconds) + 1
        delay = max(0.0, nxt * fs.refit_seconds - time.time())
        jobs.enqueue(s, REFIT, {}, delay_seconds=delay, dedupe_key=f"{REFIT}:{nxt}")
        jobs.enqueue(s, TRIM, {}, delay_seconds=3600, dedupe_key=f"{TRIM}:{_slot(86400) + 1}")


@jobs.handler(REFIT, max_attempts=3, lease_seconds=3600)
def _refit_job(db: Database, payload: dict[str, Any]) -> None:
    from etalage.config import get_settings
    from etalage.events.service import event_log
    from etalage.feed.threads import blas_threads, cpu_count

    settings = get_settings()
    with blas_threads(1 if _in_server() else cpu_count()):
        refit(db, settings.data_dir, event_log(settings))
    schedule(db)


@jobs.handler(TRIM, max_attempts=3)
def _trim_job(db: Database, payload: dict[str, Any]) -> None:
    from etalage.feed import served

    with db.session() as s:
        removed = served.trim(s, get_feed_settings().served_retention_days)
    log.info("feed: %s served records past retention deleted", removed)


def _in_server() -> bool:
    from etalage.feed import service

    return service._current() is not None  # the in-process worker: keep the server's cores for requests
