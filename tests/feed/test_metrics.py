"""The protocol's metrics against small cases computed by hand."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from etalage.feed.metrics import EvalTarget, auc_of, evaluate_scores, recall_ndcg, top_k

pytestmark = pytest.mark.db_agnostic


def csr(rows: list[list[int]], n_items: int) -> sp.csr_matrix:
    r = [i for i, row in enumerate(rows) for _ in row]
    c = [j for row in rows for j in row]
    return sp.csr_matrix((np.ones(len(c)), (r, c)), shape=(len(rows), n_items))


def test_recall_and_ndcg_by_hand():
    # best-first hits: relevant at ranks 1 and 3, user has 3 relevant items
    hits = np.array([[True, False, True, False]])
    rec, ndcg = recall_ndcg(hits, np.array([3]), ks=(2, 4))
    assert rec[2][0] == pytest.approx(1 / 3)
    assert rec[4][0] == pytest.approx(2 / 3)
    # DCG@4 = 1/log2(2) + 1/log2(4) = 1.5; IDCG over min(3, 4) = 3 ranks = 1 + 1/log2(3) + 1/2
    assert ndcg[4][0] == pytest.approx(1.5 / (1 + 1 / np.log2(3) + 0.5))
    # @2: DCG = 1; IDCG over min(3, 2) = 2 ranks
    assert ndcg[2][0] == pytest.approx(1 / (1 + 1 / np.log2(3)))


def test_ndcg_ideal_is_over_min_relevant_k():
    # one relevant item ranked first is a perfect score however large K is
    _, ndcg = recall_ndcg(np.array([[True, False, False]]), np.array([1]), ks=(3,))
    assert ndcg[3][0] == pytest.approx(1.0)


def test_tied_scores_between_relevant_items_do_not_change_ndcg():
    relevant = csr([[1, 2]], 5)
    target = EvalTarget(relevant=relevant, exclude=csr([[]], 5))
    scores = np.array([[0.1, 0.9, 0.9, 0.2, 0.0]])  # the two relevant items tie at the top
    res = evaluate_scores(lambda u: scores, target, ks=(2,), coverage_k=2)
    assert res.ndcg[2] == pytest.approx(1.0)
    assert res.recall[2] == pytest.approx(1.0)


def test_auc_counts_ties_as_half():
    assert auc_of(np.array([2.0]), np.array([1.0, 2.0, 3.0])) == pytest.approx((1 + 0.5 + 0) / 3)
    assert auc_of(np.array([1.0, 1.0]), np.array([1.0])) == pytest.approx(0.5)
    assert auc_of(np.array([5.0, 4.0]), np.array([1.0, 0.0])) == pytest.approx(1.0)


def test_train_items_are_excluded_and_coverage_counts_distinct_items():
    n = 6
    relevant = csr([[3], [4]], n)
    exclude = csr([[0, 1], [0]], n)  # user 0 saw items 0, 1 in train; user 1 saw item 0
    negative = csr([[5], [2]], n)
    target = EvalTarget(relevant=relevant, exclude=exclude, negative=negative)
    scores = np.array([[9.0, 8.0, 1.0, 7.0, 0.5, 0.2], [9.0, 6.0, 5.0, 0.1, 4.0, 0.0]])
    res = evaluate_scores(lambda u: scores[u], target, ks=(1, 2), coverage_k=2)
    # user 0: items 0, 1 excluded -> ranking 3, 2, ... -> hit at rank 1
    # user 1: item 0 excluded -> ranking 1, 2, 4 -> relevant item 4 at rank 3
    assert res.recall[1] == pytest.approx(0.5)
    assert res.ndcg[2] == pytest.approx(0.5)
    # top-2 lists: {3, 2} and {1, 2} -> 3 distinct of 6 items
    assert res.coverage == pytest.approx(3 / 6)
    # AUC: user 0: 7.0 vs 0.2 -> 1; user 1: 4.0 vs 5.0 -> 0
    assert res.auc == pytest.approx(0.5)
    assert res.n_auc_users == 2


def test_top_k_orders_best_first():
    s = np.array([[0.3, 0.9, 0.1, 0.5]])
    assert top_k(s, 3).tolist() == [[1, 3, 0]]
