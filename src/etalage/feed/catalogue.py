"""What the feed asks other domains about items (never people), through their services only.

content: published videos (``get_videos``, ``published_video_ids``), live rooms, sentiment;
catalog / inventory / merchants: products, whether they can be bought in a region now. Everything that
knows another domain's signatures is in this module, so a change there is one change here.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from etalage.feed.index import KIND_LIVE, KIND_VIDEO, ItemRecord, ProductFacts
from etalage.feed.text import item_text

log = logging.getLogger("etalage.feed")

# Product categories sold to adults only (minors never see videos selling them).
AGE_RESTRICTED_CATEGORIES = frozenset(
    {
        "alcohol",
        "wine",
        "spirits",
        "beer",
        "tobacco",
        "vaping",
        "adult",
        "erotic",
        "weapons",
        "knives",
        "gambling",
        "fireworks",
    }  # fmt: skip
)
_CHUNK = 500


def _ts(value: datetime | None) -> float:
    return value.timestamp() if value is not None else 0.0


def regions() -> tuple[str, ...]:
    from etalage.commerce.regions import REGIONS

    return tuple(REGIONS)


def min_purchase_age(region: str) -> int | None:
    from etalage.commerce.regions import REGIONS

    r = REGIONS.get(region)
    return r.min_purchase_age if r is not None else None


def is_region(code: str) -> bool:
    from etalage.commerce.regions import is_region as known

    return known(code)


# --- products --------------------------------------------------------------------------------------------


def _catalog_available() -> bool:
    try:
        from etalage.catalog import service  # noqa: F401
    except ImportError:  # pragma: no cover - a deployment without the catalogue domain
        return False
    return True


def _category_slugs(session: Session) -> dict[str, str]:
    from etalage.catalog import service as catalog

    return {c.id: c.slug for c in catalog.list_categories(session)}


def _facts(p: Any, slugs: dict[str, str], sellable_in: frozenset[str]) -> ProductFacts:
    prices: dict[str, tuple[int, str]] = {}
    for v in p.variants:
        if v.status != "active":
            continue
        for price in v.prices:
            best = prices.get(price.region_code)
            if best is None or price.amount < best[0]:
                prices[price.region_code] = (price.amount, price.currency)
    slug = slugs.get(p.category_id or "")
    return ProductFacts(
        id=p.id,
        merchant_id=p.merchant_id,
        title=p.title,
        category=slug,
        active=p.status == "active",
        regions=sellable_in if p.status == "active" else frozenset(),
        prices=prices,
        image=p.media[0].url if p.media else None,
        restricted=bool(slug and slug in AGE_RESTRICTED_CATEGORIES),
    )


def load_products(
    session: Session, ids: Iterable[str], *, whole_catalogue: bool = False
) -> list[ProductFacts]:
    """Facts of products, with the regions where each can be bought now.

    ``whole_catalogue``: ask catalog for every region's sellable set once (a few queries in all), the
    cheap way at start-up; otherwise check just these products' stock per region."""
    ids = list(dict.fromkeys(ids))
    if not ids or not _catalog_available():
        return []
    from etalage.catalog import service as catalog

    slugs = _category_slugs(session)
    products = []
    for start in range(0, len(ids), 1000):  # get_products answers at most 1000 ids per call
        products += catalog.get_products(session, ids[start : start + 1000])
    if whole_catalogue:
        sellable = {r: catalog.sellable_product_ids(session, r) for r in regions()}
        where = {p.id: frozenset(r for r, s in sellable.items() if p.id in s) for p in products}
    else:
        where = _sellable_regions(session, products)
    return [_facts(p, slugs, where.get(p.id, frozenset())) for p in products]


def sold_out(session: Session, sold: set[tuple[str, str, str]]) -> set[str]:
    """Of the (region, variant, product) just sold, the products whose variant has nothing left to deliver
    into that region: only those may have stopped being sellable there (another variant may still be)."""
    from etalage.inventory import service as inventory

    by_region: dict[str, dict[str, set[str]]] = {}
    for region, variant_id, product_id in sold:
        by_region.setdefault(region, {}).setdefault(variant_id, set()).add(product_id)
    out: set[str] = set()
    for region, variants in by_region.items():
        left = inventory.available_by_variant(session, sorted(variants), region)
        for variant_id, product_ids in variants.items():
            if left.get(variant_id, 0) <= 0:
                out |= product_ids
    return out


def _sellable_regions(session: Session, products: list[Any]) -> dict[str, frozenset[str]]:
    """The same rule as ``catalog.sellable_product_ids`` for a few products: active, verified trader,
    an active variant priced in the region and in stock there."""
    from etalage.inventory import service as inventory
    from etalage.merchants import service as merchants

    active = [p for p in products if p.status == "active"]
    verified = merchants.verified_merchant_ids(session, {p.merchant_id for p in active})
    out: dict[str, set[str]] = {p.id: set() for p in products}
    for region in regions():
        priced = {
            v.id: p.id
            for p in active
            if p.merchant_id in verified
            for v in p.variants
            if v.status == "active" and any(pr.region_code == region for pr in v.prices)
        }
        if not priced:
            continue
        stock = inventory.available_by_variant(session, list(priced), region)
        for vid, pid in priced.items():
            if stock.get(vid, 0) > 0:
                out[pid].add(region)
    return {pid: frozenset(r) for pid, r in out.items()}


# --- videos and live rooms -------------------------------------------------------------------------------


def video_infos(session: Session, ids: list[str]) -> list[Any]:
    from etalage.content import service as content

    out: list[Any] = []
    for start in range(0, len(ids), _CHUNK):
        out += content.get_videos(session, ids[start : start + _CHUNK]).values()
    return out


def video_records(infos: list[Any], titles: dict[str, str]) -> list[ItemRecord]:
    return [
        ItemRecord(
            id=v.id,
            kind=KIND_VIDEO,
            alive=v.state == "published",
            creator_id=v.creator_id,
            merchant_id=v.merchant_id,
            product_ids=tuple(v.product_ids),
            published_s=_ts(v.published_at or v.created_at),
            region=v.region,
            words=tuple(item_text(v.caption, v.hashtags, [titles.get(p, "") for p in v.product_ids])),
        )
        for v in infos
    ]


def sellable_sets(session: Session) -> dict[str, set[str]]:
    """Every region's set of products that can be bought there now (a few queries in all)."""
    if not _catalog_available():
        return {}
    from etalage.catalog import service as catalog

    return {r: catalog.sellable_product_ids(session, r) for r in regions()}


def published_videos(session: Session) -> list[str]:
    from etalage.content import service as content

    return content.published_video_ids(session)


def live_room_records(session: Session, room_ids: Iterable[str]) -> list[ItemRecord]:
    """Rooms by id (content's ``live.get``); a room that is not on air comes back not alive."""
    from etalage.content import live
    from etalage.core.errors import NotFound

    out = []
    for rid in dict.fromkeys(room_ids):
        try:
            room = live.get(session, rid)
        except NotFound:
            continue
        products = (room.pinned_product_id,) if room.pinned_product_id else ()
        out.append(
            ItemRecord(
                id=room.id,
                kind=KIND_LIVE,
                alive=room.state == "live",
                creator_id=room.host_user_id if room.merchant_id is None else None,
                merchant_id=room.merchant_id,
                product_ids=products,
                published_s=_ts(room.started_at or room.created_at),
                region=room.region,
                words=tuple(item_text(room.title, (), ())),
            )
        )
    return out


def rooms_on_air(session: Session) -> list[str] | None:
    """Ids of live rooms on air, if content offers a way to list them (``live_rooms_on_air``); else None,
    and the feed learns rooms from ``content.live.started`` and from the rooms the event log mentions."""
    from etalage.content import service as content

    fn = getattr(content, "live_rooms_on_air", None)
    if fn is None:
        return None
    return [r if isinstance(r, str) else r.id for r in fn(session)]


def video_cards(session: Session, ids: list[str]) -> dict[str, dict[str, Any]]:
    """What a feed item shows of a video; only published ones are returned."""
    from etalage.content import service as content

    out = {}
    for vid, v in content.get_videos(session, ids).items():
        if v.state != "published":
            continue
        out[vid] = {
            "caption": v.caption,
            "hashtags": list(v.hashtags),
            "language": v.language,
            "creator_id": v.creator_id,
            "merchant_id": v.merchant_id,
            "duration_ms": v.duration_ms,
            "poster_url": v.poster_url,
            "renditions": [
                {"name": r.name, "url": r.url, "width": r.width, "height": r.height} for r in v.renditions
            ],
            "product_ids": list(v.product_ids),
            "product_starts_ms": list(v.product_starts_ms),
            "published_at": v.published_at.isoformat() if v.published_at else None,
        }
    return out


def room_cards(session: Session, ids: list[str]) -> dict[str, dict[str, Any]]:
    from etalage.content import live
    from etalage.core.errors import NotFound

    out = {}
    for rid in ids:
        try:
            room = live.get(session, rid)
        except NotFound:
            continue
        if room.state != "live":
            continue
        out[rid] = {
            "title": room.title,
            "language": room.language,
            "merchant_id": room.merchant_id,
            "pinned_product_id": room.pinned_product_id,
            "started_at": room.started_at.isoformat() if room.started_at else None,
            "source_video_id": room.source_video_id,
        }
    return out


def video_sentiment(session: Session) -> dict[str, tuple[int, float | None]]:
    """(comments, mean sentiment) of every video with comments (the others have neither)."""
    from etalage.content import service as content

    return content.video_sentiment(session)
