"""Transparency reporting (DSA Art. 15 and 24): notices by category, decisions by action and ground, the
share of automated decisions, the median time from notice to decision, and appeals with their outcomes, for
a period. Public and free of personal data: counts and durations only. Each section counts what happened in
the period (notices received, decisions taken, appeals filed) by its own date column, which is indexed.

Medians are computed in Python from one column of durations per period: fine up to a few million
decisions a year; beyond that, PostgreSQL's ``percentile_cont`` would do it in the database."""

from __future__ import annotations

import csv
import io
import statistics
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from etalage.compliance.models import Appeal, Decision, Notice
from etalage.core.errors import InvalidInput

MAX_DAYS = 3 * 366


def period(start: date | None, end: date | None) -> tuple[datetime, datetime]:
    """[from 00:00 UTC, to+1 00:00 UTC): both dates included. Default: the last six months."""
    today = datetime.now(UTC).date()
    end = end or today
    start = start or (end - timedelta(days=182))
    if start > end:
        raise InvalidInput(
            "'from' is after 'to'.", errors=[{"loc": "from", "message": "after 'to'", "type": "order"}]
        )
    if (end - start).days > MAX_DAYS:
        raise InvalidInput(f"A report covers at most {MAX_DAYS} days.")
    return datetime.combine(start, time(), UTC), datetime.combine(end + timedelta(days=1), time(), UTC)


def _median(values: list[float]) -> float | None:
    return round(statistics.median(values), 1) if values else None


def _counts(session: Session, col: Any, *where: Any) -> dict[str, int]:
    return {str(k): int(n) for k, n in session.execute(select(col, func.count()).where(*where).group_by(col))}


def report(session: Session, start: date | None, end: date | None) -> dict[str, Any]:
    lo, hi = period(start, end)
    in_n = (Notice.created_at >= lo, Notice.created_at < hi)
    in_d = (Decision.decided_at >= lo, Decision.decided_at < hi)
    in_a = (Appeal.created_at >= lo, Appeal.created_at < hi)
    by_category = _counts(session, Notice.category, *in_n)
    submissions = int(
        session.scalar(select(func.coalesce(func.sum(Notice.submissions), 0)).where(*in_n)) or 0
    )
    anonymous = int(session.scalar(select(func.count()).where(*in_n, Notice.reporter_user_id.is_(None))) or 0)
    illegal = int(session.scalar(select(func.count()).where(*in_n, Notice.illegal_claim.is_(True))) or 0)
    total_notices = sum(by_category.values())
    # time to decision: each notice decided in the period, from its receipt to its decision
    waits = [
        (decided - created).total_seconds()
        for created, decided in session.execute(
            select(Notice.created_at, Notice.decided_at).where(
                Notice.decided_at.is_not(None), Notice.decided_at >= lo, Notice.decided_at < hi
            )
        )
    ]
    by_action = _counts(session, Decision.action, *in_d)
    total_decisions = sum(by_action.values())
    automated = int(session.scalar(select(func.count()).where(*in_d, Decision.automated.is_(True))) or 0)
    appeals_filed = int(session.scalar(select(func.count()).where(*in_a)) or 0)
    outcomes = _counts(session, Appeal.status, Appeal.decided_at >= lo, Appeal.decided_at < hi)
    appeal_waits = [
        (decided - created).total_seconds()
        for created, decided in session.execute(
            select(Appeal.created_at, Appeal.decided_at).where(
                Appeal.decided_at >= lo, Appeal.decided_at < hi
            )
        )
    ]
    return {
        "period": {"from": lo.date().isoformat(), "to": (hi - timedelta(days=1)).date().isoformat()},
        "generated_at": datetime.now(UTC).isoformat(),
        "notices": {
            "total": total_notices,
            "submissions": submissions,  # including duplicates merged into one notice
            "by_category": dict(sorted(by_category.items())),
            "by_target_kind": dict(sorted(_counts(session, Notice.target_kind, *in_n).items())),
            "illegal_content_claims": illegal,
            "anonymous": anonymous,
            "decided": len(waits),
            "median_seconds_to_decision": _median(waits),
        },
        "decisions": {
            "total": total_decisions,
            "by_action": dict(sorted(by_action.items())),
            "by_ground": dict(
                sorted(_counts(session, func.coalesce(Decision.ground, "none"), *in_d).items())
            ),
            "by_source": dict(sorted(_counts(session, Decision.source, *in_d).items())),
            "by_target_kind": dict(sorted(_counts(session, Decision.target_kind, *in_d).items())),
            "automated": automated,
            "automated_share": round(automated / total_decisions, 4) if total_decisions else 0.0,
        },
        "appeals": {
            "filed": appeals_filed,
            "decided": sum(v for k, v in outcomes.items() if k in ("upheld", "reversed")),
            "upheld": outcomes.get("upheld", 0),
            "reversed": outcomes.get("reversed", 0),
            "median_seconds_to_decision": _median(appeal_waits),
        },
    }


def report_csv(data: dict[str, Any]) -> str:
    """The report as ``section,metric,key,value`` rows (one per figure), for spreadsheets."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["section", "metric", "key", "value"])
    writer.writerow(["period", "from", "", data["period"]["from"]])
    writer.writerow(["period", "to", "", data["period"]["to"]])
    for section in ("notices", "decisions", "appeals"):
        for metric, value in data[section].items():
            if isinstance(value, dict):
                for key, n in value.items():
                    writer.writerow([section, metric, key, n])
            else:
                writer.writerow([section, metric, "", "" if value is None else value])
    return out.getvalue()


def statements(
    session: Session, start: date | None, end: date | None, limit: int, after: str | None
) -> list[dict[str, Any]]:
    """Statements of reasons without personal data (the fields the Commission's DSA Transparency Database
    asks for, Art. 24(5)), oldest first: no facts (free text may name people), no ids of persons."""
    lo, hi = period(start, end)
    stmt = select(Decision).where(Decision.decided_at >= lo, Decision.decided_at < hi)
    if after:
        stmt = stmt.where(Decision.id > after)
    rows = session.scalars(stmt.order_by(Decision.id).limit(limit))
    return [
        {
            "id": d.id,
            "decided_at": d.decided_at.isoformat(),
            "content_type": d.target_kind,
            "decision": d.action,
            "ground": d.ground,
            "legal_reference": d.legal_reference,
            "terms_clause": d.terms_clause,
            "automated": d.automated,
            "source": d.source,
            "categories": d.categories,
            "territorial_scope": d.territorial_scope or ["everywhere"],
            "ends_at": d.ends_at.isoformat() if d.ends_at else None,
        }  # fmt: skip
        for d in rows
    ]
