"""A person's content can be exported and erased (for compliance's GDPR requests)."""

from __future__ import annotations

import pytest

from etalage.content import media, storage
from etalage.content import service as content
from etalage.content.models import Video
from etalage.core import bus
from tests.factories import make_room, make_video

pytestmark = pytest.mark.skipif(
    not media.ffmpeg_available(), reason="ffmpeg/ffprobe not installed (dev.py test installs them)"
)


def test_export_then_erase(api, factory, db):
    creator = factory.user("shopper", "creator")
    fan = factory.user("shopper")
    video_id = make_video(factory, creator, caption="My shirt #linen")
    other_id = make_video(factory, factory.user("shopper", "creator"))
    api.post(f"/api/v1/videos/{other_id}/comments", json={"text": "love it"}, headers=creator.headers)
    api.post(f"/api/v1/videos/{video_id}/comments", json={"text": "nice"}, headers=fan.headers)
    url = api.get(f"/api/v1/videos/{video_id}").json()["renditions"][0]["url"]

    with db.read() as s:
        data = content.export_user_content(s, creator.id)
    assert [v["caption"] for v in data["videos"]] == ["My shirt #linen"] and data["videos"][0]["files"]
    assert [c["text"] for c in data["comments"]] == ["love it"]

    removed: list[dict] = []
    listener = lambda _t, p: removed.append(p)  # noqa: E731
    bus.subscribe("content.video.removed", listener)
    try:
        with db.session() as s:
            folder = storage.absolute(f"videos/{video_id}")
            original = storage.absolute(s.get(Video, video_id).source_path)
            counts = content.erase_user_content(s, creator.id)
    finally:
        bus.unsubscribe("content.video.removed", listener)
    assert counts["videos"] == 1 and counts["comments"] == 1
    assert [p["video_id"] for p in removed] == [video_id]
    assert not folder.exists() and not original.exists()
    assert api.get(url).status_code == 404 and api.get(f"/api/v1/videos/{video_id}").status_code == 404
    assert api.get(f"/api/v1/videos/{other_id}").json()["comments"]["count"] == 0
    with db.read() as s:
        again = content.export_user_content(s, creator.id)
    assert again["comments"][0]["text"] == "[deleted]" and again["videos"][0]["caption"] == ""


def test_erasure_blanks_removed_chat_in_moderation_records_and_hosted_room_titles(factory, db):
    from sqlalchemy import select

    from etalage.content import live, live_chat
    from etalage.content.models import LiveRoom, ModerationAction
    from etalage.core.ratelimit import MemoryRateLimiter

    host = factory.user("shopper", "creator")
    chatter = factory.user("shopper", "creator")
    room_id = make_room(factory, host, title="Cleo's linen night")
    own_room = make_room(factory, chatter, title="Rita's private sale")
    said = live_chat.post_chat(
        db, chatter.principal, room_id, "call me on 0470 12 34 56", MemoryRateLimiter()
    )
    with db.session() as s:
        live.remove_message(s, host.principal, room_id, said["id"], "personal data in chat")
    with db.session() as s:
        counts = content.erase_user_content(s, chatter.id)
    assert counts["live_chat"] == 1 and counts["live_rooms"] == 1
    with db.read() as s:
        action = s.scalar(select(ModerationAction).where(ModerationAction.subject_id == said["id"]))
        assert action.details == {"user_id": chatter.id, "text": "[deleted]"}
        assert action.reason == "personal data in chat" and action.actor_id == host.id  # the record stays
        assert s.get(LiveRoom, own_room).title == "[deleted]"
        assert s.get(LiveRoom, room_id).title == "Cleo's linen night"
