"""The in-process hub of live rooms: which sockets watch which room, and what they are sent.

Room messages arrive from the bus topic ``content.live.room`` (published after commit by any process;
with ``ETALAGE_REDIS_URL`` set, core.bus fans them out through Redis pub/sub to every server process).
Each connection has a bounded queue: a viewer too slow to keep up is disconnected (code 1013) and, on
reconnecting with ``?since=<last message id>``, catches up from the stored history instead of holding
the room's memory hostage. Likes are summed in memory and flushed to the database once a second; viewer
counts are exchanged between processes every two seconds over the bus (``content.live.viewers``).
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from starlette.concurrency import run_in_threadpool

from etalage.content import live, live_chat
from etalage.core import bus
from etalage.db import Database

log = logging.getLogger("etalage.content.hub")
VIEWERS_TOPIC = "content.live.viewers"
QUEUE_SIZE = 256
REMOTE_TTL = 6.0


@dataclass(eq=False)
class Connection:
    room_id: str
    user_id: str | None
    queue: asyncio.Queue[dict[str, Any] | None] = field(default_factory=lambda: asyncio.Queue(QUEUE_SIZE))
    overflowed: bool = False


class Hub:
    def __init__(self, db: Database) -> None:
        self.db = db
        self.origin = f"{os.getpid()}-{id(self)}"
        self.rooms: dict[str, set[Connection]] = defaultdict(set)
        self.pending_likes: dict[str, int] = defaultdict(int)
        self.remote: dict[str, dict[str, tuple[int, float]]] = defaultdict(
            dict
        )  # room -> origin -> (n, when)
        self.last_count: dict[str, int] = {}
        self.peaks: dict[str, int] = {}
        self.loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task[None] | None = None
        self._shared = False

    # --- lifecycle -----------------------------------------------------------------------------------------

    def start(self) -> None:
        self.loop = asyncio.get_running_loop()
        bus.subscribe(live.ROOM_TOPIC, self._on_room_message)
        bus.subscribe(VIEWERS_TOPIC, self._on_viewers)
        self._task = self.loop.create_task(self._tick())

    def stop(self) -> None:
        bus.unsubscribe(live.ROOM_TOPIC, self._on_room_message)
        bus.unsubscribe(VIEWERS_TOPIC, self._on_viewers)
        if self._task is not None:
            self._task.cancel()
        for conns in self.rooms.values():
            for conn in conns:
                conn.queue.put_nowait(None) if not conn.queue.full() else None

    # --- connections ---------------------------------------------------------------------------------------

    def join(self, room_id: str, user_id: str | None) -> Connection:
        conn = Connection(room_id, user_id)
        self.rooms[room_id].add(conn)
        return conn

    def leave(self, conn: Connection) -> None:
        conns = self.rooms.get(conn.room_id)
        if conns is not None:
            conns.discard(conn)
            if not conns:
                del self.rooms[conn.room_id]

    def viewer_count(self, room_id: str) -> int:
        now = time.monotonic()
        # list(): also called from request threads while the event loop updates the dict
        remote = sum(n for n, at in list(self.remote.get(room_id, {}).values()) if now - at < REMOTE_TTL)
        return len(self.rooms.get(room_id, ())) + remote

    def like(self, room_id: str, count: int) -> None:
        self.pending_likes[room_id] += count

    # --- delivery (bus subscribers run in whatever thread published; hop onto the event loop) --------------

    def _on_room_message(self, _topic: str, payload: dict[str, Any]) -> None:
        if self.loop is None or self.loop.is_closed():
            return
        self.loop.call_soon_threadsafe(
            self._deliver, payload["room_id"], payload["message"], payload.get("user_id")
        )

    def _deliver(self, room_id: str, message: dict[str, Any], user_id: str | None) -> None:
        for conn in list(self.rooms.get(room_id, ())):
            if user_id is not None and conn.user_id != user_id:
                continue
            try:
                conn.queue.put_nowait(message)
            except asyncio.QueueFull:
                conn.overflowed = True  # the socket's sender sees this and closes with 1013
                self.leave(conn)

    def _on_viewers(self, _topic: str, payload: dict[str, Any]) -> None:
        if payload.get("origin") == self.origin or self.loop is None or self.loop.is_closed():
            return
        self.loop.call_soon_threadsafe(self._remote_update, payload)

    def _remote_update(self, payload: dict[str, Any]) -> None:
        origin, rooms, now = payload["origin"], payload.get("rooms") or {}, time.monotonic()
        for room_id, origins in self.remote.items():
            if room_id not in rooms:
                origins.pop(origin, None)  # that process has no viewers there any more
        for room_id, n in rooms.items():
            self.remote[room_id][origin] = (int(n), now)

    # --- the ticker ----------------------------------------------------------------------------------------

    async def _tick(self) -> None:
        beat = 0
        while True:
            await asyncio.sleep(1.0)
            beat += 1
            try:
                await self._flush_likes()
                if beat % 2 == 0:
                    await self._share_viewers()
            except asyncio.CancelledError:
                raise
            except Exception:  # the ticker must outlive a database hiccup
                log.exception("live hub tick failed")

    async def _flush_likes(self) -> None:
        pending, self.pending_likes = self.pending_likes, defaultdict(int)
        for room_id, delta in pending.items():
            if delta:
                await run_in_threadpool(live_chat.add_likes, self.db, room_id, delta)

    async def _share_viewers(self) -> None:
        local = {room_id: len(conns) for room_id, conns in self.rooms.items()}
        if local or self._shared:  # an idle process stays quiet, after telling the others it emptied
            bus.publish_now(VIEWERS_TOPIC, {"origin": self.origin, "rooms": local})
        self._shared = bool(local)
        peaks = {}
        for room_id in set(local) | set(self.remote) | set(self.last_count):
            count = self.viewer_count(room_id)
            if count != self.last_count.get(room_id):
                self.last_count[room_id] = count
                self._deliver(room_id, {"type": "viewer_count", "count": count}, None)
            if count > self.peaks.get(room_id, 0):
                self.peaks[room_id] = peaks[room_id] = count
            if count == 0:
                self.last_count.pop(room_id, None)
                self.remote.pop(room_id, None)
        if peaks:
            await run_in_threadpool(live_chat.record_peak, self.db, peaks)
