"""A person's after-sale data, for data export (GDPR Art. 15/20) and erasure (Art. 17), asked by compliance.

Retention: returns are part of the accounting record of a refund (amounts, lines, dates and decisions stay,
like the orders they belong to); what the shopper wrote (the reason for a return, also copied into its
history) is removed. Parcels keep carrier and dates; their tracking numbers, which lead to the delivery
address at the carrier, are removed once delivered. A return still open (money may still be owed) makes
the erasure wait.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from etalage.fulfilment.models import FulfilmentEvent, ReturnLine, ReturnRequest, Shipment, ShipmentLine

ERASED = "[erased]"
OPEN = ("requested", "approved", "received")


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def export_user_fulfilment(session: Session, user_id: str) -> dict[str, Any]:
    parcels = list(session.scalars(select(Shipment).where(Shipment.user_id == user_id).order_by(Shipment.id)))
    asked = list(
        session.scalars(
            select(ReturnRequest).where(ReturnRequest.user_id == user_id).order_by(ReturnRequest.id)
        )
    )
    plines: dict[str, list[ShipmentLine]] = {s.id: [] for s in parcels}
    rlines: dict[str, list[ReturnLine]] = {r.id: [] for r in asked}
    if parcels:
        for ln in session.scalars(select(ShipmentLine).where(ShipmentLine.shipment_id.in_(list(plines)))):
            plines[ln.shipment_id].append(ln)
    if asked:
        for rl in session.scalars(select(ReturnLine).where(ReturnLine.return_id.in_(list(rlines)))):
            rlines[rl.return_id].append(rl)
    return {
        "shipments": [
            {"id": s.id, "order_id": s.order_id, "carrier": s.carrier, "tracking_number": s.tracking_number,
             "status": s.status, "shipped_at": _iso(s.shipped_at), "delivered_at": _iso(s.delivered_at),
             "lines": [{"variant_id": ln.variant_id, "quantity": ln.quantity} for ln in plines[s.id]]}
            for s in parcels
        ],
        "returns": [
            {"id": r.id, "order_id": r.order_id, "status": r.status, "reason": r.reason,
             "decision_reason": r.decision_reason, "value_amount": r.value_amount, "refund_amount": r.refund_amount,
             "currency": r.currency, "created_at": _iso(r.created_at), "updated_at": _iso(r.updated_at),
             "lines": [{"variant_id": ln.variant_id, "quantity": ln.quantity} for ln in rlines[r.id]]}
            for r in asked
        ],
    }  # fmt: skip


def erasure_blockers(session: Session, user_id: str) -> list[dict[str, str]]:
    rows = session.execute(
        select(ReturnRequest.id, ReturnRequest.status).where(
            ReturnRequest.user_id == user_id, ReturnRequest.status.in_(OPEN)
        )
    )
    return [
        {"reason": "return_in_progress", "return_id": rid, "status": status,
         "what_to_do": "Wait until the return is refunded or rejected, then ask again."}
        for rid, status in rows
    ]  # fmt: skip


def erase_user_fulfilment(session: Session, user_id: str) -> dict[str, int]:
    """Remove what the person wrote and the delivered parcels' tracking numbers. Idempotent."""
    return_ids = select(ReturnRequest.id).where(ReturnRequest.user_id == user_id).scalar_subquery()
    reasons = session.execute(
        update(ReturnRequest)
        .where(ReturnRequest.user_id == user_id, ReturnRequest.reason != ERASED)
        .values(reason=ERASED)
        .execution_options(synchronize_session=False)
    ).rowcount
    session.execute(
        update(FulfilmentEvent)
        .where(FulfilmentEvent.subject_id.in_(return_ids), FulfilmentEvent.actor == user_id)
        .where(FulfilmentEvent.reason != ERASED)
        .values(reason=ERASED)
        .execution_options(synchronize_session=False)
    )
    tracking = 0
    delivered = select(Shipment).where(Shipment.user_id == user_id, Shipment.status == "delivered")
    for parcel in session.scalars(delivered):
        if not parcel.tracking_number.startswith(ERASED[:-1]):
            parcel.tracking_number = f"{ERASED[:-1]} {parcel.id}]"  # unique per parcel, like the number was
            tracking += 1
    return {"return_reasons": int(reasons or 0), "tracking_numbers": tracking}
