"""Ledger invariants, read straight from the journal."""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy import func, select

from etalage.db import Database
from etalage.ledger.models import JournalEntry, JournalLine


def assert_ledger_balanced(db: Database) -> None:
    """Every entry, and so every order's entries and the whole trial balance, sums to zero per currency."""
    with db.read() as s:
        per_entry = s.execute(
            select(JournalLine.entry_id, JournalLine.currency, func.sum(JournalLine.amount))
            .group_by(JournalLine.entry_id, JournalLine.currency)
        ).all()  # fmt: skip
        per_order = s.execute(
            select(JournalEntry.order_id, JournalLine.currency, func.sum(JournalLine.amount))
            .join(JournalLine, JournalLine.entry_id == JournalEntry.id)
            .where(JournalEntry.order_id.is_not(None))
            .group_by(JournalEntry.order_id, JournalLine.currency)
        ).all()  # fmt: skip
        total = s.execute(
            select(JournalLine.currency, func.sum(JournalLine.amount)).group_by(JournalLine.currency)
        ).all()
    assert all(int(x) == 0 for _, _, x in per_entry), per_entry
    assert all(int(x) == 0 for _, _, x in per_order), per_order
    assert all(int(x) == 0 for _, x in total), total


def account_balances(db: Database, merchant_id: str | None = None) -> dict[tuple[str, str | None], int]:
    with db.read() as s:
        stmt = select(JournalLine.account, JournalLine.merchant_id, func.sum(JournalLine.amount)).group_by(
            JournalLine.account, JournalLine.merchant_id
        )
        if merchant_id is not None:
            stmt = stmt.where(JournalLine.merchant_id == merchant_id)
        out: dict[tuple[str, str | None], int] = defaultdict(int)
        for a, m, x in s.execute(stmt):
            out[(a, m)] = int(x)
    return out
