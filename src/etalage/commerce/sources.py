"""The video or live room a purchase came from, checked with the content domain when it is installed.

Without ``etalage.content`` (an install without videos), ids are kept as given: they only attribute sales.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable
from typing import Any

from sqlalchemy.orm import Session

from etalage.core.errors import InvalidInput


def _content() -> Any | None:
    try:
        module = importlib.import_module("etalage.content.service")
    except ImportError:
        return None
    return module if hasattr(module, "videos_exist") and hasattr(module, "room_exists") else None


def check(session: Session, lines: Iterable[Any]) -> None:
    """Refuse purchase sources that name no video or live room (422, the purchase is not made)."""
    lines = list(lines)
    videos = {ln.source_video_id for ln in lines if ln.source_video_id}
    rooms = {ln.source_live_room_id for ln in lines if ln.source_live_room_id}
    if not videos and not rooms:
        return
    content = _content()
    if content is None:
        return
    missing = videos - set(content.videos_exist(session, sorted(videos)))
    if missing:
        raise InvalidInput(
            f"No video {sorted(missing)[0]}; buy without a source or from an existing video.",
            field="source.video_id",
        )
    for room in sorted(rooms):
        if not content.room_exists(session, room):
            raise InvalidInput(f"No live room {room}.", field="source.live_room_id")
