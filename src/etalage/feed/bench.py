"""Scale check on synthetic data: does the served model fit and answer fast at catalogue size?

The interaction log is synthetic (power-law item popularity, users with a taste cluster, ordered
sessions) because no public set has 100k videos in this format; only speed and memory are
measured here, never accuracy.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from etalage.feed.dataset import DEFAULT_EVENT_WEIGHTS, SPLITS, InteractionData
from etalage.feed.model import EtalageConfig, EtalageModel
from etalage.feed.threads import blas_threads, cpu_count


def synthetic_log(
    n_users: int, n_items: int, n_events: int, seed: int = 0, clusters: int = 200
) -> InteractionData:
    rng = np.random.default_rng(seed)
    lengths = np.maximum(1, rng.geometric(n_users / n_events, size=n_users))
    lengths = np.minimum(lengths, n_items // 2)
    users = np.repeat(np.arange(n_users, dtype=np.int32), lengths)
    n = len(users)
    pop = (np.arange(n_items) + 10.0) ** -0.9
    global_pick = rng.choice(n_items, size=n, p=pop / pop.sum())
    # half of each user's events come from their taste cluster's slice of the catalogue
    taste = rng.integers(clusters, size=n_users)[users]
    width = n_items // clusters
    cluster_pick = taste * width + rng.integers(width, size=n)
    items = np.where(rng.random(n) < 0.5, global_pick, cluster_pick).astype(np.int32)
    starts = np.r_[0, np.cumsum(lengths)[:-1]]
    ts = (np.arange(n) - np.repeat(starts, lengths)).astype(np.int64)
    return InteractionData(
        user_ids=[str(u) for u in range(n_users)],
        item_ids=[str(i) for i in range(n_items)],
        event_names=["positive"],
        users=users,
        items=items,
        events=np.zeros(n, dtype=np.int16),
        timestamps=ts,
        splits=np.full(n, SPLITS.index("train"), dtype=np.int8),
        event_weights=dict(DEFAULT_EVENT_WEIGHTS),
    )


def run_bench(
    n_users: int = 10_000, n_items: int = 100_000, n_events: int = 1_000_000, rank: int = 64, seed: int = 0
) -> dict[str, Any]:
    out: dict[str, Any] = {"users": n_users, "items": n_items, "rank": rank, "threads": cpu_count()}
    with blas_threads(cpu_count()):
        data = synthetic_log(n_users, n_items, n_events, seed)
        train = data.train_view()
        out["interactions"] = int(train.weights.nnz)
        model = EtalageModel(EtalageConfig(rank=rank))
        t = time.perf_counter()
        model.fit(train, data.item_ids)
        out["fit_seconds"] = round(time.perf_counter() - t, 2)
        rng = np.random.default_rng(seed)
        lat = []
        for _ in range(300):
            u = int(rng.integers(n_users))
            items, w, ts = train.sequences.of(u)
            t = time.perf_counter()
            model.score_history(items[-50:], w[-50:], ts[-50:])
            lat.append(time.perf_counter() - t)
        lat_ms = np.array(lat[20:]) * 1000  # first calls warm caches
        out["score_history_ms_p50"] = round(float(np.percentile(lat_ms, 50)), 2)
        out["score_history_ms_p95"] = round(float(np.percentile(lat_ms, 95)), 2)
        events = [
            (f"live{rng.integers(1000)}", str(rng.integers(n_items + 50)), "positive", 10_000 + i)
            for i in range(1000)
        ]
        t = time.perf_counter()
        model.partial_fit(events)
        out["partial_fit_1000_events_seconds"] = round(time.perf_counter() - t, 3)
        with tempfile.TemporaryDirectory() as tmp:
            t = time.perf_counter()
            model.save(tmp)
            out["save_seconds"] = round(time.perf_counter() - t, 2)
            out["snapshot_mb"] = round(sum(f.stat().st_size for f in Path(tmp).iterdir()) / 1e6, 1)
            t = time.perf_counter()
            EtalageModel.load(tmp)
            out["load_seconds"] = round(time.perf_counter() - t, 2)
    return out
