"""The pipeline's parts on their own: nearest neighbours, heads, re-ranking, text, parameters, cursors."""

from __future__ import annotations

import numpy as np
import orjson
import pytest

from etalage.core.errors import BadRequest
from etalage.feed.pages import significant
from etalage.feed.parameters import DESCRIPTIONS, OUTCOMES, RankingParameters, preset
from etalage.feed.pipeline import heads as H
from etalage.feed.pipeline.ann import IVFIndex
from etalage.feed.pipeline.context import Candidates
from etalage.feed.pipeline.rerank import explore_slots, rerank
from etalage.feed.text import TextIndex, item_text

pytestmark = pytest.mark.db_agnostic


def test_ivf_finds_nearly_all_of_the_exact_top_items() -> None:
    rng = np.random.default_rng(0)
    centres = rng.standard_normal((50, 32)).astype(np.float32)
    vectors = centres[rng.integers(50, size=30_000)] + 0.3 * rng.standard_normal((30_000, 32)).astype(
        np.float32
    )
    ann = IVFIndex(vectors, exact_below=1000)
    assert not ann.exact and len(ann.centroids) == int(np.sqrt(30_000))
    recalls = []
    for _ in range(20):
        q = rng.standard_normal(32).astype(np.float32)
        exact = set(np.argsort(-(vectors @ q))[:100].tolist())
        found, scores = ann.search(q, 100)
        assert np.all(np.diff(scores) <= 1e-6)  # best first
        recalls.append(len(exact & set(found.tolist())) / 100)
    assert np.mean(recalls) >= 0.9


def test_small_catalogues_are_searched_exactly() -> None:
    vectors = np.eye(5, dtype=np.float32)
    ann = IVFIndex(vectors)
    found, _ = ann.search(np.array([0, 0, 1, 0, 0], np.float32), 2)
    assert ann.exact and found[0] == 2


def _cands(n: int, **feats: np.ndarray) -> Candidates:
    c = Candidates(np.arange(n), np.zeros(n, np.int8), np.full(n, -1))
    base = {
        "value": np.linspace(1.0, 0.1, n), "quality": np.ones(n, np.float32), "uncertainty": np.zeros(n),
        "creator": np.arange(n), "merchant": np.arange(n), "category": np.full(n, -1),
        "age_h": np.full(n, 1000.0), "impressions": np.full(n, 10_000.0), "kind": np.zeros(n, np.int8),
    }  # fmt: skip
    base.update(feats)
    c.feats.update(base)
    return c


def test_rerank_caps_a_creator_and_its_adjustments_add_up() -> None:
    n = 12
    creators = np.array([0] * 6 + list(range(1, 7)))
    c = _cands(n, creator=creators)
    params = RankingParameters(exploration_share=0.0)
    picks = rerank(c, params, 8)
    chosen_creators = [int(creators[p.row]) for p in picks]
    assert chosen_creators.count(0) == params.max_per_creator
    for p in picks:
        assert p.value + p.quality_adj + p.exploration + p.diversity == pytest.approx(p.score)


def _greedy_by_definition(c: Candidates, p: RankingParameters, limit: int) -> list[int]:
    """The re-ranker's rule applied to every candidate at every slot (the module docstring, literally)."""
    base = c.feats["value"] * c.feats["quality"]
    new = (c.feats["age_h"] <= p.exploration_new_hours) | (c.feats["impressions"] < p.exploration_max_impressions)
    slots, rows, live = explore_slots(limit, p.exploration_share), [], c.feats["kind"] == 1
    for slot in range(limit):
        def seen(name: str, r: int) -> int:
            return sum(1 for x in rows if c.feats[name][x] == c.feats[name][r] and c.feats[name][r] >= 0)

        def ok(r: int) -> bool:
            return (r not in rows and seen("creator", r) < p.max_per_creator and seen("merchant", r) < p.max_per_merchant
                    and not (live[r] and sum(live[rows]) >= p.max_live_per_page))  # fmt: skip

        explore = slot in slots and any(ok(r) and new[r] for r in range(len(c)))
        pool = [r for r in range(len(c)) if ok(r) and (new[r] or not explore)] or [r for r in range(len(c)) if r not in rows]
        if not pool:
            break
        raw = base + (p.exploration_kappa * c.feats["uncertainty"] * c.feats["quality"] if explore else 0.0)
        effs = [raw[r] * p.creator_decay ** seen("creator", r) * p.merchant_decay ** seen("merchant", r)
                * p.category_decay ** seen("category", r) for r in pool]  # fmt: skip
        rows.append(pool[int(np.argmax(effs))])
    return rows


def test_rerank_picks_what_its_rule_says_slot_by_slot() -> None:
    rng = np.random.default_rng(3)
    for trial in range(300):
        n = int(rng.integers(1, 40))
        values = rng.choice([0.0, 0.25, 0.5], n) if trial % 3 == 0 else rng.random(n) - (0.6 if trial % 4 == 0 else 0)
        c = _cands(n, value=values, quality=rng.choice([1.0, 0.5], n).astype(np.float32),
                   uncertainty=rng.random(n) * 0.3, creator=rng.integers(-1, 5, n), merchant=rng.integers(-1, 4, n),
                   category=rng.integers(-1, 3, n), age_h=rng.choice([1.0, 1000.0], n),
                   kind=rng.choice([0, 1], n, p=[0.8, 0.2]).astype(np.int8))  # fmt: skip
        params = RankingParameters(exploration_share=float(rng.choice([0.0, 0.3])))
        limit = int(rng.integers(1, 12))
        assert [p.row for p in rerank(c, params, limit)] == _greedy_by_definition(c, params, limit)


def test_quality_demotes_and_exploration_reserves_slots_for_new_items() -> None:
    n = 10
    quality = np.ones(n, np.float32)
    quality[0] = 0.1  # the best item by value sells a product people return
    age = np.full(n, 1000.0)
    age[9] = 2.0  # a brand-new video with the lowest value
    c = _cands(n, quality=quality, age_h=age, uncertainty=np.full(n, 0.05))
    picks = rerank(c, RankingParameters(exploration_share=0.2), 5)
    rows = [p.row for p in picks]
    assert rows[0] != 0 and 9 in rows
    explored = [p for p in picks if p.explore_slot]
    assert explored and all(c.feats["age_h"][p.row] <= 48 for p in explored)
    assert explore_slots(10, 0.15) == {3, 6}


def test_heads_value_counts_purchases_and_videos_without_products_sell_nothing() -> None:
    params = preset("quality")
    heads = H.Heads.defaults(params)
    counts = np.zeros((10, 2))
    counts[0] = 1000  # impressions
    counts[6] = [50, 50]  # purchases
    rates, sds = H.base_rates(counts, np.array([True, False]), heads, params.rate_strength)
    zero = np.zeros(2)
    p = H.predict(rates, {"affinity": np.array([2.0, 2.0]), "follow": zero, "session": zero}, heads)
    assert p["purchase"][1] == 0 and p["purchase"][0] > rates["purchase"][0]  # taste raises the chance
    v = H.value(p, params)
    assert v[0] == pytest.approx(sum(params.outcome_weights[o] * p[o][0] for o in OUTCOMES))
    engagement = preset("engagement")
    assert engagement.outcome_weights["purchase"] == 0 and not engagement.quality_enabled


def test_commerce_rates_start_from_the_items_own_earlier_funnel_steps() -> None:
    """Purchases are rare: until an item has its own, its chance of one follows its clicks (and those its
    completed views), times the platform's conversion; with no evidence at all, the platform's averages."""
    from etalage.feed.counters import F

    params = preset("quality")
    heads = H.Heads.defaults(params)
    counts = np.zeros((len(F), 3))
    counts[F["impressions"]] = [0, 40, 40]
    counts[F["completions"]] = [0, 30, 4]
    counts[F["clicks"]] = [0, 12, 0]
    has_products = np.ones(3, bool)
    rates, _ = H.base_rates(counts, has_products, heads, params.rate_strength, funnel=True)
    for o in OUTCOMES:
        assert rates[o][0] == pytest.approx(heads.global_rates[o])  # nothing known: the averages
    assert rates["purchase"][1] > 3 * rates["purchase"][2]  # clicked a lot, nothing bought yet
    flat, _ = H.base_rates(counts, has_products, heads, params.rate_strength, funnel=False)
    assert flat["purchase"][1] == pytest.approx(flat["purchase"][2])  # without the funnel: no difference
    assert rates["watch_completion"][1] == pytest.approx(flat["watch_completion"][1])  # the first step as before


def test_a_dear_new_product_is_not_expected_to_sell_like_a_cheap_one() -> None:
    """With ``price_elasticity`` 1 a new product's chance of reaching the cart once clicked falls in
    proportion to its relative price, so its price alone does not raise its value; its own sales still count
    at their price."""
    from etalage.feed.counters import F

    params = preset("quality")
    assert params.price_elasticity == 1.0 and preset("engagement").price_elasticity == 0.0
    heads = H.Heads.defaults(params)
    counts = np.zeros((len(F), 4))
    counts[F["impressions"]] = [40, 40, 400, 400]
    counts[F["completions"]] = [20, 20, 200, 200]
    counts[F["clicks"]] = [6, 6, 60, 60]
    counts[F["carts"]] = [0, 0, 30, 30]  # the last two have sold, alike, whatever their price
    counts[F["purchases"]] = [0, 0, 20, 20]
    rel = np.array([1.0, 4.0, 1.0, 4.0])
    has = np.ones(4, bool)
    priced, _ = H.base_rates(counts, has, heads, params.rate_strength, True, rel, params.price_elasticity)
    blind, _ = H.base_rates(counts, has, heads, params.rate_strength, True)
    for o in ("watch_completion", "like_share", "product_click"):
        assert priced[o].tolist() == pytest.approx(blind[o].tolist())  # before the cart: price plays no part
    assert priced["add_to_cart"][0] == pytest.approx(blind["add_to_cart"][0])  # at the median: as before
    assert priced["add_to_cart"][1] < 0.3 * priced["add_to_cart"][0]  # four times dearer, nothing of its own
    zero = {s: np.zeros(4) for s in H.SIGNALS}
    value = H.value(H.predict(priced, zero, heads), params, rel)
    assert value[1] <= value[0] * 1.02  # its price does not make a new dear product worth more
    assert value[3] > 2.5 * value[2]  # sales of its own count at their price
    assert priced["add_to_cart"][3] > 0.8 * priced["add_to_cart"][2]


def test_the_lists_price_a_region_as_scoring_does() -> None:
    """The lists reprice only the cart and purchase steps per region, from rates smoothed once; scoring
    smooths everything per page. Both must give the same chances."""
    from etalage.feed.counters import F

    rng = np.random.default_rng(11)
    params = preset("quality")
    heads = H.Heads.defaults(params)
    counts = rng.poisson(2.0, (len(F), 300)).astype(float)
    counts[F["impressions"]] = rng.integers(0, 400, 300)
    has = rng.random(300) < 0.8
    rel = rng.uniform(0.25, 4.0, 300)
    full, _ = H.base_rates(counts, has, heads, params.rate_strength, True, rel, params.price_elasticity)
    raw = H.smoothed_rates(counts, heads, params.rate_strength, True)
    priced = H.priced_cart_and_purchase(counts, has, heads, params.rate_strength, raw, rel, params.price_elasticity)
    assert set(priced) == {"add_to_cart", "purchase"}
    for o, r in priced.items():
        assert r.tolist() == pytest.approx(full[o].tolist(), rel=1e-12, abs=1e-15)
    unpriced, _ = H.base_rates(counts, has, heads, params.rate_strength, True, smoothed=raw)
    assert unpriced["product_click"].tolist() == pytest.approx(full["product_click"].tolist(), rel=1e-12)
    assert not np.allclose(unpriced["purchase"], full["purchase"])  # the price did change something


def test_chances_without_signals_in_closed_form_are_the_heads_predictions() -> None:
    rng = np.random.default_rng(5)
    heads = H.Heads.defaults(preset("quality"))
    heads.alpha.update({"purchase": 0.4, "like_share": -0.9, "watch_completion": 2.0})
    rates = {o: rng.uniform(0, 1, 500) for o in OUTCOMES}
    rates["purchase"][:50] = 0.0  # no products: no chance
    rates["add_to_cart"][50:60] = [0.0, 1e-9, 1e-6, 0.5, 1 - 1e-9, 1.0, 1e-3, 0.2, 0.999, 0.01]
    zero = np.zeros(500)
    full = H.predict(rates, {"affinity": zero, "follow": zero, "session": zero}, heads)
    closed = H.predict_without_signals(rates, heads)
    for o in OUTCOMES:
        assert closed[o].tolist() == pytest.approx(full[o].tolist(), abs=1e-12)
    assert not closed["purchase"][:50].any()


def test_the_affinity_keeps_its_order_but_not_its_tail() -> None:
    """Over a large catalogue the items a history points at are tens of deviations above the rest: the
    affinity keeps their order, but a linear term would make each of them a near-certain purchase."""
    from etalage.feed.pipeline import compress

    z = np.array([-40.0, -2.0, -0.5, 0.0, 1.5, 2.0, 3.0, 23.0, 377.0])
    a = compress(z)
    assert np.all(np.diff(a) > 0)  # monotone
    assert a[1:6].tolist() == pytest.approx(z[1:6].tolist())  # unchanged within ±2 deviations
    assert a[-1] < 9 and a[-2] < 6.1 and a[0] == pytest.approx(-(2 + np.log1p(38)))  # symmetric
    params = preset("quality")
    heads = H.Heads.defaults(params)
    counts = np.zeros((10, 1))
    rates, _ = H.base_rates(counts, np.array([True]), heads, params.rate_strength)
    zero = np.zeros(1)
    p = H.predict(rates, {"affinity": a[-2:-1], "follow": zero, "session": zero}, heads)
    assert p["purchase"][0] < 0.5  # a strong taste match, not a certain sale


def test_a_new_video_gets_content_candidates_from_its_first_second() -> None:
    text = TextIndex()
    text.build([item_text("Linen shirt for summer", ["fashion"], ["Bold linen shirt"]),
                item_text("Ceramic vase unboxing", ["homedecor"], ["Classic ceramic vase"])])  # fmt: skip
    text.add(2, item_text("My new linen summer look", ["fashion", "ootd"], []))
    scores = text.query([0], [1.0], 3)
    assert scores[2] > 0 and scores[1] == 0
    assert text.similarity([2, 1], [0])[0, 0] > text.similarity([2, 1], [0])[1, 0]


def test_every_parameter_is_described_and_the_page_is_generated_from_them() -> None:
    from etalage.feed.transparency import default_document, ranking_parameters

    params = preset("quality")
    assert set(params.as_dict()) <= set(DESCRIPTIONS)
    doc = default_document()
    for name in params.as_dict():
        assert f"`{name}`" in doc
    payload = ranking_parameters(params, H.Heads.defaults(params), {"version": None})
    assert [o["name"] for o in payload["outcomes"]] == list(OUTCOMES)
    assert preset("engagement").version != params.version


def test_cursors_are_signed_and_bound_to_the_viewer() -> None:
    from etalage.feed.pages import decode_cursor, encode_cursor

    cursor = encode_cursor("secret", "psn_a", "srv_x", 3)
    assert decode_cursor("secret", "psn_a", cursor) == ("srv_x", 3)
    for bad in (cursor + "0", cursor.replace(".", ".x"), "garbage", "e30.abc"):
        with pytest.raises(BadRequest):
            decode_cursor("secret", "psn_a", bad)
    with pytest.raises(BadRequest):  # someone else's cursor
        decode_cursor("secret", "psn_b", cursor)


def test_heads_round_trip_through_their_dict_with_every_field():
    from dataclasses import asdict

    from etalage.feed.pipeline.heads import Heads

    heads = Heads(beta={"purchase": 0.3}, gamma={"click": 0.1}, fitted_rows=7, source="refit")
    assert heads.as_dict() == asdict(heads)  # written by hand for speed: it must not drift from the fields
    assert Heads.from_dict(heads.as_dict()) == heads


def test_served_figures_keep_six_significant_digits() -> None:
    figures = significant(np.array([0.0034506459164920684, 0.987184952, 6.4416985511779785, 7.7667038e-13, 0.0,
                                    213.2481234, -0.000123456789, np.inf]))  # fmt: skip
    assert figures[:7] == [0.00345065, 0.987185, 6.4417, 7.7667e-13, 0.0, 213.248, -0.000123457]
    assert figures[7] == np.inf
    assert orjson.dumps(figures[:2]) == b"[0.00345065,0.987185]"  # short in the served log's JSON
