"""A person's voucher use, for data export (GDPR Art. 15/20), asked by compliance.

Redemptions are part of the orders' accounting (who funded which discount) and stay with them under the
(scrubbed) account's id, as orders do; they hold nothing else about the person, so erasure has nothing to
remove here.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from etalage.promotions.models import VoucherRedemption


def export_user_vouchers(session: Session, user_id: str) -> dict[str, Any]:
    rows = session.scalars(
        select(VoucherRedemption).where(VoucherRedemption.user_id == user_id).order_by(VoucherRedemption.id)
    )
    return {
        "redemptions": [
            {"code": r.code, "order_id": r.order_id, "amount": r.amount, "currency": r.currency,
             "at": r.created_at.isoformat(), "released_at": r.released_at.isoformat() if r.released_at else None}
            for r in rows
        ]
    }  # fmt: skip
