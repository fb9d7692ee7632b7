"""Short videos end to end: a real ffmpeg-made clip is uploaded, transcoded, published and played with
byte ranges; a corrupt one is rejected with a reason; state changes are recorded and announced."""

from __future__ import annotations

import json
import subprocess
import time

import pytest

from etalage.content import clips, media
from etalage.content import service as content
from etalage.core import bus, jobs
from tests.content.helpers import is_problem, make_product, upload_form, upload_resumable
from tests.factories import clip, make_video

pytestmark = pytest.mark.skipif(
    not media.ffmpeg_available(), reason="ffmpeg/ffprobe not installed (dev.py test installs them)"
)


def _ffprobe_bytes(data: bytes, tmp_path) -> dict:  # type: ignore[no-untyped-def]
    path = tmp_path / "got.mp4"
    path.write_bytes(data)
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-print_format", "json", "-show_format", "-show_streams", str(path)],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout)


def test_a_real_clip_uploads_transcodes_publishes_and_plays_with_ranges(api, factory, db, tmp_path):
    creator = factory.user("shopper", "creator")
    events: list[tuple[str, dict]] = []
    listener = lambda topic, payload: events.append((topic, payload))  # noqa: E731
    bus.subscribe("content.video.*", listener)
    try:
        source = clip()
        upload_id = upload_resumable(api, creator, source, chunk=200_000)
        head = api.head(f"/api/v1/uploads/{upload_id}", headers=creator.headers)
        assert head.headers["Upload-Offset"] == head.headers["Upload-Length"] == str(source.stat().st_size)

        resp = api.post(
            "/api/v1/videos",
            json={
                "upload_id": upload_id,
                "caption": "Linen for summer #linen #Summer",
                "hashtags": ["ootd"],
                "language": "en",
                "region": "BE",
            },
            headers=creator.headers,
        )
        assert resp.status_code == 202, resp.text
        video = resp.json()
        assert video["state"] == "processing" and video["progress"] == 0
        assert video["hashtags"] == ["ootd", "linen", "summer"] and video["duration_ms"] == 2000
        assert api.get(f"/api/v1/videos/{video['id']}").status_code == 404  # not public while processing

        started = time.perf_counter()
        assert jobs.drain(db) >= 1
        print(
            f"\ntranscode of a 2 s 1280x720 clip (720p + 360p + poster): {time.perf_counter() - started:.2f} s"
        )
    finally:
        bus.unsubscribe("content.video.*", listener)

    got = api.get(f"/api/v1/videos/{video['id']}").json()
    assert got["state"] == "published" and got["published_at"] and got["progress"] is None  # public view
    assert [(r["name"], r["width"], r["height"]) for r in got["renditions"]] == [
        ("720p", 1280, 720),
        ("360p", 640, 360),
    ]
    assert [t for t, _ in events] == ["content.video.published"]
    assert events[0][1]["video_id"] == video["id"] and events[0][1]["region"] == "BE"
    own = api.get(f"/api/v1/videos/{video['id']}", headers=creator.headers).json()
    assert own["progress"] == 100

    url = got["renditions"][0]["url"]
    full = api.get(url)
    assert full.status_code == 200 and full.headers["content-type"] == "video/mp4"
    assert full.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert full.headers["accept-ranges"] == "bytes" and full.headers["etag"]
    size = len(full.content)
    assert int(full.headers["content-length"]) == size
    info = _ffprobe_bytes(full.content, tmp_path)
    streams = {s["codec_type"]: s for s in info["streams"]}
    assert streams["video"]["codec_name"] == "h264" and streams["audio"]["codec_name"] == "aac"
    assert streams["video"]["pix_fmt"] == "yuv420p"
    assert full.content.find(b"moov") < full.content.find(b"mdat"), "not fast-start: moov after mdat"

    part = api.get(url, headers={"Range": "bytes=0-1023"})
    assert part.status_code == 206 and len(part.content) == 1024
    assert part.headers["content-range"] == f"bytes 0-1023/{size}" and part.content == full.content[:1024]
    tail = api.get(url, headers={"Range": "bytes=-500"})
    assert tail.status_code == 206 and tail.content == full.content[-500:]
    middle = api.get(url, headers={"Range": f"bytes={size // 2}-"})
    assert middle.status_code == 206 and middle.content == full.content[size // 2 :]
    beyond = api.get(url, headers={"Range": f"bytes={size + 10}-{size + 20}"})
    body = is_problem(beyond, 416)
    assert beyond.headers["content-range"] == f"bytes */{size}" and "starts at" in body["detail"]
    is_problem(api.get(url, headers={"Range": "lines=1-2"}), 416)
    assert api.get(url, headers={"If-None-Match": full.headers["etag"]}).status_code == 304
    assert api.head(url).headers["content-length"] == str(size)

    poster = api.get(got["poster_url"])
    assert poster.status_code == 200 and poster.content[:2] == b"\xff\xd8"  # a JPEG
    low = api.get(got["renditions"][1]["url"])
    assert _ffprobe_bytes(low.content, tmp_path)["streams"][0]["height"] == 360

    history = api.get(f"/api/v1/videos/{video['id']}/history", headers=creator.headers).json()
    assert [(h["from_state"], h["to_state"], h["actor_role"]) for h in history] == [
        (None, "processing", "system"),
        ("processing", "ready", "system"),
        ("ready", "published", "owner"),
    ]
    with db.read() as s:
        infos = content.get_videos(s, [video["id"], "vid_01NOPE000000000000000000000"])
        assert list(infos) == [video["id"]]
        info = infos[video["id"]]
        assert info.state == "published" and info.creator_id == creator.id and info.duration_ms == 2000
        assert content.videos_exist(s, [video["id"], "vid_x"]) == {video["id"]}
        assert content.published_video_ids(s) == [video["id"]]


def test_a_corrupt_clip_is_rejected_with_a_reason(api, factory, db, tmp_path):
    creator = factory.user("shopper", "creator")
    good = clip().read_bytes()

    # Truncated with the index at the end: ffprobe cannot read it, refused at once.
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(good[: len(good) // 3])
    resp = upload_form(api, creator, cut)
    body = is_problem(resp, 422)
    assert body["reason"] == "not-a-video" and "moov atom not found" in body["detail"]

    # Fast-start, then cut: it probes fine but cannot be decoded to the end; the transcoder says why.
    fast = clips.render_clip(tmp_path / "fs", title="x", seconds=3, size=(640, 360), renditions=False)
    subprocess.run(
        [
            "ffmpeg",
            "-v",
            "error",
            "-y",
            "-i",
            str(fast),
            "-c",
            "copy",
            "-movflags",
            "+faststart",
            str(tmp_path / "fs.mp4"),
        ],
        check=True,
    )
    data = (tmp_path / "fs.mp4").read_bytes()
    damaged = tmp_path / "damaged.mp4"
    damaged.write_bytes(data[: int(len(data) * 0.4)])
    resp = upload_form(api, creator, damaged, caption="damaged")
    assert resp.status_code == 202, resp.text
    video_id = resp.json()["id"]
    jobs.drain(db)
    got = api.get(f"/api/v1/videos/{video_id}", headers=creator.headers).json()
    assert got["state"] == "failed" and got["renditions"] == []
    assert "damaged" in got["state_reason"] or "truncated" in got["state_reason"]
    assert api.get(f"/api/v1/videos/{video_id}").status_code == 404


def test_owner_removal_and_moderation_take_effect_at_once(api, factory, db):
    creator = factory.user("shopper", "creator")
    moderator = factory.user("moderator")
    video_id = make_video(factory, creator)
    url = api.get(f"/api/v1/videos/{video_id}").json()["renditions"][0]["url"]
    assert api.get(url).status_code == 200

    removed: list[dict] = []
    listener = lambda _t, p: removed.append(p)  # noqa: E731
    bus.subscribe("content.video.removed", listener)
    try:
        is_problem(
            api.post(
                f"/api/v1/videos/{video_id}/moderation",
                json={"action": "remove", "reason": "x"},
                headers=moderator.headers,
            ),
            422,
        )  # a reason of 1 char is no reason
        resp = api.post(
            f"/api/v1/videos/{video_id}/moderation",
            json={"action": "remove", "reason": "Counterfeit goods (DSA notice 17)"},
            headers=moderator.headers,
        )
        assert resp.status_code == 200 and resp.json()["state"] == "removed"
    finally:
        bus.unsubscribe("content.video.removed", listener)
    assert removed == [
        {"video_id": video_id, "state": "removed", "reason": "Counterfeit goods (DSA notice 17)"}
    ]
    assert api.get(f"/api/v1/videos/{video_id}").status_code == 404
    assert api.get(url).status_code == 404  # the origin stops serving it at once
    owner_view = api.get(url, headers=creator.headers)
    assert owner_view.status_code == 200 and owner_view.headers["cache-control"] == "private, no-store"
    with db.read() as s:
        assert content.published_video_ids(s) == []

    history = api.get(f"/api/v1/videos/{video_id}/history", headers=moderator.headers).json()
    last = history[-1]
    assert (last["from_state"], last["to_state"], last["actor_id"], last["actor_role"]) == (
        "published",
        "removed",
        moderator.id,
        "moderator",
    )
    assert last["reason"] == "Counterfeit goods (DSA notice 17)" and last["at"]
    # Appeal upheld: restored, announced again.
    resp = api.post(
        f"/api/v1/videos/{video_id}/moderation",
        json={"action": "restore", "reason": "Appeal upheld"},
        headers=moderator.headers,
    )
    assert resp.json()["state"] == "published"
    # The creator takes it down themselves.
    assert api.delete(f"/api/v1/videos/{video_id}", headers=creator.headers).status_code == 204
    assert api.get(f"/api/v1/videos/{video_id}").status_code == 404
    is_problem(api.post(f"/api/v1/videos/{video_id}/publish", headers=creator.headers), 409)


def test_product_tags_come_from_the_catalog(api, factory, db):
    shop = factory.merchant()
    other = factory.merchant()
    creator = factory.user("shopper", "creator")
    mine = make_product(api, shop, "Linen shirt")
    theirs = make_product(api, other, "Wool scarf")
    draft = make_product(api, shop, "Draft hat", status="draft")

    video_id = make_video(factory, shop, merchant_id=shop.merchant_id, products=[mine["id"]])
    got = api.get(f"/api/v1/videos/{video_id}").json()
    assert got["merchant_id"] == shop.merchant_id and got["creator_id"] is None
    assert got["products"] == [{"product_id": mine["id"], "starts_at_ms": None}]

    # A merchant's video features only its own products; unknown, foreign and draft ones are refused.
    for pid, kind in (
        (theirs["id"], "unknown_product"),
        ("prd_01NOPE000000000000000000000", "unknown_product"),
        (draft["id"], "inactive_product"),
    ):
        resp = api.put(
            f"/api/v1/videos/{video_id}/products",
            json={"products": [{"product_id": pid}]},
            headers=shop.headers,
        )
        assert is_problem(resp, 422)["errors"][0]["type"] == kind
    resp = api.put(
        f"/api/v1/videos/{video_id}/products",
        json={"products": [{"product_id": mine["id"], "starts_at_ms": 1000}]},
        headers=shop.headers,
    )
    assert resp.status_code == 200 and resp.json()["products"][0]["starts_at_ms"] == 1000
    is_problem(
        api.put(
            f"/api/v1/videos/{video_id}/products",
            json={"products": [{"product_id": mine["id"], "starts_at_ms": 99_000}]},
            headers=shop.headers,
        ),
        409,
    )
    # A creator may feature any active product (affiliate).
    resp = api.put(
        f"/api/v1/videos/{make_video(factory, creator)}/products",
        json={"products": [{"product_id": theirs["id"]}, {"product_id": mine["id"]}]},
        headers=creator.headers,
    )
    assert [p["product_id"] for p in resp.json()["products"]] == [theirs["id"], mine["id"]]
    # Someone else's video cannot be retagged.
    assert (
        api.put(
            f"/api/v1/videos/{video_id}/products", json={"products": []}, headers=creator.headers
        ).status_code
        == 403
    )


def test_staff_post_for_their_merchant_only_and_shoppers_cannot_post(api, factory):
    shop = factory.merchant()
    staff = factory.staff(shop)
    shopper = factory.user("shopper")
    upload_id = upload_resumable(api, staff, clip())
    is_problem(
        api.post("/api/v1/videos", json={"upload_id": upload_id}, headers=staff.headers), 403
    )  # not a creator
    other = factory.merchant()
    is_problem(
        api.post(
            "/api/v1/videos",
            json={"upload_id": upload_id, "merchant_id": other.merchant_id},
            headers=staff.headers,
        ),
        404,
    )
    resp = api.post(
        "/api/v1/videos",
        json={"upload_id": upload_id, "merchant_id": shop.merchant_id},
        headers=staff.headers,
    )
    assert resp.status_code == 202, resp.text
    listing = api.get(f"/api/v1/merchants/{shop.merchant_id}/videos", headers=shop.headers).json()
    assert [v["id"] for v in listing["items"]] == [resp.json()["id"]]
    is_problem(api.post("/api/v1/uploads", json={"size": 10}, headers=shopper.headers), 403)
