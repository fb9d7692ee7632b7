"""Internal complaint handling (DSA Art. 20): the affected party, or a notifier, appeals a decision within
six months; a moderator other than the one who decided (and not a party to it) upholds or reverses it. A
reversal restores the target through its own domain; a reversed "no action" reopens the notices."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from etalage.accounts.authz import Principal, require_scope
from etalage.compliance import decisions, records, targets
from etalage.compliance import notices as notices_mod
from etalage.compliance.models import Appeal, Decision, ModerationCase, Notice
from etalage.core import bus
from etalage.core.errors import Conflict, Forbidden, NotFound
from etalage.core.pagination import PageParams, decode_cursor, encode_cursor, paginate
from etalage.db import utcnow

APPEAL_DECIDED_TOPIC = "compliance.appeal.decided"


def appeal_json(appeal: Appeal, *, moderator: bool = False) -> dict[str, Any]:
    return {
        "id": appeal.id, "decision_id": appeal.decision_id, "appellant_role": appeal.appellant_role,
        "appellant_user_id": appeal.appellant_user_id if moderator else None, "statement": appeal.statement,
        "status": appeal.status, "outcome_reason": appeal.outcome_reason, "restored": appeal.restored,
        "decided_at": appeal.decided_at, "created_at": appeal.created_at,
    }  # fmt: skip


def file(session: Session, principal: Principal, decision_id: str, statement: str) -> Appeal:
    decision = session.get(Decision, decision_id)
    if decision is None:
        raise NotFound(f"No decision {decision_id}.")
    if decisions.is_affected(principal, decision):
        role = "affected"
    elif principal.bound_merchant_id is None and decisions.is_notifier(session, principal, decision_id):
        role = "notifier"
    else:
        raise NotFound(f"No decision {decision_id}.")
    deadline = decision.decided_at + timedelta(days=records.APPEAL_DAYS)
    if utcnow() > deadline:
        raise Conflict(f"The six months to appeal this decision ended on {deadline.date().isoformat()}.")
    if session.scalar(
        select(Appeal.id).where(Appeal.decision_id == decision_id, Appeal.status == "reversed")
    ):
        raise Conflict("This decision was already reversed on appeal.")
    appeal = Appeal(
        decision_id=decision_id,
        appellant_user_id=principal.user_id,
        appellant_role=role,
        statement=statement,
        open_key=f"{decision_id}:{principal.user_id}",  # one appeal per person and decision
    )
    try:
        with session.begin_nested():
            session.add(appeal)
            session.flush()
    except IntegrityError as exc:
        existing = session.scalar(
            select(Appeal.id).where(Appeal.open_key == f"{decision_id}:{principal.user_id}")
        )
        raise Conflict("You already appealed this decision.", appeal_id=existing) from exc
    records.record(
        session, "appeal", appeal.id, "filed", principal.user_id, decision_id=decision_id, role=role
    )
    return appeal


def get(session: Session, principal: Principal, appeal_id: str) -> dict[str, Any]:
    appeal = session.get(Appeal, appeal_id)
    moderator = principal.has_scope("moderation") and principal.bound_merchant_id is None
    if appeal is None or not (moderator or appeal.appellant_user_id == principal.user_id):
        raise NotFound(f"No appeal {appeal_id}.")
    return appeal_json(appeal, moderator=moderator)


def queue(
    session: Session, principal: Principal, params: PageParams, status: str
) -> tuple[list[dict[str, Any]], str | None]:
    """Appeals for moderators: open ones oldest first (the page's cursor is the last id)."""
    require_scope(principal, "moderation")
    stmt = select(Appeal).where(Appeal.status == status)
    if status == "open":  # oldest first: the ones closest to their deadline
        if params.cursor:
            (last,) = decode_cursor(params.cursor)
            stmt = stmt.where(Appeal.id > str(last))
        rows = list(session.scalars(stmt.order_by(Appeal.id).limit(params.limit + 1)))
        cursor = None
        if len(rows) > params.limit:
            rows, cursor = rows[: params.limit], encode_cursor(rows[params.limit - 1].id)
    else:
        rows, cursor = paginate(session, stmt, Appeal.id, params)
    found = notices_mod.decisions_by_id(session, [a.decision_id for a in rows])
    out = []
    for a in rows:
        item = appeal_json(a, moderator=True)
        d = found.get(a.decision_id)
        item["decision"] = decisions.statement_json(d, [], moderator=True, affected=True) if d else None
        out.append(item)
    return out, cursor


def decide(session: Session, moderator: Principal, appeal_id: str, outcome: str, reason: str) -> Appeal:
    require_scope(moderator, "moderation")
    appeal = session.get(Appeal, appeal_id)
    if appeal is None:
        raise NotFound(f"No appeal {appeal_id}.")
    decision = session.get(Decision, appeal.decision_id)
    assert decision is not None
    if decision.decided_by == moderator.user_id:
        raise Forbidden(
            "A moderator cannot decide an appeal against their own decision; another moderator must."
        )
    if moderator.user_id in (appeal.appellant_user_id, decision.affected_user_id) or (
        decision.affected_merchant_id in moderator.memberships
    ):
        raise Forbidden("You are a party to this decision; another moderator must decide the appeal.")
    now = utcnow()
    taken = session.execute(
        update(Appeal)
        .where(Appeal.id == appeal_id, Appeal.status == "open")
        .values(status=outcome, outcome_reason=reason, decided_by=moderator.user_id, decided_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    if taken != 1:
        raise Conflict("This appeal was already decided.")
    session.expire(appeal)
    restored: dict[str, Any] = {}
    if outcome == "reversed":
        already = session.scalar(
            select(Appeal.id).where(
                Appeal.decision_id == decision.id, Appeal.status == "reversed", Appeal.id != appeal_id
            )
        )
        if already:
            restored = {"restored": False, "note": f"already reversed by appeal {already}"}
        elif decision.action == "no_action":
            restored = _reopen(session, moderator, decision)
        else:
            text = f"appeal {appeal_id} against {decision.id} succeeded: {reason}"[:1000]
            restored = targets.reverse(session, moderator, decision.target_kind, decision.target_id,
                                       decision.action, decision.enacted, text)  # fmt: skip
        session.execute(update(Appeal).where(Appeal.id == appeal_id).values(restored=restored))
    records.record(session, "appeal", appeal_id, outcome, moderator.user_id, decision_id=decision.id,
                   restored=restored)  # fmt: skip
    if outcome == "reversed":
        records.record(session, "decision", decision.id, "reversed", moderator.user_id, appeal_id=appeal_id)
    bus.publish(session, APPEAL_DECIDED_TOPIC, {"appeal_id": appeal_id, "decision_id": decision.id,
                                                "outcome": outcome})  # fmt: skip
    return appeal


def _reopen(session: Session, moderator: Principal, decision: Decision) -> dict[str, Any]:
    """A notifier showed that "no action" was wrong: its notices go back to the queue for a new decision."""
    reopened = session.execute(
        update(Notice)
        .where(Notice.decision_id == decision.id, Notice.status == "decided")
        .values(status="open", decided_at=None, updated_at=utcnow())
        .execution_options(synchronize_session=False)
    ).rowcount
    case = notices_mod.locked_case(session, decision.target_kind, decision.target_id, create=False)
    if case is None:
        case = ModerationCase(target_kind=decision.target_kind, target_id=decision.target_id)
        session.add(case)
    notices_mod.refresh_case(session, case)
    records.record(session, "case", case.id, "reopened", moderator.user_id, decision_id=decision.id)
    return {"restored": True, "reopened_notices": int(reopened or 0), "case_id": case.id}
