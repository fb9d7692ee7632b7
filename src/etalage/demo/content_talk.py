"""The content demo's conversation: comments with their sentiment under videos, and live rooms with chat,
pinned products and deals. Called by the content step (``demo.content``)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import insert

from etalage.content import sentiment
from etalage.content.models import LiveDeal, LiveMessage, LiveRoom
from etalage.db import new_id, utcnow
from etalage.demo import DemoContext

COMMENTS = {
    "en": [
        "need this 😍",
        "does it come in black?",
        "mine broke after a week 😡",
        "link pls",
        "obsessed!!",
        "honestly not worth it",
        "the quality is insane for the price",
        "what size are you wearing?",
        "arrived in 2 days, love it",
        "meh. expected more",
    ],
    "nl": [
        "Echt super mooi 😍",
        "Welke maat draag je?",
        "Na twee dagen al kapot",
        "Dikke aanrader 👍",
        "Veel te duur voor wat het is",
        "Is deze ook in het zwart?",
        "Snel geleverd, top!",
    ],
    "fr": [
        "Trop beau 😍",
        "Il existe en noir ?",
        "Cassé au bout de 3 jours",
        "Je recommande à 100%",
        "Trop cher pour ce que c'est",
        "Livraison rapide, ravie !",
    ],
    "es": [
        "Me encanta 😍",
        "¿Lo tienen en negro?",
        "Se rompió a los dos días",
        "Lo recomiendo 100%",
        "Demasiado caro para lo que es",
        "Llegó rapidísimo, genial",
    ],
}
CHAT = [
    "Hi from Ghent 👋",
    "Does it come in blue?",
    "How much is shipping?",
    "Love it 😍",
    "Just ordered!",
    "Can you show the back?",
    "Is it true to size?",
    "🔥🔥🔥",
]


def comments_for(ctx: DemoContext, videos: list[dict[str, Any]], shoppers: list[str]) -> list[dict[str, Any]]:
    rng, rows = ctx.rng, []
    scored: dict[tuple[str, str], float] = {}
    for video in videos:
        for _ in range(rng.choice((0, 0, 1, 2, 3))):
            lang = video["language"] if video["language"] in COMMENTS else "en"
            text = rng.choice(COMMENTS[lang])
            if (lang, text) not in scored:
                scored[(lang, text)] = sentiment.score(text, lang).score
            value = scored[(lang, text)]
            when = video["published_at"] + timedelta(minutes=rng.randint(1, 600))
            rows.append(
                dict(
                    id=new_id("cmt"),
                    video_id=video["id"],
                    user_id=rng.choice(shoppers),
                    parent_id=None,
                    text=text,
                    language=lang,
                    sentiment=value,
                    state="visible",
                    report_count=0,
                    reply_count=0,
                    created_at=min(when, utcnow()),
                )
            )
            video["comment_count"] += 1
            video["sentiment_sum"] += value
    return rows


def live_rooms(
    ctx: DemoContext,
    s: Any,
    videos: list[dict[str, Any]],
    owners: dict[str, str],
    products: list[dict[str, Any]],
    shoppers: list[str],
) -> list[dict[str, Any]]:
    """Three rooms: one on air (a merchant looping a clip, a pinned product, a flash deal, some chat),
    one scheduled for tomorrow (a creator), one that ended yesterday."""
    rng, now, out = ctx.rng, utcnow(), []
    merchant_videos = [v for v in videos if v["merchant_id"] in owners]
    creator_videos = [v for v in videos if v["creator_id"]]
    plans = []
    if merchant_videos:
        plans.append(("live", merchant_videos[0], "Friday drop: live deals for one hour"))
    if creator_videos:
        plans.append(("scheduled", creator_videos[0], "Unboxing my favourites, live"))
    if len(merchant_videos) > 1:
        plans.append(("ended", merchant_videos[1], "Spring collection preview"))
    for state, video, title in plans:
        merchant_id = video["merchant_id"] if video["merchant_id"] else None
        host = owners.get(merchant_id or "") if merchant_id else video["creator_id"]
        own = [p for p in products if p["merchant_id"] == merchant_id] if merchant_id else products
        pinned = own[0] if own and state == "live" else None
        room_id = new_id("lrm")
        s.execute(
            insert(LiveRoom),
            [
                dict(
                    id=room_id,
                    host_user_id=host,
                    merchant_id=merchant_id,
                    title=title,
                    language=video["language"],
                    region=video["region"],
                    state=state,
                    source_kind="clip",
                    source_video_id=video["id"],
                    source_url=None,
                    blocked_words=["fake", "scam"],
                    pinned_product_id=pinned["id"] if pinned else None,
                    pinned_at=now if pinned else None,
                    like_count=rng.randint(50, 900) if state != "scheduled" else 0,
                    peak_viewers=rng.randint(20, 300) if state != "scheduled" else 0,
                    scheduled_at=now + timedelta(days=1) if state == "scheduled" else None,
                    started_at=now - timedelta(minutes=20)
                    if state == "live"
                    else now - timedelta(days=1, hours=1)
                    if state == "ended"
                    else None,
                    ended_at=now - timedelta(days=1) if state == "ended" else None,
                    created_at=now - timedelta(days=2),
                )
            ],
        )
        if state == "live":
            messages = (
                [
                    dict(
                        id=new_id("lmg"),
                        room_id=room_id,
                        user_id=rng.choice(shoppers),
                        kind="chat",
                        text=text,
                        state="visible",
                        created_at=now - timedelta(seconds=90 - i * 10),
                    )
                    for i, text in enumerate(rng.sample(CHAT, min(6, len(CHAT))))
                ]
                if shoppers
                else []
            )
            if messages:
                s.execute(insert(LiveMessage), messages)
            if pinned and pinned["variant_ids"]:
                price = int(pinned["price"]) if isinstance(pinned.get("price"), int) else 1999
                s.execute(
                    insert(LiveDeal),
                    [
                        dict(
                            id=new_id("ldl"),
                            room_id=room_id,
                            product_id=pinned["id"],
                            variant_id=pinned["variant_ids"][0],
                            price_amount=max(100, price * 7 // 10),
                            currency="EUR",
                            quantity_cap=50,
                            quantity_claimed=0,
                            starts_at=now - timedelta(minutes=5),
                            ends_at=now + timedelta(hours=2),
                            ended_at=None,
                            created_by=host,
                            created_at=now - timedelta(minutes=5),
                        )
                    ],
                )
        out.append(
            {
                "id": room_id,
                "state": state,
                "merchant_id": merchant_id,
                "host_user_id": host,
                "product_ids": [pinned["id"]] if pinned else [],
            }
        )
    return out
