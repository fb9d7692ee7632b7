"""The room's WebSocket: ``GET /api/v1/live/rooms/{room_id}/ws[?token=…][&since=<message id>]``.

Anyone may watch; signed-in viewers (session cookie from this site, ``?token=`` or a bearer header) may
chat and like. On connect the server sends ``hello`` (room, playback, pinned product, deals, recent chat
or what was missed since ``since``, and the viewer's own state); then ``chat``, ``likes``,
``viewer_count``, ``pinned_product``, ``deal``, ``deal_ended``, ``purchase``, ``message_removed``,
``muted``/``unmuted`` (to that viewer), ``room_state`` and, in answer to the client, ``error``/``pong``.
The client sends ``{"type": "chat", "text": …}``, ``{"type": "like", "count": n}`` or ``{"type": "ping"}``.

Close codes: 4401 bad credentials, 4404 no such room, 1008 flooding, 1013 too slow to keep up.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import Any
from urllib.parse import urlsplit

import orjson
from starlette.concurrency import run_in_threadpool
from starlette.websockets import WebSocket, WebSocketDisconnect

from etalage.accounts import service as accounts
from etalage.accounts.authz import Principal
from etalage.accounts.deps import SESSION_COOKIE
from etalage.config import get_settings
from etalage.content import live_chat
from etalage.content.hub import Connection, Hub
from etalage.core.errors import NotFound, Problem, Unauthorized

MAX_FRAME = 4096
FRAMES_PER_SECOND = 20
MAX_LIKES_PER_FRAME = 20


def _same_origin(ws: WebSocket) -> bool:
    """A cookie is honoured only from our own pages (cross-site WebSocket hijacking otherwise)."""
    origin = ws.headers.get("origin")
    if origin is None:
        return True  # not a browser
    netloc = urlsplit(origin).netloc
    return netloc in (ws.headers.get("host"), urlsplit(get_settings().base_url).netloc)


def _principal(ws: WebSocket, token: str | None) -> Principal | None:
    db = ws.app.state.db
    header = ws.headers.get("authorization") or ""
    if not token and header.lower().startswith("bearer "):
        token = header[7:].strip()
    with db.read() as s:
        if token:
            return accounts.principal_for_token(s, token)
        cookie = ws.cookies.get(SESSION_COOKIE)
        if cookie and _same_origin(ws):
            return accounts.principal_for_session(s, cookie)
    return None


def _dumps(message: dict[str, Any]) -> str:
    return orjson.dumps(message).decode()


async def room_socket(websocket: WebSocket, room_id: str) -> None:
    token = websocket.query_params.get("token")
    since = websocket.query_params.get("since")
    await websocket.accept()
    try:
        principal = await run_in_threadpool(_principal, websocket, token)
    except Unauthorized as exc:
        await websocket.send_text(_dumps({"type": "error", "code": "unauthorized", "detail": exc.detail}))
        await websocket.close(code=4401)
        return
    hub: Hub = websocket.app.state.live_hub
    conn = hub.join(room_id, principal.user_id if principal else None)
    try:
        try:
            hello = await run_in_threadpool(
                live_chat.snapshot, websocket.app.state.db, room_id, principal, since
            )
        except NotFound as exc:
            await websocket.send_text(_dumps({"type": "error", "code": "not-found", "detail": exc.detail}))
            await websocket.close(code=4404)
            return
        hello["viewer_count"] = hub.viewer_count(room_id)
        await websocket.send_text(_dumps(hello))
        seen = hello["history"][-1]["id"] if hello["history"] else (since or "")
        sender = asyncio.create_task(_send_loop(websocket, conn, seen))
        try:
            await _receive_loop(websocket, conn, principal, hub)
        finally:
            sender.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await sender
    except WebSocketDisconnect:
        pass
    finally:
        hub.leave(conn)


async def _send_loop(ws: WebSocket, conn: Connection, seen: str) -> None:
    """The only writer on the socket, so frames never interleave."""
    try:
        while True:
            message = await conn.queue.get()
            if message is None or conn.overflowed:
                await ws.close(code=1013 if conn.overflowed else 1001)
                return
            # Already in the hello's history (sent between joining the hub and taking the snapshot).
            if message.get("id") and message.get("type") in ("chat", "purchase") and message["id"] <= seen:
                continue
            await ws.send_text(_dumps(message))
    except (WebSocketDisconnect, RuntimeError):
        return


def _reply(conn: Connection, message: dict[str, Any]) -> None:
    try:
        conn.queue.put_nowait(message)
    except asyncio.QueueFull:
        conn.overflowed = True


async def _receive_loop(ws: WebSocket, conn: Connection, principal: Principal | None, hub: Hub) -> None:
    db, limiter = ws.app.state.db, ws.app.state.limiter
    window_start, frames = time.monotonic(), 0
    while not conn.overflowed:
        frame = await ws.receive()
        if frame["type"] == "websocket.disconnect":
            raise WebSocketDisconnect(frame.get("code", 1000))
        text = frame.get("text") or (frame.get("bytes") or b"").decode("utf-8", "replace")
        now = time.monotonic()
        if now - window_start >= 1.0:
            window_start, frames = now, 0
        frames += 1
        if frames > FRAMES_PER_SECOND:
            await ws.close(code=1008, reason="too many messages")
            return
        if len(text) > MAX_FRAME:
            _reply(
                conn,
                {
                    "type": "error",
                    "code": "too-large",
                    "detail": f"Frames are at most {MAX_FRAME} characters.",
                },
            )
            continue
        try:
            data = orjson.loads(text)
            kind = data.get("type") if isinstance(data, dict) else None
        except orjson.JSONDecodeError:
            kind, data = None, {}
        if kind == "ping":
            _reply(conn, {"type": "pong"})
        elif kind not in ("chat", "like"):
            _reply(
                conn,
                {"type": "error", "code": "bad-request", "detail": "Send {'type': 'chat'|'like'|'ping', …}."},
            )
        elif principal is None:
            _reply(conn, {"type": "error", "code": "unauthorized", "detail": "Sign in to chat and like."})
        elif kind == "like":
            count = data.get("count", 1)
            if not isinstance(count, int) or isinstance(count, bool) or count < 1:
                count = 1
            hub.like(conn.room_id, min(count, MAX_LIKES_PER_FRAME))
        else:
            body = data.get("text")
            if not isinstance(body, str):
                _reply(
                    conn, {"type": "error", "code": "invalid-input", "detail": "A chat message needs 'text'."}
                )
                continue
            try:
                await run_in_threadpool(live_chat.post_chat, db, principal, conn.room_id, body, limiter)
            except Problem as exc:
                error = {"type": "error", "code": exc.code, "status": exc.status, "detail": exc.detail}
                error.update(
                    {k: v for k, v in exc.extra.items() if k in ("retry_after", "reason", "muted_until")}
                )
                if data.get("client_id"):
                    error["client_id"] = str(data["client_id"])[:64]
                _reply(conn, error)
