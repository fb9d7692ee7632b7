"""Your data: a downloadable copy of everything Etalage holds about you (GDPR Art. 15/20), and erasing your
account (Art. 17). The compliance domain does the work; these pages ask and show progress."""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from etalage.accounts.deps import SESSION_COOKIE
from etalage.core.errors import Conflict, Forbidden, RateLimited
from etalage.core.routing import api_router
from etalage.web.i18n import N_
from etalage.web.pages import Form, Page, PageCtx, PageRoute, SignedIn, redirect, render

router = api_router(route_class=PageRoute, include_in_schema=False)
# What stops an erasure for now, and what to do about it (the domains' reason codes).
BLOCKERS = {
    "sole_owner": N_(
        "You are the only owner of a shop: add another owner, or ask us to close the shop, then try again."
    ),
    "order_in_progress": N_(
        "An order of yours is still on its way: wait until it is delivered, or cancel it, then try again."
    ),
}
ERASE_NOTES = {
    "confirm": N_("Tick the box to confirm."),
    "password": N_("The password is wrong."),
    "wait": N_("Too many attempts. Wait a minute and try again."),
    "blocked": N_("Your account cannot be erased yet."),
}


def privacy_settings(ctx: PageCtx, erase: str | None) -> dict[str, Any]:
    from etalage.compliance import exports

    notes = [ERASE_NOTES[c] if c in ERASE_NOTES else BLOCKERS[c] for c in (erase or "").split(" ")
             if c in ERASE_NOTES or c in BLOCKERS]  # fmt: skip
    return {
        "exports": [exports.export_json(e) for e in exports.mine(ctx.db, ctx.principal)][:5],  # type: ignore[arg-type]
        "erase_notes": notes,
    }


@router.post("/settings/export")
def start_export(ctx: SignedIn, form: Form) -> Response:
    from etalage.compliance import exports

    try:
        exports.start(ctx.db, ctx.principal, ctx.request.app.state.limiter)  # type: ignore[arg-type]
    except (RateLimited, Conflict):
        return redirect(ctx, "/settings?data=busy#data")
    return redirect(ctx, "/settings?data=started#data")


@router.post("/settings/delete")
def erase_account(ctx: SignedIn, form: Form) -> Response:
    from etalage.compliance import erasure

    if form.get("confirm") != "on":
        return redirect(ctx, "/settings?erase=confirm#delete")
    client = ctx.request.client.host if ctx.request.client else "unknown"
    try:
        with ctx.db.begin_nested():
            erasure.request(
                ctx.db, ctx.principal, str(form.get("password", ""))[:256],  # type: ignore[arg-type]
                limiter=ctx.request.app.state.limiter, client_ip=client,
            )  # fmt: skip
    except Forbidden:
        return redirect(ctx, "/settings?erase=password#delete")
    except RateLimited:
        return redirect(ctx, "/settings?erase=wait#delete")
    except Conflict as exc:
        reasons = sorted({b.get("reason", "") for b in exc.extra.get("blockers") or []} & set(BLOCKERS))
        return redirect(ctx, f"/settings?erase={'+'.join(reasons) or 'blocked'}#delete")
    response = redirect(ctx, "/goodbye")
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("/goodbye")
def goodbye(ctx: Page) -> Response:
    return render(ctx, "account/goodbye.html")
