"""The shopper app: the For You feed, shop, search, product pages, cart, orders, live rooms, profiles."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.responses import Response

from etalage.web.pages import FEED_MODE_COOKIE, Form, Page, PageCtx, PageRoute, redirect, render

router = APIRouter(route_class=PageRoute, include_in_schema=False)

FEED_MODES = ("personalised", "nonprofiled")


def feed_mode(ctx: PageCtx) -> str:
    """Personalised unless the visitor chose the feed that is not based on profiling (DSA Art. 38)."""
    mode = ctx.request.cookies.get(FEED_MODE_COOKIE)
    return mode if mode in FEED_MODES else "personalised"


@router.get("/")
def feed_page(ctx: Page) -> Response:
    return render(ctx, "shop/feed.html", tab="foryou", items=[], mode=feed_mode(ctx), more_url=None)


@router.post("/feed/mode")
def set_feed_mode(ctx: Page, form: Form) -> Response:
    mode = str(form.get("mode", ""))
    if mode in FEED_MODES:
        ctx.set_cookie(FEED_MODE_COOKIE, mode)
    return redirect(ctx, "/")


@router.get("/about/ranking")
def ranking_page(ctx: Page) -> Response:
    return render(ctx, "shop/ranking.html", tab="foryou")
