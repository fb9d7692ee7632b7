"""Orders follow their payment, and move through fulfilment by the state machine in ``order_states``.

:func:`transition` is the only way an order changes status: it checks the move is allowed, changes the row
only if it is still in the status it was read in, and records the event (from, to, actor, reason, at).

Payment outcomes arrive through the listener registered here (called by ``payments.service`` in the
transaction that changes the payment, whatever told us: checkout's answer, a webhook or a poll):
- captured/authorised → orders paid, held stock sold, ``order.paid`` published after commit;
- declined/failed/cancelled → orders cancelled, held stock released.
If a payment succeeds after its stock reservation expired (a long 3-D Secure, a crash), the units are
taken again if still there; if not, the order is cancelled and refunded in full.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, delete, insert, select, update
from sqlalchemy.orm import Session

from etalage.commerce.models import Cart, CartLine, Order, OrderEvent, OrderLine
from etalage.commerce.order_states import can_move, next_states
from etalage.core import bus
from etalage.core.errors import Conflict, NotFound
from etalage.db import utcnow
from etalage.inventory import stock
from etalage.payments import refunds as payment_refunds
from etalage.payments import service as payments
from etalage.payments.refunds import RefundState
from etalage.payments.service import PaymentState

ORDER_PAID = "order.paid"
ORDER_CHANGED = "order.status.changed"


_o, _l, _cl, _c = Order.__table__.c, OrderLine.__table__.c, CartLine.__table__.c, Cart.__table__.c
_PAY_ORDERS = (
    update(Order.__table__)
    .where(_o.checkout_id == bindparam("checkout"), _o.status == "awaiting_payment")
    .values(status="paid", paid_at=bindparam("ts"), updated_at=bindparam("ts"))
    .returning(
        _o.id,
        _o.user_id,
        _o.merchant_id,
        _o.region_code,
        _o.currency,
        _o.total_amount,
        _o.discount_amount,
        _o.source_video_id,
        _o.source_live_room_id,
    )
)
_LINES_OF = select(
    _l.order_id,
    _l.product_id,
    _l.variant_id,
    _l.quantity,
    _l.unit_amount,
    _l.total_amount,
    _l.source_video_id,
    _l.source_live_room_id,
).where(_l.order_id.in_(bindparam("orders", expanding=True)))
_INSERT_EVENTS = insert(OrderEvent.__table__)
_EMPTY_CART = delete(CartLine.__table__).where(
    _cl.cart_id.in_(select(_c.id).where(_c.checkout_id == bindparam("checkout"))),
    _cl.variant_id.in_(bindparam("variants", expanding=True)),
)


_HINTS = "commerce.checkouts"


@dataclass(frozen=True)
class _Known:
    lines: list[Any]
    from_cart: bool


class _Line(dict):  # type: ignore[type-arg]
    __getattr__ = dict.__getitem__


def remember_checkout(
    session: Session, checkout_id: str, lines: list[dict[str, Any]], from_cart: bool
) -> None:
    """Tell the payment listener, when it runs in this session, what checkout just wrote (saves reads)."""
    session.info.setdefault(_HINTS, {})[checkout_id] = _Known([_Line(ln) for ln in lines], from_cart)


def _event(
    order_id: str, before: str | None, after: str, actor: str, reason: str, now: datetime
) -> dict[str, Any]:
    return dict(
        order_id=order_id, from_status=before, to_status=after, actor=actor, reason=reason, created_at=now
    )


def transition(session: Session, order: Order, to: str, *, actor: str, reason: str) -> Order:
    """Move ``order`` to ``to`` if the state machine allows it, and record why."""
    before = order.status
    if not can_move(before, to):
        raise Conflict(
            f"An order that is {before} cannot become {to}.", status_now=before, allowed=next_states(before)
        )
    now = utcnow()
    done = session.execute(
        update(Order).where(Order.id == order.id, Order.status == before).values(status=to, updated_at=now)
    ).rowcount
    if done != 1:
        raise Conflict("The order changed meanwhile; read it again and retry.")
    session.execute(insert(OrderEvent), [_event(order.id, before, to, actor, reason, now)])
    order.status, order.updated_at = to, now
    if to == "cancelled":
        _release_promotions(session, [order.id], reason)
    bus.publish(
        session,
        ORDER_CHANGED,
        {"order_id": order.id, "merchant_id": order.merchant_id, "from": before, "to": to},
    )
    return order


def _release_promotions(session: Session, order_ids: list[str], reason: str) -> None:
    """A cancelled order gives back its flash-sale units and voucher use, in the same transaction."""
    from etalage.promotions import claims  # promotions prices checkout, so it is imported lazily here

    claims.release_for_orders(session, order_ids, reason=f"order cancelled: {reason}")


def _paid_payload(order: Any, lines: list[Any], paid_at: datetime) -> dict[str, Any]:
    return {
        "order_id": order.id,
        "user_id": order.user_id,
        "merchant_id": order.merchant_id,
        "region": order.region_code,
        "currency": order.currency,
        "total_amount": order.total_amount,  # what the shopper paid for it, tax and shipping included
        "discount_amount": order.discount_amount,
        "source_video_id": order.source_video_id,
        "source_live_room_id": order.source_live_room_id,
        "items": [
            {
                "product_id": ln.product_id,
                "variant_id": ln.variant_id,
                "quantity": ln.quantity,
                "unit_amount": ln.unit_amount,
                "total_amount": ln.total_amount,
                "currency": order.currency,
                "source_video_id": ln.source_video_id,
                "source_live_room_id": ln.source_live_room_id,
            }
            for ln in lines
        ],
        "paid_at": paid_at.isoformat(),
    }


def _mark_paid(session: Session, state: PaymentState) -> None:
    actor = f"payment:{state.source}"
    now = state.at
    conn = session.connection()  # prebuilt Core statements: this runs on every purchase
    paid = conn.execute(_PAY_ORDERS, {"checkout": state.checkout_id, "ts": now}).all()
    if not paid:
        return
    order_ids = [o.id for o in paid]
    reason = f"payment {state.id} {state.status}"
    events = [_event(o.id, "awaiting_payment", "paid", actor, reason, now) for o in paid]
    committed = stock.commit_for_orders(session, order_ids, actor=actor, reason="sold: order paid")
    known = session.info.get(_HINTS, {}).pop(state.checkout_id, None)
    lines = known.lines if known else conn.execute(_LINES_OF, {"orders": order_ids}).all()
    by_order: dict[str, list[Any]] = defaultdict(list)
    for ln in lines:
        by_order[ln.order_id].append(ln)
    held: dict[tuple[str, str], int] = defaultdict(int)
    for h in committed:
        held[(h.order_id, h.variant_id)] += h.quantity
    unfillable = _retake_expired(session, paid, by_order, held, actor)
    conn.execute(_INSERT_EVENTS, events)
    if known is None or known.from_cart:  # a checkout from the cart empties what it bought
        conn.execute(
            _EMPTY_CART, {"checkout": state.checkout_id, "variants": sorted({ln.variant_id for ln in lines})}
        )
    for o in paid:
        if o.id in unfillable:
            continue
        bus.publish(session, ORDER_PAID, _paid_payload(o, by_order[o.id], now))
    for o in paid:
        if o.id in unfillable:
            order = session.get(Order, o.id, populate_existing=True)
            assert order is not None
            transition(
                session,
                order,
                "cancelled",
                actor="system",
                reason="stock ran out while the payment completed; refunded",
            )
            payment_refunds.request_refund(
                session,
                state.id,
                o.total_amount,
                order_id=o.id,
                reason="stock ran out while the payment completed",
                actor="system",
            )


def _retake_expired(
    session: Session,
    paid: list[Any],
    by_order: dict[str, list[Any]],
    held: dict[tuple[str, str], int],
    actor: str,
) -> set[str]:
    """Lines whose reservation expired before payment: take the units again, or report the order."""
    unfillable: set[str] = set()
    for o in paid:
        missing = [(ln.variant_id, ln.quantity - held[(o.id, ln.variant_id)]) for ln in by_order[o.id]]
        missing = [(v, q) for v, q in missing if q > 0]
        if not missing:
            continue
        try:
            with session.begin_nested():
                wants = [stock.Want(o.id, v, q) for v, q in missing]
                stock.reserve(
                    session, wants, o.region_code, expires_at=utcnow() + timedelta(minutes=1), actor=actor
                )
                stock.commit_for_orders(
                    session, [o.id], actor=actor, reason="sold: order paid after its hold expired"
                )
        except (stock.OutOfStock, stock.NotDeliverable):
            unfillable.add(o.id)
    return unfillable


def _cancel_unpaid(session: Session, state: PaymentState) -> None:
    now = state.at
    cancelled = session.execute(
        update(Order)
        .where(Order.checkout_id == state.checkout_id, Order.status == "awaiting_payment")
        .values(status="cancelled", updated_at=now)
        .returning(Order.id, Order.merchant_id)
    ).all()
    if not cancelled:
        return
    actor = f"payment:{state.source}"
    reason = f"payment {state.status}: {state.reason}"
    session.execute(
        insert(OrderEvent),
        [_event(o.id, "awaiting_payment", "cancelled", actor, reason, now) for o in cancelled],
    )
    stock.release_for_orders(session, [o.id for o in cancelled], actor=actor, reason=f"released: {reason}")
    _release_promotions(session, [o.id for o in cancelled], reason)
    session.execute(update(Cart).where(Cart.checkout_id == state.checkout_id).values(checkout_id=None))


@payments.on_outcome
def follow_payment(session: Session, state: PaymentState) -> None:
    if state.status in ("captured", "authorised"):
        _mark_paid(session, state)
    elif state.status in ("declined", "failed", "cancelled"):
        _cancel_unpaid(session, state)


@payment_refunds.on_refund
def follow_refund(session: Session, refund: RefundState) -> None:
    if refund.order_id is None:
        return
    order = session.get(Order, refund.order_id)
    if order is None:
        return
    order.refunded_amount = min(order.total_amount, order.refunded_amount + refund.amount)
    if order.status == "cancelled":
        return  # a cancellation's refund: the order already says what happened
    to = "refunded" if order.refunded_amount >= order.total_amount else "partially_refunded"
    if can_move(order.status, to):
        transition(
            session, order, to, actor=refund.actor, reason=f"refund {refund.refund_id}: {refund.reason}"
        )


# --- reading --------------------------------------------------------------------------------------------------


def get_for_user(session: Session, user_id: str, order_id: str) -> Order:
    order = session.get(Order, order_id)
    if order is None or order.user_id != user_id:
        raise NotFound(f"No order {order_id}.")
    return order


def get_for_merchant(session: Session, merchant_id: str, order_id: str) -> Order:
    order = session.get(Order, order_id)
    if order is None or order.merchant_id != merchant_id:
        raise NotFound(f"No order {order_id}.")
    return order


def get_locked(session: Session, order_id: str) -> Order | None:
    """The order, locked until the transaction ends (PostgreSQL; SQLite's writer is single anyway), for
    another domain's check-then-write on it (e.g. fulfilment never ships more units than were bought)."""
    stmt = select(Order).where(Order.id == order_id).execution_options(populate_existing=True)
    if session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update()
    return session.scalars(stmt).first()


def lines_of(session: Session, order_ids: list[str]) -> dict[str, list[OrderLine]]:
    out: dict[str, list[OrderLine]] = defaultdict(list)
    if order_ids:
        for ln in session.scalars(
            select(OrderLine).where(OrderLine.order_id.in_(order_ids)).order_by(OrderLine.id)
        ):
            out[ln.order_id].append(ln)
    return out


def events_of(session: Session, order_id: str) -> list[OrderEvent]:
    return list(
        session.scalars(select(OrderEvent).where(OrderEvent.order_id == order_id).order_by(OrderEvent.id))
    )


def orders_of_checkout(session: Session, checkout_id: str) -> list[Order]:
    return list(session.scalars(select(Order).where(Order.checkout_id == checkout_id).order_by(Order.id)))
