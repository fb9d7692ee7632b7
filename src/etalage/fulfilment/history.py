"""The after-sale history: every change of a shipment, return or enrolment, with who and why."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from etalage.db import utcnow
from etalage.fulfilment.models import FulfilmentEvent


def record(
    session: Session,
    subject_id: str,
    order_id: str | None,
    before: str | None,
    after: str,
    *,
    actor: str,
    reason: str,
) -> None:
    session.add(
        FulfilmentEvent(
            subject_id=subject_id,
            order_id=order_id,
            from_status=before,
            to_status=after,
            actor=actor,
            reason=reason,
            created_at=utcnow(),
        )
    )


def events_of(session: Session, subject_ids: list[str]) -> dict[str, list[FulfilmentEvent]]:
    out: dict[str, list[FulfilmentEvent]] = {i: [] for i in subject_ids}
    if subject_ids:
        session.flush()
        stmt = (
            select(FulfilmentEvent)
            .where(FulfilmentEvent.subject_id.in_(subject_ids))
            .order_by(FulfilmentEvent.id)
        )
        for e in session.scalars(stmt):
            out[e.subject_id].append(e)
    return out
