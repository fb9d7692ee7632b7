"""Refunds in any number of parts take back exactly the commission's share, never more (hypothesis)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from etalage.affiliates.accrual import reversed_share


@pytest.mark.db_agnostic
@given(
    total=st.integers(1, 10_000_000),
    rate_bp=st.integers(0, 5000),
    parts=st.lists(st.integers(1, 10_000_000), min_size=1, max_size=12),
)
def test_partial_refunds_add_up_to_the_share_and_a_full_refund_to_all(total, rate_bp, parts):
    amount = total * rate_bp // 10_000
    refunded = reversed_before = 0
    for part in parts:
        refunded = min(total, refunded + part)  # payments never refund more than was paid
        back = reversed_share(amount, refunded, total) - reversed_before
        assert back >= 0  # a refund never gives commission back to the creator
        reversed_before += back
        assert reversed_before <= amount
        assert reversed_before == reversed_share(amount, refunded, total)
    if refunded == total:
        assert reversed_before == amount
