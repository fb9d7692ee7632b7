"""The append-only record of every compliance state change (who, what, when), and the redress texts."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from etalage.compliance.models import ComplianceEvent

APPEAL_MONTHS = 6
APPEAL_DAYS = 183  # "at least six months" (DSA Art. 20(1)): counted generously

REDRESS = (
    "You may appeal this decision free of charge within six months through Etalage's internal complaint "
    "handling (POST /api/v1/decisions/{id}/appeals); another moderator decides it. You may also refer the "
    "dispute to a certified out-of-court dispute settlement body (DSA Art. 21) or go to court."
)
NOTIFIER_REDRESS = (
    "If you disagree with the decision taken on your notice, you may appeal it within six months "
    "(POST /api/v1/decisions/{id}/appeals, signed in), refer it to a certified out-of-court dispute "
    "settlement body (DSA Art. 21), or go to court."
)


def record(
    session: Session,
    subject_kind: str,
    subject_id: str,
    action: str,
    actor_id: str | None,
    /,
    **details: Any,
) -> None:
    session.add(
        ComplianceEvent(
            subject_kind=subject_kind,
            subject_id=subject_id,
            action=action,
            actor_id=actor_id,
            details=details,
        )
    )


def history(session: Session, subject_kind: str, subject_id: str) -> list[ComplianceEvent]:
    stmt = select(ComplianceEvent).where(
        ComplianceEvent.subject_kind == subject_kind, ComplianceEvent.subject_id == subject_id
    )
    return list(session.scalars(stmt.order_by(ComplianceEvent.id)))
