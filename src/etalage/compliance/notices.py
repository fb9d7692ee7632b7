"""Notice and action (DSA Art. 16): anyone may tell us about a video, product, comment, chat message, live
room or merchant they can see. Duplicates from one notifier on one open target are merged; each target has
one moderation case, whose counts are recomputed under a row lock on every change."""

from __future__ import annotations

import hashlib
import hmac
import secrets

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from etalage.accounts.authz import Principal
from etalage.compliance import records, targets
from etalage.compliance.models import Decision, ModerationCase, Notice
from etalage.compliance.schemas import NoticeIn
from etalage.config import get_settings
from etalage.core.errors import InvalidInput, NotFound, RateLimited
from etalage.core.pagination import PageParams, paginate
from etalage.core.ratelimit import RateLimiter
from etalage.db import utcnow

# 1 is looked at first: children's safety, then what can hurt people, then fraud, then rights, then the rest
SEVERITY = {
    "minor_safety": 1,
    "illegal_product": 2,
    "unsafe_product": 2,
    "hate_speech": 3,
    "scam": 3,
    "counterfeit": 4,
    "privacy_violation": 4,
    "intellectual_property": 5,
    "other": 7,
}
MIN_EXPLANATION = 20
PER_USER_HOUR, PER_IP_HOUR = 30, 60  # an IP may be a household or an office behind one address


def _limit(limiter: RateLimiter, principal: Principal | None, client_ip: str) -> None:
    keys = [(f"compliance:notice-ip:{client_ip}", PER_IP_HOUR)]
    if principal is not None:
        keys.append((f"compliance:notice-user:{principal.user_id}", PER_USER_HOUR))
    for key, limit in keys:
        decision = limiter.hit(key, limit, 3600)
        if not decision.allowed:
            raise RateLimited("Too many notices in the last hour.", retry_after=decision.retry_after)


def _check_complete(principal: Principal | None, body: NoticeIn) -> bool:
    """Art. 16(2): a notice of illegal content explains why, states good faith and (if anonymous) names its
    sender, except for offences against children (Directive 2011/93/EU). Returns whether it claims illegality."""
    illegal = body.category != "other"
    if not illegal:
        return False
    errors = []
    if len(body.explanation) < MIN_EXPLANATION:
        errors.append({"loc": "explanation", "message": f"explain why it is illegal (at least {MIN_EXPLANATION} characters)", "type": "too_short"})  # fmt: skip
    if not body.good_faith:
        errors.append({"loc": "good_faith", "message": "confirm the notice is accurate and made in good faith", "type": "required"})  # fmt: skip
    if principal is None and body.category != "minor_safety":
        for name in ("contact_name", "contact_email"):
            if not getattr(body, name):
                errors.append({"loc": name, "message": "required for an anonymous notice of illegal content", "type": "required"})  # fmt: skip
    if errors:
        raise InvalidInput("A notice of illegal content is incomplete (DSA Art. 16(2)).", errors=errors)
    return True


def _reporter_key(principal: Principal | None, body: NoticeIn, client_ip: str) -> str:
    if principal is not None:
        return f"u:{principal.user_id}"
    secret = get_settings().secret_key.encode()
    who = body.contact_email or f"ip:{client_ip}"  # a keyed hash: the key holds no address, and is dropped
    return (
        "a:" + hmac.new(secret, who.encode(), hashlib.sha256).hexdigest()[:32]
    )  # when the notice is decided


def locked_case(session: Session, kind: str, target_id: str, *, create: bool) -> ModerationCase | None:
    """The target's case, locked for this transaction (PostgreSQL; SQLite writers are serial anyway)."""
    stmt = select(ModerationCase).where(
        ModerationCase.target_kind == kind, ModerationCase.target_id == target_id
    )
    if session.get_bind().dialect.name != "sqlite":
        stmt = stmt.with_for_update()
    case = session.scalar(stmt)
    if case is None and create:
        try:
            with session.begin_nested():
                case = ModerationCase(target_kind=kind, target_id=target_id, status="open")
                session.add(case)
                session.flush()
        except IntegrityError:  # a concurrent first notice made it
            case = session.scalar(stmt)
    return case


def refresh_case(session: Session, case: ModerationCase) -> None:
    """Recount the case's open notices, categories, severity and age from its notices."""
    session.flush()
    rows = session.execute(
        select(Notice.category, func.count(), func.min(Notice.created_at), func.max(Notice.updated_at))
        .where(Notice.case_id == case.id, Notice.status == "open")
        .group_by(Notice.category)
    ).all()
    case.categories = {cat: int(n) for cat, n, _, _ in rows}
    case.open_notices = sum(case.categories.values())
    case.total_notices = int(session.scalar(select(func.count()).where(Notice.case_id == case.id)) or 0)
    case.severity = min((SEVERITY[c] for c in case.categories), default=9)
    if rows:
        case.opened_at = min(r[2] for r in rows)
        case.last_notice_at = max(r[3] for r in rows)
    case.status = "open" if case.open_notices else "decided"
    if case.status == "decided":
        case.assigned_to, case.claimed_at = None, None
    case.updated_at = utcnow()


def submit(
    session: Session, principal: Principal | None, body: NoticeIn, *, client_ip: str, limiter: RateLimiter
) -> tuple[Notice, bool, str | None]:
    """Record a notice (or merge it into the notifier's open one). Returns (notice, merged, receipt token)."""
    _limit(limiter, principal, client_ip)
    kind, target_id = body.target.kind, body.target.id
    targets.visible(session, principal, kind, target_id)
    illegal = _check_complete(principal, body)
    key = f"{_reporter_key(principal, body, client_ip)}:{kind}:{target_id}"
    case = locked_case(session, kind, target_id, create=True)
    assert case is not None
    existing = session.scalar(select(Notice).where(Notice.dedupe_key == key))
    if existing is not None:
        return _merge(session, existing, body, principal), True, None
    token = secrets.token_urlsafe(24) if principal is None else None
    notice = Notice(
        case_id=case.id,
        target_kind=kind,
        target_id=target_id,
        category=body.category,
        illegal_claim=illegal,
        explanation=body.explanation,
        legal_reference=body.legal_reference,
        location=body.location,
        good_faith=body.good_faith,
        reporter_user_id=principal.user_id if principal else None,
        contact_email=body.contact_email if principal is None else None,
        contact_name=body.contact_name if principal is None else None,
        receipt_hash=hashlib.sha256(token.encode()).hexdigest() if token else None,
        dedupe_key=key,
    )
    session.add(notice)
    refresh_case(session, case)
    records.record(session, "notice", notice.id, "received", principal.user_id if principal else None,
                   case_id=case.id, target_kind=kind, target_id=target_id, category=body.category)  # fmt: skip
    return notice, False, token


def _merge(session: Session, notice: Notice, body: NoticeIn, principal: Principal | None) -> Notice:
    notice.submissions += 1
    extra = body.explanation.strip()
    if extra and extra not in notice.explanation and len(notice.explanation) + len(extra) < 4990:
        notice.explanation = f"{notice.explanation}\n\n{extra}".strip()
    if SEVERITY[body.category] < SEVERITY[notice.category]:  # the graver reading of the same target wins
        notice.category, notice.illegal_claim = body.category, body.category != "other"
    notice.updated_at = utcnow()
    case = session.get(ModerationCase, notice.case_id)
    if case is not None:
        refresh_case(session, case)
    records.record(session, "notice", notice.id, "merged", principal.user_id if principal else None,
                   submissions=notice.submissions)  # fmt: skip
    return notice


def get_for_notifier(
    session: Session, principal: Principal | None, notice_id: str, receipt_token: str | None
) -> Notice:
    notice = session.get(Notice, notice_id)
    if notice is not None:
        if principal is not None and notice.reporter_user_id == principal.user_id:
            return notice
        if (
            receipt_token
            and notice.receipt_hash
            and hmac.compare_digest(notice.receipt_hash, hashlib.sha256(receipt_token.encode()).hexdigest())
        ):
            return notice
    raise NotFound(f"No notice {notice_id} of yours.")


def mine(session: Session, principal: Principal, params: PageParams) -> tuple[list[Notice], str | None]:
    stmt = select(Notice).where(Notice.reporter_user_id == principal.user_id)
    return paginate(session, stmt, Notice.id, params)


def decisions_by_id(session: Session, ids: list[str]) -> dict[str, Decision]:
    if not ids:
        return {}
    return {d.id: d for d in session.scalars(select(Decision).where(Decision.id.in_(sorted(set(ids)))))}
