"""Moderation decisions for the people they concern: the statements of reasons about your content or your
shop (DSA Art. 17) with an appeal form (Art. 20), and the reports you made with their outcome (Art. 16(5))."""

from __future__ import annotations

from fastapi import Query
from starlette.responses import Response

from etalage.core.errors import Conflict
from etalage.core.pagination import PageParams
from etalage.core.routing import api_router
from etalage.web.i18n import N_
from etalage.web.pages import Form, PageRoute, SignedIn, redirect, render
from etalage.web.routes_moderation_cases import ACTIONS, KIND_NAMES
from etalage.web.routes_report import CATEGORIES

router = api_router(route_class=PageRoute, include_in_schema=False)

STATUS = {"in_force": N_("In force"), "reversed": N_("Reversed on appeal"), "expired": N_("Ended")}
NOTICES = {
    "appealed": N_("Your appeal is filed. Another moderator will review the decision."),
    "short": N_("Explain your appeal in at least 10 characters."),
    "closed": N_("This decision can no longer be appealed, or you already did."),
}


@router.get("/me/decisions")
def decisions_page(
    ctx: SignedIn, merchant: str | None = Query(None, max_length=40), cursor: str | None = None
) -> Response:
    from etalage.compliance import decisions

    items, next_cursor = decisions.mine(ctx.db, ctx.principal, PageParams(cursor=cursor, limit=20), merchant)  # type: ignore[arg-type]
    return render(
        ctx, "account/decisions.html", tab="me", decisions=items, actions=ACTIONS, kind_names=KIND_NAMES,
        status_names=STATUS, next_cursor=next_cursor, merchant=merchant,
    )  # fmt: skip


@router.get("/decisions/{decision_id}")
def decision_page(ctx: SignedIn, decision_id: str, done: str | None = None) -> Response:
    from etalage.compliance import decisions

    statement = decisions.get_statement(ctx.db, ctx.principal, decision_id)  # type: ignore[arg-type]
    return render(
        ctx, "account/decision.html", tab="me", d=statement, actions=ACTIONS, kind_names=KIND_NAMES,
        status_names=STATUS, category_names=dict(CATEGORIES), notice=NOTICES.get(done or ""),
        failed=done in ("short", "closed"),
    )  # fmt: skip


@router.post("/decisions/{decision_id}/appeal")
def appeal(ctx: SignedIn, decision_id: str, form: Form) -> Response:
    from etalage.compliance import appeals

    statement = " ".join(str(form.get("statement", "")).split())[:5000]
    if len(statement) < 10:
        return redirect(ctx, f"/decisions/{decision_id}?done=short")
    try:
        with ctx.db.begin_nested():
            appeals.file(ctx.db, ctx.principal, decision_id, statement)  # type: ignore[arg-type]
    except Conflict:
        return redirect(ctx, f"/decisions/{decision_id}?done=closed")
    return redirect(ctx, f"/decisions/{decision_id}?done=appealed")


@router.get("/me/reports")
def reports_page(ctx: SignedIn, cursor: str | None = None) -> Response:
    from etalage.compliance import notices

    rows, next_cursor = notices.mine(ctx.db, ctx.principal, PageParams(cursor=cursor, limit=20))  # type: ignore[arg-type]
    found = notices.decisions_by_id(ctx.db, [n.decision_id for n in rows if n.decision_id])
    return render(
        ctx, "account/reports.html", tab="me", reports=rows, outcomes=found, actions=ACTIONS,
        kind_names=KIND_NAMES, category_names=dict(CATEGORIES), next_cursor=next_cursor,
    )  # fmt: skip
