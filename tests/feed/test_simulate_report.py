"""The simulation's report over repeated runs: means per configuration, every run kept, the verdict on the
means with each run's pair beside it, and a chart that shows the runs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from etalage.feed.simulate import report as rep
from etalage.feed.simulate.runner import ConfigResult, Report, SimOptions
from etalage.feed.simulate.shoppers import Tally

pytestmark = pytest.mark.db_agnostic


def _result(name: str, run: int, gmv_eur: int, purchases: int, returns: int) -> ConfigResult:
    rounds = [Tally(impressions=500, engaged_views=200, purchases=purchases // 2, gmv=gmv_eur * 50,
                    returns=returns // 2) for _ in range(2)]  # fmt: skip
    total = Tally()
    for t in rounds:
        total.add(t)
    return ConfigResult(name, total, rounds, run=run)


def _report(pairs: list[tuple[int, int]]) -> Report:
    """Quality-aware and engagement-only GMV (€) per run; returns 10 % against 30 %."""
    results = []
    for run, (q, e) in enumerate(pairs, start=1):
        results += [_result("quality-aware", run, q, 100, 10), _result("engagement-only", run, e, 100, 30)]
    return Report(SimOptions(configs=("quality-aware", "engagement-only"), repeat=len(pairs)), results, [])


def test_repeated_runs_are_reported_as_means_with_every_run_kept(tmp_path: Path) -> None:
    report = _report([(9_000, 10_000), (10_400, 10_000), (9_800, 10_000)])
    rows = {r["config"]: r for r in rep.rows(report)}
    assert rows["quality-aware"]["runs"] == 3 and rows["quality-aware"]["GMV €"] == pytest.approx(9_733.33, 0.01)
    assert rows["quality-aware"]["GMV € sd"] == pytest.approx(702.38, abs=0.01)  # sample sd of 9,000, 10,400, 9,800
    assert rows["engagement-only"]["GMV € sd"] == 0.0
    assert [r["GMV €"] for r in rep.run_rows(report) if r["config"] == "quality-aware"] == [9_000, 10_400, 9_800]
    verdict = rep.verdict(report)
    assert verdict is not None
    assert verdict["gmv_change"] == pytest.approx(-0.0267, abs=1e-3) and verdict["met"]  # on the means
    assert [round(p["gmv_change"], 3) for p in verdict["pairs"]] == [-0.1, 0.04, -0.02]
    assert [p["met"] for p in verdict["pairs"]] == [False, True, True] and verdict["runs_met"] == 2
    png, js = rep.save(report, tmp_path, "t")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    saved = json.loads(js.read_text())
    assert len(saved["runs"]) == 6 and saved["verdict"]["runs"] == 3
    assert set(saved["per_round"]) == {f"{c} run {k}" for c in ("quality-aware", "engagement-only") for k in (1, 2, 3)}


def test_the_verdict_is_not_met_when_the_mean_loses_more_than_five_percent() -> None:
    verdict = rep.verdict(_report([(9_000, 10_000), (9_600, 10_000)]))
    assert verdict is not None
    assert verdict["gmv_change"] == pytest.approx(-0.07) and not verdict["met"] and verdict["runs_met"] == 1
    one = rep.verdict(_report([(9_600, 10_000)]))  # one run: the same verdict as before repeats existed
    assert one is not None and one["met"] and one["runs"] == 1 and rep.rows(_report([(1, 2)]))[0]["runs"] == 1
