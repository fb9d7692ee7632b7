"""What other domains and the routes use from the ledger.

- Postings happen by themselves (``ledger.postings`` subscribes in-transaction to ``order.paid``,
  ``shipment.delivered``, ``order.status.changed`` and ``return.*``, and listens to refunds).
- ``post_creator_commission`` / ``post_creator_payout``: affiliates' postings, in its transaction.
- ``balances``, ``trial_balance``, ``run_payouts``, ``mark_paid`` (``ledger.payouts``); statements.
- Bus events, in the transaction of the change: ``payout.created`` and ``payout.paid``
  {payout_id, merchant_id, amount, currency, period_start, period_end, status, reference}.
"""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy import select
from sqlalchemy.orm import Session

from etalage.accounts.authz import Principal, require_merchant
from etalage.core.errors import NotFound
from etalage.core.pagination import PageParams, paginate
from etalage.ledger import payouts, statements
from etalage.ledger.models import JournalEntry, JournalLine, Payout
from etalage.ledger.payouts import balances, mark_paid, run_payouts, trial_balance
from etalage.ledger.schemas import BalanceOut, EntryOut, LineOut

__all__ = ["balances", "mark_paid", "run_payouts", "trial_balance"]


def merchant_balances(session: Session, principal: Principal, merchant_id: str) -> list[BalanceOut]:
    require_merchant(principal, merchant_id)
    return [
        BalanceOut(currency=c, pending=b["merchant_pending"], available=b["merchant_available"],
                   in_payout=b["merchant_payouts"])
        for c, b in sorted(balances(session, merchant_id).items())
    ]  # fmt: skip


def merchant_payouts(
    session: Session, principal: Principal, merchant_id: str, params: PageParams
) -> tuple[list[Payout], str | None]:
    require_merchant(principal, merchant_id)
    return paginate(session, select(Payout).where(Payout.merchant_id == merchant_id), Payout.id, params)


def merchant_payout(session: Session, principal: Principal, merchant_id: str, payout_id: str) -> Payout:
    require_merchant(principal, merchant_id)
    return payouts.get_payout(session, merchant_id, payout_id)


def statement(session: Session, principal: Principal, merchant_id: str, period: str) -> statements.Statement:
    require_merchant(principal, merchant_id)
    return statements.build(session, merchant_id, period)


def entries_out(session: Session, entries: list[JournalEntry]) -> list[EntryOut]:
    lines: dict[str, list[LineOut]] = defaultdict(list)
    if entries:
        for ln in session.scalars(
            select(JournalLine)
            .where(JournalLine.entry_id.in_([e.id for e in entries]))
            .order_by(JournalLine.id)
        ):
            lines[ln.entry_id].append(
                LineOut(
                    account=ln.account, merchant_id=ln.merchant_id, amount=ln.amount, currency=ln.currency
                )
            )
    return [
        EntryOut(id=e.id, source_key=e.source_key, kind=e.kind, order_id=e.order_id, memo=e.memo,
                 created_at=e.created_at, lines=lines[e.id])
        for e in entries
    ]  # fmt: skip


def order_entries(session: Session, principal: Principal, merchant_id: str, order_id: str) -> list[EntryOut]:
    """The journal of one of the merchant's orders (sale, refunds, release)."""
    require_merchant(principal, merchant_id)
    entries = list(
        session.scalars(
            select(JournalEntry)
            .where(JournalEntry.order_id == order_id, JournalEntry.merchant_id == merchant_id)
            .order_by(JournalEntry.created_at, JournalEntry.id)
        )
    )
    if not entries:
        raise NotFound(f"No ledger entries for order {order_id}.")
    return entries_out(session, entries)


def post_creator_commission(
    session: Session,
    source_key: str,
    *,
    merchant_id: str,
    order_id: str,
    currency: str,
    amount: int,
    memo: str = "",
    actor: str = "system",
) -> str | None:
    """A creator's commission on an order: the merchant's payable goes to the creators' account
    (``amount`` > 0 accrued, < 0 reversed), from pending until the order's release, then from available.
    Idempotent per ``source_key``."""
    from etalage.ledger import accounts as acc
    from etalage.ledger.models import Settlement
    from etalage.ledger.postings import post

    st = session.get(Settlement, order_id)
    released = st is not None and st.released_at is not None
    account = acc.MERCHANT_AVAILABLE if released else acc.MERCHANT_PENDING
    return post(session, source_key, "commission", currency,
                [(account, merchant_id, amount), (acc.CREATOR_COMMISSIONS, None, -amount)],
                merchant_id=merchant_id, order_id=order_id, memo=memo, actor=actor)  # fmt: skip


def post_creator_payout(
    session: Session, source_key: str, *, currency: str, amount: int, memo: str = "", actor: str = "system"
) -> str | None:
    """Commissions paid to a creator: out of the creators' account and the provider's balance."""
    from etalage.ledger import accounts as acc
    from etalage.ledger.postings import post

    return post(session, source_key, "creator_payout", currency,
                [(acc.CREATOR_COMMISSIONS, None, amount), (acc.PSP_CLEARING, None, -amount)],
                memo=memo, actor=actor)  # fmt: skip
