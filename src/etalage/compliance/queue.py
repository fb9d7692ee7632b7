"""The moderators' queue: one case per target with its open notices counted by category, oldest first or
most severe first, with a preview of the target from its own domain. A moderator may claim a case so two
people do not work the same one; a claim lapses after ``CLAIM_MINUTES``."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, select, tuple_
from sqlalchemy.orm import Session

from etalage.accounts.authz import Principal, require_scope
from etalage.compliance import records, targets
from etalage.compliance.models import Decision, ModerationCase, Notice
from etalage.core.errors import BadRequest, Conflict, NotFound
from etalage.core.pagination import PageParams, decode_cursor, encode_cursor
from etalage.db import utcnow

CLAIM_MINUTES = 30


def _preview(session: Session, cases: list[ModerationCase]) -> dict[tuple[str, str], dict[str, Any]]:
    infos = [i for c in cases if (i := targets.resolve(session, c.target_kind, c.target_id)) is not None]
    out = targets.previews(session, infos)
    for c in cases:
        out.setdefault(
            (c.target_kind, c.target_id), {"kind": c.target_kind, "id": c.target_id, "exists": False}
        )
    return out


def case_json(case: ModerationCase, preview: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": case.id, "target": {"kind": case.target_kind, "id": case.target_id}, "status": case.status,
        "open_notices": case.open_notices, "total_notices": case.total_notices,
        "categories": dict(case.categories), "severity": case.severity, "opened_at": case.opened_at,
        "last_notice_at": case.last_notice_at, "assigned_to": case.assigned_to, "claimed_at": case.claimed_at,
        "last_decision_id": case.last_decision_id, "preview": preview,
    }  # fmt: skip


def queue(
    session: Session,
    principal: Principal,
    params: PageParams,
    *,
    kind: str | None = None,
    status: str = "open",
    order: str = "oldest",
    assigned: str | None = None,
) -> tuple[list[dict[str, Any]], str | None]:
    require_scope(principal, "moderation")
    stmt = select(ModerationCase).where(ModerationCase.status == status)
    if kind:
        stmt = stmt.where(ModerationCase.target_kind == kind)
    if assigned == "me":
        stmt = stmt.where(ModerationCase.assigned_to == principal.user_id)
    elif assigned == "nobody":
        stmt = stmt.where(ModerationCase.assigned_to.is_(None))
    cols = [ModerationCase.opened_at, ModerationCase.id]
    if order == "severity":
        cols.insert(0, ModerationCase.severity)
    if params.cursor:
        values = decode_cursor(params.cursor, len(cols))
        try:
            values[-2] = datetime.fromisoformat(values[-2])
        except (TypeError, ValueError) as exc:
            raise BadRequest("The cursor is not one this API issued.") from exc
        binds = [bindparam(None, v, type_=c.type) for c, v in zip(cols, values, strict=True)]
        stmt = stmt.where(tuple_(*cols) > tuple_(*binds))
    rows = list(session.scalars(stmt.order_by(*cols).limit(params.limit + 1)))
    cursor = None
    if len(rows) > params.limit:
        rows = rows[: params.limit]
        last = rows[-1]
        head = [last.severity] if order == "severity" else []
        cursor = encode_cursor(*head, last.opened_at.isoformat(), last.id)
    previews = _preview(session, rows)
    return [case_json(c, previews[(c.target_kind, c.target_id)]) for c in rows], cursor


def get_case(session: Session, principal: Principal, case_id: str) -> dict[str, Any]:
    require_scope(principal, "moderation")
    case = session.get(ModerationCase, case_id)
    if case is None:
        raise NotFound(f"No case {case_id}.")
    notices = session.scalars(
        select(Notice)
        .where(Notice.case_id == case_id)
        .order_by(Notice.status.desc(), Notice.id.desc())
        .limit(200)
    )
    decisions = session.scalars(
        select(Decision)
        .where(Decision.target_kind == case.target_kind, Decision.target_id == case.target_id)
        .order_by(Decision.id.desc())
        .limit(50)
    )
    out = case_json(case, _preview(session, [case])[(case.target_kind, case.target_id)])
    out["notices"] = [
        {
            "id": n.id,
            "category": n.category,
            "illegal_claim": n.illegal_claim,
            "explanation": n.explanation,
            "legal_reference": n.legal_reference,
            "location": n.location,
            "good_faith": n.good_faith,
            "reporter": "account" if n.reporter_user_id else "anonymous",
            "reporter_user_id": n.reporter_user_id,
            "submissions": n.submissions,
            "status": n.status,
            "created_at": n.created_at,
        }  # fmt: skip
        for n in notices
    ]
    out["decisions"] = [
        {
            "id": d.id,
            "action": d.action,
            "ground": d.ground,
            "decided_by": d.decided_by,
            "decided_at": d.decided_at,
        }
        for d in decisions
    ]
    return out


def claim(session: Session, principal: Principal, case_id: str, *, release: bool = False) -> dict[str, Any]:
    """Take a case (or give it back). Another moderator's fresh claim is a 409 naming them."""
    require_scope(principal, "moderation")
    stmt = select(ModerationCase).where(ModerationCase.id == case_id)
    if session.get_bind().dialect.name != "sqlite":
        stmt = stmt.with_for_update()
    case = session.scalar(stmt)
    if case is None:
        raise NotFound(f"No case {case_id}.")
    now = utcnow()
    held = (
        case.assigned_to is not None
        and case.assigned_to != principal.user_id
        and case.claimed_at is not None
        and case.claimed_at > now - timedelta(minutes=CLAIM_MINUTES)
    )
    if release:
        if case.assigned_to == principal.user_id:
            case.assigned_to, case.claimed_at = None, None
            records.record(session, "case", case.id, "released", principal.user_id)
    else:
        if case.status != "open":
            raise Conflict("This case has no open notices.")
        if held:
            raise Conflict("Another moderator is working on this case.", assigned_to=case.assigned_to)
        case.assigned_to, case.claimed_at = principal.user_id, now
        records.record(session, "case", case.id, "claimed", principal.user_id)
    return case_json(case, _preview(session, [case])[(case.target_kind, case.target_id)])
