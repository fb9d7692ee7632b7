"""End to end: the evaluate command on a small deterministic subsample of KuaiRec."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from etalage.feed.cli import app
from etalage.feed.evaluate import ALL_MODELS

pytestmark = pytest.mark.db_agnostic


@pytest.mark.slow
def test_evaluate_command_on_kuairec_subsample(kuairec_dir: Path, tmp_path: Path):
    out = tmp_path / "results.json"
    snap = tmp_path / "model"
    result = CliRunner().invoke(
        app,
        [
            "evaluate",
            "--data",
            str(kuairec_dir),
            "--max-users",
            "300",
            "--ranks",
            "32",
            "--out",
            str(out),
            "--save-model",
            str(snap),
        ],
    )
    assert result.exit_code == 0, result.output
    text = result.output
    for name in ALL_MODELS:
        assert name in text
    assert "NDCG@20" in text and "AUC" in text and "vs best baseline" in text
    report = json.loads(out.read_text())
    assert report["n_users"] == 300 and report["tuning_note"] == "tuned on the valid split"
    rows = {r["name"]: r for r in report["results"]}
    assert set(rows) == set(ALL_MODELS)
    for r in rows.values():
        m = r["metrics"]
        assert m["n_users"] > 100
        assert 0 <= m["recall@10"] <= m["recall@20"] <= m["recall@50"] <= 1
        assert 0 <= m["ndcg@10"] <= 1 and 0 <= m["ndcg@50"] <= 1
        assert 0 < m["coverage@20"] <= 1
        assert 0 < m["ndcg@20_se"] < m["ndcg@20"]  # standard error over test users
        assert 0.5 < m["auc"] <= 1  # everything orders shown items better than chance
        assert r["fit_seconds"] >= 0
    # popularity recommends the same list to everyone: the narrowest coverage
    assert rows["popularity"]["metrics"]["coverage@20"] == min(
        r["metrics"]["coverage@20"] for r in rows.values()
    )
    # Etalage is at least competitive with the strongest baseline on this protocol
    best = max(r["metrics"]["ndcg@20"] for n, r in rows.items() if n != "etalage")
    assert rows["etalage"]["metrics"]["ndcg@20"] >= 0.8 * best
    assert report["etalage_improvement_ndcg20"] == pytest.approx(
        rows["etalage"]["metrics"]["ndcg@20"] / best - 1
    )
    # paired standard error of that gain (per-user differences, same users), and no per-user arrays in JSON
    # (zero exactly when valid tuning lands on the baseline's own ranking: every per-user difference is 0,
    # as happens on this 300-user sample on some machines, where the prior alone is chosen)
    se = report["etalage_improvement_ndcg20_se"]
    assert se > 0 or (se == 0 and report["etalage_improvement_ndcg20"] == 0)
    assert all("per_user_ndcg20" not in r for r in report["results"])
    # the tuned model was saved as a loadable snapshot with its evaluation figures
    manifest = json.loads((snap / "manifest.json").read_text())
    assert manifest["evaluation"]["results"][0]["name"] == "etalage"


def test_evaluate_command_reports_bad_input(tmp_path: Path):
    (tmp_path / "interactions.csv").write_text("a,b,c\n1,2,3\n")
    result = CliRunner().invoke(app, ["evaluate", "--data", str(tmp_path)])
    assert result.exit_code == 2
    assert "bad header" in result.output
    result = CliRunner().invoke(app, ["evaluate", "--data", str(tmp_path / "missing")])
    assert result.exit_code == 2 and "not found" in result.output


def test_unusable_valid_split_is_replaced_by_a_train_holdout_and_reported(tmp_path: Path):
    from etalage.feed.dataset import load_interactions
    from etalage.feed.evaluate import run_evaluation

    from .conftest import clustered_rows, write_csv

    rows = [r for r in clustered_rows(40) if r[4] != "valid"]
    # every valid row repeats a train pair, so valid cannot tell settings apart
    rows += [(u, i, e, 99, "valid") for (u, i, e, _t, s) in rows if s == "train" and e == "positive"][:40]
    data = load_interactions(write_csv(tmp_path / "interactions.csv", rows))
    report, model = run_evaluation(data, "synthetic", ["etalage", "popularity", "ease"], etalage_ranks=(4,))
    assert "held out" in report.tuning_note and "instead" in report.tuning_note
    assert [r.name for r in report.results] == ["etalage", "popularity", "ease"]
    assert (
        model is not None and model.pos_counts.sum() == data.train_view().weights.sum()
    )  # refit on all train
    # two clean taste clusters: the personalised models find the held-out test items easily
    ndcg = {r.name: r.metrics["ndcg@20"] for r in report.results}
    assert ndcg["etalage"] > ndcg["popularity"] and ndcg["ease"] > ndcg["popularity"]
