"""The demo's content step: real ffmpeg clips behind published videos that play, comments, live rooms."""

from __future__ import annotations

import random

import pytest
from rich.console import Console
from rich.progress import Progress

from etalage.content import media
from etalage.demo import SCALES, DemoContext
from etalage.demo.accounts import build_accounts
from etalage.demo.content import build_content

pytestmark = pytest.mark.skipif(
    not media.ffmpeg_available(), reason="ffmpeg/ffprobe not installed (dev.py test installs them)"
)


def test_demo_videos_play_and_rooms_are_on_air(api, db, settings):
    scale = dict(SCALES["small"], videos=12, rendered_clips=3, shoppers=20)
    with Progress(console=Console(quiet=True)) as progress:
        ctx = DemoContext(db, settings, scale, random.Random(3), progress)
        build_accounts(ctx)
        build_content(ctx)
        for wait in ctx.pending:
            wait()
    videos = ctx.data["videos"]
    assert len(videos) == 12 and all(v["region"] and v["hashtags"] for v in videos)
    assert {r["state"] for r in ctx.data["live_rooms"]} == {"live", "scheduled", "ended"}

    listed = api.get("/api/v1/videos", params={"limit": 100}).json()["items"]
    assert len(listed) == 12
    one = listed[0]
    assert [r["name"] for r in one["renditions"]] == ["720p", "360p"] and one["renditions"][0]["bytes"] > 0
    clip = api.get(one["renditions"][0]["url"], headers={"Range": "bytes=0-99"})
    assert clip.status_code == 206 and len(clip.content) == 100 and clip.headers["etag"] != '""'
    assert api.get(one["poster_url"]).content[:2] == b"\xff\xd8"
    assert sum(v["comments"]["count"] for v in listed) == ctx.counts["comments"]

    on_air = next(r for r in ctx.data["live_rooms"] if r["state"] == "live")
    room = api.get(f"/api/v1/live/rooms/{on_air['id']}").json()
    assert room["loop"] is True and api.get(room["playback_url"]).status_code == 200
    assert api.get(f"/api/v1/live/rooms/{on_air['id']}/messages").json()["items"]
