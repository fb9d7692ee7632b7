"""The shopper app: the For You feed, the product sheet and page, the feed-mode switch, the ranking page."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.responses import Response

from etalage.web import products, sources
from etalage.web.pages import FEED_MODE_COOKIE, Form, Page, PageCtx, PageRoute, redirect, render

router = APIRouter(route_class=PageRoute, include_in_schema=False)

FEED_MODES = ("personalised", "nonprofiled")


def feed_mode(ctx: PageCtx) -> str:
    """Personalised unless the visitor chose the feed that is not based on profiling (DSA Art. 38)."""
    mode = ctx.request.cookies.get(FEED_MODE_COOKIE)
    return mode if mode in FEED_MODES else "personalised"


def _feed(ctx: PageCtx, cursor: str | None) -> sources.FeedPage:
    return sources.provisional_feed(ctx, cursor)


def _more_url(page: sources.FeedPage) -> str | None:
    return f"/feed/more?cursor={page.next_cursor}" if page.next_cursor else None


@router.get("/")
def feed_page(ctx: Page) -> Response:
    page = _feed(ctx, None)
    return render(
        ctx, "shop/feed.html", tab="foryou", items=page.items, mode=feed_mode(ctx), more_url=_more_url(page)
    )


@router.get("/feed/more")
def feed_more(ctx: Page, cursor: str | None = None) -> Response:
    """The next clips, as HTML for feed.js to append (the same template the page uses)."""
    page = _feed(ctx, cursor)
    return render(ctx, "shop/_more.html", items=page.items, more_url=_more_url(page))


@router.get("/v/{video_id}")
def video_page(ctx: Page, video_id: str) -> Response:
    """A shared link: that video first, then the feed."""
    item = sources.single_video(ctx, video_id)
    page = _feed(ctx, None)
    items = [item] + [i for i in page.items if i["id"] != video_id]
    for position, i in enumerate(items):
        i["position"] = position
    return render(
        ctx, "shop/feed.html", tab="foryou", items=items, mode=feed_mode(ctx), more_url=_more_url(page)
    )


@router.post("/feed/mode")
def set_feed_mode(ctx: Page, form: Form) -> Response:
    mode = str(form.get("mode", ""))
    if mode in FEED_MODES:
        ctx.set_cookie(FEED_MODE_COOKIE, mode)
    return redirect(ctx, "/")


@router.get("/about/ranking")
def ranking_page(ctx: Page) -> Response:
    return render(ctx, "shop/ranking.html", tab="foryou")


@router.get("/p/{product_id}")
def product_page(ctx: Page, product_id: str) -> Response:
    return render(ctx, "shop/product.html", tab="shop", **products.product_view(ctx, product_id))


@router.get("/p/{product_id}/sheet")
def product_sheet(ctx: Page, product_id: str, video_id: str | None = None) -> Response:
    """The product sheet over a video: the same view as the product page, without the page around it."""
    return render(ctx, "shop/_product.html", **products.product_view(ctx, product_id))
