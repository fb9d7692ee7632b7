"""The shopper app: the For You feed, shop, search, product pages, cart, orders, live rooms, profiles."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.responses import Response

from etalage.web.pages import Page, PageRoute, render

router = APIRouter(route_class=PageRoute, include_in_schema=False)


@router.get("/")
def feed_page(ctx: Page) -> Response:
    return render(ctx, "shop/feed.html", tab="foryou", items=[])
