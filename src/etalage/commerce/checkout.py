"""One-tap checkout: one cart (or one "buy now" line) → one order per merchant → one payment.

Three steps, so that an order always exists before money moves and a crash can never strand a charge:

1. One transaction re-validates everything (region launched, age rule, prices, tax, shipping, merchant
   verified, stock deliverable into the region), holds the stock (with an expiry), and writes the orders
   (awaiting payment), the payment (pending) and the idempotency key. Commit.
2. Ask the provider to authorise and capture, with the payment id as its idempotency key.
3. A second transaction records the answer; the payment's listener moves the orders (paid: stock sold,
   ``order.paid`` published; declined: cancelled, stock released). A timeout leaves the payment pending
   for a webhook or ``payments.recovery`` to settle.

After a crash between 1 and 3 the worst case is an order awaiting payment whose hold expires; recovery
asks the provider what happened to the payment and settles it either way.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, insert, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from etalage.commerce import addresses, idempotency, launch, orders, tax
from etalage.commerce import checkout_rules as rules
from etalage.commerce.checkout_answers import Outcome, current, declined, render, replay
from etalage.commerce.errors import (
    MissingCheckoutDetail,
    PaymentFailed,
    PaymentProviderUnavailable,
    TotalChanged,
)
from etalage.commerce.models import Cart, Order, OrderEvent, OrderLine
from etalage.commerce.regions import region
from etalage.config import get_settings
from etalage.core import bus
from etalage.core.errors import ServiceUnavailable
from etalage.core.money import split_proportionally
from etalage.db import new_id, utcnow
from etalage.inventory import stock
from etalage.payments import service as payments
from etalage.payments.provider import ProviderRejected, ProviderTimeout, ProviderUnavailable, provider
from etalage.promotions import claims as promo_claims
from etalage.promotions import offers as promo

__all__ = ["CheckoutRequest", "LineIn", "Outcome", "begin_checkout", "current", "place_order", "replay"]
ORDER_CREATED = "order.created"  # in the transaction that writes the orders (merchant webhooks)

_INSERT_ORDERS, _INSERT_LINES, _INSERT_EVENTS = (insert(t.__table__) for t in (Order, OrderLine, OrderEvent))
_CART_CHECKOUT = (
    update(Cart.__table__)
    .where(Cart.__table__.c.id == bindparam("cart"))
    .values(checkout_id=bindparam("checkout"))
)


@dataclass(frozen=True)
class LineIn:
    variant_id: str
    quantity: int
    expected_unit_amount: int | None = None
    expected_currency: str | None = None
    source_video_id: str | None = None
    source_live_room_id: str | None = None


@dataclass(frozen=True)
class CheckoutRequest:
    lines: list[LineIn]
    address_id: str | None = None
    payment_method_id: str | None = None
    expected_total: tuple[int, str] | None = None
    cart_id: str | None = None
    cart_region: str | None = None
    buyer_age_band: str | None = None  # minor | adult | unknown, from the caller's principal
    voucher_code: str | None = None


@dataclass
class _Prepared:
    checkout_id: str
    payment_id: str
    amount: int
    currency: str
    token: str
    method: Any
    orders: list[Any] = field(default_factory=list)  # (order row dict, line row dicts)


def begin_checkout(
    session: Session, user_id: str, req: CheckoutRequest, key: str, fp: str
) -> tuple[str, _Prepared | None]:
    """Step 1 alone (validate, hold stock, write orders and the pending payment); the caller commits.
    Returns the checkout id, and nothing to pay if the key was already used (a replay)."""
    now = utcnow()
    checkout_id = new_id("chk")
    claim = idempotency.claim(
        session, user_id=user_id, key=key, scope="checkout", fp=fp, resource_id=checkout_id
    )
    if not claim.fresh:
        return claim.resource_id, None
    lines = rules.merge_lines(req.lines)
    if not lines:
        raise MissingCheckoutDetail("There is nothing to buy: add something to the cart first.")
    address, method, region_code = rules.buyer_details(session, user_id, req)
    items = rules.sellable_items(session, lines, region_code)
    prepared = _Prepared(
        checkout_id, new_id("pay"), 0, region(region_code).currency, method.psp_token, method
    )
    voucher = (
        promo.plan_voucher(
            session, user_id, req.voucher_code, lines, items, region_code, prepared.currency, now
        )
        if req.voucher_code
        else None
    )
    orders, order_lines, events, wants = _order_rows(
        session, prepared, user_id, lines, items, address, now, voucher.by_merchant if voucher else None
    )
    if req.expected_total is not None and req.expected_total != (prepared.amount, prepared.currency):
        raise TotalChanged(
            "The total is not the one you saw (prices, tax or shipping changed); review it and check out again.",
            total={"amount": prepared.amount, "currency": prepared.currency},
        )
    promo_claims.claim(
        session, user_id=user_id, checkout_id=checkout_id, items=items, orders=prepared.orders,
        voucher=voucher, now=now,
    )  # fmt: skip
    hold = timedelta(seconds=get_settings().reservation_seconds)
    stock.reserve(session, wants, region_code, expires_at=now + hold, actor=user_id)
    conn = session.connection()  # prebuilt Core inserts: this runs on every purchase
    conn.execute(_INSERT_ORDERS, orders)
    conn.execute(_INSERT_LINES, order_lines)
    conn.execute(_INSERT_EVENTS, events)
    if bus.wanted(ORDER_CREATED):
        for o in orders:
            bus.publish(session, ORDER_CREATED, {
                "order_id": o["id"], "merchant_id": o["merchant_id"], "checkout_id": checkout_id,
                "user_id": user_id, "region": o["region_code"], "currency": o["currency"],
                "total_amount": o["total_amount"], "status": o["status"], "created_at": now.isoformat(),
            })  # fmt: skip
    payments.create_payment(
        session,
        payment_id=prepared.payment_id,
        checkout_id=checkout_id,
        user_id=user_id,
        amount=prepared.amount,
        currency=prepared.currency,
        method=method,
        now=now,
    )
    if req.cart_id:
        conn.execute(_CART_CHECKOUT, {"cart": req.cart_id, "checkout": checkout_id})
    return checkout_id, prepared


def _order_rows(
    session: Session,
    prep: _Prepared,
    user_id: str,
    lines: list[LineIn],
    items: dict[str, Any],
    address: Any,
    now: datetime,
    discounts: dict[str, int] | None = None,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]], list[stock.Want]]:
    """One order per merchant, priced (tax by destination, shipping per merchant, a voucher's share per
    merchant taken off its lines before tax); adds up ``prep.amount``."""
    region_code = address.country
    by_merchant: dict[str, list[LineIn]] = defaultdict(list)
    for ln in lines:
        by_merchant[items[ln.variant_id].merchant_id].append(ln)
    terms = launch.shipping_terms(session, sorted(by_merchant), region_code)
    ship_to = addresses.snapshot(address)
    orders, order_lines, events, wants = [], [], [], []
    for merchant_id in sorted(by_merchant):
        mlines = by_merchant[merchant_id]
        taxed = [
            tax.TaxLine(items[ln.variant_id].price_amount, ln.quantity, items[ln.variant_id].tax_class)
            for ln in mlines
        ]
        fee, free_over = terms[merchant_id]
        shipping = tax.shipping_fee(sum(t.unit_amount * t.quantity for t in taxed), fee, free_over)
        off = (discounts or {}).get(merchant_id, 0)
        line_off = split_proportionally(off, [t.unit_amount * t.quantity for t in taxed]) if off else None
        totals = tax.price_order(region_code, taxed, shipping, state=address.state, discounts=line_off)
        order_id = new_id("ord")
        order = dict(
            id=order_id, checkout_id=prep.checkout_id, user_id=user_id, merchant_id=merchant_id,
            payment_id=prep.payment_id, region_code=region_code, currency=prep.currency, status="awaiting_payment",
            subtotal_amount=totals.subtotal_amount, shipping_amount=totals.shipping_amount,
            tax_amount=totals.tax_amount, total_amount=totals.total_amount, tax_included=totals.tax_included,
            discount_amount=totals.discount_amount,
            refunded_amount=0, ship_to=ship_to, source_video_id=mlines[0].source_video_id,
            source_live_room_id=mlines[0].source_live_room_id, created_at=now, updated_at=now, paid_at=None,
        )  # fmt: skip
        rows = []
        for ln, priced in zip(mlines, totals.lines, strict=True):
            it = items[ln.variant_id]
            rows.append(
                dict(
                    order_id=order_id,
                    product_id=it.product_id,
                    variant_id=it.variant_id,
                    sku=it.sku,
                    title=it.title,
                    options=it.options,
                    quantity=ln.quantity,
                    unit_amount=it.price_amount,
                    tax_rate_bp=priced.rate_bp,
                    tax_amount=priced.tax_amount,
                    total_amount=priced.total_amount,
                    source_video_id=ln.source_video_id,
                    source_live_room_id=ln.source_live_room_id,
                )  # fmt: skip
            )
            wants.append(stock.Want(order_id, it.variant_id, ln.quantity))
        orders.append(order)
        order_lines += rows
        events.append(dict(order_id=order_id, from_status=None, to_status="awaiting_payment", actor=user_id,
                           reason="checkout", created_at=now))  # fmt: skip
        prep.orders.append((order, rows))
        prep.amount += totals.total_amount
    return orders, order_lines, events, wants


def _retryable(exc: DBAPIError) -> bool:
    """Deadlock or serialization failure (PostgreSQL): the transaction can simply run again."""
    return getattr(getattr(exc, "orig", None), "sqlstate", None) in ("40P01", "40001")


def _in_transaction(session: Session, fn: Any, *args: Any) -> Any:
    for attempt in range(3):
        try:
            result = fn(*args)
            session.commit()
            return result
        except DBAPIError as exc:
            session.rollback()
            if _retryable(exc) and attempt < 2:
                continue
            if "database is locked" in str(exc):
                raise ServiceUnavailable(
                    "The shop is very busy; try again in a moment.", headers={"Retry-After": "1"}
                ) from exc
            raise
    raise AssertionError("unreachable")


def place_order(
    session: Session,
    user_id: str,
    req: CheckoutRequest,
    *,
    key: str,
    fp: str,
    webhook_url: str | None,
    return_url: str | None = None,
) -> Outcome:
    """Run a checkout (see the module docstring). ``session`` is the request's; this commits it twice."""
    checkout_id, prep = _in_transaction(session, begin_checkout, session, user_id, req, key, fp)
    if prep is None:
        return replay(session, user_id, checkout_id)
    # What the payment's listener would otherwise read back in step 3 (webhooks and polls still read it).
    orders.remember_checkout(
        session, checkout_id, [ln for _, lines in prep.orders for ln in lines], bool(req.cart_id)
    )
    try:
        answer = provider().authorise(
            key=prep.payment_id,
            amount=prep.amount,
            currency=prep.currency,
            token=prep.token,
            capture=True,
            reference=prep.checkout_id,
            webhook_url=webhook_url,
            return_url=return_url,
        )
    except ProviderTimeout:
        return render(prep, "pending", None)  # the webhook or recovery will tell
    except ProviderUnavailable as exc:
        _in_transaction(
            session,
            lambda: payments.fail(
                session,
                prep.payment_id,
                source="checkout",
                reason="the payment provider was unreachable; nothing was charged",
            ),
        )
        raise PaymentProviderUnavailable(
            "The payment provider is not reachable; nothing was charged and the items "
            "were put back. Try again in a moment.",
            checkout_id=prep.checkout_id,
        ) from exc
    except ProviderRejected as exc:
        refusal = f"refused by the provider: {exc.message}"
        _in_transaction(
            session, lambda: payments.fail(session, prep.payment_id, source="checkout", reason=refusal)
        )
        raise PaymentFailed(
            f"The payment provider refused this payment method ({exc.code}); add it again or choose "
            "another one.",
            checkout_id=prep.checkout_id,
        ) from exc
    _in_transaction(
        session,
        lambda: payments.apply_provider_state(
            session, prep.payment_id, answer, source="checkout", expected="pending"
        ),
    )
    status = payments.PROVIDER_TO_OURS.get(answer.status, "pending")
    if status == "declined":
        raise declined(prep.checkout_id, answer.decline_code)
    return render(prep, status, answer.next_action, brand=answer.brand, last4=answer.last4)
