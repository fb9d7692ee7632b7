"""Shipments and returns as the API shows them (with their lines and history)."""

from __future__ import annotations

from urllib.parse import quote

from sqlalchemy.orm import Session

from etalage.core.money import Money
from etalage.fulfilment import history, returns, shipments
from etalage.fulfilment.models import ReturnRequest, Shipment
from etalage.fulfilment.schemas import EventOut, ReturnLineOut, ReturnOut, ShipmentLineOut, ShipmentOut

# Public tracking pages of common carriers; the number is URL-quoted into them.
TRACKING_URLS = {
    "bpost": "https://track.bpost.cloud/btr/web/#/search?itemCode={n}",
    "postnl": "https://jouw.postnl.nl/track-and-trace/{n}",
    "dhl": "https://www.dhl.com/en/express/tracking.html?AWB={n}",
    "dpd": "https://tracking.dpd.de/status/en_US/parcel/{n}",
    "gls": "https://gls-group.com/track/{n}",
    "ups": "https://www.ups.com/track?tracknum={n}",
    "la poste": "https://www.laposte.fr/outils/suivre-vos-envois?code={n}",
    "correos": "https://www.correos.es/es/en/tools/tracker/items/details?tracking-number={n}",
    "royal mail": "https://www.royalmail.com/track-your-item#/tracking-results/{n}",
    "usps": "https://tools.usps.com/go/TrackConfirmAction?tLabels={n}",
}


def tracking_url(carrier: str, number: str) -> str | None:
    pattern = TRACKING_URLS.get(carrier.strip().lower())
    return pattern.format(n=quote(number, safe="")) if pattern else None


def _events(found: list) -> list[EventOut]:  # type: ignore[type-arg]
    return [EventOut(from_status=e.from_status, to_status=e.to_status, actor=e.actor, reason=e.reason,
                     created_at=e.created_at) for e in found]  # fmt: skip


def shipments_out(session: Session, rows: list[Shipment]) -> list[ShipmentOut]:
    ids = [s.id for s in rows]
    lines, events = shipments.lines_of(session, ids), history.events_of(session, ids)
    return [
        ShipmentOut(
            id=s.id,
            order_id=s.order_id,
            merchant_id=s.merchant_id,
            fulfilled_by=s.fulfilled_by,
            carrier=s.carrier,
            tracking_number=s.tracking_number,
            tracking_url=tracking_url(s.carrier, s.tracking_number),
            status=s.status,
            shipped_at=s.shipped_at,
            delivered_at=s.delivered_at,  # type: ignore[arg-type]
            lines=[
                ShipmentLineOut(variant_id=ln.variant_id, product_id=ln.product_id, quantity=ln.quantity)
                for ln in lines[s.id]
            ],
            events=_events(events[s.id]),
        )  # fmt: skip
        for s in rows
    ]


def returns_out(session: Session, rows: list[ReturnRequest]) -> list[ReturnOut]:
    ids = [r.id for r in rows]
    lines, events = returns.lines_of(session, ids), history.events_of(session, ids)
    return [
        ReturnOut(
            id=r.id,
            order_id=r.order_id,
            merchant_id=r.merchant_id,
            status=r.status,
            reason=r.reason,  # type: ignore[arg-type]
            decision_reason=r.decision_reason,
            auto_approved=r.auto_approved,
            value=Money(amount=r.value_amount, currency=r.currency),
            refund=Money(amount=r.refund_amount, currency=r.currency) if r.refund_amount else None,
            refund_id=r.refund_id,
            answer_by=r.answer_by,
            created_at=r.created_at,
            updated_at=r.updated_at,
            lines=[
                ReturnLineOut(
                    variant_id=ln.variant_id,
                    product_id=ln.product_id,
                    quantity=ln.quantity,
                    value=Money(amount=ln.value_amount, currency=r.currency),
                )
                for ln in lines[r.id]
            ],
            events=_events(events[r.id]),
        )  # fmt: skip
        for r in rows
    ]
