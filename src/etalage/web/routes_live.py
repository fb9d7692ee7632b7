"""Live shopping rooms for shoppers: the list of rooms on air, and a room (video, chat, pinned product,
buying without leaving)."""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from etalage.accounts import service as accounts
from etalage.core.routing import api_router
from etalage.web import sources
from etalage.web.pages import Page, PageCtx, PageRoute, render

router = api_router(route_class=PageRoute, include_in_schema=False)


def room_card(ctx: PageCtx, room: Any, hosts: dict[str, str]) -> dict[str, Any]:
    from etalage.content import live_chat

    play = live_chat.playback(ctx.db, room)
    return {
        "id": room.id,
        "title": room.title,
        "state": room.state,
        "host": hosts.get(room.host_user_id, ""),
        "host_id": room.host_user_id,
        "merchant_id": room.merchant_id,
        "poster": play["poster_url"],
        "playback": play,
        "pinned_product_id": room.pinned_product_id,
        "likes": room.like_count,
        "started_at": room.started_at,
    }


@router.get("/live")
def rooms_page(ctx: Page) -> Response:
    from sqlalchemy import select

    from etalage.content.models import LiveRoom

    rows = list(
        ctx.db.scalars(
            select(LiveRoom).where(LiveRoom.state == "live").order_by(LiveRoom.id.desc()).limit(40)
        )
    )
    hosts = accounts.display_names(ctx.db, [r.host_user_id for r in rows])
    return render(ctx, "shop/live_list.html", tab="live", rooms=[room_card(ctx, r, hosts) for r in rows])


@router.get("/live/{room_id}")
def room_page(ctx: Page, room_id: str) -> Response:
    from etalage.content import live

    room = live.get(ctx.db, room_id)
    hosts = accounts.display_names(ctx.db, [room.host_user_id])
    card = room_card(ctx, room, hosts)
    pinned = sources.product_cards(ctx, [room.pinned_product_id]) if room.pinned_product_id else {}
    return render(
        ctx,
        "shop/live_room.html",
        tab="live",
        room=card,
        pinned=pinned.get(room.pinned_product_id or ""),
    )
