"""Trader details a person gave for the merchants they own, for data export (GDPR Art. 15/20).

For a sole trader these are personal data (name, address, phone, ID document). They belong to the
merchant, which is why erasure waits until the person has handed the merchant over or had it closed (the
accounts domain blocks it); the export shows them with the payment account masked, as the API does.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from etalage.accounts import service as accounts
from etalage.merchants.models import TraderProfile
from etalage.merchants.service import mask_account

FIELDS = ("legal_name", "address_line1", "address_line2", "postal_code", "city", "country", "phone", "email",
          "id_document_type", "id_document_ref", "trade_register_name", "trade_register_number")  # fmt: skip


def export_user_trader_details(session: Session, user_id: str) -> list[dict[str, Any]]:
    owned = sorted(
        m for m, role in accounts.principal_for_user(session, user_id).memberships.items() if role == "owner"
    )
    if not owned:
        return []
    rows = session.scalars(select(TraderProfile).where(TraderProfile.merchant_id.in_(owned)))
    return [
        {"merchant_id": p.merchant_id, "status": p.status, **{f: getattr(p, f) for f in FIELDS},
         "payment_account": mask_account(p.payment_account),
         "submitted_at": p.submitted_at.isoformat() if p.submitted_at else None}
        for p in rows
    ]  # fmt: skip
