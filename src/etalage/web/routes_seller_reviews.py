"""Seller center: reviews of the shop's products, with the shop's one public reply to each."""

from __future__ import annotations

from pydantic import ValidationError
from starlette.responses import Response

from etalage.core.errors import Problem
from etalage.core.pagination import PageParams
from etalage.core.routing import api_router
from etalage.web.i18n import N_
from etalage.web.pages import Form, MerchantPage, PageRoute, redirect, render
from etalage.web.routes_seller import SECTIONS, shop_context

router = api_router(route_class=PageRoute, include_in_schema=False)
SECTIONS.append(("reviews", "/reviews", N_("Reviews"), "chat"))
NOTICES = {
    "replied": N_("Your reply is published under the review."),
    "error": N_("That reply could not be saved: a review gets one reply of 2 to 2000 characters."),
}


@router.get("/seller/{merchant_id}/reviews")
def reviews_page(
    ctx: MerchantPage, merchant_id: str, cursor: str | None = None, done: str | None = None
) -> Response:
    from etalage.reviews import service as reviews

    shop = shop_context(ctx, merchant_id, "reviews")
    page = PageParams(cursor=cursor[:512] if cursor else None, limit=50)
    items, next_cursor = reviews.merchant_reviews(ctx.db, ctx.principal, merchant_id, page)  # type: ignore[arg-type]
    quality = reviews.merchant_quality(ctx.db, merchant_id)
    return render(
        ctx, "seller/reviews.html", reviews=items, quality=quality, next_cursor=next_cursor,
        notice=NOTICES.get(done or ""), failed=done == "error", **shop,
    )  # fmt: skip


@router.post("/seller/{merchant_id}/reviews/{review_id}/reply")
def reply(ctx: MerchantPage, merchant_id: str, review_id: str, form: Form) -> Response:
    from etalage.reviews import service as reviews
    from etalage.reviews.schemas import ReplyIn

    try:
        body = ReplyIn(text=str(form.get("text", ""))[:2000])
        with ctx.db.begin_nested():
            reviews.reply(ctx.db, ctx.principal, merchant_id, review_id, body.text)  # type: ignore[arg-type]
    except ValidationError:
        return redirect(ctx, f"/seller/{merchant_id}/reviews?done=error")
    except Problem as exc:
        if exc.status == 404:
            raise
        return redirect(ctx, f"/seller/{merchant_id}/reviews?done=error")
    return redirect(ctx, f"/seller/{merchant_id}/reviews?done=replied")
