"""What a room's WebSocket needs from the database: the joining snapshot, chat, likes, purchases.

These take the :class:`Database` and run short transactions of their own, because they are called from
a long-lived WebSocket, never inside one request's transaction.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from etalage.accounts import service as accounts
from etalage.accounts.authz import Principal
from etalage.content import live, live_deals, moderation, products, storage
from etalage.content.models import LiveAttribution, LiveMessage, LiveMute, LiveRoom, Video
from etalage.core.errors import Conflict, Forbidden, InvalidInput, RateLimited
from etalage.core.ratelimit import RateLimiter
from etalage.db import Database, utcnow

HISTORY = 50
CHAT_LIMIT, CHAT_WINDOW = 5, 10.0  # messages per user per room
MAX_CHAT = 300  # characters


def message_json(message: LiveMessage, names: dict[str, str]) -> dict[str, Any]:
    return {
        "type": "chat" if message.kind == "chat" else message.kind,
        "id": message.id,
        "user_id": message.user_id,
        "author": names.get(message.user_id or "") if message.kind == "chat" else None,
        "text": message.text,
        "at": message.created_at.isoformat(),
    }


def playback(session: Any, room: LiveRoom) -> dict[str, Any]:
    if room.source_kind == "hls":
        return {"kind": "hls", "url": room.source_url, "loop": False, "poster_url": None}
    video = session.get(Video, room.source_video_id) if room.source_video_id else None
    if video is None or not video.renditions or not video.media_version:
        return {"kind": "mp4", "url": None, "loop": True, "poster_url": None}
    top = video.renditions[0]
    poster = storage.media_url(video.id, video.media_version, video.poster["file"]) if video.poster else None
    return {
        "kind": "mp4",
        "url": storage.media_url(video.id, video.media_version, top["file"]),
        "loop": True,
        "poster_url": poster,
    }


def snapshot(db: Database, room_id: str, principal: Principal | None, since: str | None) -> dict[str, Any]:
    """Everything a (re)joining viewer needs: room, pinned product, deals, chat history, their own state."""
    with db.read() as s:
        room = live.get(s, room_id)
        stmt = select(LiveMessage).where(LiveMessage.room_id == room_id, LiveMessage.state == "visible")
        if since:  # a reconnect: what was said while away (bounded)
            rows = list(s.scalars(stmt.where(LiveMessage.id > since).order_by(LiveMessage.id).limit(200)))
        else:
            rows = list(reversed(list(s.scalars(stmt.order_by(LiveMessage.id.desc()).limit(HISTORY)))))
        names = accounts.display_names(s, list({m.user_id for m in rows if m.user_id}))
        mute = s.get(LiveMute, (room_id, principal.user_id)) if principal else None
        muted_until = mute.until if mute is not None and mute.until > utcnow() else None
        title = products.title_of(s, room.pinned_product_id) if room.pinned_product_id else None
        return {
            "type": "hello",
            "room": {
                "id": room.id,
                "title": room.title,
                "state": room.state,
                "host_user_id": room.host_user_id,
                "merchant_id": room.merchant_id,
                "playback": playback(s, room),
                "like_count": room.like_count,
            },
            "pinned_product": {"product_id": room.pinned_product_id, "title": title}
            if room.pinned_product_id
            else None,
            "deals": [live.deal_json(d) for d in live_deals.active_deals(s, room_id)],
            "history": [message_json(m, names) for m in rows],
            "you": {
                "user_id": principal.user_id if principal else None,
                "role": live.role_in(principal, room),
                "can_chat": principal is not None and room.state == "live" and muted_until is None,
                "muted_until": muted_until.isoformat() if muted_until else None,
            },
        }


def post_chat(
    db: Database, principal: Principal, room_id: str, text: str, limiter: RateLimiter
) -> dict[str, Any]:
    """Store a chat message and broadcast it after commit; raise a problem saying why not otherwise."""
    decision = limiter.hit(f"content:chat:{room_id}:{principal.user_id}", CHAT_LIMIT, CHAT_WINDOW)
    if not decision.allowed:
        raise RateLimited("Slow down: you are sending messages too fast.", retry_after=decision.retry_after)
    text = " ".join(moderation.clean_text(text).split())
    if not text:
        raise InvalidInput("The message is empty.")
    if len(text) > MAX_CHAT:
        raise InvalidInput(f"Messages are at most {MAX_CHAT} characters.")
    with db.session() as s:
        room = live.get(s, room_id)
        if room.state != "live":
            raise Conflict("The room is not live; chat opens when it starts.")
        mute = s.get(LiveMute, (room_id, principal.user_id))
        if mute is not None and mute.until > utcnow():
            raise Forbidden(
                f"You are muted in this room until {mute.until.isoformat()}.",
                muted_until=mute.until.isoformat(),
            )
        if moderation.blocked_hit(text, room.blocked_words):
            raise InvalidInput(
                "That message contains words that are not allowed in this room.", reason="blocked-word"
            )
        message = LiveMessage(room_id=room_id, user_id=principal.user_id, kind="chat", text=text)
        s.add(message)
        s.flush()
        payload = message_json(message, accounts.display_names(s, [principal.user_id]))
        live.broadcast(s, room_id, payload)
        return payload


def add_likes(db: Database, room_id: str, delta: int) -> int | None:
    """Add a batch of likes (the hub flushes once a second); returns the new total."""
    with db.session() as s:
        s.execute(
            update(LiveRoom).where(LiveRoom.id == room_id).values(like_count=LiveRoom.like_count + delta)
        )
        total = s.scalar(select(LiveRoom.like_count).where(LiveRoom.id == room_id))
        if total is not None:
            live.broadcast(s, room_id, {"type": "likes", "total": total})
        return total


def record_peak(db: Database, counts: dict[str, int]) -> None:
    with db.session() as s:
        for room_id, count in counts.items():
            s.execute(
                update(LiveRoom)
                .where(LiveRoom.id == room_id, LiveRoom.peak_viewers < count)
                .values(peak_viewers=count)
            )


def _parse_time(value: Any) -> datetime:
    if isinstance(value, datetime):
        return value
    try:
        parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return utcnow()
    return parsed if parsed.tzinfo else utcnow()


def attribute_order(db: Database, payload: dict[str, Any]) -> bool:
    """The ``order.paid`` subscriber: record the order's room in a transaction of its own."""
    with db.session() as s:
        return attribute(s, payload)


def attribute(s: Session, payload: dict[str, Any]) -> bool:
    """Record an ``order.paid`` that came from a live room, once per order; tell the room someone bought.

    Returns True when this call recorded it (False: not from a room, unknown room, or already recorded)."""
    room_id, order_id = payload.get("source_live_room_id"), payload.get("order_id")
    if not room_id or not order_id:
        return False
    items = [i for i in payload.get("items") or [] if isinstance(i, dict)][:100]
    room = s.get(LiveRoom, room_id)
    if room is None or s.get(LiveAttribution, order_id) is not None:
        return False
    paid_at = _parse_time(payload.get("paid_at"))
    # Bought while on air, or in the half hour after (people finish checkout after the stream).
    during = (
        room.started_at is not None
        and room.started_at <= paid_at
        and (room.ended_at is None or (paid_at - room.ended_at).total_seconds() <= 1800)
    )
    try:
        with s.begin_nested():
            s.add(
                LiveAttribution(
                    order_id=order_id,
                    room_id=room_id,
                    merchant_id=payload.get("merchant_id"),
                    items=items,
                    during_live=during,
                    paid_at=paid_at,
                )
            )
            s.flush()
    except IntegrityError:
        return False  # the same event delivered twice, concurrently
    product_id = next((i.get("product_id") for i in items if i.get("product_id")), None)
    title = next(
        (i.get("title") or i.get("product_title") for i in items if i.get("title") or i.get("product_title")),
        None,
    )
    if title is None and product_id:
        title = products.title_of(s, product_id)
    text = f"Someone just bought {title}" if title else "Someone just bought from this room"
    notice = LiveMessage(room_id=room_id, user_id=None, kind="purchase", text=text[:500])
    s.add(notice)
    s.flush()
    message = message_json(notice, {})
    message["product_id"] = product_id
    live.broadcast(s, room_id, message)
    return True


def attributions(db: Database, principal: Principal, room_id: str) -> list[LiveAttribution]:
    with db.read() as s:
        live._managed(s, principal, room_id, moderators=True)
        stmt = (
            select(LiveAttribution)
            .where(LiveAttribution.room_id == room_id)
            .order_by(LiveAttribution.paid_at)
        )
        return list(s.scalars(stmt))
