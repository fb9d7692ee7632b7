"""Order arithmetic and the order state machine: pure functions, checked with examples and properties."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from etalage.commerce import order_states, tax
from etalage.commerce.regions import REGIONS, US_STATE_SALES_TAX_BP, tax_rate_bp

pytestmark = pytest.mark.db_agnostic

lines_strategy = st.lists(
    st.builds(
        tax.TaxLine,
        unit_amount=st.integers(1, 10_000_000),
        quantity=st.integers(1, 99),
        tax_class=st.sampled_from(["standard", "reduced", "super_reduced", "zero"]),
    ),
    min_size=1,
    max_size=8,
)


def test_rates_the_issue_names():
    assert [tax_rate_bp("BE", c) for c in ("standard", "reduced")] == [2100, 600]
    assert [tax_rate_bp("ES", c) for c in ("standard", "reduced", "super_reduced")] == [2100, 1000, 400]
    assert tax_rate_bp("GB", "standard") == 2000
    assert tax_rate_bp("US", "standard", "CA") == 725 and tax_rate_bp("US", "standard", "OR") == 0
    assert tax_rate_bp("US", "zero", "NY") == 0
    assert set(REGIONS) >= {"BE", "NL", "FR", "DE", "ES", "GB", "US", "ID"}
    assert REGIONS["BE"].min_purchase_age == 18 and REGIONS["NL"].min_purchase_age is None
    assert len(US_STATE_SALES_TAX_BP) == 51  # the states and DC


def test_belgian_invoice_example():
    # 2 × 19.99 EUR at 21 % plus 4.95 EUR shipping: VAT is extracted from the gross amounts.
    totals = tax.price_order("BE", [tax.TaxLine(1999, 2, "standard")], 495)
    assert totals.subtotal_amount == 3998 and totals.total_amount == 4493
    assert totals.lines[0].tax_amount == 694  # 3998 × 21/121 = 693.87
    assert totals.tax_amount == 694 + 86  # shipping's VAT: 495 × 21/121 = 85.9
    assert totals.tax_included


def test_us_sales_tax_is_added_on_top():
    totals = tax.price_order("US", [tax.TaxLine(10_000, 1, "standard")], 599, state="CA")
    assert totals.tax_amount == 725 and totals.total_amount == 10_000 + 599 + 725
    assert not totals.tax_included


def test_mixed_rates_split_shipping_vat_by_value():
    totals = tax.price_order("ES", [tax.TaxLine(1000, 1, "standard"), tax.TaxLine(3000, 1, "super_reduced")], 400)
    # 100 of shipping goes with the 21 % line, 300 with the 4 % line.
    assert totals.tax_amount == tax.vat_in_gross(1000, 2100) + tax.vat_in_gross(3000, 400) + tax.vat_in_gross(
        100, 2100
    ) + tax.vat_in_gross(300, 400)


@settings(max_examples=300, deadline=None)
@given(lines=lines_strategy, shipping=st.integers(0, 100_000), region=st.sampled_from(["BE", "ES", "FR", "GB", "ID"]))
def test_vat_totals_always_add_up(lines, shipping, region):
    totals = tax.price_order(region, lines, shipping)
    assert totals.subtotal_amount == sum(line.unit_amount * line.quantity for line in lines)
    assert totals.total_amount == totals.subtotal_amount + shipping  # VAT is inside the prices
    assert 0 <= totals.tax_amount <= totals.total_amount
    for line, priced in zip(lines, totals.lines, strict=True):
        assert 0 <= priced.tax_amount <= priced.total_amount
        if line.tax_class == "zero":
            assert priced.tax_amount == 0


@settings(max_examples=300, deadline=None)
@given(lines=lines_strategy, shipping=st.integers(0, 100_000), state=st.sampled_from(sorted(US_STATE_SALES_TAX_BP)))
def test_sales_tax_totals_always_add_up(lines, shipping, state):
    totals = tax.price_order("US", lines, shipping, state=state)
    assert totals.total_amount == totals.subtotal_amount + shipping + totals.tax_amount
    assert totals.tax_amount == sum(p.tax_amount for p in totals.lines)


@given(gross=st.integers(0, 10**12), rate=st.integers(0, 3000))
def test_vat_extraction_is_within_half_a_cent(gross, rate):
    vat = tax.vat_in_gross(gross, rate)
    exact = gross * rate / (10_000 + rate)
    assert abs(vat - exact) <= 0.5


@given(
    subtotal=st.integers(0, 10**9),
    fee=st.integers(0, 10**5),
    free_over=st.one_of(st.none(), st.integers(1, 10**9)),
)
def test_free_shipping_threshold(subtotal, fee, free_over):
    charged = tax.shipping_fee(subtotal, fee, free_over)
    assert charged == (0 if free_over is not None and subtotal >= free_over else fee)


# --- state machine --------------------------------------------------------------------------------------


def test_happy_path_and_terminal_states():
    path = ["awaiting_payment", "paid", "fulfilling", "shipped", "delivered", "completed"]
    assert all(order_states.can_move(a, b) for a, b in zip(path, path[1:], strict=False))
    assert {"cancelled", "refunded"} == order_states.TERMINAL
    assert not order_states.can_move("shipped", "cancelled")  # once shipped, only refunds
    assert not order_states.can_move("awaiting_payment", "shipped")
    assert not order_states.can_move("completed", "paid")


@given(st.lists(st.sampled_from(order_states.STATUSES), max_size=30))
def test_random_walks_only_take_declared_edges(moves):
    state = "awaiting_payment"
    seen = [state]
    for to in moves:
        if order_states.can_move(state, to):
            state = to
            seen.append(state)
    for a, b in zip(seen, seen[1:], strict=False):
        assert b in order_states.TRANSITIONS[a]
    if state in order_states.TERMINAL:
        assert order_states.next_states(state) == []
    # money never comes back once refunded in full, and nothing un-cancels
    assert "paid" not in seen[seen.index("cancelled") :] if "cancelled" in seen else True
