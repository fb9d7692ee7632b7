"""Offline evaluation: fit Etalage's model and every baseline, tune on valid, report on test.

One function, ``run_evaluation``, does the whole protocol of the data README so the CLI, the
tests and the docs all produce figures the same way.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from etalage.feed.baselines import BASELINE_GRIDS, BASELINES, LADDER_SEARCH
from etalage.feed.dataset import InteractionData, TrainView
from etalage.feed.evaluate_choices import ALL_MODELS, ETALAGE_RANKS
from etalage.feed.metrics import EvalTarget, evaluate_scores
from etalage.feed.model import EtalageConfig, EtalageModel
from etalage.feed.protocol import TuningSetup, build_target, tuning_setup
from etalage.feed.threads import blas_threads, cpu_count
from etalage.feed.tuning import METRIC_K, tune_baseline, tune_etalage, tuning_users


@dataclass
class ModelResult:
    name: str
    metrics: dict[str, Any]
    fit_seconds: float  # one fit with the chosen hyperparameters
    tuning_seconds: float  # everything spent choosing them
    params: dict[str, Any]
    valid_ndcg20: float
    # per-test-user NDCG@20 (same user order for every model), for paired standard errors; not in JSON
    per_user_ndcg20: np.ndarray | None = field(default=None, repr=False, compare=False)


@dataclass
class EvaluationReport:
    data: str
    n_users: int
    n_items: int
    tuning_note: str
    ks: list[int]
    has_auc: bool
    results: list[ModelResult] = field(default_factory=list)

    def best_baseline(self) -> ModelResult | None:
        base = [r for r in self.results if r.name != "etalage"]
        return max(base, key=lambda r: r.metrics[f"ndcg@{METRIC_K}"], default=None)

    def improvement(self) -> float | None:
        """Relative NDCG@20 gain of Etalage over the strongest baseline on test."""
        ours = next((r for r in self.results if r.name == "etalage"), None)
        best = self.best_baseline()
        if ours is None or best is None or best.metrics[f"ndcg@{METRIC_K}"] <= 0:
            return None
        return ours.metrics[f"ndcg@{METRIC_K}"] / best.metrics[f"ndcg@{METRIC_K}"] - 1.0

    def improvement_se(self) -> float | None:
        """Standard error of ``improvement()``: per-user NDCG@20 differences (Etalage minus the
        best baseline, same users) over the baseline's mean. Paired, so much tighter than
        comparing the two models' own standard errors."""
        ours = next((r for r in self.results if r.name == "etalage"), None)
        best = self.best_baseline()
        if ours is None or best is None or ours.per_user_ndcg20 is None or best.per_user_ndcg20 is None:
            return None
        diff = ours.per_user_ndcg20 - best.per_user_ndcg20
        base = best.metrics[f"ndcg@{METRIC_K}"]
        if len(diff) < 2 or base <= 0:
            return None
        return float(diff.std(ddof=1) / np.sqrt(len(diff)) / base)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        for r in d["results"]:
            r.pop("per_user_ndcg20", None)
        best = self.best_baseline()
        d["best_baseline"] = best.name if best else None
        d["etalage_improvement_ndcg20"] = self.improvement()
        d["etalage_improvement_ndcg20_se"] = self.improvement_se()
        return d


def _test_metrics(
    score_fn: Callable[[np.ndarray], np.ndarray], target: EvalTarget, ks: Sequence[int]
) -> tuple[dict, np.ndarray]:
    """Protocol metrics plus the standard error of NDCG@20 over test users, and the per-user
    NDCG@20 values (for paired comparisons between models)."""
    res = evaluate_scores(score_fn, target, ks=ks)
    per_user = res.per_user_ndcg[METRIC_K]
    out = res.as_dict()
    n = len(per_user)
    out[f"ndcg@{METRIC_K}_se"] = float(per_user.std(ddof=1) / np.sqrt(n)) if n > 1 else None
    return out, per_user


def _run_baseline(
    name: str, setup: TuningSetup, full_train: TrainView, test: EvalTarget, ks: Sequence[int], say
) -> ModelResult:
    t0 = time.perf_counter()
    factory = BASELINES[name]
    model, log, fit = tune_baseline(
        factory, BASELINE_GRIDS[name], setup.train, setup.target, say, ladder=name in LADDER_SEARCH
    )
    tuning = time.perf_counter() - t0
    if setup.holdout:  # tuned without the held-out rows: refit the chosen setting on all of train
        t1 = time.perf_counter()
        model = factory(**log.best_params).fit(full_train)
        fit = time.perf_counter() - t1
    metrics, per_user = _test_metrics(model.score_users, test, ks)
    return ModelResult(name, metrics, fit, tuning, dict(log.best_params), log.best_score, per_user)


def fit_tuned_etalage(
    data: InteractionData,
    setup: TuningSetup,
    full_train: TrainView,
    ranks: Sequence[int] = ETALAGE_RANKS,
    say: Callable[[str], None] = lambda _m: None,
) -> tuple[EtalageModel, float, float, float]:
    """Choose rank, then tune the blend on the tuning split; returns (model fit on full train,
    valid NDCG@20, fit seconds of that final fit, total tuning seconds)."""
    t0 = time.perf_counter()
    best: tuple[float, EtalageModel] | None = None
    users = tuning_users(setup.target, data.n_items)
    for rank in ranks:
        model = EtalageModel(EtalageConfig(rank=rank)).fit(setup.train, data.item_ids)
        score = evaluate_scores(
            lambda us, m=model: m.score_users(setup.train.sequences, us),
            setup.target,
            ks=(METRIC_K,),
            users=users,
        ).ndcg[METRIC_K]
        say(f"etalage rank={rank}: valid NDCG@20 {score:.4f} (default blend)")
        if best is None or score > best[0]:
            best = (score, model)
    assert best is not None
    model = best[1]
    log = tune_etalage(model, setup.train, setup.target, say)
    tuning = time.perf_counter() - t0
    t1 = time.perf_counter()
    final = model if not setup.holdout else EtalageModel(model.config).fit(full_train, data.item_ids)
    # a refit only happens on hold-out tuning; otherwise the tuned model already is the train fit
    fit = (time.perf_counter() - t1) if setup.holdout else model.fit_seconds
    return final, log.best_score, fit, tuning


def run_evaluation(
    data: InteractionData,
    name: str = "",
    models: Sequence[str] = ALL_MODELS,
    ks: Sequence[int] = (10, 20, 50),
    progress: Callable[[str], None] | None = None,
    step_done: Callable[[str], None] | None = None,
    etalage_ranks: Sequence[int] = ETALAGE_RANKS,
) -> tuple[EvaluationReport, EtalageModel | None]:
    unknown = [m for m in models if m not in ALL_MODELS]
    if unknown:
        raise ValueError(f"unknown model(s) {', '.join(unknown)}; choose from {', '.join(ALL_MODELS)}")
    say = progress or (lambda _m: None)
    done = step_done or (lambda _m: None)
    ks = sorted(set(int(k) for k in ks) | {METRIC_K})
    with blas_threads(cpu_count()):
        full_train = data.train_view()
        setup = tuning_setup(data, full_train)
        say(setup.note)
        test = build_target(data, "test")
        report = EvaluationReport(
            data=name,
            n_users=data.n_users,
            n_items=data.n_items,
            tuning_note=setup.note,
            ks=list(ks),
            has_auc=test.has_negatives,
        )
        etalage_model = None
        for m in models:
            say(f"fitting {m}")
            if m == "etalage":
                etalage_model, valid, fit, tuning = fit_tuned_etalage(
                    data, setup, full_train, etalage_ranks, say
                )
                metrics, per_user = _test_metrics(
                    lambda us, m=etalage_model: m.score_users(full_train.sequences, us), test, ks
                )
                params = _etalage_params(etalage_model)
                report.results.append(ModelResult("etalage", metrics, fit, tuning, params, valid, per_user))
            else:
                try:
                    report.results.append(_run_baseline(m, setup, full_train, test, ks, say))
                except MemoryError as exc:  # EASE on a catalogue too large for a dense n² matrix
                    say(f"{m} skipped: {exc}")
            done(m)
    if etalage_model is not None:
        etalage_model.metadata["evaluation"] = report.to_dict()
    return report, etalage_model


def _etalage_params(model: EtalageModel) -> dict[str, Any]:
    c = model.config
    active = [k for k in ("prior", "collab", "coeng", "sequel", "flow", "content") if c.weights.get(k)]
    p: dict[str, Any] = {"rank": int(model.item_factors.shape[1]), "shrink": c.shrink}
    p["weights"] = {k: round(float(c.weights[k]), 3) for k in active}
    if model.ordered:
        p["decay"], p["seq_decay"] = c.decay, c.seq_decay
    if model.has_negatives:
        p["rate_weight"] = c.rate_weight
    return p
