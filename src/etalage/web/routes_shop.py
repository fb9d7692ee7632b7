"""The shopper app: the For You feed, the product sheet and page, the feed-mode switch, the ranking page."""

from __future__ import annotations

from urllib.parse import quote

from starlette.responses import Response

from etalage.core.routing import api_router
from etalage.web import products, sources
from etalage.web.pages import FEED_MODE_COOKIE, Form, Page, PageCtx, PageRoute, redirect, render

router = api_router(route_class=PageRoute, include_in_schema=False)

FEED_MODES = ("personalised", "non_profiled")


def visitor_mode(ctx: PageCtx) -> str | None:
    """Signed in: None (the feed remembers each person's choice). Visitors: their cookie, if any."""
    if ctx.signed_in:
        return None
    mode = ctx.request.cookies.get(FEED_MODE_COOKIE)
    return mode if mode in FEED_MODES else None


def _feed(ctx: PageCtx, cursor: str | None) -> sources.FeedPage:
    return sources.feed_page(ctx, visitor_mode(ctx), cursor)


def _more_url(page: sources.FeedPage) -> str | None:
    return f"/feed/more?cursor={quote(page.next_cursor, safe='')}" if page.next_cursor else None


def _render_feed(ctx: PageCtx, page: sources.FeedPage, items: list[dict]) -> Response:
    return render(
        ctx, "shop/feed.html", tab="foryou", items=items, mode=page.extra.get("mode"),
        personalised=page.extra.get("personalised"), more_url=_more_url(page),
    )  # fmt: skip


@router.get("/")
def feed_page(ctx: Page) -> Response:
    page = _feed(ctx, None)
    return _render_feed(ctx, page, page.items)


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
    return _render_feed(ctx, page, items)


@router.post("/feed/mode")
def set_feed_mode(ctx: Page, form: Form) -> Response:
    """The switch between the personalised feed and the one not based on profiling (DSA Art. 38): kept by
    the feed for a signed-in person, in a cookie for a visitor."""
    from etalage.feed import service as feed

    mode = str(form.get("mode", ""))
    if mode in FEED_MODES:
        if ctx.principal is not None and ctx.principal.pseudonym:
            feed.put_settings(ctx.db, ctx.principal, mode=mode, region=None)
        else:
            ctx.set_cookie(FEED_MODE_COOKIE, mode)
    return redirect(ctx, "/")


@router.get("/about/ranking")
def ranking_page(ctx: Page) -> Response:
    """How the feed ranks (DSA Art. 27): the fixed explanation, then the live parameters and weights."""
    from etalage.feed import service as feed

    live = feed.ranking_parameters(getattr(ctx.request.app.state, "feed_engine", None))
    return render(ctx, "shop/ranking.html", tab="foryou", live=live)


@router.get("/p/{product_id}")
def product_page(ctx: Page, product_id: str) -> Response:
    return render(ctx, "shop/product.html", tab="shop", **products.product_view(ctx, product_id))


@router.get("/p/{product_id}/sheet")
def product_sheet(ctx: Page, product_id: str, video_id: str | None = None) -> Response:
    """The product sheet over a video: the same view as the product page, without the page around it."""
    return render(ctx, "shop/_product.html", **products.product_view(ctx, product_id))
