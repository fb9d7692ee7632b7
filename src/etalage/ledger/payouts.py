"""Balances and payouts: a payout run per merchant and period moves what is available into a payout.

A payout is created (Dr merchant_available, Cr merchant_payouts) and, once the bank transfer is confirmed,
paid (Dr merchant_payouts, Cr psp_clearing: the money leaves). ``payout.created`` and ``payout.paid`` are
published in the same transaction (so the webhook outbox records them with the change).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from etalage.core import bus
from etalage.core.errors import Conflict, NotFound
from etalage.db import new_id, utcnow
from etalage.ledger import accounts as acc
from etalage.ledger.models import JournalLine, Payout
from etalage.ledger.postings import post

PAYOUT_CREATED, PAYOUT_PAID = "payout.created", "payout.paid"


def balances(session: Session, merchant_id: str) -> dict[str, dict[str, int]]:
    """{currency: {account: amount owed to the merchant}} (liabilities, shown positive)."""
    rows = session.execute(
        select(JournalLine.currency, JournalLine.account, func.sum(JournalLine.amount))
        .where(JournalLine.merchant_id == merchant_id, JournalLine.account.in_(acc.MERCHANT_ACCOUNTS))
        .group_by(JournalLine.currency, JournalLine.account)
    ).all()
    out: dict[str, dict[str, int]] = {}
    for currency, account, amount in rows:
        out.setdefault(currency, dict.fromkeys(acc.MERCHANT_ACCOUNTS, 0))[account] = -int(amount or 0)
    return out


def trial_balance(session: Session) -> list[dict[str, Any]]:
    """Every account's debits, credits and balance per currency; each currency's balances sum to zero."""
    rows = session.execute(
        select(
            JournalLine.account,
            JournalLine.currency,
            func.sum(func.abs(JournalLine.amount) + JournalLine.amount) / 2,
            func.sum(func.abs(JournalLine.amount) - JournalLine.amount) / 2,
        ).group_by(JournalLine.account, JournalLine.currency)
    ).all()
    return [
        dict(account=a, kind=acc.CHART.get(a, "liability"), currency=c, debit=int(d), credit=int(cr),
             balance=int(d) - int(cr))
        for a, c, d, cr in sorted(rows, key=lambda r: (r[1], r[0]))
    ]  # fmt: skip


def payout_payload(p: Payout) -> dict[str, Any]:
    return {
        "payout_id": p.id,
        "merchant_id": p.merchant_id,
        "amount": p.amount,
        "currency": p.currency,
        "period_start": p.period_start.isoformat() if p.period_start else None,
        "period_end": p.period_end.isoformat(),
        "status": p.status,
        "reference": p.reference,
    }


def _lock_merchant(session: Session, merchant_id: str) -> None:
    # Two payout runs for one merchant must not both pay out the same available balance. SQLite has a
    # single writer already; PostgreSQL takes a transaction-scoped advisory lock on the merchant.
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(hashtext(:k))"), {"k": f"payout:{merchant_id}"})


def create_payout(
    session: Session, merchant_id: str, currency: str, *, period_end: datetime, actor: str
) -> Payout | None:
    """Pay out everything available to the merchant in ``currency``; None when nothing is owed."""
    _lock_merchant(session, merchant_id)
    existing = session.scalar(
        select(Payout).where(Payout.merchant_id == merchant_id, Payout.currency == currency,
                             Payout.period_end == period_end)
    )  # fmt: skip
    if existing is not None:
        return existing  # this period's run happened already
    available = balances(session, merchant_id).get(currency, {}).get(acc.MERCHANT_AVAILABLE, 0)
    if available <= 0:
        return None
    previous = session.scalar(
        select(func.max(Payout.period_end)).where(
            Payout.merchant_id == merchant_id, Payout.currency == currency
        )
    )
    payout = Payout(id=new_id("po"), merchant_id=merchant_id, currency=currency, amount=available,
                    period_start=previous, period_end=period_end, status="created", created_by=actor)  # fmt: skip
    session.add(payout)
    session.flush()
    post(
        session,
        f"payout:{payout.id}:created",
        "payout",
        currency,
        [(acc.MERCHANT_AVAILABLE, merchant_id, available), (acc.MERCHANT_PAYOUTS, merchant_id, -available)],
        merchant_id=merchant_id,
        memo=f"payout {payout.id}",
        actor=actor,
    )
    bus.publish(session, PAYOUT_CREATED, payout_payload(payout))
    return payout


def run_payouts(session: Session, *, period_end: datetime | None = None, actor: str) -> list[Payout]:
    """A payout run: one payout per merchant and currency with money available."""
    period_end = period_end or utcnow()
    owed = session.execute(
        select(JournalLine.merchant_id, JournalLine.currency)
        .where(JournalLine.account == acc.MERCHANT_AVAILABLE)
        .group_by(JournalLine.merchant_id, JournalLine.currency)
        .having(func.sum(JournalLine.amount) < 0)
    ).all()
    out = []
    for merchant_id, currency in sorted(owed):
        p = create_payout(session, merchant_id, currency, period_end=period_end, actor=actor)
        if p is not None:
            out.append(p)
    return out


def mark_paid(session: Session, payout_id: str, *, reference: str, actor: str) -> Payout:
    payout = session.get(Payout, payout_id)
    if payout is None:
        raise NotFound(f"No payout {payout_id}.")
    if payout.status == "paid":
        if payout.reference == reference:
            return payout  # the same confirmation again
        raise Conflict(
            "This payout was confirmed already, with another reference.", reference=payout.reference
        )
    payout.status, payout.reference, payout.paid_at = "paid", reference, utcnow()
    post(
        session,
        f"payout:{payout.id}:paid",
        "payout",
        payout.currency,
        [(acc.MERCHANT_PAYOUTS, payout.merchant_id, payout.amount), (acc.PSP_CLEARING, None, -payout.amount)],
        merchant_id=payout.merchant_id,
        memo=f"payout {payout.id} paid ({reference})",
        actor=actor,
    )
    session.flush()
    bus.publish(session, PAYOUT_PAID, payout_payload(payout))
    return payout


def get_payout(session: Session, merchant_id: str, payout_id: str) -> Payout:
    payout = session.get(Payout, payout_id)
    if payout is None or payout.merchant_id != merchant_id:
        raise NotFound(f"No payout {payout_id}.")
    return payout
