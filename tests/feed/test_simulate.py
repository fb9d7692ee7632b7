"""``etalage simulate`` end to end at a tiny size: it builds the marketplace, serves a copy per ranker,
drives it over HTTP (pages, events, one-tap purchases, returns through the after-sale API) and saves its
chart and figures. The figures themselves are noise at this size; only that they are consistent is checked."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

pytestmark = [pytest.mark.db_agnostic, pytest.mark.slow]


def test_simulate_runs_over_http_and_saves_its_chart(tmp_path: Path) -> None:
    from etalage.cli import app

    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["simulate", "--shoppers", "4", "--rounds", "2", "--seed", "3",
                                      "--configs", "quality-aware,engagement-only", "--out", str(out),
                                      "--set", "quality_return_weight=2", "--refit-every", "1"])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "quality-aware vs engagement-only" in result.output
    [png] = out.glob("simulate-*.png")
    [js] = out.glob("simulate-*.json")
    assert png.stat().st_size > 10_000 and png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    report = json.loads(js.read_text())
    rows = {r["config"]: r for r in report["results"]}
    assert set(rows) == {"quality-aware", "engagement-only"}
    for r in rows.values():
        assert r["clips"] > 0 and r["purchases"] >= 0 and 0 <= r["return rate"] <= 1
        assert r["returns recorded by the platform"] <= r["purchases"]
    assert report["verdict"] is not None and not report["missing"]
    assert [len(v) for v in report["per_round"].values()] == [2, 2]  # per round, per configuration
    # --set reached the quality-aware server (its live parameters say so), and only that one
    ranked = report["parameters"]
    assert ranked["quality-aware"]["changed"] == {"quality_return_weight": 2.0}
    assert ranked["engagement-only"]["changed"] == {} and ranked["engagement-only"]["preset"] == "engagement"
    assert ranked["quality-aware"]["version"] != ranked["engagement-only"]["version"]
    assert ranked["quality-aware"]["heads_at_end"]["source"]  # what scored the run's last pages
    # --refit-every: the servers refitted during the run (a new model snapshot by its end)
    assert any(r["model_at_end"] != r["model"] for r in ranked.values()), ranked


def test_the_hidden_truth_is_the_same_for_the_same_seed_whatever_ids_a_build_generated() -> None:
    from etalage.feed.simulate.world import BAIT_SHARE, truth_for

    def product(pid: str, category: str, n: int) -> dict:
        return {"id": pid, "title": f"Soft Scarf {n}", "category_id": category,
                "variants": [{"sku": f"D{n:04d}-1"}, {"sku": f"D{n:04d}-0"}]}  # fmt: skip

    first = [truth_for(7, product(f"prd_a{n}", "cat_a", n), {"cat_a": "fashion"}) for n in range(400)]
    again = [truth_for(7, product(f"prd_b{n}", "cat_b", n), {"cat_b": "fashion"}) for n in range(400)]
    assert [(t.bait, t.appeal, t.return_prob, t.topic) for t in first] == [
        (t.bait, t.appeal, t.return_prob, t.topic) for t in again
    ]
    assert first[0].topic == "fashion" and first[0].id == "prd_a0"
    assert abs(sum(t.bait for t in first) / 400 - BAIT_SHARE) < 0.06
    other_seed = [truth_for(8, product(f"prd_a{n}", "cat_a", n)) for n in range(400)]
    assert [t.bait for t in other_seed] != [t.bait for t in first]


def test_a_simulated_shopper_does_not_buy_again_what_they_bought() -> None:
    from etalage.feed.simulate.shoppers import Session, Shopper
    from etalage.feed.simulate.world import ProductTruth

    product = ProductTruth("prd_a", "shoes", appeal=2.0, return_prob=0.5, bait=True)
    clips = [{"kind": "video", "id": f"vid_{n}", "products": [{"id": "prd_a", "price": {"amount": 5000}}]}
             for n in range(40)]  # fmt: skip

    def clicks(bought: set[str]) -> int:
        # budget 0: a click never reaches the purchase (no HTTP call), so the client is not needed
        s = Shopper(0, "BE", {"shoes": 1.0}, budget=0, attention=10, seed=7, bought=bought)
        session = Session(None, s, {"prd_a": product}, None, 0)  # type: ignore[arg-type]
        for clip in clips:
            session.clip(clip)
        return sum(e["type"] == "product_click" for e in session.events)

    assert clicks(set()) > 10  # the same clips, the same random numbers: they would click to buy
    assert clicks({"prd_a"}) == 0
