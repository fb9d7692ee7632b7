"""Etalage's served model: real-time scoring, online updates, cold start, explanations."""

from __future__ import annotations

import numpy as np
import pytest

from etalage.feed.components import csr_topk_rows, randomized_svd, recency_positions
from etalage.feed.model import EtalageConfig, EtalageModel

pytestmark = pytest.mark.db_agnostic


def fit(data, **cfg) -> EtalageModel:
    return EtalageModel(EtalageConfig(rank=8, **cfg)).fit(data.train_view(), data.item_ids)


def idx(model: EtalageModel, *ids: str) -> list[int]:
    return [model.item_index(i) for i in ids]


def test_batch_and_request_time_scoring_agree(clustered):
    model = fit(clustered)
    seqs = clustered.train_view().sequences
    items, weights, ts = seqs.of(3)
    batch = model.score_users(seqs, np.array([3]))[0]
    assert np.allclose(batch, model.score_history(items, weights, ts), atol=1e-5)


def test_scores_at_chosen_items_agree_with_the_full_pass(clustered):
    """The serving path (plain arrays, only the wanted items, an even-stride sample first) gives the full
    pass's figures, online increments included."""
    model = fit(clustered)
    model.partial_fit([(f"n{u}", "a0", "positive", 100 + 2 * u) for u in range(4)]
                      + [(f"n{u}", "b3", "positive", 101 + 2 * u) for u in range(4)])  # fmt: skip
    assert model.coeng_online.nnz
    cols = np.array([5, 0, 5, model.n_items - 1, 2])  # repeats and any order
    for items, weights in ((idx(model, "a0", "b3", "a0"), [1.0, 0.5, 1.0]), (idx(model, "b1"), [0.0]), ([], [])):
        ts = list(range(len(items)))
        full = model.score_history(items, weights, ts)
        assert np.allclose(model.score_history_at(cols, items, weights, ts), full[cols], atol=1e-5)
        sampled = model.score_history_at(cols, items, weights, ts, sample_step=3)
        assert np.allclose(sampled, full[np.concatenate([np.arange(0, model.n_items, 3), cols])], atol=1e-5)


def test_history_drives_the_ranking_towards_its_cluster(clustered):
    model = fit(clustered)
    s = model.score_history(idx(model, "a0", "a1"), None, [0, 1])
    a_items, b_items = idx(model, *[f"a{i}" for i in range(2, 9)]), idx(model, *[f"b{i}" for i in range(9)])
    assert s[a_items].min() > s[b_items].max()


def test_a_new_interaction_changes_the_next_page_without_refit(clustered):
    model = fit(clustered)
    before = model.score_history(idx(model, "a0"), None, [0])
    # the user just watched b0: b0's co-engaged neighbours must rise, immediately
    after = model.score_history(idx(model, "a0", "b0"), None, [0, 1])
    neighbours = idx(model, *[f"b{i}" for i in range(1, 9)])
    assert np.all(after[neighbours] > before[neighbours])
    assert np.mean(after[neighbours]) > np.mean(after[idx(model, *[f"a{i}" for i in range(1, 9)])])


def test_empty_history_falls_back_to_the_prior(clustered):
    model = fit(clustered, rate_weight=0.0)  # prior = popularity only
    model.config.weights["prior"] = 0.0  # as tuned on Beauty: no prior next to personal components
    for s in (model.score_history([], None, None), model.score_history(idx(model, "a0"), [0.0], None)):
        assert s.shape == (model.n_items,)
        assert np.allclose(s, model.prior_z)  # new users still get the popularity/quality prior
        assert model.pos_counts[np.argmax(s)] == model.pos_counts.max()
    top = int(np.argmax(model.prior_z))
    assert model.explain([], top)["score"] == pytest.approx(float(model.prior_z[top]))


def test_partial_fit_learns_new_item_from_co_engagement(clustered):
    model = fit(clustered)
    events = []
    for u in range(8):  # several users watch a0 then a brand-new video
        events += [(f"new{u}", "a0", "positive", 100 + 2 * u), (f"new{u}", "fresh", "positive", 101 + 2 * u)]
    stats = model.partial_fit(events)
    assert stats["new_items"] == 1 and stats["pairs"] == 8
    fresh = model.item_index("fresh")
    assert model.pos_counts[fresh] == 8
    s = model.score_history(idx(model, "a0"), None, [0])
    # before the update "fresh" did not exist; now it is among the top picks after a0
    assert (s > s[fresh]).sum() <= 3
    assert np.linalg.norm(model.item_factors[fresh]) > 0  # folded into the collaborative space


def test_cold_item_with_content_vector_gets_a_score(clustered):
    rng = np.random.default_rng(0)
    centre_a, centre_b = rng.normal(size=16), rng.normal(size=16)
    feats = np.array(
        [
            (centre_a if i.startswith("a") else centre_b) + 0.1 * rng.normal(size=16)
            for i in clustered.item_ids
        ]
    )
    model = EtalageModel(EtalageConfig(rank=8)).fit(
        clustered.train_view(), clustered.item_ids, item_features=feats
    )
    [cold] = model.add_items(["a-new"], features=(centre_a + 0.1 * rng.normal(size=16))[None, :])
    assert model.pos_counts[cold] == 0
    s = model.score_history(idx(model, "a0", "a1"), None, [0, 1])
    assert np.isfinite(s[cold])
    # no interactions at all, yet it ranks with its content cluster, above every b item
    assert s[cold] > s[idx(model, *[f"b{i}" for i in range(9)])].max()
    assert np.linalg.norm(model.right[cold]) > 0  # collaborative embedding predicted from content


def test_explanations_add_up_and_name_the_history_item(clustered):
    model = fit(clustered)
    hist = idx(model, "b0", "b1")
    scores = model.score_history(hist, None, [0, 1])
    target = model.item_index("b2")
    ex = model.explain(hist, target, None, [0, 1])
    assert ex["item_id"] == "b2"
    assert ex["score"] == pytest.approx(float(scores[target]), rel=1e-4, abs=1e-4)
    assert set(ex["components"]) >= {"prior", "collab", "coeng"}
    named = {r["because_of"] for r in ex["reasons"] if r["because_of"]}
    assert named <= {"b0", "b1"} and ex["summary"]


def test_recommend_excludes_history(clustered):
    model = fit(clustered)
    recs = model.recommend(idx(model, "a0", "a1"), k=5)
    assert len(recs) == 5 and not {"a0", "a1"} & {i for i, _ in recs}


def test_components_helpers():
    assert recency_positions(np.array([0, 0, 0, 1, 1]), np.array([1, 1, 4, 2, 3])).tolist() == [1, 1, 0, 1, 0]
    import scipy.sparse as sp

    m = sp.csr_matrix(np.array([[0.0, 3, 1, 2], [5, 0, 0, 0]]))
    assert csr_topk_rows(m, 2).toarray().tolist() == [[0, 3, 0, 2], [5, 0, 0, 0]]
    a = sp.random(60, 40, density=0.2, random_state=1, format="csr")
    s, v = randomized_svd(a, 5, n_iter=6)
    assert np.allclose(s, np.linalg.svd(a.toarray(), compute_uv=False)[:5], rtol=1e-3)
    assert v.shape == (40, 5)
