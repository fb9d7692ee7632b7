"""Order arithmetic: line totals, VAT or sales tax, shipping. Pure functions on integer minor units.

Rounding is half-to-even per line (``core.money.percent_of``'s rule), and every total is the exact sum of
its parts, so an invoice always adds up.

- VAT regions (prices include VAT): the tax in a gross amount is ``gross * r / (1 + r)``; shipping is an
  ancillary supply taxed like the goods it ships, so its VAT is split over the lines by value.
- US sales tax (prices exclude tax): ``net * r`` per line, added on top; shipping is not taxed here.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal

from etalage.commerce.regions import region, tax_rate_bp
from etalage.core.money import split_proportionally


@dataclass(frozen=True)
class TaxLine:
    unit_amount: int
    quantity: int
    tax_class: str


@dataclass(frozen=True)
class PricedLine:
    total_amount: int  # unit * quantity, as priced (gross in VAT regions, net in the US)
    tax_amount: int
    rate_bp: int


@dataclass(frozen=True)
class OrderTotals:
    lines: tuple[PricedLine, ...]
    subtotal_amount: int
    shipping_amount: int
    tax_amount: int
    total_amount: int
    tax_included: bool
    discount_amount: int = 0  # vouchers: already taken off the lines' totals (tax is on the discounted price)


def _round(value: Decimal) -> int:
    return int(value.quantize(Decimal(1), ROUND_HALF_EVEN))


def vat_in_gross(gross: int, rate_bp: int) -> int:
    """The VAT contained in a VAT-inclusive amount."""
    return _round(Decimal(gross) * rate_bp / (10_000 + rate_bp))


def tax_on_net(net: int, rate_bp: int) -> int:
    return _round(Decimal(net) * rate_bp / 10_000)


def shipping_fee(subtotal: int, fee: int, free_over: int | None) -> int:
    return 0 if free_over is not None and subtotal >= free_over else fee


def price_order(
    region_code: str,
    lines: list[TaxLine],
    shipping: int,
    *,
    state: str | None = None,
    discounts: list[int] | None = None,
) -> OrderTotals:
    """Totals of one merchant's order delivered to ``region_code`` (and US ``state``). ``discounts``: a
    voucher's share per line, taken off each line's total before its tax is worked out."""
    reg = region(region_code)
    rates = [tax_rate_bp(region_code, line.tax_class, state) for line in lines]
    gross = [line.unit_amount * line.quantity for line in lines]
    discount = sum(discounts) if discounts else 0
    totals = [g - d for g, d in zip(gross, discounts, strict=True)] if discounts else gross
    subtotal = sum(gross)
    if reg.prices_include_tax:
        shipping_parts = split_proportionally(shipping, totals) if shipping else [0] * len(lines)
        line_tax = [vat_in_gross(t, r) for t, r in zip(totals, rates, strict=True)]
        shipping_tax = sum(vat_in_gross(p, r) for p, r in zip(shipping_parts, rates, strict=True))
        tax = sum(line_tax) + shipping_tax
        total = subtotal - discount + shipping
    else:
        line_tax = [tax_on_net(t, r) for t, r in zip(totals, rates, strict=True)]
        tax = sum(line_tax)
        total = subtotal - discount + shipping + tax
    priced = tuple(PricedLine(t, x, r) for t, x, r in zip(totals, line_tax, rates, strict=True))
    return OrderTotals(priced, subtotal, shipping, tax, total, reg.prices_include_tax, discount)
