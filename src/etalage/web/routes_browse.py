"""Browsing: the Shop tab (categories and products), search (products and videos), and the showcase on
each creator's and merchant's profile (their videos and the products they sell)."""

from __future__ import annotations

from typing import Any

from fastapi import Query
from starlette.responses import Response

from etalage.accounts import service as accounts
from etalage.core.errors import NotFound
from etalage.core.pagination import PageParams
from etalage.core.routing import api_router
from etalage.web import i18n, sources
from etalage.web.pages import Page, PageCtx, PageRoute, render

router = api_router(route_class=PageRoute, include_in_schema=False)
PER_PAGE = 24


def product_tiles(ctx: PageCtx, products: list[Any]) -> list[dict[str, Any]]:
    """Cards from catalog's public products (already priced in the shopper's region)."""
    tiles = []
    for p in products:
        priced = [v.price for v in p.variants if v.price is not None]
        if not priced:
            continue
        lowest = min(priced, key=lambda m: m.amount)
        image = p.media[0] if p.media else None
        tiles.append(
            {
                "id": p.id,
                "title": p.title,
                "image": image.url if image else None,
                "alt": (image.alt or p.title) if image else "",
                "price": i18n.money(lowest.amount, lowest.currency, ctx.lang),
                "in_stock": any((v.available or 0) > 0 for v in p.variants),
            }
        )
    return tiles


def _products(ctx: PageCtx, cursor: str | None, **filters: Any) -> tuple[list[dict[str, Any]], str | None]:
    from etalage.catalog import public as catalog

    rows, next_cursor = catalog.list_products(
        ctx.db, sources.region_of(ctx), PageParams(cursor=cursor, limit=PER_PAGE), **filters
    )
    return product_tiles(ctx, rows), next_cursor


@router.get("/shop")
def shop_page(
    ctx: Page, category: str | None = Query(None, max_length=40), cursor: str | None = None
) -> Response:
    from etalage.catalog import service as catalog

    categories = [c for c in catalog.list_categories(ctx.db) if c.parent_id is None]
    tiles, next_cursor = _products(ctx, cursor, category_id=category or None)
    return render(
        ctx, "shop/shop.html", tab="shop", surface="other", categories=categories, category=category, products=tiles,
        next_cursor=next_cursor,
    )  # fmt: skip


@router.get("/search")
def search_page(ctx: Page, q: str = Query("", max_length=200), cursor: str | None = None) -> Response:
    query = " ".join(q.split())
    tiles, next_cursor = _products(ctx, cursor, q=query) if query else ([], None)
    videos = sources.videos_matching(ctx, query) if query and not cursor else []
    return render(
        ctx,
        "shop/search.html",
        tab="shop",
        surface="search",
        q=query,
        products=tiles,
        videos=videos,
        next_cursor=next_cursor,
    )


@router.get("/creators/{user_id}")
def creator_page(ctx: Page, user_id: str) -> Response:
    names = accounts.display_names(ctx.db, [user_id])
    if user_id not in names:
        raise NotFound(f"No creator {user_id}.")
    videos = sources.videos_by(ctx, creator_id=user_id)
    featured = sources.product_cards(ctx, [pid for v in videos for pid in v["product_ids"]])
    return render(
        ctx, "shop/profile.html", tab="shop", surface="profile", name=names[user_id], kind="creator", videos=videos,
        products=list(featured.values()), trader=None,
    )  # fmt: skip


@router.get("/shops/{merchant_id}")
def merchant_page(ctx: Page, merchant_id: str, cursor: str | None = None) -> Response:
    from etalage.merchants import service as merchants

    try:
        trader, name = merchants.public_trader(ctx.db, merchant_id)
    except NotFound:
        raise NotFound(f"No shop {merchant_id}.") from None
    videos = sources.videos_by(ctx, merchant_id=merchant_id)
    tiles, next_cursor = _products(ctx, cursor, merchant_id=merchant_id)
    return render(
        ctx, "shop/profile.html", tab="shop", surface="profile", name=name, kind="shop", videos=videos, products=tiles,
        merchant_id=merchant_id,
        trader=trader, next_cursor=next_cursor,
    )  # fmt: skip
