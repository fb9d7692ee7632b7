"""Demo step: real short videos, product tags, comments with sentiment, live rooms.

ffmpeg renders ``rendered_clips`` clips (moving test cards with a product's name and its shop on them,
720p + 360p + poster, the same files a transcode writes), two at a time; the ``videos`` published video
rows reuse them. Products come from the catalog step when it ran (``ctx.data['products']``); without it
the clips carry made-up product names and the videos tag nothing.
"""

from __future__ import annotations

import os
import secrets
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import timedelta
from typing import Any

from sqlalchemy import insert, update

from etalage.content import clips, media, storage
from etalage.content.models import (
    Comment,
    Video,
    VideoEvent,
    VideoProduct,
)
from etalage.db import new_id, utcnow
from etalage.demo import DemoContext
from etalage.demo.content_talk import comments_for, live_rooms

CLIP_SECONDS = 4.0
LANGUAGES = {
    "BE": ["nl", "fr"],
    "NL": ["nl"],
    "FR": ["fr"],
    "ES": ["es"],
    "US": ["en"],
    "GB": ["en"],
    "DE": ["de"],
}
FALLBACK_PRODUCTS = [
    "Linen shirt",
    "Desk lamp",
    "Wool scarf",
    "Ceramic mug",
    "Running shoes",
    "Face serum",
    "Tote bag",
    "Bluetooth speaker",
    "Rain jacket",
    "Yoga mat",
    "Cold brew kit",
    "Sunglasses",
    "Phone case",
    "Plant pot",
]
HASHTAGS = [
    "ootd",
    "haul",
    "unboxing",
    "musthave",
    "deal",
    "homedecor",
    "skincare",
    "techtok",
    "giftideas",
    "sustainable",
    "newin",
    "review",
    "tiktokmademebuyit",
    "smallbusiness",
    "fyp",
]
CAPTIONS = {
    "en": [
        "{p} that actually lives up to the hype",
        "Tried the {p} for a week: honest review",
        "{p} restock is here!",
        "You asked, here it is: the {p}",
        "Obsessed with this {p}",
    ],
    "nl": [
        "Deze {p} is echt een aanrader",
        "Eerlijke review van de {p}",
        "De {p} is terug op voorraad!",
        "Jullie vroegen erom: de {p}",
    ],
    "fr": [
        "Ce {p} vaut vraiment le coup",
        "J'ai testé le {p} pendant une semaine",
        "Le {p} est de retour !",
        "Vous l'avez demandé : le {p}",
    ],
    "es": [
        "Este {p} merece la pena",
        "Probé el {p} una semana: opinión sincera",
        "¡Vuelve el {p}!",
        "Me lo pedisteis: el {p}",
    ],
    "de": ["Dieses {p} lohnt sich wirklich", "Ehrlicher Test: {p}", "{p} ist wieder da!"],
}


def _products(ctx: DemoContext) -> list[dict[str, Any]]:
    out = []
    for entry in ctx.data.get("products") or []:
        item = {"id": entry} if isinstance(entry, str) else dict(entry)
        if not isinstance(item.get("id"), str):
            continue
        variants = item.get("variant_ids") or item.get("variants") or []
        out.append(
            {
                "id": item["id"],
                "title": item.get("title") or item.get("name"),
                "merchant_id": item.get("merchant_id"),
                "category_id": item.get("category_id"),
                "variant_ids": [v if isinstance(v, str) else v.get("id") for v in variants],
                "price": item.get("price_amount") or item.get("price"),
            }
        )
    return out


def _start_rendering(ctx: DemoContext, titles: list[tuple[str, str]]) -> list[Future[Any]]:
    """Render the clips in background threads (ffmpeg does the work, a core each) while later steps go on."""
    root = storage.media_root() / "demo" / "clips"
    task = ctx.task("Rendering video clips (ffmpeg)", len(titles))

    def one(i: int) -> Any:
        pattern = clips.PATTERNS[i % len(clips.PATTERNS)]
        out = clips.render_clip(
            root / f"{i:03d}",
            title=titles[i][0],
            subtitle=titles[i][1],
            seconds=CLIP_SECONDS,
            pattern=pattern,
            seed=i,
        )
        ctx.progress.advance(task)
        return out

    pool = ThreadPoolExecutor(max(1, min(4, os.cpu_count() or 2)), thread_name_prefix="demo-ffmpeg")
    futures = [pool.submit(one, i) for i in range(len(titles))]
    pool.shutdown(wait=False)
    return futures


def _rendition_rows(
    clip_no: int, files: list[media.MediaFile]
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    rel = f"demo/clips/{clip_no:03d}"
    renditions = [
        {"name": f.name, "file": f.file, "path": f"{rel}/{f.file}", "width": f.width, "height": f.height,
         "bytes": f.bytes, "sha256": f.sha256, "duration_ms": f.duration_ms}
        for f in files
        if f.name != "poster"
    ]  # fmt: skip
    p = next(f for f in files if f.name == "poster")
    poster = {"file": p.file, "path": f"{rel}/{p.file}", "width": p.width, "height": p.height, "bytes": p.bytes,
              "sha256": p.sha256}  # fmt: skip
    return renditions, poster


def _planned(clip_no: int) -> list[media.MediaFile]:
    """What a clip will hold once rendered (sizes and hashes are filled in when it is)."""
    files = [
        media.MediaFile(n, f"{n}.mp4", w, h, 0, "", int(CLIP_SECONDS * 1000))
        for n, w, h, _c, _a in media.plan(720, 1280)
    ]
    return files + [media.MediaFile("poster", "poster.jpg", 720, 1280, 0, "")]


def _finish_rendering(ctx: DemoContext, futures: list[Future[Any]]) -> Callable[[], None]:
    def finish() -> None:
        started = time.perf_counter()
        with ctx.db.session() as s:
            for clip_no, future in enumerate(futures):
                renditions, poster = _rendition_rows(clip_no, future.result())
                stmt = update(Video).where(Video.media_version.like(f"demo{clip_no:03d}%"))
                s.execute(stmt.values(renditions=renditions, poster=poster))
        waited = time.perf_counter() - started
        ctx.progress.console.print(
            f"  content: {len(futures)} clips rendered (the demo waited {waited:.1f} s for them)"
        )

    return finish


def build_content(ctx: DemoContext) -> None:
    rng, scale = ctx.rng, ctx.scale
    creators: list[str] = list(ctx.data.get("creators") or [])
    merchants: list[str] = list(ctx.data.get("merchants") or [])
    owners = dict(zip(merchants, ctx.data.get("merchant_owners") or [], strict=False))
    regions: dict[str, str] = ctx.data.get("user_regions") or {}
    shoppers: list[str] = list(ctx.data.get("shoppers") or [])
    if not creators and not merchants:
        ctx.progress.console.print("  content: no creators or merchants from earlier steps; no videos made")
        return
    if not media.ffmpeg_available():
        ctx.progress.console.print("  content: ffmpeg is not installed; no videos made (dev.py installs it)")
        return
    products = _products(ctx)
    by_merchant: dict[str, list[dict[str, Any]]] = {}
    for p in products:
        by_merchant.setdefault(p["merchant_id"] or "", []).append(p)
    from etalage.accounts import service as accounts

    with ctx.db.read() as s:
        shop_names = accounts.organisation_names(s, merchants)

    n_clips = max(1, scale.get("rendered_clips", 4))
    featured = rng.sample(products, min(n_clips, len(products))) if products else []
    titles = []
    for i in range(n_clips):
        if i < len(featured):
            titles.append(
                (str(featured[i]["title"] or "Product")[:32], shop_names.get(featured[i]["merchant_id"], ""))
            )
        else:
            titles.append(
                (
                    FALLBACK_PRODUCTS[i % len(FALLBACK_PRODUCTS)],
                    rng.choice(list(shop_names.values()) or ["Etalage"]),
                )
            )
    futures = _start_rendering(ctx, titles)

    now = utcnow()
    videos, events, tags, info = [], [], [], []
    task = ctx.task("Videos", scale["videos"])
    for n in range(scale["videos"]):
        clip_no = n % n_clips
        files = _planned(clip_no)
        as_merchant = not creators or (merchants and rng.random() < 0.4)
        merchant_id = None
        if as_merchant:  # the shop whose product the clip shows, so the picture matches the tags
            own = featured[clip_no]["merchant_id"] if clip_no < len(featured) else None
            merchant_id = own if own in owners else rng.choice(merchants)
        creator_id = None if as_merchant else rng.choice(creators)
        uploader = owners.get(merchant_id or "", creator_id) if as_merchant else creator_id
        if uploader is None:
            continue
        region = regions.get(creator_id or uploader) or rng.choice(list(LANGUAGES))
        language = rng.choice(LANGUAGES.get(region, ["en"]))
        # The clip's own product first when it belongs to the poster (or for a creator), then 0-2 more.
        pool = by_merchant.get(merchant_id or "", []) if merchant_id else products
        chosen: list[dict[str, Any]] = []
        if clip_no < len(featured) and (creator_id or featured[clip_no]["merchant_id"] == merchant_id):
            chosen.append(featured[clip_no])
        for p in rng.sample(pool, min(len(pool), rng.randint(0, 2))):
            if p not in chosen:
                chosen.append(p)
        name = chosen[0]["title"] if chosen else titles[clip_no][0]
        tagset = rng.sample(HASHTAGS, 3)
        caption = (
            rng.choice(CAPTIONS.get(language, CAPTIONS["en"])).format(p=str(name).lower())
            + " "
            + " ".join(f"#{t}" for t in tagset)
        )
        published = now - timedelta(minutes=rng.randint(5, 14 * 24 * 60))
        vid, version = new_id("vid"), f"demo{clip_no:03d}{secrets.token_hex(2)}"
        renditions, poster = _rendition_rows(clip_no, files)
        videos.append(
            dict(
                id=vid,
                uploader_id=uploader,
                creator_id=creator_id,
                merchant_id=merchant_id,
                caption=caption,
                hashtags=tagset,
                language=language,
                region=region,
                state="published",
                state_reason=None,
                publish_when_ready=True,
                source={"demo_clip": clip_no},
                source_path=None,
                duration_ms=int(CLIP_SECONDS * 1000),
                width=files[0].width,
                height=files[0].height,
                media_version=version,
                renditions=renditions,
                poster=poster,
                progress=100,
                transcode_attempts=0,
                transcode_seconds=None,
                comment_count=0,
                sentiment_sum=0.0,
                created_at=published - timedelta(minutes=3),
                updated_at=published,
                ready_at=published,
                published_at=published,
            )
        )
        events.append(
            dict(
                video_id=vid,
                from_state=None,
                to_state="published",
                actor_id=uploader,
                actor_role="owner",
                reason="demo data",
                at=published,
            )
        )
        tags += [
            dict(
                video_id=vid,
                product_id=p["id"],
                starts_at_ms=None if i == 0 else rng.choice([1000, 2000]),
                position=i,
            )
            for i, p in enumerate(chosen)
        ]
        info.append(
            {
                "id": vid,
                "creator_id": creator_id,
                "merchant_id": merchant_id,
                "region": region,
                "language": language,
                "hashtags": tagset,
                "product_ids": [p["id"] for p in chosen],
                "category_id": chosen[0]["category_id"] if chosen else None,
            }
        )
        ctx.progress.advance(task)

    comments = comments_for(ctx, videos, shoppers) if shoppers else []
    with ctx.db.session() as s:
        for start in range(0, len(videos), 1000):
            s.execute(insert(Video), videos[start : start + 1000])
        for rows, model in ((events, VideoEvent), (tags, VideoProduct), (comments, Comment)):
            for start in range(0, len(rows), 2000):
                s.execute(insert(model), rows[start : start + 2000])
        rooms = live_rooms(ctx, s, videos, owners, products, shoppers)

    if hasattr(ctx, "pending"):
        ctx.pending.append(_finish_rendering(ctx, futures))
    else:  # a demo runner without background work: wait here
        _finish_rendering(ctx, futures)()
    ctx.data["videos"] = info
    ctx.data["live_rooms"] = rooms
    ctx.counts.update(
        videos=len(videos), rendered_clips=n_clips, comments=len(comments), live_rooms=len(rooms)
    )
    ctx.progress.console.print(
        f"  content: {n_clips} clips rendering (ffmpeg, in the background), {len(videos):,} videos, {len(tags):,} product tags, "
        f"{len(comments):,} comments, {len(rooms)} live rooms"
    )


STEP = (50, "content", build_content)
