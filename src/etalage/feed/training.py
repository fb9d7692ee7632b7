"""The periodic full refit (run by the worker, job ``feed.refit``): one pass over the event log gives

- the model's training interactions (events of the last ``train_days``), fitted with the content
  vectors of every published video (LSA of the TF-IDF text) so videos nobody watched yet have a place;
- the item counters, continued from the previous snapshot (only the events after its offset are counted
  again, so trimming the log never loses them);
- the scoring heads' coefficients, fitted on served pages (their logged features) against what the
  viewer did next with each item they were shown;
- evaluation figures on a time split (fit on the older 90 % of interactions, rank for the newer 10 %),
  next to the popularity baseline, stored with the snapshot.
"""

from __future__ import annotations

import logging
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import numpy as np
from sqlalchemy import JSON, select, type_coerce

from etalage.db import Database, utcnow
from etalage.events.log import EventLog
from etalage.feed import catalogue, modelview, served_format
from etalage.feed.counters import TREND_WEIGHTS, F, ItemStats, event_effects
from etalage.feed.dataset import DEFAULT_EVENT_WEIGHTS, SPLITS, InteractionData
from etalage.feed.models import FeedServed, FeedSetting
from etalage.feed.parameters import OUTCOMES, RankingParameters
from etalage.feed.pipeline import heads as H
from etalage.feed.pipeline.history import kind_of, media_of
from etalage.feed.text import TextIndex, item_text, lsa

log = logging.getLogger("etalage.feed.training")
MODEL_EVENTS = ["positive", "cart", "purchase", "negative"]
LABEL_KINDS = {"view_complete": "watch_completion", "like": "like_share", "share": "like_share",
               "product_click": "product_click", "add_to_cart": "add_to_cart", "purchase": "purchase"}  # fmt: skip
LABEL_WINDOW_MS = 3_600_000  # an outcome counts for a served item if it follows within an hour


@dataclass
class Pass:
    """What one read of the log collects."""

    rows: list[tuple[str, str, str, float]] = field(default_factory=list)  # (user, video, kind, ts s)
    labels: dict[tuple[str, str], list[tuple[str, float]]] = field(default_factory=lambda: defaultdict(list))


def read_log(event_log: EventLog, upto: int, since_ms: float, videos: set[str], stats: ItemStats,
             pos: dict[str, int], count_from: int, regions: dict[str, str], label_users: set[str]) -> Pass:  # fmt: skip
    out = Pass()
    start = 1
    effects: list[tuple[int, int, float, float, int]] = []
    while start <= upto:
        batch = event_log.read(start, 5000)
        if not batch:
            break
        for ev in batch:
            if ev.offset > upto:
                break
            d = ev.data
            media, kind, user = media_of(d), kind_of(d), d.get("user", "")
            ts = float(d.get("ts", 0))
            if media is None or kind is None:
                continue
            if ev.offset >= count_from:
                i = pos.get(media)
                if i is None:
                    i = pos[media] = len(pos)
                    stats.grow(len(pos) + 1024)
                r = stats.region_row.get(regions.get(user, ""), -1)
                for _f, counter in event_effects(d):
                    if counter.startswith("trend:"):
                        effects.append((i, -1, TREND_WEIGHTS[counter[6:]], ts, r))
                    else:
                        effects.append((i, F[counter], 1.0, ts, r))
            if ts >= since_ms and media in videos and kind in modelview.MODEL_EVENT:
                out.rows.append((user, media, kind, ts / 1000.0))
            if user in label_users and (kind in LABEL_KINDS or kind == "impression"):
                out.labels[(user, media)].append((kind, ts))
        start = batch[-1].offset + 1
        if len(effects) > 50_000:
            stats.apply(effects)
            effects = []
    stats.apply(effects)
    return out


def interactions(rows: list[tuple[str, str, str, float]], video_ids: list[str], holdout: float = 0.0
                 ) -> tuple[InteractionData, np.ndarray]:  # fmt: skip
    """Rows as the model's InteractionData; with ``holdout``, the newest share of positive rows is marked
    'test' (returned as a mask)."""
    users: dict[str, int] = {}
    item_pos = {v: i for i, v in enumerate(video_ids)}
    mapped = modelview.model_events(rows)
    u = np.array([users.setdefault(r[0], len(users)) for r in mapped], np.int32)
    it = np.array([item_pos[r[1]] for r in mapped], np.int32)
    ev = np.array([MODEL_EVENTS.index(r[2]) for r in mapped], np.int16)
    ts = np.array([int(r[3]) for r in mapped], np.int64)
    splits = np.zeros(len(mapped), np.int8)
    test = np.zeros(len(mapped), np.bool_)
    if holdout and len(mapped):
        positive = ev != MODEL_EVENTS.index("negative")
        cut = np.quantile(ts[positive], 1 - holdout) if positive.any() else np.inf
        test = positive & (ts > cut)
        splits[test] = SPLITS.index("test")
        splits[~positive & (ts > cut)] = SPLITS.index("test")
    data = InteractionData(list(users), list(video_ids), list(MODEL_EVENTS), u, it, ev, ts, splits,
                           dict(DEFAULT_EVENT_WEIGHTS))  # fmt: skip
    return data, test


def evaluate(model_cls: Any, config: Any, data: InteractionData, test: np.ndarray, features: np.ndarray | None,
             k: int = 20, max_users: int = 2000) -> dict[str, Any]:  # fmt: skip
    """Recall/NDCG@k on the newest interactions, for the model fitted on the older ones and for popularity."""
    train = data.train_view("train")
    if train.weights.nnz == 0 or not test.any():
        return {"note": "too few interactions for a time-split evaluation"}
    model = model_cls(config).fit(train, data.item_ids, features)
    test_users = np.unique(data.users[test])
    rng = np.random.default_rng(0)
    if len(test_users) > max_users:
        test_users = rng.choice(test_users, max_users, replace=False)
    pop = np.asarray(train.weights.sum(axis=0)).ravel()
    discount = 1.0 / np.log2(np.arange(2, k + 2))
    sums = {"model": [0.0, 0.0], "popularity": [0.0, 0.0]}
    counted = 0
    for user in test_users:
        relevant = set(data.items[test & (data.users == user)].tolist())
        items, weights, ts = train.sequences.of(int(user))
        seen = train.exposure[int(user)].indices
        relevant -= set(seen.tolist())
        if not relevant:
            continue
        counted += 1
        for name, scores in (
            ("model", model.score_history(items, weights, ts)),
            ("popularity", pop.astype(float)),
        ):
            s = np.asarray(scores, np.float64).copy()
            s[seen] = -np.inf
            top = np.argpartition(-s, k - 1)[:k]
            top = top[np.argsort(-s[top])]
            hits = np.array([t in relevant for t in top.tolist()])
            sums[name][0] += hits.sum() / min(len(relevant), k)
            sums[name][1] += (hits * discount).sum() / discount[: min(len(relevant), k)].sum()
    if counted == 0:
        return {"note": "no test user with unseen relevant items"}
    return {"split": "time (newest 10 % of positive interactions)", "users": counted, "k": k,
            **{f"{n}_recall@{k}": round(v[0] / counted, 4) for n, v in sums.items()},
            **{f"{n}_ndcg@{k}": round(v[1] / counted, 4) for n, v in sums.items()}}  # fmt: skip


def content_features(db: Database, video_ids: list[str], dim: int = 32) -> np.ndarray | None:
    with db.read() as s:
        infos = {v.id: v for v in catalogue.video_infos(s, video_ids)}
        facts = catalogue.load_products(s, {p for v in infos.values() for p in v.product_ids})
    titles = {f.id: f.title for f in facts}
    docs = []
    for vid in video_ids:
        v = infos.get(vid)
        docs.append(item_text(v.caption, v.hashtags, [titles.get(p, "") for p in v.product_ids]) if v else [])
    text = TextIndex()
    text.build(docs)
    feats = lsa(text.matrix(len(video_ids)), dim)
    return feats if feats.shape[1] > 1 else None


def _newton(x: np.ndarray, y: np.ndarray, offset: np.ndarray, l2: float = 1.0, iters: int = 25) -> np.ndarray:
    """Logistic regression with an offset, by Newton's method with an L2 penalty (intercept unpenalised)."""
    w = np.zeros(x.shape[1])
    pen = np.full(x.shape[1], l2)
    pen[0] = 1e-6
    for _ in range(iters):
        p = H.sigmoid(offset + x @ w)
        grad = x.T @ (p - y) + pen * w
        hess = (x * (p * (1 - p))[:, None]).T @ x + np.diag(pen)
        step = np.linalg.solve(hess, grad)
        w -= step
        if np.abs(step).max() < 1e-6:
            break
    return w


def fit_heads(db: Database, labels: dict[tuple[str, str], list[tuple[str, float]]], base: H.Heads,
              params: RankingParameters, days: float = 7.0, max_rows: int = 200_000) -> H.Heads:  # fmt: skip
    """Sensitivities refitted on served items the viewer was shown (an impression), outcome within an hour."""
    since = utcnow() - timedelta(days=days)
    rows_x: list[np.ndarray] = []  # per page: its impressed items' signals
    rows_r, rows_y = [], []
    with db.read() as s:
        for pseudonym, created, items in s.execute(
            select(FeedServed.pseudonym, FeedServed.created_at, type_coerce(FeedServed.items, JSON))
            .where(FeedServed.created_at >= since, FeedServed.pseudonym.is_not(None))
            .order_by(FeedServed.created_at.desc()).limit(max_rows // 5)):  # fmt: skip
            t0 = created.timestamp() * 1000
            ids, sig, rates = served_format.signals_and_rates(items)  # as stored: no dict per item
            page_x = []
            for k, item_id in enumerate(ids):
                seen = labels.get((pseudonym, item_id), [])
                window = [kind for kind, t in seen if t0 <= t <= t0 + LABEL_WINDOW_MS]
                if "impression" not in window:
                    continue
                page_x.append([sig["affinity"][k], sig["follow"][k], sig["session"][k]])
                rows_r.append([rates[o][k] for o in OUTCOMES])
                rows_y.append([float(any(LABEL_KINDS.get(kind) == o for kind in window)) for o in OUTCOMES])
            if page_x:
                rows_x.append(np.array(page_x))
    heads = H.Heads.from_dict(base.as_dict())
    if sum(len(p) for p in rows_x) < 200:
        return heads
    raw = np.concatenate(rows_x)
    # The signals' effect is learned from differences between the items of one page: how much a shopper
    # buys at all (budget spent, time in the session) also moves with their signals (more history, more
    # similar items), and fitted across pages it made similarity to the session look harmful (δ < 0)
    within = np.concatenate([p - p.mean(axis=0) for p in rows_x])
    x = np.column_stack([np.ones(len(within)), within])
    r, y = np.array(rows_r), np.array(rows_y)
    fitted = 0
    for j, o in enumerate(OUTCOMES):
        ok = r[:, j] > 0
        if ok.sum() < 200 or y[ok, j].sum() < 5:
            continue
        w = _newton(x[ok], y[ok, j], H.logit(r[ok, j]))
        # served with raw signals: the intercept takes back their average effect, so the mean chance holds
        w[0] -= float(w[1:] @ raw[ok].mean(axis=0))
        heads.alpha[o], heads.beta[o], heads.gamma[o], heads.delta[o] = (round(float(v), 4) for v in w)
        fitted += 1
    if fitted:
        heads.source, heads.fitted_rows = (
            f"fitted on served pages ({fitted}/{len(OUTCOMES)} outcomes)",
            len(within),
        )
    return heads


def label_users(db: Database, days: float = 7.0) -> set[str]:
    since = utcnow() - timedelta(days=days)
    with db.read() as s:
        return set(
            s.scalars(
                select(FeedServed.pseudonym)
                .where(FeedServed.created_at >= since, FeedServed.pseudonym.is_not(None))
                .distinct()
            )
        )


def regions_by_user(db: Database) -> dict[str, str]:
    with db.read() as s:
        return {p: r for p, r in s.execute(select(FeedSetting.pseudonym, FeedSetting.region)) if r}


def timed(fn: Any, *args: Any, **kw: Any) -> tuple[Any, float]:
    t = time.perf_counter()
    out = fn(*args, **kw)
    return out, round(time.perf_counter() - t, 2)
