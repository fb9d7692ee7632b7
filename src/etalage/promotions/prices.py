"""Price history per variant and region, and the EU "prior price" rule.

Catalog calls :func:`record_price` whenever a regular price is set, changed or removed, in the same
transaction. In an EU region a reduced price (a running flash sale, or a regular price lowered within the
last 30 days) comes with the lowest price the variant had in the 30 days before the reduction started
(Omnibus Directive 2019/2161, art. 6a of the Price Indication Directive). A variant with no recorded
history (priced before history was kept) counts its current regular price as that prior price.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from etalage.db import utcnow
from etalage.promotions.models import PriceChange
from etalage.promotions.offers import active_sales

EU_REGIONS = frozenset(
    [
        "AT",
        "BE",
        "BG",
        "HR",
        "CY",
        "CZ",
        "DK",
        "EE",
        "FI",
        "FR",
        "DE",
        "GR",
        "HU",
        "IE",
        "IT",
        "LV",
        "LT",
        "LU",
        "MT",
        "NL",
        "PL",
        "PT",
        "RO",
        "SK",
        "SI",
        "ES",
        "SE",
    ]
)
WINDOW = timedelta(days=30)


def record_price(
    session: Session,
    variant_id: str,
    region_code: str,
    amount: int | None,
    currency: str,
    *,
    actor: str = "system",
    at: datetime | None = None,
) -> None:
    session.execute(
        insert(PriceChange),
        [dict(variant_id=variant_id, region_code=region_code, amount=amount, currency=currency,
              effective_from=at or utcnow(), actor=actor[:40])],
    )  # fmt: skip


@dataclass(frozen=True)
class PriceFacts:
    price: int | None  # what a shopper pays now
    regular: int | None
    currency: str | None
    reduced: bool
    lowest_30d: int | None  # EU regions, when reduced
    sale: Any = None  # the running flash sale row, if it sets the price


def _lowest_before(history: list[tuple[datetime, int | None]], start: datetime) -> int | None:
    """The lowest price in effect at any time in the 30 days before ``start``."""
    since = start - WINDOW
    seen: list[int] = []
    in_effect: int | None = None
    for at, amount in history:
        if at <= since:
            in_effect = amount
        elif at < start and amount is not None:
            seen.append(amount)
    if in_effect is not None:
        seen.append(in_effect)
    return min(seen) if seen else None


def price_facts(
    session: Session,
    region_code: str,
    regular: dict[str, tuple[int | None, str | None]],
    now: datetime | None = None,
) -> dict[str, PriceFacts]:
    """For each variant id in ``regular`` (its catalog price and currency in the region): what it costs
    now, whether that is a reduction and, in EU regions, the lowest price of the 30 days before."""
    now = now or utcnow()
    ids = list(regular)
    if not ids:
        return {}
    sales = active_sales(session, ids, region_code, now)
    history: dict[str, list[tuple[datetime, int | None]]] = defaultdict(list)
    for vid, at, amount in session.execute(
        select(PriceChange.variant_id, PriceChange.effective_from, PriceChange.amount)
        .where(PriceChange.variant_id.in_(ids), PriceChange.region_code == region_code)
        .order_by(PriceChange.variant_id, PriceChange.effective_from, PriceChange.id)
    ):
        history[vid].append((at, amount))
    eu = region_code in EU_REGIONS
    out = {}
    for vid, (amount, currency) in regular.items():
        sale = sales.get(vid)
        hist = history.get(vid, [])
        if amount is None:
            out[vid] = PriceFacts(None, None, currency, False, None)
            continue
        start: datetime | None = None
        price = amount
        if (
            sale is not None
            and sale.sold < sale.quantity
            and sale.currency == currency
            and sale.price_amount < amount
        ):
            start, price = sale.starts_at, sale.price_amount
        else:
            sale = None
            prices = [a for _, a in hist if a is not None]
            if len(prices) >= 2 and prices[-1] < prices[-2] and hist[-1][0] > now - WINDOW:
                start = hist[-1][0]
        lowest = None
        if start is not None and eu:
            lowest = _lowest_before(hist, start) if hist else amount
            if lowest is None:
                lowest = amount
        out[vid] = PriceFacts(price, amount, currency, start is not None, lowest, sale)
    return out
