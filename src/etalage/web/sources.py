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


# --- the For You feed (the feed domain's engine) ---------------------------------------------------------

SOURCE_TEXT = {
    "collaborative": N_("People with a taste like yours engaged with it."),
    "coengagement": N_("People who engaged with a video you engaged with also engaged with this one."),
    "content": N_("Its caption, hashtags or products are like what you engaged with."),
    "trending": N_("It is trending in your region."),
    "following": N_("It is from a creator you follow."),
    "live": N_("A live on air now."),
    "fresh": N_("A new upload, given a first audience."),
    "popular": N_("Popular in your region."),
}
REASON_TEXT = {
    "taste": N_("Matches your taste"),
    "follow": N_("From a creator you follow"),
    "session": N_("Like what you watched just now"),
    "item_record": N_("People who see it often watch it to the end, like it or buy from it"),
    "item_record-": N_("Usually gets less engagement than the average video"),
    "quality": N_("Shown lower: its products disappoint buyers more than usual"),
    "exploration": N_("New, or seen by few people yet: it gets a fair chance"),
    "diversity": N_("Shown lower to vary creators, shops and categories on your page"),
    "trending": N_("Trending in %(region)s"),
    "non_profiled": N_(
        "Not based on your activity: ranked by what is popular, new and well rated in %(region)s"
    ),
}


def _reasons(ctx: PageCtx, explanation: dict[str, Any], region: str, captions: dict[str, str]) -> list[str]:
    out = []
    region_label = i18n.region_name(region, ctx.lang)
    for reason in explanation.get("reasons", []):
        code = reason.get("code", "")
        if code == "item_record" and (reason.get("contribution") or 0) < 0:
            code = "item_record-"
        if code not in REASON_TEXT:
            continue
        text = (
            ctx.gettext(REASON_TEXT[code]) % {"region": region_label}
            if "%(" in REASON_TEXT[code]
            else (ctx.gettext(REASON_TEXT[code]))
        )
        because = reason.get("because_of")
        if because and captions.get(because):
            text = f"{text}: “{captions[because][:60]}”"
        out.append(text)
    source = explanation.get("source", "")
    if source in SOURCE_TEXT:
        out.append(ctx.gettext(SOURCE_TEXT[source]))
    return out


def feed_page(ctx: PageCtx, mode: str | None, cursor: str | None) -> FeedPage:
    """One page of the For You feed from the feed domain, shaped for the clip template."""
    from etalage.content import service as content
    from etalage.feed import service as feed

    engine = getattr(ctx.request.app.state, "feed_engine", None)  # this app's (a process may run several)
    page = feed.feed_page(
        ctx.db,
        ctx.principal,
        mode=mode,
        region=region_of(ctx),
        cursor=cursor,
        limit=FEED_PAGE,
        engine_=engine,
    )
    items = page["items"]
    ids = [it["id"] for it in items if it["kind"] == "video"]
    sources = {
        it["live_room"]["source_video_id"] for it in items if it["kind"] == "live_room" and it["live_room"]
    }
    because = {r.get("because_of") for it in items for r in it["explanation"].get("reasons", [])} - {None}
    videos = content.get_videos(ctx.db, [*ids, *(v for v in sources if v), *because])
    captions = {vid: v.caption for vid, v in videos.items()}
    hosts = accounts.display_names(ctx.db, [v.creator_id for v in videos.values() if v.creator_id])
    merchant_ids = [(it["video"] or it["live_room"] or {}).get("merchant_id") for it in items]
    shops = accounts.organisation_names(ctx.db, [m for m in merchant_ids if m])
    out = []
    for it in items:
        why = _reasons(ctx, it["explanation"], page["region"], captions)
        products = [
            {"id": p["id"], "title": p["title"], "image": p["image_url"], "alt": p["title"],
             "price": i18n.money(p["price"]["amount"], p["price"]["currency"], ctx.lang) if p["price"] else None}
            for p in it["products"]
        ]  # fmt: skip
        base = {"id": it["id"], "position": it["position"], "served_id": page["served_id"], "why": why,
                "products": products}  # fmt: skip
        if it["kind"] == "video" and it["video"]:
            v = it["video"]
            author, url = _author(v.get("creator_id"), v.get("merchant_id"), hosts, shops)
            base.update(
                kind="video", caption=v["caption"], hashtags=v["hashtags"], poster=v["poster_url"],
                sources=[{"url": r["url"], "width": r["width"], "height": r["height"]}
                         for r in sorted(v["renditions"], key=lambda r: r["width"])],
                author_name=author or ctx.gettext("Unknown"), author_url=url,
            )  # fmt: skip
        elif it["kind"] == "live_room" and it["live_room"]:
            room = it["live_room"]
            loop = videos.get(room.get("source_video_id") or "")
            base.update(
                kind="live", caption=room["title"], hashtags=[], poster=loop.poster_url if loop else None,
                sources=[{"url": r.url, "width": r.width, "height": r.height}
                         for r in sorted(loop.renditions, key=lambda r: r.width)] if loop else [],
                author_name=shops.get(room.get("merchant_id") or "", "") or ctx.gettext("Live"), author_url=None,
            )  # fmt: skip
        else:
            continue
        out.append(base)
    return FeedPage(out, page["next_cursor"], source="feed", extra={
        "mode": page["mode"], "personalised": page["personalised"], "served_id": page["served_id"],
        "chain_id": page["chain_id"], "mode_reason": page["mode_reason"],
    })  # fmt: skip


def _author(
    creator_id: str | None, merchant_id: str | None, hosts: dict[str, str], shops: dict[str, str]
) -> tuple[str, str | None]:
    if creator_id:
        return hosts.get(creator_id, ""), f"/creators/{creator_id}"
    if merchant_id:
        return shops.get(merchant_id, ""), f"/shops/{merchant_id}"
    return "Etalage", None


def single_video(ctx: PageCtx, video_id: str) -> dict[str, Any]:
    from etalage.content import service as content
    from etalage.core.errors import NotFound

    video = content.get_video(ctx.db, video_id)
    if video.state != "published":
        raise NotFound(f"No video {video_id}.")
    reasons = {video.id: [N_("Someone shared this video with you.")]}
    item = video_items(ctx, [video], 0, reasons)[0]
    item["kind"] = "video"
    return item


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
