"""A person's commissions, for data export (GDPR Art. 15/20) and erasure (Art. 17), asked by compliance.

Commissions are the record of money earned and owed: they stay, as the orders they came from do, for as
long as tax and accounting law requires, under the (scrubbed) account's id. What erasure removes are the
person's own words: the reasons they gave when changing a shop's rates.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from etalage.affiliates.models import Commission, CommissionRateChange


def export_user_commissions(session: Session, user_id: str) -> dict[str, Any]:
    earned = session.scalars(
        select(Commission).where(Commission.creator_id == user_id).order_by(Commission.id)
    )
    changed = session.scalars(
        select(CommissionRateChange)
        .where(CommissionRateChange.actor == user_id)
        .order_by(CommissionRateChange.id)
    )
    return {
        "commissions": [
            {"id": c.id, "merchant_id": c.merchant_id, "order_id": c.order_id, "video_id": c.video_id,
             "live_room_id": c.live_room_id, "currency": c.currency, "base_amount": c.base_amount,
             "rate_bp": c.rate_bp, "amount": c.amount, "reversed_amount": c.reversed_amount, "status": c.status,
             "accrued_at": c.accrued_at.isoformat(), "paid_at": c.paid_at.isoformat() if c.paid_at else None}
            for c in earned
        ],
        "rate_changes": [
            {"merchant_id": ch.merchant_id, "product_id": ch.product_id or None, "from_bp": ch.from_bp,
             "to_bp": ch.to_bp, "reason": ch.reason, "at": ch.created_at.isoformat()}
            for ch in changed
        ],
    }  # fmt: skip


def erase_user_commissions(session: Session, user_id: str) -> dict[str, int]:
    blanked = session.execute(
        update(CommissionRateChange)
        .where(CommissionRateChange.actor == user_id, CommissionRateChange.reason != "")
        .values(reason="")
    ).rowcount
    return {"rate_change_reasons_blanked": int(blanked or 0)}
