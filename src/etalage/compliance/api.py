"""Compliance routes: notices (anyone), the moderation queue, decisions and appeals (moderators, and the
affected party), the public transparency report; ``api_privacy`` adds the person's exports and erasure."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from fastapi import Depends, Query, Request, Response, status

from etalage.accounts.deps import CurrentPrincipal, Moderator, OptionalPrincipal
from etalage.compliance import appeals, decisions, notices, queue, records, transparency
from etalage.compliance.api_privacy import router as privacy_router
from etalage.compliance.models import Notice
from etalage.compliance.schemas import (
    AppealDecisionIn,
    AppealIn,
    AppealOut,
    AppealQueueItem,
    CaseDetailOut,
    CaseOut,
    DecisionIn,
    NoticeIn,
    NoticeOut,
    StatementOut,
)
from etalage.core.deps import DbSession
from etalage.core.pagination import Page, PageParams, page_params
from etalage.core.routing import api_router
from etalage.db import utcnow

router = api_router(prefix="/api/v1", tags=["compliance"])
extra_routers = [privacy_router]
Params = Annotated[PageParams, Depends(page_params)]
Kind = Literal["video", "product", "comment", "live_message", "live_room", "merchant"]


def client_ip(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def notice_out(
    session: DbSession, rows: list[Notice], *, merged: bool = False, token: str | None = None
) -> list[NoticeOut]:
    found = decisions.summaries(session, [n.decision_id for n in rows if n.decision_id])
    return [
        NoticeOut(
            id=n.id,
            status=n.status,
            target={"kind": n.target_kind, "id": n.target_id},
            category=n.category,
            illegal_claim=n.illegal_claim,
            explanation=n.explanation,
            location=n.location,
            submissions=n.submissions,
            merged=merged,
            created_at=n.created_at,
            decision=found.get(n.decision_id or ""),
            receipt_token=token,
            redress=records.NOTIFIER_REDRESS.replace("{id}", n.decision_id) if n.decision_id else None,
        )  # fmt: skip
        for n in rows
    ]


# --- notices (DSA Art. 16) ------------------------------------------------------------------------------


@router.post(
    "/notices",
    response_model=NoticeOut,
    status_code=status.HTTP_201_CREATED,
    responses={200: {"model": NoticeOut, "description": "Merged into your open notice on the same target."}},
)
def submit_notice(
    body: NoticeIn, request: Request, response: Response, session: DbSession, principal: OptionalPrincipal
) -> NoticeOut:
    """Tell us about illegal content or a breach of the terms (signed in, or anonymously). The answer is the
    acknowledgement of receipt; a second notice of yours on the same open target is merged into the first
    (200, ``merged: true``). Rate limited per address and per account."""
    notice, merged, token = notices.submit(
        session, principal, body, client_ip=client_ip(request), limiter=request.app.state.limiter
    )
    if merged:
        response.status_code = status.HTTP_200_OK
    session.flush()
    return notice_out(session, [notice], merged=merged, token=token)[0]


@router.get("/notices/{notice_id}", response_model=NoticeOut)
def get_notice(
    notice_id: str,
    session: DbSession,
    principal: OptionalPrincipal,
    receipt_token: Annotated[str | None, Query(max_length=64)] = None,
) -> NoticeOut:
    """Your notice and, once decided, the decision on it (anonymous notifiers pass their receipt token)."""
    return notice_out(session, [notices.get_for_notifier(session, principal, notice_id, receipt_token)])[0]


@router.get("/me/notices", response_model=Page[NoticeOut])
def my_notices(session: DbSession, principal: CurrentPrincipal, params: Params) -> Page[NoticeOut]:
    rows, cursor = notices.mine(session, principal, params)
    return Page(items=notice_out(session, rows), next_cursor=cursor)


# --- the moderation queue -------------------------------------------------------------------------------


@router.get("/moderation/queue", response_model=Page[CaseOut], tags=["moderation"])
def moderation_queue(
    session: DbSession,
    principal: Moderator,
    params: Params,
    kind: Kind | None = None,
    status_: Annotated[Literal["open", "decided"], Query(alias="status")] = "open",
    order: Literal["oldest", "severity"] = "oldest",
    assigned: Literal["me", "nobody"] | None = None,
) -> Page[CaseOut]:
    """Targets with notices: counts by category, severity, a preview from the owning domain."""
    items, cursor = queue.queue(
        session, principal, params, kind=kind, status=status_, order=order, assigned=assigned
    )
    return Page(items=[CaseOut.model_validate(i) for i in items], next_cursor=cursor)


@router.get("/moderation/cases/{case_id}", response_model=CaseDetailOut, tags=["moderation"])
def moderation_case(case_id: str, session: DbSession, principal: Moderator) -> CaseDetailOut:
    return CaseDetailOut.model_validate(queue.get_case(session, principal, case_id))


@router.post("/moderation/cases/{case_id}/claim", response_model=CaseOut, tags=["moderation"])
def claim_case(case_id: str, session: DbSession, principal: Moderator) -> CaseOut:
    """Work on this case (409 while another moderator's claim is fresh)."""
    return CaseOut.model_validate(queue.claim(session, principal, case_id))


@router.delete("/moderation/cases/{case_id}/claim", response_model=CaseOut, tags=["moderation"])
def release_case(case_id: str, session: DbSession, principal: Moderator) -> CaseOut:
    return CaseOut.model_validate(queue.claim(session, principal, case_id, release=True))


# --- decisions (Art. 17) and appeals (Art. 20) ----------------------------------------------------------


@router.post("/moderation/decisions", response_model=StatementOut, status_code=status.HTTP_201_CREATED,
             tags=["moderation"])  # fmt: skip
def decide(body: DecisionIn, session: DbSession, principal: Moderator) -> StatementOut:
    """Decide on a target with a statement of reasons; enacted by the owning domain in this transaction."""
    decision = decisions.decide(session, principal, body)
    return StatementOut.model_validate(decisions.statement_json(decision, [], moderator=True, affected=True))


@router.get("/moderation/decisions", response_model=Page[StatementOut], tags=["moderation"])
def list_decisions(
    session: DbSession,
    principal: Moderator,
    params: Params,
    target_kind: Kind | None = None,
    target_id: Annotated[str | None, Query(max_length=40)] = None,
) -> Page[StatementOut]:
    items, cursor = decisions.for_moderators(
        session, principal, params, target_kind=target_kind, target_id=target_id
    )
    return Page(items=[StatementOut.model_validate(i) for i in items], next_cursor=cursor)


@router.get("/decisions/{decision_id}", response_model=StatementOut)
def get_decision(decision_id: str, session: DbSession, principal: CurrentPrincipal) -> StatementOut:
    """The statement of reasons (the affected party, notifiers whose notices it answered, moderators)."""
    return StatementOut.model_validate(decisions.get_statement(session, principal, decision_id))


@router.get("/me/decisions", response_model=Page[StatementOut])
def my_decisions(
    session: DbSession,
    principal: CurrentPrincipal,
    params: Params,
    merchant_id: Annotated[str | None, Query(max_length=40)] = None,
) -> Page[StatementOut]:
    """Decisions about your content, or (``merchant_id``) a merchant you belong to, newest first."""
    items, cursor = decisions.mine(session, principal, params, merchant_id)
    return Page(items=[StatementOut.model_validate(i) for i in items], next_cursor=cursor)


@router.post(
    "/decisions/{decision_id}/appeals", response_model=AppealOut, status_code=status.HTTP_201_CREATED
)
def file_appeal(
    decision_id: str, body: AppealIn, session: DbSession, principal: CurrentPrincipal
) -> AppealOut:
    """Appeal within six months (the affected party, or a notifier); another moderator decides."""
    appeal = appeals.file(session, principal, decision_id, body.statement)
    return AppealOut.model_validate(appeals.appeal_json(appeal))


@router.get("/appeals/{appeal_id}", response_model=AppealOut)
def get_appeal(appeal_id: str, session: DbSession, principal: CurrentPrincipal) -> AppealOut:
    return AppealOut.model_validate(appeals.get(session, principal, appeal_id))


@router.get("/moderation/appeals", response_model=Page[AppealQueueItem], tags=["moderation"])
def appeal_queue(
    session: DbSession,
    principal: Moderator,
    params: Params,
    status_: Annotated[Literal["open", "upheld", "reversed"], Query(alias="status")] = "open",
) -> Page[AppealQueueItem]:
    """Appeals with the decision they contest; open ones oldest first."""
    items, cursor = appeals.queue(session, principal, params, status_)
    return Page(items=[AppealQueueItem.model_validate(i) for i in items], next_cursor=cursor)


@router.post("/moderation/appeals/{appeal_id}/decision", response_model=AppealOut, tags=["moderation"])
def decide_appeal(
    appeal_id: str, body: AppealDecisionIn, session: DbSession, principal: Moderator
) -> AppealOut:
    """Uphold or reverse (not the moderator who decided, nor a party); a reversal restores the target."""
    appeals.decide(session, principal, appeal_id, body.outcome, body.reason)
    return AppealOut.model_validate(appeals.get(session, principal, appeal_id))


# --- transparency (Art. 15 and 24) ----------------------------------------------------------------------

FromTo = Annotated[date | None, Query()]


@router.get("/transparency/report", tags=["transparency"])
def transparency_report(
    session: DbSession,
    from_: Annotated[
        date | None, Query(alias="from", description="First day (UTC), default six months ago.")
    ] = None,
    to: Annotated[date | None, Query(description="Last day (UTC), default today.")] = None,
) -> dict:
    """Public: notices by category, decisions by action and ground, automated share, median time from notice
    to decision, appeals and reversals."""
    return transparency.report(session, from_, to)


@router.get("/transparency/report.csv", tags=["transparency"])
def transparency_report_csv(
    session: DbSession,
    from_: Annotated[date | None, Query(alias="from")] = None,
    to: FromTo = None,
) -> Response:
    data = transparency.report(session, from_, to)
    name = f"etalage-transparency-{data['period']['from']}-{data['period']['to']}.csv"
    return Response(transparency.report_csv(data), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})  # fmt: skip


@router.get("/transparency/statements", tags=["transparency"])
def transparency_statements(
    session: DbSession,
    from_: Annotated[date | None, Query(alias="from")] = None,
    to: FromTo = None,
    after: Annotated[
        str | None, Query(max_length=40, description="The last id of the previous page.")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> dict:
    """Public: statements of reasons without personal data, oldest first (Art. 24(5))."""
    items = transparency.statements(session, from_, to, limit, after)
    return {"items": items, "next_after": items[-1]["id"] if len(items) == limit else None,
            "generated_at": utcnow().isoformat()}  # fmt: skip
