"""What other domains (and the web pages) use from fulfilment.

- ``shipments``: ``create_shipment``, ``merchant_delivered``, ``shopper_received``, ``shipments_of_order``.
- ``returns``: ``request_return`` (below, with its Idempotency-Key), ``decide``, ``receive``, ``refund``.
- ``centres``: the platform's fulfilment centres and merchants' enrolments.
- :func:`product_quality` — orders, returns and ratings per product, for the feed's quality signal
  (``feed.quality.AfterSaleProvider``).
- Bus topics (published in the transaction, delivered after commit; ``subscribe_in_transaction`` listeners run
  with the change): ``shipment.created`` {shipment_id, order_id, merchant_id, carrier, tracking_number,
  fulfilled_by, items}, ``shipment.delivered`` {… delivered_at}, ``return.requested|approved|rejected|
  received|refunded`` {return_id, order_id, merchant_id, status; refunded: refund_id, amount, currency}.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from etalage.accounts.authz import Principal
from etalage.fulfilment import returns
from etalage.fulfilment.models import ReturnRequest
from etalage.fulfilment.returns import AUTO_APPROVE_JOB
from etalage.fulfilment.shipments import SHIPMENT_CREATED, SHIPMENT_DELIVERED

__all__ = ["AUTO_APPROVE_JOB", "SHIPMENT_CREATED", "SHIPMENT_DELIVERED", "ProductQuality", "product_quality",
           "request_return"]  # fmt: skip


@dataclass(frozen=True)
class ProductQuality:
    orders: int = 0
    returns: int = 0
    complaints: int = 0
    ratings: int = 0
    low_ratings: int = 0


def request_return(
    session: Session,
    principal: Principal,
    order_id: str,
    lines: list[tuple[str, int]],
    reason: str,
    *,
    key: str | None,
    fp: str,
) -> tuple[ReturnRequest, bool]:
    """A shopper's return request; with an Idempotency-Key a repeated request answers the first one.
    Returns (return, created)."""
    from etalage.commerce import idempotency
    from etalage.db import new_id

    return_id = new_id("ret")
    if key is not None:
        key = idempotency.require_key(key)
        claim = idempotency.claim(session, user_id=principal.user_id, key=key, scope="return", fp=fp,
                                  resource_id=return_id)  # fmt: skip
        if not claim.fresh:
            return returns.shopper_return(session, principal, claim.resource_id), False
    return returns.request_return(session, principal, order_id, lines, reason, return_id=return_id), True


def product_quality(session: Session, product_ids: list[str]) -> dict[str, ProductQuality]:
    """Per product: paid orders containing it, returns of it (not rejected), ratings and low (1–2 star)
    ratings from reviews when that domain is installed."""
    from etalage.commerce import service as commerce

    ids = sorted(set(product_ids))
    try:
        from etalage.reviews import service as reviews  # type: ignore[import-not-found,unused-ignore]
    except ImportError:
        reviews = None
    counts = getattr(reviews, "rating_counts", None)
    orders: dict[str, int] = {}
    returned: dict[str, int] = {}
    ratings: dict[str, tuple[int, int]] = {}
    for start in range(0, len(ids), 900):  # the feed asks about thousands; keep each IN list modest
        chunk = ids[start : start + 900]
        orders.update(commerce.orders_per_product(session, chunk))
        returned.update(returns.returns_per_product(session, chunk))
        if counts is not None:
            ratings.update({pid: (int(n), int(low)) for pid, (n, low) in counts(session, chunk).items()})
    out = {}
    for pid in ids:
        n, low = ratings.get(pid, (0, 0))
        if orders.get(pid) or returned.get(pid) or n:
            out[pid] = ProductQuality(orders=orders.get(pid, 0), returns=returned.get(pid, 0), ratings=n,
                                      low_ratings=low)  # fmt: skip
    return out
