"""The right to erasure (GDPR Art. 17). The request (with the password, again) stops the account at once
(disabled; sessions and tokens revoked) and enqueues a job that runs each step in a transaction of its
own and records it as done in the same transaction, so a crash resumes where it stopped and a step that
runs twice changes nothing:

    every domain's ``erase_user_*`` (``compliance.privacy``: content taken down and blanked, orders
    anonymised with amounts and VAT kept, addresses, cart and saved payment tokens deleted, …)
    compliance     the person's exports deleted; notices and appeals stay as moderation records under the
                   scrubbed account's id, without contact details
    feed           ``feed.service.forget(session, pseudonym)`` (when the feed offers it)
    pseudonym      the person↔pseudonym mapping deleted: the event log's events become unlinkable
    accounts       the account scrubbed (e-mail unusable, "Erased user", password unusable)

The request row keeps the user id, the steps and counts: proof the erasure happened, nothing personal.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from etalage.accounts import privacy as accounts_privacy
from etalage.accounts import service as accounts
from etalage.accounts.authz import Principal, require_scope
from etalage.compliance import exports, privacy, records
from etalage.compliance.models import ErasureRequest, Notice
from etalage.core import jobs
from etalage.core.errors import Conflict, Forbidden, Unauthorized
from etalage.core.ratelimit import RateLimiter
from etalage.db import Database, utcnow

ERASE_JOB = "compliance.erase"
RETENTION = (
    "Orders stay as accounting records for as long as tax law requires (amounts, VAT, lines, dates, "
    "merchant and the country of delivery), without your name, address or phone. Moderation decisions "
    "about your content and notices you sent stay as records the Digital Services Act requires, under an "
    "account id that no longer names you. Your interactions stay in the event log under a pseudonymous key "
    "that nothing links to you any more, until the log's retention deletes them."
)


def erasure_json(req: ErasureRequest) -> dict[str, Any]:
    return {
        "id": req.id, "status": req.status, "steps_done": list(req.steps_done),
        "requested_at": req.requested_at, "completed_at": req.completed_at, "retention": RETENTION,
    }  # fmt: skip


def request(
    session: Session, principal: Principal, password: str, *, limiter: RateLimiter, client_ip: str
) -> ErasureRequest:
    require_scope(principal, "profile")
    if principal.bound_merchant_id is not None:
        raise Forbidden("A token bound to a merchant cannot erase a person; use your own session.")
    existing = session.scalar(select(ErasureRequest).where(ErasureRequest.user_id == principal.user_id))
    if existing is not None:
        return existing
    user = accounts.get_user(session, principal.user_id)
    try:
        accounts.check_credentials(
            session, email=user.email, password=password, limiter=limiter, client_ip=client_ip
        )
    except Unauthorized:
        raise Forbidden("The password is wrong.", field="password") from None
    blockers = privacy.blockers(session, principal.user_id)
    if blockers:
        raise Conflict(
            "Your account cannot be erased yet: " + "; ".join(sorted({b["what_to_do"] for b in blockers})),
            blockers=blockers,
        )
    req = ErasureRequest(user_id=principal.user_id, status="requested")
    try:
        with session.begin_nested():
            session.add(req)
            session.flush()
    except IntegrityError:  # a concurrent request won
        found = session.scalar(select(ErasureRequest).where(ErasureRequest.user_id == principal.user_id))
        assert found is not None
        return found
    accounts_privacy.revoke_access(session, principal.user_id)
    records.record(session, "erasure", req.id, "requested", principal.user_id)
    jobs.enqueue(session, ERASE_JOB, {"erasure_id": req.id}, dedupe_key=f"{ERASE_JOB}:{req.id}")
    return req


def get(session: Session, principal: Principal) -> ErasureRequest | None:
    return session.scalar(select(ErasureRequest).where(ErasureRequest.user_id == principal.user_id))


# --- the steps --------------------------------------------------------------------------------------------


def _compliance(session: Session, user_id: str) -> dict[str, int]:
    forgotten = 0
    for notice in session.scalars(select(Notice).where(Notice.reporter_user_id == user_id)):
        if notice.contact_email or notice.contact_name or notice.receipt_hash:
            notice.contact_email = notice.contact_name = notice.receipt_hash = None
            forgotten += 1
    return {"exports_deleted": exports.delete_user_exports(session, user_id), "notices_kept": forgotten}


def _feed(session: Session, user_id: str) -> dict[str, Any]:
    pseudonym = accounts.principal_for_user(session, user_id).pseudonym
    feed = exports.pseudonymous_module("feed")
    forget = getattr(feed, "forget", None) if feed is not None else None
    if pseudonym is None or forget is None:
        return {"forgotten": None if forget is None else 0}
    result = forget(session, pseudonym)
    return {"forgotten": result if isinstance(result, int | dict) else True}


def _mapping(session: Session, user_id: str) -> dict[str, int]:
    had = accounts.principal_for_user(session, user_id).pseudonym is not None
    accounts.erase_pseudonym(session, user_id)
    return {"mappings_deleted": int(had)}


def steps() -> list[tuple[str, Any]]:
    domain_steps = privacy.erasure_steps()
    first = [(n, fn) for n, fn in domain_steps if not n.startswith("accounts.")]
    last = [(n, fn) for n, fn in domain_steps if n.startswith("accounts.")]
    return [
        *first,
        ("compliance", _compliance),
        ("feed.forget", _feed),
        ("accounts.pseudonym", _mapping),
        *last,
    ]


def run(db: Database, erasure_id: str) -> None:
    with db.session() as s:
        req = s.get(ErasureRequest, erasure_id)
        if req is None or req.status == "done":
            return
        req.status, user_id = "running", req.user_id
    for name, step in steps():
        with db.session() as s:
            stmt = select(ErasureRequest).where(ErasureRequest.id == erasure_id)
            if not db.is_sqlite:
                stmt = stmt.with_for_update()
            req = s.scalar(stmt)
            assert req is not None
            if name in req.steps_done:
                continue
            counts = step(s, user_id) or {}
            req.steps_done = [*req.steps_done, name]
            req.counts = {**req.counts, name: counts}
            records.record(s, "erasure", erasure_id, "step", None, step=name)
    with db.session() as s:
        req = s.get(ErasureRequest, erasure_id)
        assert req is not None
        req.status, req.completed_at = "done", utcnow()
        records.record(s, "erasure", erasure_id, "completed", None, steps=len(req.steps_done))
