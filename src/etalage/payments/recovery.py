"""Finding out what happened to payments nobody told us about: webhook intake, and polling.

A payment can be left open by a provider timeout, a lost webhook, or a crash between recording the
checkout and hearing back. :func:`reconcile_open_payments` asks the provider, by our idempotency key, about
every payment open past a grace period (longer than the provider timeout, so no in-flight call is
second-guessed):
- the provider has it: apply its state (paid → orders paid; declined → orders cancelled);
- the provider never got it: cancel the key there (a tombstone, so a late request cannot charge) and fail
  the payment, which releases the stock;
- still waiting for the shopper (3-D Secure) past the reservation window: cancel it.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy import bindparam, or_, select, update
from sqlalchemy.orm import Session

from etalage.config import get_settings
from etalage.db import Database, insert_unless_present, utcnow
from etalage.payments import refunds, service
from etalage.payments.models import Payment, ProviderEvent
from etalage.payments.provider import ProviderError, WebhookEvent, provider

log = logging.getLogger("etalage.payments")
OPEN = ("pending", "requires_action", "authorised")


_pe, _pay = ProviderEvent.__table__, Payment.__table__
_RECORD_EVENTS = insert_unless_present(_pe, ["id"], _pe.c.id)  # executemany: the ids that were new
_STATUSES = select(_pay.c.id, _pay.c.status).where(_pay.c.id.in_(bindparam("ids", expanding=True)))


def ingest_webhook(session: Session, events: list[WebhookEvent]) -> int:
    """Apply verified webhook events once each (by event id); returns how many were new.

    Most events only confirm what checkout already recorded from the provider's answer; those cost one read
    for the whole batch and change nothing."""
    unique = list({e.id: e for e in events}.values())
    if not unique:
        return 0
    conn = session.connection()
    now = utcnow()
    rows = [
        dict(id=e.id, type=e.type[:40], psp_payment_id=e.payment.id if e.payment else None, received_at=now)
        for e in unique
    ]
    fresh = set(conn.execute(_RECORD_EVENTS[session.get_bind().dialect.name], rows).scalars())
    todo = [e for e in unique if e.id in fresh]  # the others are replays, or batches we already took
    keys = [
        e.payment.idempotency_key for e in todo if e.payment is not None
    ]  # our payment id is the provider's key
    current = dict(conn.execute(_STATUSES, {"ids": keys}).all()) if keys else {}
    for e in todo:
        if e.type == "refund.succeeded" and e.refund:
            refunds.apply_refund_succeeded(
                session, str(e.refund.get("idempotency_key", "")), e.refund.get("id"), source="webhook"
            )
        elif e.payment is not None and e.payment.idempotency_key in current:
            known = current[e.payment.idempotency_key]
            if known == service.PROVIDER_TO_OURS.get(e.payment.status):
                continue
            change = service.apply_provider_state(
                session, e.payment.idempotency_key, e.payment, source="webhook", expected=known
            )
            if change:
                current[e.payment.idempotency_key] = change[1]
    return len(fresh)


def reconcile_payment(db: Database, payment_id: str) -> str | None:
    """Poll the provider about one payment and settle what can be settled. Returns the status after."""
    settings = get_settings()
    with db.read() as s:
        payment = s.get(Payment, payment_id)
        if payment is None or payment.status not in OPEN:
            return payment.status if payment else None
        status, psp_ref, created = payment.status, payment.psp_reference, payment.created_at
    try:
        found = provider().find_by_key(payment_id)
        if found is None:
            # Never received. Make sure it never will be, then give up on it.
            provider().cancel_by_key(payment_id)
            with db.session() as s:
                service.fail(
                    s,
                    payment_id,
                    source="poll",
                    reason="the payment never reached the provider; nothing was charged",
                )
            return "failed"
        age = utcnow() - created
        if found.status == "requires_action" and age > timedelta(seconds=settings.reservation_seconds):
            found = provider().cancel(found.id)
        elif found.status == "authorised" and status == "authorised" and psp_ref:
            found = provider().capture(found.id)  # authorised earlier, capture never confirmed
    except ProviderError as exc:
        log.warning("could not reconcile %s: %s", payment_id, exc)
        with db.session() as s:
            s.execute(update(Payment).where(Payment.id == payment_id).values(checked_at=utcnow()))
        return status
    with db.session() as s:
        service.apply_provider_state(s, payment_id, found, source="poll")
        s.execute(update(Payment).where(Payment.id == payment_id).values(checked_at=utcnow()))
        return s.scalar(select(Payment.status).where(Payment.id == payment_id))


def reconcile_open_payments(
    db: Database, *, older_than_seconds: float | None = None, limit: int = 200
) -> int:
    """Poll every payment still open past the grace period (and not polled in the last few seconds)."""
    settings = get_settings()
    grace = settings.psp_timeout_seconds * 2 + 5 if older_than_seconds is None else older_than_seconds
    now = utcnow()
    cutoff = now - timedelta(seconds=grace)
    with db.read() as s:
        ids = list(
            s.scalars(
                select(Payment.id)
                .where(
                    Payment.status.in_(OPEN),
                    Payment.updated_at <= cutoff,
                    or_(
                        Payment.checked_at.is_(None),
                        Payment.checked_at <= now - timedelta(seconds=min(grace, 10)),
                    ),
                )
                .order_by(Payment.updated_at)
                .limit(limit)
            )
        )
    for payment_id in ids:
        reconcile_payment(db, payment_id)
    return len(ids)
