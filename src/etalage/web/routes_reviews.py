"""The shopper's side of reviews: the "write a review" form on a delivered order's page, and its post."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError
from starlette.responses import Response

from etalage.core.errors import Problem
from etalage.core.routing import api_router
from etalage.web.i18n import N_
from etalage.web.pages import Form, PageCtx, PageRoute, ShopperPage, redirect

router = api_router(route_class=PageRoute, include_in_schema=False)
NOTICES = {
    "reviewed": N_("Thank you: your review is published."),
    "review-error": N_("That review could not be saved: choose 1 to 5 stars, and review each item once."),
}


def review_form(ctx: PageCtx, detail: Any) -> dict[str, Any]:
    """The items of a delivered order that the shopper has not reviewed yet."""
    from etalage.commerce import service as commerce
    from etalage.reviews import service as reviews

    lines = commerce.purchased_lines(ctx.db, ctx.principal.user_id, detail.id)  # type: ignore[union-attr]
    if not lines or not lines[0].ever_delivered:
        return {"reviewable": []}
    done = reviews.reviewed_lines(ctx.db, ctx.principal.user_id, detail.id)  # type: ignore[union-attr]
    return {
        "reviewable": [
            {"variant_id": ln.variant_id, "title": ln.title} for ln in lines if ln.variant_id not in done
        ]
    }


@router.post("/orders/{order_id}/reviews")
def write_review(ctx: ShopperPage, order_id: str, form: Form) -> Response:
    from etalage.reviews import service as reviews
    from etalage.reviews.schemas import ReviewIn

    try:
        body = ReviewIn(
            variant_id=str(form.get("variant_id", "")).strip()[:40],
            rating=int(str(form.get("rating", "")).strip() or "0"),
            text=str(form.get("text", ""))[:2000],
        )
        with ctx.db.begin_nested():
            reviews.write_review(ctx.db, ctx.principal, order_id, body)  # type: ignore[arg-type]
    except (ValidationError, ValueError, Problem):
        return redirect(ctx, f"/orders/{order_id}?done=review-error#reviews")
    return redirect(ctx, f"/orders/{order_id}?done=reviewed#reviews")
