"""Live shopping rooms: hosts open them on a video source, pin products, run flash deals, moderate chat.

A room is hosted by a creator or for a merchant (any of its members may run it). Its video is either a
ready video of the host's, looped (the demo), or an HLS playlist produced by an external packager from
the host's RTMP/SRT stream (see docs/ARCHITECTURE.md). Everything said in a room goes out through the
bus topic ``content.live.room`` after commit, so every server process's hub delivers it.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from etalage.accounts.authz import Principal
from etalage.content import live_deals, moderation, products, videos
from etalage.content.models import LiveDeal, LiveMessage, LiveMute, LiveRoom, Video
from etalage.content.schemas import DealCreate, RoomCreate
from etalage.core import bus
from etalage.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from etalage.db import utcnow

ROOM_TOPIC = "content.live.room"


def broadcast(session: Session, room_id: str, message: dict[str, Any], *, user_id: str | None = None) -> None:
    """Send ``message`` to the room's viewers (or to one user's connections) once this transaction commits."""
    bus.publish(session, ROOM_TOPIC, {"room_id": room_id, "user_id": user_id, "message": message})


def role_in(principal: Principal | None, room: LiveRoom) -> str | None:
    """'host' for the host and the room's merchant's members, 'moderator' for platform moderators."""
    if principal is None:
        return None
    bound = principal.bound_merchant_id
    if (
        room.merchant_id is not None
        and room.merchant_id in principal.memberships
        and bound in (None, room.merchant_id)
    ):
        return "host"
    if principal.user_id == room.host_user_id and bound is None:
        return "host"
    if principal.has_scope("moderation"):
        return "moderator"
    return None


def get(session: Session, room_id: str) -> LiveRoom:
    room = session.get(LiveRoom, room_id)
    if room is None:
        raise NotFound(f"No live room {room_id}.")
    return room


def _managed(
    session: Session, principal: Principal, room_id: str, *, moderators: bool = False
) -> tuple[LiveRoom, str]:
    room = get(session, room_id)
    role = role_in(principal, room)
    if role == "host" and not principal.has_scope("content:write"):
        role = None
    if role is None or (role == "moderator" and not moderators):
        raise Forbidden("Only the room's host can do this.")
    return room, role


def create(session: Session, principal: Principal, body: RoomCreate) -> LiveRoom:
    videos._check_poster_for(principal, body.merchant_id)
    room = LiveRoom(
        host_user_id=principal.user_id,
        merchant_id=body.merchant_id,
        title=body.title,
        language=body.language,
        region=body.region,
        scheduled_at=body.scheduled_at,
        blocked_words=sorted({w.lower() for w in body.blocked_words}),
        source_kind=body.source.kind,
    )
    if body.source.kind == "clip":
        if not body.source.video_id:
            raise InvalidInput("A clip source needs video_id: a ready video of yours.")
        video = session.get(Video, body.source.video_id)
        if (
            video is None
            or not videos.is_owner(principal, video)
            or video.state not in ("ready", "published")
        ):
            raise InvalidInput(f"No ready video {body.source.video_id} of yours to loop.")
        room.source_video_id = video.id
    else:
        if not body.source.url:
            raise InvalidInput("An HLS source needs url: the https://….m3u8 playlist of your packager.")
        room.source_url = body.source.url
    session.add(room)
    session.flush()
    if body.start_now:
        start(session, principal, room.id)
    return room


def start(session: Session, principal: Principal, room_id: str) -> LiveRoom:
    room, _ = _managed(session, principal, room_id)
    if room.state == "ended":
        raise Conflict("This room has ended; open a new one.")
    if room.state == "scheduled":
        room.state, room.started_at = "live", utcnow()
        broadcast(session, room.id, {"type": "room_state", "state": "live"})
        bus.publish(session, "content.live.started", {"room_id": room.id, "merchant_id": room.merchant_id})
    return room


def end(session: Session, principal: Principal, room_id: str) -> LiveRoom:
    room, _ = _managed(session, principal, room_id, moderators=True)
    if room.state != "ended":
        now = utcnow()
        room.state, room.ended_at = "ended", now
        for deal in session.scalars(
            select(LiveDeal).where(LiveDeal.room_id == room_id, LiveDeal.ended_at.is_(None))
        ):
            deal.ended_at = now
        broadcast(session, room.id, {"type": "room_state", "state": "ended"})
        bus.publish(session, "content.live.ended", {"room_id": room.id, "merchant_id": room.merchant_id})
    return room


def update_room(session: Session, principal: Principal, room_id: str, changes: dict[str, Any]) -> LiveRoom:
    room, _ = _managed(session, principal, room_id)
    if changes.get("title") is not None:
        room.title = changes["title"]
    if changes.get("blocked_words") is not None:
        room.blocked_words = sorted({w.lower() for w in changes["blocked_words"]})
    return room


def pin(session: Session, principal: Principal, room_id: str, product_id: str | None) -> LiveRoom:
    room, _ = _managed(session, principal, room_id)
    if room.state == "ended":
        raise Conflict("This room has ended.")
    title = None
    if product_id is not None:
        refs = products.check_featurable(session, [product_id], merchant_id=room.merchant_id)
        title = refs[product_id].title if product_id in refs else None
    room.pinned_product_id = product_id
    room.pinned_at = utcnow() if product_id else None
    broadcast(session, room.id, {"type": "pinned_product", "product_id": product_id, "title": title})
    return room


def create_deal(session: Session, principal: Principal, room_id: str, body: DealCreate) -> LiveDeal:
    room, _ = _managed(session, principal, room_id)
    if room.state != "live":
        raise Conflict("Flash deals run only while the room is live.")
    refs = products.check_featurable(session, [body.product_id], merchant_id=room.merchant_id)
    ref = refs.get(body.product_id)
    if ref is not None and ref.variant_ids is not None and body.variant_id not in ref.variant_ids:
        raise InvalidInput(f"Product {body.product_id} has no variant {body.variant_id}.")
    now = utcnow()
    for old in live_deals.active_deals(session, room_id):
        if old.variant_id == body.variant_id:  # one deal per variant at a time: the new one replaces it
            old.ended_at = now
    deal = LiveDeal(
        room_id=room_id,
        product_id=body.product_id,
        variant_id=body.variant_id,
        price_amount=body.price.amount,
        currency=body.price.currency,
        quantity_cap=body.quantity,
        starts_at=now,
        ends_at=now + timedelta(seconds=body.duration_seconds),
        created_by=principal.user_id,
    )
    session.add(deal)
    session.flush()
    broadcast(session, room_id, {"type": "deal", "deal": deal_json(deal)})
    return deal


def end_deal(session: Session, principal: Principal, room_id: str, deal_id: str) -> LiveDeal:
    _managed(session, principal, room_id)
    deal = session.get(LiveDeal, deal_id)
    if deal is None or deal.room_id != room_id:
        raise NotFound(f"No deal {deal_id} in this room.")
    if deal.ended_at is None:
        deal.ended_at = utcnow()
        broadcast(session, room_id, {"type": "deal_ended", "deal_id": deal_id})
    return deal


def deal_json(deal: LiveDeal) -> dict[str, Any]:
    return {
        "id": deal.id,
        "room_id": deal.room_id,
        "product_id": deal.product_id,
        "variant_id": deal.variant_id,
        "price": {"amount": deal.price_amount, "currency": deal.currency},
        "quantity_cap": deal.quantity_cap,
        "quantity_left": max(0, deal.quantity_cap - deal.quantity_claimed),
        "starts_at": deal.starts_at.isoformat(),
        "ends_at": deal.ends_at.isoformat(),
        "active": live_deals.is_active(deal),
    }


def list_deals(session: Session, room_id: str) -> list[LiveDeal]:
    get(session, room_id)
    return list(
        session.scalars(select(LiveDeal).where(LiveDeal.room_id == room_id).order_by(LiveDeal.id.desc()))
    )


# --- chat moderation --------------------------------------------------------------------------------------


def mute(
    session: Session, principal: Principal, room_id: str, user_id: str, minutes: int, reason: str
) -> LiveMute:
    room, role = _managed(session, principal, room_id, moderators=True)
    if user_id == room.host_user_id or user_id == principal.user_id:
        raise Conflict("The host cannot be muted in their own room.")
    until = utcnow() + timedelta(minutes=minutes)
    entry = session.get(LiveMute, (room_id, user_id))
    if entry is None:
        from etalage.accounts import service as accounts

        if not accounts.display_names(session, [user_id]):
            raise NotFound(f"No user {user_id}.")
        entry = LiveMute(
            room_id=room_id, user_id=user_id, until=until, created_by=principal.user_id, reason=reason
        )
        session.add(entry)
    else:
        entry.until, entry.created_by, entry.reason = until, principal.user_id, reason
    moderation.record(
        session,
        subject_kind="live_user",
        subject_id=user_id,
        room_id=room_id,
        action="mute",
        actor_id=principal.user_id,
        actor_role=role,
        reason=reason,
        details={"minutes": minutes},
    )
    broadcast(
        session,
        room_id,
        {"type": "muted", "user_id": user_id, "until": until.isoformat(), "reason": reason},
        user_id=user_id,
    )
    return entry


def unmute(
    session: Session, principal: Principal, room_id: str, user_id: str, reason: str = "lifted"
) -> None:
    _room, role = _managed(session, principal, room_id, moderators=True)
    entry = session.get(LiveMute, (room_id, user_id))
    if entry is None:
        raise NotFound(f"User {user_id} is not muted in this room.")
    session.delete(entry)
    moderation.record(
        session,
        subject_kind="live_user",
        subject_id=user_id,
        room_id=room_id,
        action="unmute",
        actor_id=principal.user_id,
        actor_role=role,
        reason=reason,
    )
    broadcast(session, room_id, {"type": "unmuted", "user_id": user_id}, user_id=user_id)


def remove_message(
    session: Session, principal: Principal, room_id: str, message_id: str, reason: str
) -> LiveMessage:
    _room, role = _managed(session, principal, room_id, moderators=True)
    message = session.get(LiveMessage, message_id)
    if message is None or message.room_id != room_id:
        raise NotFound(f"No message {message_id} in this room.")
    if message.state != "removed":
        message.state = "removed"
        moderation.record(
            session,
            subject_kind="live_message",
            subject_id=message_id,
            room_id=room_id,
            action="remove",
            actor_id=principal.user_id,
            actor_role=role,
            reason=reason,
            details={"user_id": message.user_id, "text": message.text},
        )
        broadcast(session, room_id, {"type": "message_removed", "id": message_id})
    return message


def restore_message(
    session: Session, principal: Principal, room_id: str, message_id: str, reason: str
) -> LiveMessage:
    """Put a removed chat message back (a moderator, e.g. when an appeal succeeds), with the reason."""
    _room, role = _managed(session, principal, room_id, moderators=True)
    message = session.get(LiveMessage, message_id)
    if message is None or message.room_id != room_id:
        raise NotFound(f"No message {message_id} in this room.")
    if message.state == "removed" and message.text != "[deleted]":  # an erased author's message stays gone
        message.state = "visible"
        moderation.record(
            session,
            subject_kind="live_message",
            subject_id=message_id,
            room_id=room_id,
            action="restore",
            actor_id=principal.user_id,
            actor_role=role,
            reason=reason,
        )
    return message


def moderation_log(session: Session, principal: Principal, room_id: str) -> list[Any]:
    from etalage.content.models import ModerationAction

    _managed(session, principal, room_id, moderators=True)
    stmt = select(ModerationAction).where(ModerationAction.room_id == room_id).order_by(ModerationAction.id)
    return list(session.scalars(stmt))
