"""Moderation console: the queue of reported content (notices, DSA Art. 16), a case with its notices, the
decision form that produces a statement of reasons (Art. 17), own-initiative decisions, and appeals (Art. 20).
The compliance domain records every decision and has the owning domain enact it."""

from __future__ import annotations

from typing import Any

from fastapi import Query
from pydantic import ValidationError
from starlette.responses import Response

from etalage.core.errors import Conflict, InvalidInput, NotFound
from etalage.core.pagination import PageParams
from etalage.core.routing import api_router
from etalage.web.i18n import N_
from etalage.web.pages import Form, ModeratorPage, PageCtx, PageRoute, redirect, render
from etalage.web.routes_moderation import QUEUES, console
from etalage.web.routes_report import CATEGORIES

router = api_router(route_class=PageRoute, include_in_schema=False)
QUEUES.insert(0, ("cases", "/moderation/cases", N_("Reported content"), "flag"))
QUEUES.insert(1, ("appeals", "/moderation/appeals", N_("Appeals"), "person"))

ACTIONS = {
    "remove": N_("Remove"),
    "restrict_visibility": N_("Restrict visibility"),
    "no_action": N_("No action"),
    "suspend_merchant": N_("Suspend the shop"),
    "ban_from_live": N_("Ban from live"),
}
KIND_NAMES = {
    "video": N_("Video"),
    "product": N_("Product"),
    "comment": N_("Comment"),
    "live_message": N_("Chat message"),
    "live_room": N_("Live"),
    "merchant": N_("Shop"),
}
GROUNDS = [("terms", N_("Breaks the terms")), ("illegal", N_("Illegal"))]
NOTICES = {
    "decided": N_("Decision recorded. The people concerned receive the statement of reasons."),
    "upheld": N_("Appeal decided: the decision stands."),
    "reversed": N_("Appeal decided: the decision is reversed and the content restored."),
}


def decision_form_context(ctx: PageCtx, kind: str) -> dict[str, Any]:
    from etalage.compliance.targets import ALLOWED

    return {
        "actions": [(a, ACTIONS.get(a, a)) for a in ALLOWED.get(kind, ())],
        "grounds": GROUNDS,
        "kind_names": KIND_NAMES,
        "category_names": dict(CATEGORIES),
    }


@router.get("/moderation/cases")
def cases_page(
    ctx: ModeratorPage,
    kind: str | None = Query(None, max_length=20),
    cursor: str | None = None,
    done: str | None = None,
) -> Response:
    from etalage.compliance import queue

    kind = kind if kind in KIND_NAMES else None
    items, next_cursor = queue.queue(
        ctx.db,
        ctx.principal,
        PageParams(cursor=cursor, limit=20),
        kind=kind,
        order="severity",  # type: ignore[arg-type]
    )
    return render(
        ctx, "moderation/cases.html",
        **console("cases", cases=items, kind=kind, kind_names=KIND_NAMES, category_names=dict(CATEGORIES),
                  next_cursor=next_cursor, done=done, notice=NOTICES.get(done or "")),
    )  # fmt: skip


@router.get("/moderation/cases/{case_id}")
def case_page(ctx: ModeratorPage, case_id: str, error: str | None = None) -> Response:
    from etalage.compliance import queue

    case = queue.get_case(ctx.db, ctx.principal, case_id)  # type: ignore[arg-type]
    kind = case["target"]["kind"]
    return render(
        ctx, "moderation/case.html",
        **console("cases", case=case, error=error, **decision_form_context(ctx, kind)),
    )  # fmt: skip


@router.get("/moderation/decide")
def own_initiative_page(
    ctx: ModeratorPage, kind: str = Query(..., max_length=20), id: str = Query(..., max_length=40),
    error: str | None = None,
) -> Response:  # fmt: skip
    """A decision nobody reported (the moderator's own initiative), on any visible target."""
    from etalage.compliance import targets

    if kind not in KIND_NAMES:
        raise NotFound("No such kind of content.")
    info = targets.visible(ctx.db, ctx.principal, kind, id)
    preview = targets.previews(ctx.db, [info]).get((kind, id), {"kind": kind, "id": id, "exists": True})
    case = {"id": None, "target": {"kind": kind, "id": id}, "preview": preview, "notices": [], "decisions": [],
            "categories": {}, "open_notices": 0}  # fmt: skip
    return render(
        ctx, "moderation/case.html",
        **console("videos", case=case, error=error, **decision_form_context(ctx, kind)),
    )  # fmt: skip


@router.post("/moderation/decisions")
def decide(ctx: ModeratorPage, form: Form) -> Response:
    from etalage.compliance import decisions
    from etalage.compliance.schemas import DecisionIn

    kind, target_id = str(form.get("kind", "")), str(form.get("id", ""))[:40]
    case_id = str(form.get("case_id", ""))[:40]
    back = f"/moderation/cases/{case_id}" if case_id else f"/moderation/decide?kind={kind}&id={target_id}"
    ground = str(form.get("ground", "")) or None
    raw = {
        "target": {"kind": kind, "id": target_id},
        "action": str(form.get("action", "")),
        "ground": ground,
        "legal_reference": (str(form.get("legal_reference", "")).strip()[:300] or None)
        if ground == "illegal"
        else None,
        "terms_clause": (str(form.get("terms_clause", "")).strip()[:300] or None)
        if ground == "terms"
        else None,
        "facts": str(form.get("facts", "")).strip()[:5000],
    }
    if raw["action"] == "no_action":
        raw["ground"] = raw["legal_reference"] = raw["terms_clause"] = None
    sep = "&" if "?" in back else "?"
    try:
        body = DecisionIn.model_validate(raw)
        with ctx.db.begin_nested():
            decisions.decide(ctx.db, ctx.principal, body)  # type: ignore[arg-type]
    except (ValidationError, InvalidInput):
        return redirect(ctx, f"{back}{sep}error=invalid")
    except Conflict:
        return redirect(ctx, f"{back}{sep}error=conflict")
    return redirect(ctx, "/moderation/cases?done=decided")


@router.get("/moderation/appeals")
def appeals_page(ctx: ModeratorPage, cursor: str | None = None, done: str | None = None) -> Response:
    from etalage.compliance import appeals

    items, next_cursor = appeals.queue(ctx.db, ctx.principal, PageParams(cursor=cursor, limit=20), "open")  # type: ignore[arg-type]
    return render(
        ctx, "moderation/appeals.html",
        **console("appeals", appeals=items, actions=ACTIONS, kind_names=KIND_NAMES, next_cursor=next_cursor,
                  done=done, notice=NOTICES.get(done or "")),
    )  # fmt: skip


@router.post("/moderation/appeals/{appeal_id}")
def decide_appeal(ctx: ModeratorPage, appeal_id: str, form: Form) -> Response:
    from etalage.compliance import appeals

    outcome = str(form.get("outcome", ""))
    reason = " ".join(str(form.get("reason", "")).split())[:5000]
    if outcome not in ("upheld", "reversed") or len(reason) < 10:
        return redirect(ctx, "/moderation/appeals?done=noreason")
    try:
        with ctx.db.begin_nested():
            appeals.decide(ctx.db, ctx.principal, appeal_id, outcome, reason)  # type: ignore[arg-type]
    except Conflict:
        return redirect(ctx, "/moderation/appeals?done=conflict")
    return redirect(ctx, f"/moderation/appeals?done={outcome}")
