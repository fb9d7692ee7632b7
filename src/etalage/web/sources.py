"""Where the shopper pages' data comes from: thin adapters over other domains' services.

Pages render dictionaries shaped for their templates; everything that knows another domain's service
signatures is here, so a change there is one change here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from etalage.accounts import service as accounts
from etalage.web import i18n
from etalage.web.i18n import N_

if TYPE_CHECKING:
    from etalage.web.pages import PageCtx

FEED_PAGE = 6


def region_of(ctx: PageCtx) -> str:
    """The region prices are shown for: the account's or chosen one, else the browser's, else Belgium."""
    from etalage.commerce.regions import is_region

    if ctx.region and is_region(ctx.region):
        return ctx.region
    header = ctx.request.headers.get("accept-language", "")
    for part in header.split(",")[:10]:
        tag = part.split(";")[0].strip()
        if "-" in tag and is_region(tag.split("-")[1].upper()):
            return tag.split("-")[1].upper()
    return "BE"


# --- products ------------------------------------------------------------------------------------------


def product_cards(ctx: PageCtx, product_ids: list[str]) -> dict[str, dict[str, Any]]:
    """Small cards (title, image, lowest price here) of the products a shopper may buy in their region."""
    if not product_ids:
        return {}
    from etalage.catalog import service as catalog
    from etalage.merchants import service as merchants

    region = region_of(ctx)
    products = catalog.get_products(ctx.db, list(dict.fromkeys(product_ids)))
    verified = merchants.verified_merchant_ids(ctx.db, {p.merchant_id for p in products})
    cards = {}
    for p in products:
        if p.status != "active" or p.merchant_id not in verified:
            continue
        prices = [
            price
            for v in p.variants
            if v.status == "active"
            for price in v.prices
            if price.region_code == region
        ]
        if not prices:
            continue  # not sold in this region
        lowest = min(prices, key=lambda price: price.amount)
        image = p.media[0] if p.media else None
        cards[p.id] = {
            "id": p.id,
            "title": p.title,
            "image": image.url if image else None,
            "alt": (image.alt or p.title) if image else p.title,
            "price": i18n.money(lowest.amount, lowest.currency, ctx.lang),
            "merchant_id": p.merchant_id,
        }
    return cards


# --- videos in the feed --------------------------------------------------------------------------------


@dataclass
class FeedPage:
    items: list[dict[str, Any]]
    next_cursor: str | None
    source: str
    extra: dict[str, Any] = field(default_factory=dict)


def video_items(
    ctx: PageCtx, videos: list[Any], start: int, reasons: dict[str, list[str]] | None = None
) -> list[dict[str, Any]]:
    """Feed items for the clip template from content's ``VideoInfo`` records, in order."""
    creators = accounts.display_names(ctx.db, [v.creator_id for v in videos if v.creator_id])
    shops = accounts.organisation_names(ctx.db, [v.merchant_id for v in videos if v.merchant_id])
    cards = product_cards(ctx, [pid for v in videos for pid in v.product_ids])
    items = []
    for offset, v in enumerate(videos):
        if v.creator_id:
            author, url = creators.get(v.creator_id, ""), f"/creators/{v.creator_id}"
        elif v.merchant_id:
            author, url = shops.get(v.merchant_id, ""), f"/shops/{v.merchant_id}"
        else:
            author, url = "Etalage", None
        renditions = sorted(v.renditions, key=lambda r: r.width)
        items.append(
            {
                "id": v.id,
                "position": start + offset,
                "caption": v.caption,
                "hashtags": list(v.hashtags),
                "poster": v.poster_url,
                "sources": [{"url": r.url, "width": r.width, "height": r.height} for r in renditions],
                "author_name": author or ctx.gettext("Unknown"),
                "author_url": url,
                "products": [cards[pid] for pid in v.product_ids if pid in cards],
                "why": [ctx.gettext(r) for r in (reasons or {}).get(v.id, [])],
            }
        )
    return items


# PROVISIONAL: until the feed engineer's online For You API (GET /api/v1/feed) lands, both feed modes
# show the newest published videos (newest first). This is exactly the non-profiled feed, so the reasons
# shown say so; the personalised mode switches to the feed service when it exists.
PROVISIONAL_REASONS = [
    N_("This is one of the newest videos on Etalage."),
    N_("The feed is not personalised yet: everyone sees the newest videos first, in the same order."),
]


def provisional_feed(ctx: PageCtx, cursor: str | None, limit: int = FEED_PAGE) -> FeedPage:
    """The newest published videos made for the shopper's region (or for every region), newest first;
    the cursor is an offset into that list."""
    from etalage.content import service as content

    region = region_of(ctx)
    offset = int(cursor) if cursor and cursor.isdigit() and len(cursor) < 9 else 0
    newest = list(reversed(content.published_video_ids(ctx.db)))
    videos: list[Any] = []
    position = offset
    while len(videos) < limit and position < len(newest):
        chunk = newest[position : position + limit * 2]
        found = content.get_videos(ctx.db, chunk)
        for vid in chunk:
            position += 1
            v = found.get(vid)
            if v is not None and v.state == "published" and v.region in (None, region):
                videos.append(v)
                if len(videos) == limit:
                    break
    reasons = {v.id: list(PROVISIONAL_REASONS) for v in videos}
    items = video_items(ctx, videos, offset, reasons)
    next_cursor = str(position) if position < len(newest) else None
    return FeedPage(items, next_cursor, source="provisional-newest")


def single_video(ctx: PageCtx, video_id: str) -> dict[str, Any]:
    from etalage.content import service as content
    from etalage.core.errors import NotFound

    video = content.get_video(ctx.db, video_id)
    if video.state != "published":
        raise NotFound(f"No video {video_id}.")
    reasons = {video.id: [N_("Someone shared this video with you.")]}
    return video_items(ctx, [video], 0, reasons)[0]


def _thumbs(ctx: PageCtx, videos: list[Any]) -> list[dict[str, Any]]:
    return [
        {"id": v.id, "poster": v.poster_url, "caption": v.caption, "product_ids": list(v.product_ids)}
        for v in videos
    ]


def videos_by(
    ctx: PageCtx, *, creator_id: str | None = None, merchant_id: str | None = None
) -> list[dict[str, Any]]:
    """A profile's published videos, newest first."""
    from sqlalchemy import select

    from etalage.content import service as content
    from etalage.content.models import Video

    stmt = select(Video.id).where(Video.state == "published")
    stmt = (
        stmt.where(Video.creator_id == creator_id)
        if creator_id
        else stmt.where(Video.merchant_id == merchant_id)
    )
    ids = list(ctx.db.scalars(stmt.order_by(Video.id.desc()).limit(60)))
    found = content.get_videos(ctx.db, ids)
    return _thumbs(ctx, [found[i] for i in ids if i in found])


def videos_matching(ctx: PageCtx, query: str, limit: int = 12) -> list[dict[str, Any]]:
    """Published videos whose caption or hashtags contain every word (newest first)."""
    from etalage.content import service as content

    words = [w.lstrip("#").lower() for w in query.split() if w.strip("#")]
    if not words:
        return []
    newest = list(reversed(content.published_video_ids(ctx.db)))[:2000]
    hits = []
    for start in range(0, len(newest), 200):
        batch = content.get_videos(ctx.db, newest[start : start + 200])
        for vid in newest[start : start + 200]:
            v = batch.get(vid)
            text = f"{v.caption} {' '.join(v.hashtags)}".lower() if v else ""
            if v and all(w in text for w in words):
                hits.append(v)
        if len(hits) >= limit:
            break
    return _thumbs(ctx, hits[:limit])
