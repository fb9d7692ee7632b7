"""The simulation's figures: a table per configuration, a PNG chart, and the JSON behind both."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

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


def rows(report: Report) -> list[dict[str, Any]]:
    return [{"config": r.name, **{name: fn(r.total) for name, fn in COLUMNS}} for r in report.results]


def verdict(report: Report) -> dict[str, Any] | None:
    """The quality-aware ranker against engagement-only: lower return rate at no worse than 5 % lower GMV?"""
    by = {r["config"]: r for r in rows(report)}
    q, e = by.get("quality-aware"), by.get("engagement-only")
    if not q or not e:
        return None
    gmv_change = (q["GMV €"] - e["GMV €"]) / max(e["GMV €"], 1e-9)
    return {
        "return_rate_quality": q["return rate"],
        "return_rate_engagement": e["return rate"],
        "gmv_change": gmv_change,
        "met": q["return rate"] < e["return rate"] and gmv_change >= -0.05,
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
    for ax, (key, title) in zip(axes.ravel()[:5], panels[:5], strict=True):
        values = [r[key] for r in data]
        ax.bar(names, values, color=colours)
        ax.set_title(title, fontsize=10)
        ax.tick_params(axis="x", labelsize=8)
        for i, v in enumerate(values):
            ax.text(i, v, f"{v:,.0f}" if v >= 100 else f"{v:.3g}", ha="center", va="bottom", fontsize=8)
    ax = axes.ravel()[5]
    for res, colour in zip(report.results, colours, strict=False):
        rates = [t.returns / max(t.purchases, 1) for t in res.per_round]
        ax.plot(range(1, len(rates) + 1), rates, marker="o", color=colour, label=res.name)
    ax.set_title("Return rate by round (the ranker learns)", fontsize=10)
    ax.set_xlabel("round")
    ax.set_xticks(range(1, report.options.rounds + 1))  # whole rounds, not 1.5
    ax.legend(fontsize=8)
    o = report.options
    fig.suptitle(f"etalage simulate: {o.shoppers} synthetic shoppers × {o.rounds} rounds (seed {o.seed})")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def to_json(report: Report) -> dict[str, Any]:
    return {
        "options": {k: str(v) if isinstance(v, Path) else v for k, v in vars(report.options).items()},
        "results": rows(report),
        "per_round": {r.name: [vars(t) for t in r.per_round] for r in report.results},
        "seconds": {r.name: round(r.seconds, 1) for r in report.results},
        "verdict": verdict(report),
        "missing": report.missing,
        "notes": report.notes,
    }


def save(report: Report, folder: Path, stamp: str) -> tuple[Path, Path]:
    png = chart(report, folder / f"simulate-{stamp}.png")
    js = folder / f"simulate-{stamp}.json"
    js.write_text(json.dumps(to_json(report), indent=2, default=str))
    return png, js
