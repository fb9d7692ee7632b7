"""A person's payment data, for data export (GDPR Art. 15/20) and erasure (Art. 17), asked by compliance.

Etalage holds no card numbers: saved methods are the provider's tokens with brand, last four digits and
expiry. Erasure deletes the saved methods (the tokens with them) and removes the last four digits from past
payments; the payments themselves (amount, currency, status, dates, the provider's reference) are
accounting records and stay. The tokens are deleted at the provider too (``delete_token``), so the card
number the provider keeps goes with them.
"""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from etalage.payments.models import Payment, PaymentMethod

log = logging.getLogger("etalage.payments.privacy")


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def _masked(token: str) -> str:
    return f"{token[:4]}…{token[-4:]}" if len(token) > 10 else "…"


def export_user_payments(session: Session, user_id: str) -> dict[str, Any]:
    methods = session.scalars(
        select(PaymentMethod).where(PaymentMethod.user_id == user_id).order_by(PaymentMethod.id)
    )
    payments = session.scalars(select(Payment).where(Payment.user_id == user_id).order_by(Payment.id))
    return {
        "payment_methods": [
            {"id": m.id, "type": m.type, "brand": m.brand, "last4": m.last4, "exp_month": m.exp_month,
             "exp_year": m.exp_year, "is_default": m.is_default, "token_reference": _masked(m.psp_token),
             "created_at": _iso(m.created_at), "deleted_at": _iso(m.deleted_at)}
            for m in methods
        ],
        "payments": [
            {"id": p.id, "checkout_id": p.checkout_id, "amount": p.amount, "currency": p.currency,
             "status": p.status, "method_type": p.method_type, "brand": p.brand, "last4": p.last4,
             "captured_amount": p.captured_amount, "refunded_amount": p.refunded_amount,
             "created_at": _iso(p.created_at)}
            for p in payments
        ],
    }  # fmt: skip


def saved_tokens(session: Session, user_id: str) -> list[str]:
    return list(session.scalars(select(PaymentMethod.psp_token).where(PaymentMethod.user_id == user_id)))


def forget_tokens_at_provider(tokens: list[str]) -> int:
    """Ask the provider to delete these tokens, if it can (outside any transaction). Returns how many."""
    from etalage.payments.provider import provider

    try:
        client = provider()
    except Exception:  # no provider configured here: nothing to ask
        return 0
    delete_token = getattr(client, "delete_token", None)
    if delete_token is None:
        return 0
    done = 0
    for token in tokens:
        try:
            delete_token(token)
            done += 1
        except Exception:
            log.warning("the provider did not delete a token; it stays unusable without our API key")
    return done


def erase_user_payments(session: Session, user_id: str) -> dict[str, int]:
    """Delete saved methods (asking the provider to delete their tokens, when it can); strip card digits
    from past payments. Idempotent."""
    at_provider = forget_tokens_at_provider(saved_tokens(session, user_id))
    methods = int(
        session.execute(delete(PaymentMethod).where(PaymentMethod.user_id == user_id)).rowcount or 0
    )
    session.execute(
        update(Payment)
        .where(Payment.user_id == user_id, Payment.last4.is_not(None))
        .values(last4=None, next_action=None)
        .execution_options(synchronize_session=False)
    )
    return {"payment_methods": methods, "deleted_at_provider": at_provider}
