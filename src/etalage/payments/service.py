"""Payment records and their state machine; saved payment methods. No HTTP here.

A payment changes state only through :func:`apply_provider_state` (the provider said so: checkout answer,
webhook or poll) or :func:`fail` (it never reached the provider). Each change is conditional on the state
it leaves, recorded in ``payment_events``, and announced to listeners *in the same transaction*, which is
how orders follow their payment (commerce registers one with :func:`on_outcome`).

Statuses: pending → requires_action → authorised → captured; declined, failed, cancelled are final.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.orm import Session

from etalage.accounts.authz import Principal
from etalage.core.errors import Conflict, InvalidInput, NotFound, ServiceUnavailable
from etalage.db import new_id, utcnow
from etalage.payments.models import Payment, PaymentEvent, PaymentMethod
from etalage.payments.provider import (
    ProviderError,
    ProviderPayment,
    ProviderRejected,
    ProviderToken,
    provider,
)

FINAL = frozenset({"captured", "declined", "failed", "cancelled"})
ALLOWED_FROM: dict[str, frozenset[str]] = {
    "requires_action": frozenset({"pending"}),
    "authorised": frozenset({"pending", "requires_action"}),
    "captured": frozenset({"pending", "requires_action", "authorised"}),
    "declined": frozenset({"pending", "requires_action"}),
    "failed": frozenset({"pending", "requires_action"}),
    "cancelled": frozenset({"pending", "requires_action", "authorised"}),
}
PROVIDER_TO_OURS = {
    "processing": "pending",
    "requires_action": "requires_action",
    "authorised": "authorised",
    "captured": "captured",
    "declined": "declined",
    "cancelled": "cancelled",
}
# Local methods work in their home countries only; cards and wallets everywhere.
METHOD_REGIONS: dict[str, frozenset[str]] = {
    "bancontact": frozenset({"BE"}),
    "ideal": frozenset({"NL"}),
    "bizum": frozenset({"ES"}),
}


_INSERT_PAYMENT = insert(Payment.__table__)
_INSERT_EVENT = insert(PaymentEvent.__table__)


@dataclass(frozen=True)
class PaymentState:
    """What listeners receive about a payment that just changed."""

    id: str
    checkout_id: str
    user_id: str
    status: str
    previous: str
    amount: int
    currency: str
    source: str
    reason: str
    at: datetime


Listener = Callable[[Session, PaymentState], None]
_listeners: list[Listener] = []


def on_outcome(fn: Listener) -> Listener:
    """Register ``fn(session, state)``, called in the transaction that changes a payment's status."""
    if fn not in _listeners:
        _listeners.append(fn)
    return fn


def _event(
    payment_id: str,
    before: str | None,
    after: str,
    source: str,
    reason: str,
    amount: int | None,
    now: datetime,
) -> dict[str, Any]:
    return dict(
        payment_id=payment_id,
        from_status=before,
        to_status=after,
        source=source,
        reason=reason,
        amount=amount,
        created_at=now,
    )


def create_payment(
    session: Session,
    *,
    payment_id: str,
    checkout_id: str,
    user_id: str,
    amount: int,
    currency: str,
    method: Any,
    now: datetime,
) -> None:
    """Record a payment before any money moves (Core inserts: this is on checkout's hot path)."""
    conn = session.connection()  # Core: on checkout's hot path
    conn.execute(
        _INSERT_PAYMENT,
        [
            dict(
                id=payment_id,
                checkout_id=checkout_id,
                user_id=user_id,
                amount=amount,
                currency=currency,
                status="pending",
                method_type=method.type,
                payment_method_id=method.id,
                brand=method.brand,
                last4=method.last4,
                captured_amount=0,
                refunded_amount=0,
                created_at=now,
                updated_at=now,
            )
        ],
    )
    conn.execute(
        _INSERT_EVENT, [_event(payment_id, None, "pending", "checkout", "checkout started", None, now)]
    )


def _notify(session: Session, state: PaymentState) -> None:
    for fn in _listeners:
        fn(session, state)


def _changes_for(pp: ProviderPayment, status: str) -> dict[str, Any]:
    changes: dict[str, Any] = {"status": status, "psp_reference": pp.id, "next_action": pp.next_action}
    if status == "captured":
        changes["captured_amount"] = pp.captured_amount
    if status == "declined":
        changes["decline_code"] = pp.decline_code
    return changes


def apply_provider_state(
    session: Session, payment_id: str, pp: ProviderPayment, *, source: str, expected: str | None = None
) -> tuple[str, str] | None:
    """Bring our payment in line with what the provider says. Returns (before, after) if it changed.

    ``expected``: the status the caller believes the payment has (checkout's fast path: one conditional
    UPDATE). Otherwise, or if someone got there first, the row is locked and the transition checked.
    """
    status = PROVIDER_TO_OURS.get(pp.status, "pending")
    now = utcnow()
    reason = f"provider: {pp.status}" + (f" ({pp.decline_code})" if pp.decline_code else "")
    if status == "pending":
        session.execute(
            update(Payment).where(Payment.id == payment_id).values(psp_reference=pp.id, checked_at=now)
        )
        return None
    values = {**_changes_for(pp, status), "updated_at": now, "checked_at": now}
    if expected is not None and expected in ALLOWED_FROM.get(status, ()):
        t = Payment.__table__.c
        row = (
            session.connection()
            .execute(
                update(Payment.__table__)
                .where(t.id == payment_id, t.status == expected)
                .values(**values)
                .returning(t.checkout_id, t.user_id, t.amount, t.currency)
            )
            .first()
        )  # fmt: skip  (values vary by outcome, so this one is built per call)
        if row is not None:
            return _changed(session, payment_id, expected, status, row, source, reason, pp, now)
    stmt = select(Payment).where(Payment.id == payment_id)
    if session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update()
    payment = session.scalars(stmt).first()
    if payment is None:
        return None
    before = payment.status
    if before == status:
        if status == "requires_action" and payment.next_action != pp.next_action:
            payment.next_action = pp.next_action
        return None
    if before not in ALLOWED_FROM.get(status, ()):
        return None  # stale news (e.g. a late 'authorised' after 'captured'): nothing to do
    for key, value in values.items():
        setattr(payment, key, value)
    session.flush()
    row = (payment.checkout_id, payment.user_id, payment.amount, payment.currency)
    return _changed(session, payment_id, before, status, row, source, reason, pp, now)


def _changed(
    session: Session,
    payment_id: str,
    before: str,
    after: str,
    row: Any,
    source: str,
    reason: str,
    pp: ProviderPayment | None,
    now: datetime,
) -> tuple[str, str]:
    amount = pp.captured_amount if pp is not None and after == "captured" else None
    session.connection().execute(
        _INSERT_EVENT, [_event(payment_id, before, after, source, reason, amount, now)]
    )
    _notify(
        session, PaymentState(payment_id, row[0], row[1], after, before, row[2], row[3], source, reason, now)
    )
    return before, after


def fail(
    session: Session, payment_id: str, *, source: str, reason: str, status: str = "failed"
) -> tuple[str, str] | None:
    """The payment did not and will not happen (never reached the provider, or given up)."""
    now = utcnow()
    payment = session.get(Payment, payment_id)
    if payment is None or payment.status not in ALLOWED_FROM[status]:
        return None
    before = payment.status
    payment.status, payment.failure_message, payment.updated_at, payment.next_action = (
        status,
        reason,
        now,
        None,
    )
    session.flush()
    row = (payment.checkout_id, payment.user_id, payment.amount, payment.currency)
    return _changed(session, payment_id, before, status, row, source, reason, None, now)


def get_payment(session: Session, payment_id: str) -> Payment | None:
    return session.get(Payment, payment_id)


def payment_for_checkout(session: Session, checkout_id: str) -> Payment | None:
    return session.scalars(select(Payment).where(Payment.checkout_id == checkout_id)).first()


def history(session: Session, payment_id: str) -> list[PaymentEvent]:
    return list(
        session.scalars(
            select(PaymentEvent).where(PaymentEvent.payment_id == payment_id).order_by(PaymentEvent.id)
        )
    )


# --- saved payment methods -------------------------------------------------------------------------------


def add_method(session: Session, principal: Principal, psp_token: str, make_default: bool) -> PaymentMethod:
    """Save a token the shopper's device got from the provider; we ask the provider what it is."""
    if session.scalar(select(PaymentMethod.id).where(PaymentMethod.psp_token == psp_token)):
        raise Conflict("This payment token is already saved.", field="token")
    try:
        info = provider().token(psp_token)
    except ProviderRejected as exc:
        raise InvalidInput(
            "The payment provider does not know this token; tokenise the card again.", field="token"
        ) from exc
    except ProviderError as exc:
        raise ServiceUnavailable("The payment provider is not reachable; try again in a moment.") from exc
    return save_method(session, principal.user_id, info, make_default)


def save_method(session: Session, user_id: str, info: ProviderToken, make_default: bool) -> PaymentMethod:
    """Store what the provider said about a token (the demo and tests use this directly)."""
    has_default = session.scalar(
        select(PaymentMethod.id).where(
            PaymentMethod.user_id == user_id,
            PaymentMethod.is_default.is_(True),
            PaymentMethod.deleted_at.is_(None),
        )
    )
    if make_default and has_default:
        _clear_default(session, user_id)
    method = PaymentMethod(
        id=new_id("pm"),
        user_id=user_id,
        psp_token=info.token,
        type=info.type,
        brand=info.brand,
        last4=info.last4,
        exp_month=info.exp_month,
        exp_year=info.exp_year,
        is_default=make_default or not has_default,
    )
    session.add(method)
    session.flush()
    return method


def _clear_default(session: Session, user_id: str) -> None:
    session.execute(update(PaymentMethod).where(PaymentMethod.user_id == user_id).values(is_default=False))


def list_methods(session: Session, principal: Principal) -> list[PaymentMethod]:
    stmt = select(PaymentMethod).where(
        PaymentMethod.user_id == principal.user_id, PaymentMethod.deleted_at.is_(None)
    )
    return list(session.scalars(stmt.order_by(PaymentMethod.is_default.desc(), PaymentMethod.id.desc())))


def _own_method(session: Session, principal: Principal, method_id: str) -> PaymentMethod:
    method = session.get(PaymentMethod, method_id)
    if method is None or method.user_id != principal.user_id or method.deleted_at is not None:
        raise NotFound(f"No payment method {method_id}.")
    return method


def remove_method(session: Session, principal: Principal, method_id: str) -> None:
    method = _own_method(session, principal, method_id)
    method.deleted_at, method.is_default = utcnow(), False


def make_default(session: Session, principal: Principal, method_id: str) -> PaymentMethod:
    method = _own_method(session, principal, method_id)
    _clear_default(session, principal.user_id)
    method.is_default = True
    return method


_m = PaymentMethod.__table__.c
_METHOD_LIVE = select(PaymentMethod.__table__).where(_m.user_id == bindparam("user"), _m.deleted_at.is_(None))
_METHOD_CHOSEN = _METHOD_LIVE.where(_m.id == bindparam("id")).limit(1)
_METHOD_DEFAULT = _METHOD_LIVE.where(_m.is_default.is_(True)).limit(1)


def method_for_checkout(session: Session, user_id: str, method_id: str | None) -> Any | None:
    """The shopper's chosen saved method, or their default, as a plain row; None if they have none."""
    if method_id:
        return session.connection().execute(_METHOD_CHOSEN, {"user": user_id, "id": method_id}).first()
    return session.connection().execute(_METHOD_DEFAULT, {"user": user_id}).first()
