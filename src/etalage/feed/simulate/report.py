"""The simulation's figures: a table per configuration, a PNG chart, and the JSON behind both."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from etalage.feed.simulate.runner import Report

COLUMNS = [
    ("GMV €", lambda t: t.gmv / 100),
    ("net GMV €", lambda t: (t.gmv - t.returned_value) / 100),
    ("purchases", lambda t: t.purchases),
    ("conversion /1k clips", lambda t: 1000 * t.purchases / max(t.impressions, 1)),
    ("purchases /100 engaged views", lambda t: 100 * t.purchases / max(t.engaged_views, 1)),
    ("return rate", lambda t: t.returns / max(t.purchases, 1)),
    ("returns recorded by the platform", lambda t: t.returns_recorded),
    ("bait share of clips", lambda t: t.bait_impressions / max(t.impressions, 1)),
    ("bait share of purchases", lambda t: t.bait_purchases / max(t.purchases, 1)),
    ("clips", lambda t: t.impressions),
    ("likes+shares", lambda t: t.likes_shares),
]


def run_rows(report: Report) -> list[dict[str, Any]]:
    """One row per run of each configuration."""
    return [{"config": r.name, "run": r.run, **{name: fn(r.total) for name, fn in COLUMNS}} for r in report.results]


def _by_config(report: Report) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    for r in run_rows(report):
        out.setdefault(r["config"], []).append(r)
    return out


def rows(report: Report) -> list[dict[str, Any]]:
    """One row per configuration: the mean of its runs (with one run, that run's figures)."""
    out = []
    for name, runs in _by_config(report).items():
        gmv = np.array([r["GMV €"] for r in runs])
        out.append({"config": name, "runs": len(runs),
                    **{col: float(np.mean([r[col] for r in runs])) for col, _ in COLUMNS},
                    "GMV € sd": float(gmv.std(ddof=1)) if len(runs) > 1 else 0.0})  # fmt: skip
    return out


def _meets(q: dict[str, Any], e: dict[str, Any]) -> tuple[float, bool]:
    change = (q["GMV €"] - e["GMV €"]) / max(e["GMV €"], 1e-9)
    return change, q["return rate"] < e["return rate"] and change >= -0.05


def verdict(report: Report) -> dict[str, Any] | None:
    """The quality-aware ranker against engagement-only: lower return rate at no worse than 5 % lower GMV?
    Decided on the means over the runs; each run's pair (run k of both) is reported beside it."""
    by = {r["config"]: r for r in rows(report)}
    q, e = by.get("quality-aware"), by.get("engagement-only")
    if not q or not e:
        return None
    change, met = _meets(q, e)
    runs = _by_config(report)
    pairs = []
    for qr, er in zip(runs["quality-aware"], runs["engagement-only"], strict=False):
        pair_change, pair_met = _meets(qr, er)
        pairs.append({"run": qr["run"], "gmv_change": pair_change, "met": pair_met,
                      "return_rate_quality": qr["return rate"], "return_rate_engagement": er["return rate"]})  # fmt: skip
    return {
        "return_rate_quality": q["return rate"],
        "return_rate_engagement": e["return rate"],
        "gmv_change": change,
        "met": met,
        "runs": len(pairs),
        "runs_met": sum(p["met"] for p in pairs),
        "pairs": pairs,
    }


def chart(report: Report, path: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    data = rows(report)
    names = [r["config"] for r in data]
    colours = ["#2a9d8f", "#e76f51", "#6c757d"][: len(names)]
    fig, axes = plt.subplots(2, 3, figsize=(14, 7.5))
    panels = [("GMV €", "GMV (€, gross)"), ("net GMV €", "GMV net of returns (€)"), ("return rate", "Return rate"),
              ("conversion /1k clips", "Purchases per 1,000 clips"),
              ("purchases /100 engaged views", "Engagement-to-conversion\n(purchases per 100 engaged views)"),
              ("bait share of purchases", "Share of purchases that were bait")]  # fmt: skip
    runs = _by_config(report)
    for ax, (key, title) in zip(axes.ravel()[:5], panels[:5], strict=True):
        values = [r[key] for r in data]
        ax.bar(names, values, color=colours)
        ax.set_title(title, fontsize=10)
        ax.tick_params(axis="x", labelsize=8)
        for i, (name, v) in enumerate(zip(names, values, strict=True)):
            each = [r[key] for r in runs[name]]
            if len(each) > 1:  # every run as a dot: the spread is part of the answer
                ax.plot([i] * len(each), each, "o", color="#222222", markersize=3, zorder=3)
            ax.text(i, max([v, *each]), f"{v:,.0f}" if v >= 100 else f"{v:.3g}", ha="center", va="bottom",
                    fontsize=8)  # fmt: skip
    ax = axes.ravel()[5]
    for name, colour in zip(names, colours, strict=False):
        results = [r for r in report.results if r.name == name]
        rounds = min(len(r.per_round) for r in results)
        rates = [float(np.mean([r.per_round[k].returns / max(r.per_round[k].purchases, 1) for r in results]))
                 for k in range(rounds)]  # fmt: skip
        ax.plot(range(1, len(rates) + 1), rates, marker="o", color=colour, label=name)
    ax.set_title("Return rate by round (the ranker learns)", fontsize=10)
    ax.set_xlabel("round")
    ax.set_xticks(range(1, report.options.rounds + 1))  # whole rounds, not 1.5
    ax.legend(fontsize=8)
    o = report.options
    repeats = f"; mean of {o.repeat} runs each, dots: the runs" if o.repeat > 1 else ""
    fig.suptitle(f"etalage simulate: {o.shoppers} synthetic shoppers × {o.rounds} rounds (seed {o.seed}{repeats})")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def to_json(report: Report) -> dict[str, Any]:
    return {
        "options": {k: str(v) if isinstance(v, Path) else v for k, v in vars(report.options).items()},
        "results": rows(report),
        "runs": run_rows(report),
        "per_round": {f"{r.name} run {r.run}" if report.options.repeat > 1 else r.name:
                      [vars(t) for t in r.per_round] for r in report.results},
        "seconds": {f"{r.name} run {r.run}" if report.options.repeat > 1 else r.name: round(r.seconds, 1)
                    for r in report.results},
        "parameters": {f"{r.name} run {r.run}" if report.options.repeat > 1 else r.name: r.parameters
                       for r in report.results},
        "verdict": verdict(report),
        "missing": report.missing,
        "notes": report.notes,
    }


def save(report: Report, folder: Path, stamp: str) -> tuple[Path, Path]:
    png = chart(report, folder / f"simulate-{stamp}.png")
    js = folder / f"simulate-{stamp}.json"
    js.write_text(json.dumps(to_json(report), indent=2, default=str))
    return png, js
