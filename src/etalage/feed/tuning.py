"""Hyperparameter search on the tuning split (valid, or a train hold-out), never on test.

Baselines: a plain grid. Etalage: its expensive tables are fit once; then the cheap knobs
(blend weights, recency decays, ridge shrinkage, prior mix) are searched by coordinate ascent
over per-user component scores cached in float16, so one candidate costs a weighted sum and a
top-k instead of a refit.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from etalage.feed.baselines import Recommender
from etalage.feed.components import history_matrix
from etalage.feed.dataset import TrainView
from etalage.feed.metrics import EvalTarget, evaluate_scores
from etalage.feed.model import EtalageModel, zscore_rows

Progress = Callable[[str], None]
METRIC_K = 20


@dataclass
class TuningLog:
    best_params: dict[str, Any]
    best_score: float
    trials: list[tuple[dict[str, Any], float]] = field(default_factory=list)


def tune_baseline(
    factory: type[Recommender],
    grid: list[dict[str, Any]],
    train: TrainView,
    target: EvalTarget,
    progress: Progress | None = None,
    ladder: bool = False,
) -> tuple[Recommender, TuningLog, float]:
    """Fit grid points on ``train``, keep the best NDCG@20 on ``target``.

    ``ladder``: the grid is one ordered knob (e.g. EASE's λ); start in the middle and walk
    towards better values, stopping at the first worse step — about half the fits of a full
    sweep for the same choice when the curve has one peak. Returns (model, log, its fit seconds).
    """
    log = TuningLog(best_params={}, best_score=-1.0)
    scores: dict[int, float] = {}
    best: list[Any] = [None, 0.0]  # the best model only (EASE's are n_items² each) and its fit time

    def trial(i: int) -> float:
        if i not in scores:
            t0 = time.perf_counter()
            model = factory(**grid[i]).fit(train)
            secs = time.perf_counter() - t0
            scores[i] = evaluate_scores(model.score_users, target, ks=(METRIC_K,)).ndcg[METRIC_K]
            log.trials.append((grid[i], scores[i]))
            if progress:
                progress(f"{factory.name} {model.describe()}: valid NDCG@20 {scores[i]:.4f}")
            if scores[i] > log.best_score:
                log.best_score, log.best_params = scores[i], grid[i]
                best[:] = [model, secs]
        return scores[i]

    if ladder and len(grid) > 2:
        start = i = len(grid) // 2
        for step in (-1, 1):
            j = i + step
            while 0 <= j < len(grid) and trial(j) > trial(i):
                i, j = j, j + step
            if i != start:
                break  # moved one way already: the other side of the peak is worse
    else:
        for i in range(len(grid)):
            trial(i)
    return best[0], log, best[1]


class _ComponentCache:
    """z-scored component scores of the tuning users, float16 to halve memory."""

    def __init__(self, model: EtalageModel, train: TrainView, users: np.ndarray, batch: int = 1024):
        self.model, self.train, self.users, self.batch = model, train, users, batch
        self.pos = np.full(train.n_users, -1, dtype=np.int64)
        self.pos[users] = np.arange(len(users))
        self.data: dict[str, np.ndarray] = {}
        self.empty = np.diff(train.sequences.indptr)[users] == 0  # no usable history

    def compute(self, names: list[str]) -> None:
        m = self.model
        names = [c for c in names if c != "prior" and (c not in ("sequel", "flow") or m.ordered)]
        names = [c for c in names if c != "content" or m.content is not None]
        for c in names:
            self.data[c] = np.empty((len(self.users), m.n_items), dtype=np.float16)
        for start in range(0, len(self.users), self.batch):
            us = self.users[start : start + self.batch]
            seq = self.train.sequences
            hist = history_matrix(seq, us, m.n_items, m.config.decay)
            hist_seq = history_matrix(seq, us, m.n_items, m.config.seq_decay)
            for c, s in m.component_scores(hist, hist_seq, names).items():
                self.data[c][start : start + len(us)] = zscore_rows(s.astype(np.float32))

    def scorer(self, weights: dict[str, float]) -> Callable[[np.ndarray], np.ndarray]:
        prior = self.model.prior_z * np.float32(weights.get("prior", 0.0))

        def score(users: np.ndarray) -> np.ndarray:
            rows = self.pos[users]
            out = np.repeat(prior[None, :], len(users), axis=0)
            for c, arr in self.data.items():
                w = weights.get(c, 0.0)
                if w:
                    out += np.float32(w) * arr[rows].astype(np.float32)
            out[self.empty[rows]] = self.model.prior_z  # as the served model does (scoring.py)
            return out

        return score


def tuning_users(
    target: EvalTarget, n_items: int, max_users: int = 10_000, max_cells: float = 1.2e9, seed: int = 0
) -> np.ndarray:
    """The fixed random sample of tuning users Etalage's search runs on."""
    users = target.users
    cap = min(max_users, int(max_cells // max(n_items * 5, 1)))
    if len(users) > cap:
        users = np.sort(np.random.default_rng(seed).choice(users, size=cap, replace=False))
    return users


def tune_etalage(
    model: EtalageModel,
    train: TrainView,
    target: EvalTarget,
    progress: Progress | None = None,
    max_users: int = 10_000,
    max_cells: float = 1.2e9,
    seed: int = 0,
) -> TuningLog:
    """Tune a fitted model's cheap knobs in place; returns the log (best config applied).

    The search runs on at most ``max_users`` tuning users (a fixed random sample) so each of its
    few dozen candidates costs seconds; memory is bounded by ``max_cells`` float16 scores.
    """
    say = progress or (lambda _msg: None)
    users = tuning_users(target, model.n_items, max_users, max_cells, seed)
    if len(users) < len(target.users):
        say(f"etalage: tuning on a fixed sample of {len(users)} of {len(target.users)} users")
    cfg = model.config
    active = ["collab", "coeng"]
    active += ["sequel", "flow"] if model.ordered else []
    active += ["content"] if model.content is not None else []
    cache = _ComponentCache(model, train, users)
    cache.compute(active)
    log = TuningLog(best_params={}, best_score=-1.0)

    def evaluate(weights: dict[str, float]) -> float:
        return evaluate_scores(cache.scorer(weights), target, ks=(METRIC_K,), users=users).ndcg[METRIC_K]

    def snapshot() -> dict[str, Any]:
        return {
            "weights": {k: round(v, 4) for k, v in cfg.weights.items() if k in active or k == "prior"},
            "decay": cfg.decay,
            "seq_decay": cfg.seq_decay,
            "shrink": cfg.shrink,
            "rate_weight": cfg.rate_weight,
        }

    def record(score: float) -> bool:
        log.trials.append((snapshot(), score))
        if score > log.best_score + 1e-6:
            log.best_score, log.best_params = score, snapshot()
            return True
        return False

    weights = {c: cfg.weights.get(c, 1.0) for c in active}
    weights["prior"] = cfg.weights.get("prior", 0.3)
    cfg.weights = dict(weights)
    record(evaluate(weights))
    say(f"etalage: start valid NDCG@20 {log.best_score:.4f}")

    def weight_rounds(rounds: int) -> None:
        for _ in range(rounds):
            improved = False
            for c in list(weights):
                for factor in (0.0, 0.5, 2.0):
                    trial = dict(weights)
                    trial[c] = weights[c] * factor if weights[c] else (0.3 if factor else 0.0)
                    if not any(v > 0 for v in trial.values()):
                        continue
                    cfg.weights = trial
                    if record(evaluate(trial)):
                        weights.update(trial)
                        improved = True
                cfg.weights = dict(weights)
            say(f"etalage: blend { ({k: round(v, 3) for k, v in weights.items()}) } -> {log.best_score:.4f}")
            if not improved:
                break

    weight_rounds(2)

    def knob(name: str, values: tuple[float, ...], recompute: list[str] | None, refresh: bool) -> None:
        best_v = getattr(cfg, name)
        for v in values:
            if v == best_v:
                continue
            setattr(cfg, name, v)
            if refresh:
                model._refresh()
            if recompute:
                cache.compute(recompute)
            if record(evaluate(weights)):
                best_v = v
        setattr(cfg, name, best_v)
        if refresh:
            model._refresh()
        if recompute:
            cache.compute(recompute)
        say(f"etalage: {name}={best_v} -> {log.best_score:.4f}")

    knob("shrink", (0.01, 0.2), ["collab"], refresh=True)
    if model.ordered:
        knob("decay", (0.6, 1.0), [c for c in active if c != "sequel"], refresh=False)
        knob("seq_decay", (0.3, 0.7), ["sequel"], refresh=False)
    if model.has_negatives:
        knob("rate_weight", (0.0, 0.25, 0.75, 1.0), None, refresh=True)
    weight_rounds(2)
    cfg.weights.update(weights)
    return log
