"""After checkout: shoppers and merchants read orders, move them on, cancel them, refund them."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from etalage.accounts.authz import Principal, require_merchant
from etalage.commerce import idempotency
from etalage.commerce import orders as order_store
from etalage.commerce.models import Order
from etalage.commerce.order_states import MERCHANT_MOVES
from etalage.commerce.schemas import CheckoutOut
from etalage.commerce.views import checkout_out, orders_out
from etalage.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from etalage.core.pagination import PageParams, paginate
from etalage.db import new_id
from etalage.inventory import stock
from etalage.payments import refunds
from etalage.payments import service as payments
from etalage.payments.models import Refund
from etalage.payments.provider import ProviderError, provider


def list_for_shopper(
    session: Session, principal: Principal, params: PageParams
) -> tuple[list[Order], str | None]:
    return paginate(session, select(Order).where(Order.user_id == principal.user_id), Order.id, params)


def list_for_merchant(
    session: Session, principal: Principal, merchant_id: str, params: PageParams, status: str | None
) -> tuple[list[Order], str | None]:
    require_merchant(principal, merchant_id)
    stmt = select(Order).where(Order.merchant_id == merchant_id)
    if status:
        stmt = stmt.where(Order.status == status)
    return paginate(session, stmt, Order.id, params)


def merchant_order(session: Session, principal: Principal, merchant_id: str, order_id: str) -> Order:
    require_merchant(principal, merchant_id)
    return order_store.get_for_merchant(session, merchant_id, order_id)


def merchant_move(
    session: Session, principal: Principal, merchant_id: str, order_id: str, to: str, reason: str
) -> Order:
    """Fulfilment steps a merchant records by hand (fulfilling, shipped, delivered, completed)."""
    require_merchant(principal, merchant_id, write=True)
    if to not in MERCHANT_MOVES:
        raise Forbidden(f"Merchants do not move orders to {to}; that follows from payments.")
    order = order_store.get_for_merchant(session, merchant_id, order_id)
    return order_store.transition(session, order, to, actor=principal.user_id, reason=reason)


def merchant_refund(
    session: Session,
    principal: Principal,
    merchant_id: str,
    order_id: str,
    amount: int,
    currency: str,
    reason: str,
    *,
    key: str | None,
    fp: str,
) -> Refund:
    """Give money back on an order (goodwill, a missing item); the order follows once the refund succeeds."""
    require_merchant(principal, merchant_id, write=True)
    order = order_store.get_for_merchant(session, merchant_id, order_id)
    refund_id = new_id("rfd")
    key = idempotency.require_key(
        key
    )  # after the ownership checks: another tenant's order is simply not found
    claim = idempotency.claim(
        session, user_id=principal.user_id, key=key, scope="refund", fp=fp, resource_id=refund_id
    )
    if not claim.fresh:
        found = refunds.get_refund(session, claim.resource_id)
        if found is None:
            raise NotFound("No refund for this Idempotency-Key.")
        return found
    if currency != order.currency:
        raise InvalidInput(f"This order is in {order.currency}.", field="amount.currency")
    if order.status in ("awaiting_payment", "cancelled", "refunded"):
        raise Conflict(f"An order that is {order.status} cannot be refunded.")
    room = order.total_amount - order.refunded_amount - refunds.pending_for_order(session, order.id)
    if not 0 < amount <= room:
        raise InvalidInput(
            f"At most {room} can still be refunded on this order.", refundable=room, field="amount.amount"
        )
    return refunds.request_refund(
        session,
        order.payment_id,
        amount,
        order_id=order.id,
        reason=reason,
        actor=principal.user_id,
        refund_id=refund_id,
    )


def shopper_cancel(
    session: Session, principal: Principal, order_id: str, reason: str, *, key: str | None, fp: str
) -> Order:
    """Cancel a paid order before the merchant starts on it: the units go back on the shelf and the money back
    to the shopper (a durable refund)."""
    order = order_store.get_for_user(session, principal.user_id, order_id)
    key = idempotency.require_key(key)
    claim = idempotency.claim(
        session, user_id=principal.user_id, key=key, scope="order-cancel", fp=fp, resource_id=order.id
    )
    if not claim.fresh:
        return order
    if order.status == "awaiting_payment":
        raise Conflict(
            f"This order is not paid yet; cancel its checkout instead (POST /api/v1/checkouts/{order.checkout_id}/cancel)."
        )
    if order.status != "paid":
        raise Conflict(
            f"The order is {order.status}; once the merchant has started, ask them for a return instead."
        )
    order_store.transition(
        session, order, "cancelled", actor=principal.user_id, reason=f"cancelled by the shopper: {reason}"
    )
    stock.restock_order(
        session, order.id, reason="order cancelled before fulfilment", actor=principal.user_id
    )
    owed = order.total_amount - order.refunded_amount - refunds.pending_for_order(session, order.id)
    if owed > 0:
        refunds.request_refund(
            session,
            order.payment_id,
            owed,
            order_id=order.id,
            reason="cancelled by the shopper",
            actor=principal.user_id,
        )
    return order


def cancel_checkout(session: Session, principal: Principal, checkout_id: str) -> CheckoutOut:
    """Abandon a checkout still waiting for payment (e.g. a 3-D Secure never finished): the provider voids it,
    the orders are cancelled and the stock goes back. Commits the request's session before calling out."""
    orders = [
        o for o in order_store.orders_of_checkout(session, checkout_id) if o.user_id == principal.user_id
    ]
    payment = payments.payment_for_checkout(session, checkout_id)
    if not orders or payment is None:
        raise NotFound(f"No checkout {checkout_id}.")
    if payment.status in ("pending", "requires_action"):
        payment_id = payment.id
        session.commit()  # hold no lock while the provider answers
        try:
            answer = provider().cancel_by_key(payment_id)
        except ProviderError as exc:
            raise Conflict("The payment provider could not be reached to cancel; try again shortly.") from exc
        if answer.status == "cancelled":
            payments.fail(
                session, payment_id, source="api", reason="cancelled by the shopper", status="cancelled"
            )
        else:
            payments.apply_provider_state(session, payment_id, answer, source="api")
        session.flush()
        session.expire_all()
        orders = order_store.orders_of_checkout(session, checkout_id)
        payment = payments.payment_for_checkout(session, checkout_id)
        assert payment is not None
    elif payment.status in ("captured", "authorised"):
        raise Conflict(
            "This checkout is paid; cancel its orders instead (POST /api/v1/orders/{order_id}/cancel) for a refund."
        )
    return checkout_out(checkout_id, orders_out(session, orders), payment)
