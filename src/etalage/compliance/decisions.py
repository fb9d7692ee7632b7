"""Moderation decisions with a statement of reasons (DSA Art. 17), enacted through the owning domain in the
same transaction: the decision, the domain's change (e.g. a video removed, which leaves every feed on commit)
and the closing of the notices it answers commit together or not at all."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from etalage.accounts.authz import Principal, require_scope
from etalage.compliance import notices as notices_mod
from etalage.compliance import records, targets
from etalage.compliance.models import Appeal, Decision, Notice
from etalage.compliance.queue import CLAIM_MINUTES
from etalage.compliance.schemas import DecisionIn
from etalage.core import bus, jobs
from etalage.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from etalage.core.pagination import PageParams, paginate
from etalage.db import new_id, utcnow

DECIDED_TOPIC = "compliance.decision.made"
FORGET_CONTACTS_JOB = "compliance.forget_notifier_contacts"
RESTRICTIONS = {
    "remove": "removal of the content",
    "restrict_visibility": "visibility restricted: only its owner can see it",
    "no_action": "no restriction",
    "suspend_merchant": "suspension of the trader's selling (DSA Art. 23)",
    "ban_from_live": "removal of the message and a ban from chatting in the live room",
}


def _reason_for_domain(decision_id: str, body: DecisionIn) -> str:
    ground = f"law: {body.legal_reference}" if body.ground == "illegal" else f"terms {body.terms_clause}"
    return f"{body.action} ({ground}); statement of reasons {decision_id}"


def _open_notices(
    session: Session, case_id: str | None, wanted: list[str] | None, kind: str, tid: str
) -> list[Notice]:
    if wanted is None:
        if case_id is None:
            return []
        return list(session.scalars(select(Notice).where(Notice.case_id == case_id, Notice.status == "open")))
    found = {n.id: n for n in session.scalars(select(Notice).where(Notice.id.in_(sorted(set(wanted)))))}
    wrong = [i for i in wanted if i not in found or (found[i].target_kind, found[i].target_id) != (kind, tid)]
    if wrong:
        raise InvalidInput("These notices are not about this target.", notice_ids=wrong)
    closed = [i for i in wanted if found[i].status != "open"]
    if closed:
        raise Conflict("These notices were already decided.", notice_ids=closed)
    return [found[i] for i in dict.fromkeys(wanted)]


def decide(session: Session, moderator: Principal, body: DecisionIn) -> Decision:
    require_scope(moderator, "moderation")
    kind, tid = body.target.kind, body.target.id
    info = targets.resolve(session, kind, tid)
    if info is None:
        raise NotFound(f"No {kind.replace('_', ' ')} {tid}.")
    targets.check_action(info, body.action)
    if body.duration_days is not None and body.action != "ban_from_live":
        raise InvalidInput(
            "duration_days applies to ban_from_live only; other restrictions last until lifted."
        )
    user_id, merchant_id = targets.affected(info, body.action)
    if moderator.user_id == user_id or (merchant_id is not None and merchant_id in moderator.memberships):
        raise Forbidden("You are a party to this; another moderator must decide it.")
    case = notices_mod.locked_case(session, kind, tid, create=False)
    if (
        case is not None
        and case.assigned_to not in (None, moderator.user_id)
        and case.claimed_at is not None
        and case.claimed_at > utcnow() - timedelta(minutes=CLAIM_MINUTES)
    ):
        raise Conflict("Another moderator is working on this case.", assigned_to=case.assigned_to)
    answered = _open_notices(session, case.id if case else None, body.notice_ids, kind, tid)
    decision_id = new_id("dcs")
    enacted = targets.enact(session, moderator, info, body.action, _reason_for_domain(decision_id, body),
                            body.duration_days)  # fmt: skip
    now = utcnow()
    days = (body.duration_days or targets.DEFAULT_BAN_DAYS) if body.action == "ban_from_live" else None
    decision = Decision(
        id=decision_id,
        case_id=case.id if case else None,
        target_kind=kind,
        target_id=tid,
        action=body.action,
        ground=body.ground,
        legal_reference=body.legal_reference if body.ground == "illegal" else None,
        terms_clause=body.terms_clause if body.ground == "terms" else None,
        facts=body.facts,
        automated=body.automated,
        source="notice" if answered else "own_initiative",
        territorial_scope=sorted(set(body.territorial_scope)),
        ends_at=now + timedelta(days=days) if days else None,
        notice_count=len(answered),
        categories=sorted({n.category for n in answered}),
        affected_user_id=user_id,
        affected_merchant_id=merchant_id,
        enacted=enacted,
        decided_by=moderator.user_id,
        decided_at=now,
        first_notice_at=min((n.created_at for n in answered), default=None),
    )
    session.add(decision)
    if answered:
        ids = [n.id for n in answered]
        closed = session.execute(
            update(Notice)
            .where(Notice.id.in_(ids), Notice.status == "open")
            .values(
                status="decided", decision_id=decision_id, decided_at=now, dedupe_key=None, updated_at=now
            )
            .execution_options(synchronize_session=False)
        ).rowcount
        if closed != len(ids):  # another moderator decided some of them meanwhile
            raise Conflict("Some of these notices were decided by someone else meanwhile; reload the case.")
        for n in answered:
            session.expire(n)
            records.record(session, "notice", n.id, "decided", moderator.user_id, decision_id=decision_id)
        if any(n.contact_email or n.contact_name for n in answered):
            jobs.enqueue(session, FORGET_CONTACTS_JOB, {"decision_id": decision_id},
                         delay_seconds=records.APPEAL_DAYS * 86400, dedupe_key=f"{FORGET_CONTACTS_JOB}:{decision_id}")  # fmt: skip
    if case is not None:
        notices_mod.refresh_case(session, case)
        case.last_decision_id = decision_id
    records.record(session, "decision", decision_id, "decided", moderator.user_id, target_kind=kind,
                   target_id=tid, action=body.action, notices=len(answered), enacted=enacted)  # fmt: skip
    bus.publish(session, DECIDED_TOPIC, {"decision_id": decision_id, "target_kind": kind, "target_id": tid,
                                         "action": body.action})  # fmt: skip
    return decision


# --- reading statements --------------------------------------------------------------------------------


def _appeals(session: Session, decision_ids: list[str]) -> dict[str, list[Appeal]]:
    out: dict[str, list[Appeal]] = {d: [] for d in decision_ids}
    if decision_ids:
        stmt = select(Appeal).where(Appeal.decision_id.in_(decision_ids)).order_by(Appeal.id)
        for a in session.scalars(stmt):
            out[a.decision_id].append(a)
    return out


def status_of(decision: Decision, appeals: list[Appeal]) -> str:
    if any(a.status == "reversed" for a in appeals):
        return "reversed"
    if decision.ends_at is not None and decision.ends_at <= utcnow():
        return "expired"
    return "in_force"


def statement_json(
    decision: Decision, appeals: list[Appeal], *, moderator: bool, affected: bool
) -> dict[str, Any]:
    show_parties = moderator or affected
    return {
        "id": decision.id, "target": {"kind": decision.target_kind, "id": decision.target_id},
        "action": decision.action, "restriction": RESTRICTIONS[decision.action],
        "territorial_scope": decision.territorial_scope or ["everywhere"], "ends_at": decision.ends_at,
        "ground": decision.ground, "legal_reference": decision.legal_reference,
        "terms_clause": decision.terms_clause, "facts": decision.facts, "automated": decision.automated,
        "source": decision.source, "notice_count": decision.notice_count, "categories": decision.categories,
        "affected_user_id": decision.affected_user_id if show_parties else None,
        "affected_merchant_id": decision.affected_merchant_id if show_parties else None,
        "decided_at": decision.decided_at, "status": status_of(decision, appeals),
        "appeal_until": decision.decided_at + timedelta(days=records.APPEAL_DAYS),
        "appeals": [
            {"id": a.id, "status": a.status, "appellant_role": a.appellant_role, "created_at": a.created_at,
             "decided_at": a.decided_at, "outcome_reason": a.outcome_reason}  # fmt: skip
            for a in appeals
            if moderator or affected or a.status != "open"
        ],
        "redress": records.REDRESS.replace("{id}", decision.id),
        "enacted": decision.enacted if moderator else None,
        "decided_by": decision.decided_by if moderator else None,
    }  # fmt: skip


def is_affected(principal: Principal, decision: Decision) -> bool:
    if decision.affected_user_id is not None and decision.affected_user_id == principal.user_id:
        return principal.bound_merchant_id is None
    mid = decision.affected_merchant_id
    return mid is not None and mid in principal.memberships and principal.bound_merchant_id in (None, mid)


def is_notifier(session: Session, principal: Principal, decision_id: str) -> bool:
    found = session.scalar(
        select(Notice.id)
        .where(Notice.decision_id == decision_id, Notice.reporter_user_id == principal.user_id)
        .limit(1)
    )
    return found is not None


def get_statement(session: Session, principal: Principal, decision_id: str) -> dict[str, Any]:
    """The statement, for moderators, the affected party and the notifiers whose notices it answered."""
    decision = session.get(Decision, decision_id)
    if decision is None:
        raise NotFound(f"No decision {decision_id}.")
    moderator = principal.has_scope("moderation") and principal.bound_merchant_id is None
    affected = is_affected(principal, decision)
    if not (moderator or affected or is_notifier(session, principal, decision_id)):
        raise NotFound(f"No decision {decision_id}.")
    appeals = _appeals(session, [decision.id])[decision.id]
    return statement_json(decision, appeals, moderator=moderator, affected=affected)


def mine(
    session: Session, principal: Principal, params: PageParams, merchant_id: str | None = None
) -> tuple[list[dict[str, Any]], str | None]:
    """Decisions that affect the caller, or a merchant the caller belongs to, newest first."""
    shops = [m for m in principal.memberships if principal.bound_merchant_id in (None, m)]
    if merchant_id is not None:
        if merchant_id not in shops:
            raise NotFound(f"No merchant {merchant_id} is reachable with this credential.")
        cond = Decision.affected_merchant_id == merchant_id
    else:
        conds = [Decision.affected_merchant_id.in_(shops)] if shops else []
        if principal.bound_merchant_id is None:
            conds.append(Decision.affected_user_id == principal.user_id)
        if not conds:
            return [], None
        cond = or_(*conds)
    rows, cursor = paginate(session, select(Decision).where(cond), Decision.id, params)
    appeals = _appeals(session, [d.id for d in rows])
    return [statement_json(d, appeals[d.id], moderator=False, affected=True) for d in rows], cursor


def for_moderators(
    session: Session,
    principal: Principal,
    params: PageParams,
    *,
    target_kind: str | None,
    target_id: str | None,
) -> tuple[list[dict[str, Any]], str | None]:
    require_scope(principal, "moderation")
    stmt = select(Decision)
    if target_kind:
        stmt = stmt.where(Decision.target_kind == target_kind)
    if target_id:
        stmt = stmt.where(Decision.target_id == target_id)
    rows, cursor = paginate(session, stmt, Decision.id, params)
    appeals = _appeals(session, [d.id for d in rows])
    return [statement_json(d, appeals[d.id], moderator=True, affected=True) for d in rows], cursor


def summary(decision: Decision, reversed_: bool) -> dict[str, Any]:
    return {
        "decision_id": decision.id, "action": decision.action, "ground": decision.ground,
        "legal_reference": decision.legal_reference, "terms_clause": decision.terms_clause,
        "automated": decision.automated, "decided_at": decision.decided_at, "reversed": reversed_,
    }  # fmt: skip


def summaries(session: Session, decision_ids: list[str]) -> dict[str, dict[str, Any]]:
    found = notices_mod.decisions_by_id(session, decision_ids)
    appeals = _appeals(session, list(found))
    return {i: summary(d, status_of(d, appeals[i]) == "reversed") for i, d in found.items()}
