"""Live room routes (REST for hosts and moderators) and the room's WebSocket (viewers)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, FastAPI, Query, Request, Response, status
from sqlalchemy import select
from sqlalchemy.orm import Session

from etalage.accounts import service as accounts
from etalage.accounts.authz import Principal
from etalage.accounts.deps import CurrentPrincipal, scoped
from etalage.content import live, live_chat, live_socket
from etalage.content.hub import Hub
from etalage.content.models import LiveMessage, LiveRoom
from etalage.content.schemas import (
    AttributionOut,
    DealCreate,
    DealOut,
    LiveMessageOut,
    MessageRemove,
    ModerationActionOut,
    MuteIn,
    PinIn,
    RoomCreate,
    RoomOut,
    RoomPatch,
)
from etalage.core import bus
from etalage.core.deps import DbSession
from etalage.core.pagination import Page, PageParams, page_params, paginate
from etalage.core.routing import api_router

router = api_router(prefix="/api/v1", tags=["live"])
ContentWriter = Annotated[Principal, Depends(scoped("content:write"))]
router.add_api_websocket_route("/live/rooms/{room_id}/ws", live_socket.room_socket)


def startup_live(app: FastAPI) -> None:
    hub = Hub(app.state.db)
    hub.start()
    app.state.live_hub = hub

    def on_order_paid(_topic: str, payload: dict[str, Any]) -> None:
        live_chat.attribute_order(app.state.db, payload)

    app.state.live_order_subscriber = on_order_paid
    bus.subscribe("order.paid", on_order_paid)


def shutdown_live(app: FastAPI) -> None:
    bus.unsubscribe("order.paid", app.state.live_order_subscriber)
    app.state.live_hub.stop()


def room_out(session: Session, room: LiveRoom, request: Request) -> RoomOut:
    play = live_chat.playback(session, room)
    hub: Hub = request.app.state.live_hub
    return RoomOut(
        id=room.id,
        title=room.title,
        host_user_id=room.host_user_id,
        host_name=accounts.display_names(session, [room.host_user_id]).get(room.host_user_id, ""),
        merchant_id=room.merchant_id,
        state=room.state,
        language=room.language,
        region=room.region,
        playback_url=play["url"],
        playback_kind=play["kind"],
        loop=play["loop"],
        poster_url=play["poster_url"],
        pinned_product_id=room.pinned_product_id,
        like_count=room.like_count,
        viewer_count=hub.viewer_count(room.id),
        scheduled_at=room.scheduled_at,
        started_at=room.started_at,
        ended_at=room.ended_at,
        websocket_url=f"/api/v1/live/rooms/{room.id}/ws",
    )


@router.post("/live/rooms", status_code=status.HTTP_201_CREATED, response_model=RoomOut)
def open_room(body: RoomCreate, request: Request, session: DbSession, principal: ContentWriter) -> RoomOut:
    """Open a room (as a creator, or for your merchant with ``merchant_id``) on a looped clip of yours
    or an HLS playlist; ``start_now`` goes live at once."""
    return room_out(session, live.create(session, principal, body), request)


@router.get("/live/rooms", response_model=Page[RoomOut])
def list_rooms(
    request: Request,
    session: DbSession,
    params: Annotated[PageParams, Depends(page_params)],
    state: Annotated[str, Query(pattern="^(live|scheduled|ended)$")] = "live",
) -> Page[RoomOut]:
    rows, cursor = paginate(session, select(LiveRoom).where(LiveRoom.state == state), LiveRoom.id, params)
    return Page[RoomOut](items=[room_out(session, r, request) for r in rows], next_cursor=cursor)


@router.get("/live/rooms/{room_id}", response_model=RoomOut)
def get_room(room_id: str, request: Request, session: DbSession) -> RoomOut:
    return room_out(session, live.get(session, room_id), request)


@router.patch("/live/rooms/{room_id}", response_model=RoomOut)
def edit_room(
    room_id: str, body: RoomPatch, request: Request, session: DbSession, principal: ContentWriter
) -> RoomOut:
    return room_out(
        session, live.update_room(session, principal, room_id, body.model_dump(exclude_unset=True)), request
    )


@router.post("/live/rooms/{room_id}/start", response_model=RoomOut)
def start_room(room_id: str, request: Request, session: DbSession, principal: ContentWriter) -> RoomOut:
    return room_out(session, live.start(session, principal, room_id), request)


@router.post("/live/rooms/{room_id}/end", response_model=RoomOut)
def end_room(room_id: str, request: Request, session: DbSession, principal: CurrentPrincipal) -> RoomOut:
    """End the stream (the host, or a moderator), which also ends its deals."""
    return room_out(session, live.end(session, principal, room_id), request)


@router.put("/live/rooms/{room_id}/pin", response_model=RoomOut)
def pin_product(
    room_id: str, body: PinIn, request: Request, session: DbSession, principal: ContentWriter
) -> RoomOut:
    return room_out(session, live.pin(session, principal, room_id, body.product_id), request)


@router.delete("/live/rooms/{room_id}/pin", response_model=RoomOut)
def unpin_product(room_id: str, request: Request, session: DbSession, principal: ContentWriter) -> RoomOut:
    return room_out(session, live.pin(session, principal, room_id, None), request)


@router.post("/live/rooms/{room_id}/deals", status_code=status.HTTP_201_CREATED, response_model=DealOut)
def create_deal(room_id: str, body: DealCreate, session: DbSession, principal: ContentWriter) -> DealOut:
    """A live-only flash deal: a price for one variant, for a quantity, for a few minutes."""
    return DealOut(**live.deal_json(live.create_deal(session, principal, room_id, body)))


@router.get("/live/rooms/{room_id}/deals", response_model=list[DealOut])
def list_deals(room_id: str, session: DbSession) -> list[DealOut]:
    return [DealOut(**live.deal_json(d)) for d in live.list_deals(session, room_id)]


@router.delete("/live/rooms/{room_id}/deals/{deal_id}", response_model=DealOut)
def end_deal(room_id: str, deal_id: str, session: DbSession, principal: ContentWriter) -> DealOut:
    return DealOut(**live.deal_json(live.end_deal(session, principal, room_id, deal_id)))


@router.get("/live/rooms/{room_id}/messages", response_model=Page[LiveMessageOut])
def room_messages(
    room_id: str, session: DbSession, params: Annotated[PageParams, Depends(page_params)]
) -> Page[LiveMessageOut]:
    """The room's chat and notices, newest first (what the WebSocket replays on joining)."""
    live.get(session, room_id)
    stmt = select(LiveMessage).where(LiveMessage.room_id == room_id, LiveMessage.state == "visible")
    rows, cursor = paginate(session, stmt, LiveMessage.id, params)
    names = accounts.display_names(session, list({m.user_id for m in rows if m.user_id}))
    items = [
        LiveMessageOut(
            id=m.id,
            kind=m.kind,
            user_id=m.user_id,
            author=names.get(m.user_id or ""),
            text=m.text,
            at=m.created_at,
        )
        for m in rows
    ]
    return Page[LiveMessageOut](items=items, next_cursor=cursor)


@router.post(
    "/live/rooms/{room_id}/messages/{message_id}/remove", response_model=dict[str, str], tags=["moderation"]
)
def remove_message(
    room_id: str, message_id: str, body: MessageRemove, session: DbSession, principal: CurrentPrincipal
) -> dict[str, str]:
    """Remove a chat message (host or moderator), with the reason; viewers see it disappear."""
    message = live.remove_message(session, principal, room_id, message_id, body.reason)
    return {"id": message.id, "state": message.state}


@router.post(
    "/live/rooms/{room_id}/mutes",
    status_code=status.HTTP_201_CREATED,
    response_model=dict[str, str],
    tags=["moderation"],
)
def mute_user(room_id: str, body: MuteIn, session: DbSession, principal: CurrentPrincipal) -> dict[str, str]:
    entry = live.mute(session, principal, room_id, body.user_id, body.minutes, body.reason)
    return {"user_id": entry.user_id, "until": entry.until.isoformat()}


@router.delete(
    "/live/rooms/{room_id}/mutes/{user_id}", status_code=status.HTTP_204_NO_CONTENT, tags=["moderation"]
)
def unmute_user(room_id: str, user_id: str, session: DbSession, principal: CurrentPrincipal) -> Response:
    live.unmute(session, principal, room_id, user_id)
    return Response(status_code=204)


@router.get("/live/rooms/{room_id}/moderation", response_model=list[ModerationActionOut], tags=["moderation"])
def room_moderation_log(
    room_id: str, session: DbSession, principal: CurrentPrincipal
) -> list[ModerationActionOut]:
    """Every mute, unmute and removal in the room: who, what, why, when."""
    return [
        ModerationActionOut.model_validate(a, from_attributes=True)
        for a in live.moderation_log(session, principal, room_id)
    ]


@router.get("/live/rooms/{room_id}/attributions", response_model=list[AttributionOut])
def room_attributions(room_id: str, request: Request, principal: CurrentPrincipal) -> list[AttributionOut]:
    """Orders paid from this room (for its host)."""
    rows = live_chat.attributions(request.app.state.db, principal, room_id)
    return [AttributionOut.model_validate(a, from_attributes=True) for a in rows]
